//! `check`: tick items of an incident's checklist (its playbooks' first actions) or, when the
//! command is about no incident, of the latest checklist posted to this room; or show it.

use super::{Context, Decision, Effect};
use crate::engine::errors::ActionError;
use crate::engine::reply;

pub fn check(items: &[u32], ctx: &Context<'_>) -> Result<Decision, ActionError> {
    if let Some(incident) = ctx.target {
        if items.is_empty() {
            if incident.steps.is_empty() {
                return Err(
                    crate::engine::incident::TransitionError::NoSteps(incident.number).into(),
                );
            }
            return Ok(Decision::reply(reply::incident_checklist(
                incident,
                ctx.policies,
                ctx.lang,
            )));
        }
        let (ticked, events) = incident.tick_steps(items, ctx.actor, ctx.now)?;
        let mut decision = Decision::change(ticked.clone(), events);
        decision.reply = Some(reply::incident_checklist(&ticked, ctx.policies, ctx.lang));
        return Ok(decision);
    }
    let list = ctx
        .checklists
        .iter()
        .find(|c| c.rooms.iter().any(|r| r == ctx.room))
        .ok_or(ActionError::NoChecklist)?;
    let mut ticked = list.clone();
    let count = u32::try_from(ticked.items.len()).unwrap_or(u32::MAX);
    for n in items {
        let Some(item) = usize::try_from(*n)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| ticked.items.get_mut(i))
        else {
            return Err(ActionError::NoChecklistItem { item: *n, count });
        };
        // Ticking a done item again keeps who did it first.
        if item.done_by.is_none() {
            item.done_by = Some(ctx.actor.name.clone());
            item.done_at = Some(ctx.now);
        }
    }
    let mut decision = Decision::reply(reply::checklist_state(&ticked));
    if ticked != *list {
        decision.effects.push(Effect::TickChecklist {
            id: ticked.id,
            items: ticked.items,
        });
    }
    Ok(decision)
}
