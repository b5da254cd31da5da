//! `list`, `show`, `timeline`, `postmortem` and `help`: answers that change nothing.

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

/// `postmortem`: the draft's figures and where to read the whole draft (never the document
/// itself: it is too long for a chat).
pub fn postmortem(ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let incident = target(ctx)?;
    let figures = crate::postmortem::figures(
        incident,
        ctx.timeline,
        |severity| ctx.policies.cadence(severity),
        ctx.now,
    );
    Ok(Decision::reply(reply::postmortem(
        incident, &figures, ctx.lang,
    )))
}

/// `heartbeats`: each configured heartbeat with its last ping, missed or not.
pub fn heartbeats(ctx: &Context<'_>) -> Decision {
    let lines: Vec<reply::HeartbeatLine<'_>> = ctx
        .heartbeats
        .iter()
        .map(|h| {
            let last_ping = ctx
                .pings
                .iter()
                .find(|(id, _)| *id == h.id)
                .map(|(_, at)| *at);
            reply::HeartbeatLine {
                id: &h.id,
                every_minutes: h.every.num_minutes(),
                last_ping,
                missed: last_ping.is_some_and(|at| ctx.now >= at + h.deadline()),
            }
        })
        .collect();
    Decision::reply(reply::heartbeats(&lines, ctx.now))
}

pub fn help(verb: Option<Verb>) -> Decision {
    Decision::reply(reply::help(verb))
}
