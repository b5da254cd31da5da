//! `playbook list | show ID | run ID [INC-n]`: the configured playbooks, and starting one on an
//! open incident (a second one layers its checklist after the first's).

use super::{Context, Decision};
use crate::engine::errors::ActionError;
use crate::engine::playbook::{self, Playbook};
use crate::engine::reply;

/// The playbook `id` names (case-insensitive), or an error listing the known ones.
pub fn find<'a>(id: &str, ctx: &Context<'a>) -> Result<&'a Playbook, ActionError> {
    ctx.policies
        .playbook(id)
        .ok_or_else(|| ActionError::UnknownPlaybook {
            got: id.to_string(),
            known: ctx
                .policies
                .playbooks
                .iter()
                .map(|p| p.id.clone())
                .collect(),
        })
}

/// Who fills the roles `playbook` names, now.
pub fn holders(playbook: &Playbook, ctx: &Context<'_>) -> Vec<(String, String)> {
    playbook::holders(playbook, ctx.policies, ctx.reaches, ctx.overrides, ctx.now)
}

pub fn list(ctx: &Context<'_>) -> Decision {
    Decision::reply(reply::playbook_list(ctx.policies, ctx.lang))
}

pub fn show(id: &str, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    Ok(Decision::reply(reply::playbook_show(
        find(id, ctx)?,
        ctx.lang,
    )))
}

pub fn run(id: &str, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let playbook = find(id, ctx)?;
    let incident = super::target(ctx)?;
    let (incident, events) = incident.run_playbook(playbook, &holders(playbook, ctx), ctx.now)?;
    Ok(Decision::change(incident, events))
}
