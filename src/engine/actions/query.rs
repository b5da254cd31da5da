//! `list`, `show`, `timeline` and `help`: answers that change nothing.

use super::{Context, Decision, target};
use crate::engine::bounds;
use crate::engine::command::Verb;
use crate::engine::errors::ActionError;
use crate::engine::reply;

/// A page past the end is an error that says how many pages there are; an empty list (on
/// page 1, or with nothing open at all) is an answer.
pub fn list(ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let Some(page) = ctx.list else {
        return Err(ActionError::NoOpenIncident);
    };
    let pages = bounds::pages(page.total, bounds::LIST_PAGE);
    if page.items.is_empty() && page.total > 0 {
        return Err(ActionError::NoSuchPage {
            page: page.filter.page,
            pages,
            total: page.total,
        });
    }
    Ok(Decision::reply(reply::list(
        &page.filter,
        &page.items,
        page.total,
        ctx.now,
    )))
}

pub fn show(ctx: &Context<'_>) -> Result<Decision, ActionError> {
    Ok(Decision::reply(reply::show(
        target(ctx)?,
        ctx.timeline,
        ctx.now,
    )))
}

pub fn timeline(ctx: &Context<'_>) -> Result<Decision, ActionError> {
    Ok(Decision::reply(reply::timeline(
        target(ctx)?,
        ctx.timeline,
        ctx.timeline_total,
    )))
}

pub fn help(verb: Option<Verb>) -> Decision {
    Decision::reply(reply::help(verb))
}
