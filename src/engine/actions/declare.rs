//! `declare`: open a new incident (SEV3 when no severity is given: the middle of the scale, so
//! nobody is paged at 3 a.m. for an incident whose declarer did not say).

use super::{Change, Context, Decision};
use crate::engine::incident::{Incident, Severity};

pub const DEFAULT_SEVERITY: Severity = Severity::Sev3;

pub fn declare(
    title: String,
    severity: Option<Severity>,
    impact: Option<String>,
    ctx: &Context<'_>,
) -> Decision {
    let (incident, events) = Incident::declare(
        title,
        severity.unwrap_or(DEFAULT_SEVERITY),
        impact,
        ctx.actor,
        ctx.now,
    );
    Decision {
        change: Some(Change {
            incident,
            events,
            is_new: true,
        }),
        ..Decision::default()
    }
}
