//! `list`, `show`, `timeline` and `help`: answers that change nothing.

use super::{Context, Decision, target};
use crate::engine::command::Verb;
use crate::engine::errors::ActionError;
use crate::engine::reply;

pub fn list(ctx: &Context<'_>) -> Decision {
    Decision::reply(reply::list(ctx.open, ctx.now))
}

pub fn show(ctx: &Context<'_>) -> Result<Decision, ActionError> {
    Ok(Decision::reply(reply::show(
        target(ctx)?,
        ctx.timeline,
        ctx.now,
    )))
}

pub fn timeline(ctx: &Context<'_>) -> Result<Decision, ActionError> {
    Ok(Decision::reply(reply::timeline(target(ctx)?, ctx.timeline)))
}

pub fn help(verb: Option<Verb>) -> Decision {
    Decision::reply(reply::help(verb))
}
