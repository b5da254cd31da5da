//! `declare`: open a new incident (SEV3 when no severity is given: the middle of the scale, so
//! nobody is paged at 3 a.m. for an incident whose declarer did not say), and start the
//! playbook it names (whose severity then stands in for a missing one).

use super::{Change, Context, Decision, playbook};
use crate::engine::errors::ActionError;
use crate::engine::incident::{Incident, Severity};

pub const DEFAULT_SEVERITY: Severity = Severity::Sev3;

pub fn declare(
    title: String,
    severity: Option<Severity>,
    impact: Option<String>,
    with: Option<String>,
    ctx: &Context<'_>,
) -> Result<Decision, ActionError> {
    let playbook = with.map(|id| playbook::find(&id, ctx)).transpose()?;
    let severity = severity
        .or(playbook.and_then(|p| p.severity))
        .unwrap_or(DEFAULT_SEVERITY);
    let (mut incident, mut events) = Incident::declare(title, severity, impact, ctx.actor, ctx.now);
    if let Some(playbook) = playbook {
        let holders = playbook::holders(playbook, ctx);
        let (started, more) = incident.run_playbook(playbook, &holders, ctx.now)?;
        incident = started;
        events.extend(more);
    }
    Ok(Decision {
        change: Some(Change {
            incident,
            events,
            is_new: true,
        }),
        ..Decision::default()
    })
}
