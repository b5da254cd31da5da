//! What people write into an incident: structured updates, notes and follow-ups.

use super::{Context, Decision, target};
use crate::engine::errors::ActionError;
use crate::engine::incident::UpdateFields;

pub fn update(fields: UpdateFields, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let (incident, events) = target(ctx)?.post_update(fields, ctx.now)?;
    Ok(Decision::change(incident, events))
}

pub fn note(text: String, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let (incident, events) = target(ctx)?.add_note(text, ctx.now)?;
    Ok(Decision::change(incident, events))
}

pub fn follow_up(text: String, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let (incident, events) = target(ctx)?.add_follow_up(text, ctx.actor, ctx.now)?;
    Ok(Decision::change(incident, events))
}
