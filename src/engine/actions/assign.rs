//! `assign` / `role`: give a person a role (commander, comms, scribe, or one from config).

use super::{Context, Decision, target};
use crate::engine::errors::ActionError;
use crate::engine::incident::canonical_role;

pub fn assign(role_word: &str, person: String, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let role = canonical_role(role_word);
    if !ctx.roles.contains(&role) {
        return Err(ActionError::UnknownRole {
            got: role_word.chars().take(40).collect(),
            allowed: ctx.roles.to_vec(),
        });
    }
    let (incident, events) = target(ctx)?.assign(&role, &person, ctx.now)?;
    Ok(Decision::change(incident, events))
}
