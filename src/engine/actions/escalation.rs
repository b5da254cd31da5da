//! `snooze` and `escalate`: moving the update reminder, and paging the next escalation step by
//! hand.

use super::{Context, Decision, target};
use crate::engine::errors::ActionError;
use crate::engine::oncall;

pub fn snooze(minutes: u32, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let (incident, events) = target(ctx)?.snooze(minutes, ctx.now)?;
    Ok(Decision::change(incident, events))
}

/// Pages the step after the last one paged, now; the timed chain then goes on from there.
pub fn escalate(ctx: &Context<'_>) -> Result<Decision, ActionError> {
    let incident = target(ctx)?;
    let steps = ctx.policies.steps_of(incident);
    if steps.is_empty() {
        return Err(ActionError::NoEscalationPolicy {
            number: incident.number,
            severity: incident.severity,
        });
    }
    let of = u32::try_from(steps.len()).unwrap_or(u32::MAX);
    let next = incident.escalation_step.map_or(0, |s| s + 1);
    let Some(step) = usize::try_from(next).ok().and_then(|i| steps.get(i)) else {
        return Err(ActionError::NoEscalationStep {
            number: incident.number,
            of,
        });
    };
    let people = oncall::targets(
        ctx.policies,
        ctx.reaches,
        ctx.overrides,
        &step.notify,
        ctx.now,
    );
    let (incident, events) = incident.page(next, of, people, true, ctx.now)?;
    Ok(Decision::change(incident, events))
}
