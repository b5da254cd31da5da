//! Severity, status, acknowledgement, resolve and reopen: the incident's lifecycle.

use super::{Context, Decision, target};
use crate::engine::errors::ActionError;
use crate::engine::incident::{Severity, Status};

pub fn severity(to: Severity, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let (incident, events) = target(ctx)?.set_severity(to, ctx.now)?;
    Ok(Decision::change(incident, events))
}

pub fn status(to: Status, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let (incident, events) = target(ctx)?.set_status(to, ctx.now)?;
    Ok(Decision::change(incident, events))
}

pub fn ack(ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let (incident, events) = target(ctx)?.acknowledge(ctx.actor, ctx.now)?;
    Ok(Decision::change(incident, events))
}

pub fn resolve(summary: Option<String>, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let (incident, events) = target(ctx)?.resolve(summary, ctx.now)?;
    Ok(Decision::change(incident, events))
}

/// `postmortem done <link>` / `postmortem skip <reason>`: its reminders stop.
pub fn record_postmortem(
    done: bool,
    text: String,
    ctx: &Context<'_>,
) -> Result<Decision, ActionError> {
    let (incident, events) = target(ctx)?.record_postmortem(done, text, ctx.now)?;
    Ok(Decision::change(incident, events))
}

pub fn reopen(reason: Option<String>, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let (incident, events) = target(ctx)?.reopen(reason, ctx.now)?;
    Ok(Decision::change(incident, events))
}
