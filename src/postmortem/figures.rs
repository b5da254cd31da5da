//! The response figures of one incident, read off its timeline alone: when it was acknowledged,
//! first updated, identified and resolved (each counted from its declaration), how many updates
//! were posted and how many of them late against the update cadence, the severities it went
//! through, and the escalation steps that paged someone. Pure: the same timeline always gives the
//! same figures, whatever the clock.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::engine::incident::{Event, Incident, Severity, Status, TimelineEntry};

/// One escalation step that paged people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paged {
    pub at: DateTime<Utc>,
    /// 1-based, of `of` steps.
    pub step: u32,
    pub of: u32,
    /// How each person was named (mention tokens, rendered by the document).
    pub who: Vec<String>,
    /// `inc escalate` rather than the step's timer.
    pub manual: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub declared_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub first_update_at: Option<DateTime<Utc>>,
    /// When its status first became `identified` (or went past it, to monitoring).
    pub identified_at: Option<DateTime<Utc>>,
    /// When it was last resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    pub updates: u32,
    /// Updates posted after they were due: the cadence of the severity at the time, counted
    /// from the previous update (or the declaration), put off by snoozes.
    pub late_updates: u32,
    /// Whether an update was overdue when it was resolved (or is now, while it is open).
    pub overdue_at_end: bool,
    /// The severity it was declared with, then each change, with when.
    pub severities: Vec<(DateTime<Utc>, Severity)>,
    pub pages: Vec<Paged>,
    pub reopened: u32,
}

impl Figures {
    pub fn time_to_acknowledge(&self) -> Option<Duration> {
        self.acknowledged_at.map(|at| at - self.declared_at)
    }

    pub fn time_to_first_update(&self) -> Option<Duration> {
        self.first_update_at.map(|at| at - self.declared_at)
    }

    pub fn time_to_identify(&self) -> Option<Duration> {
        self.identified_at.map(|at| at - self.declared_at)
    }

    pub fn time_to_resolve(&self) -> Option<Duration> {
        self.resolved_at.map(|at| at - self.declared_at)
    }

    /// Every update on time, and none overdue at the end.
    pub fn cadence_kept(&self) -> bool {
        self.late_updates == 0 && !self.overdue_at_end
    }
}

/// The figures of `incident` from its `timeline` (any order), with `cadence` the time between
/// updates a severity asks for (`None`: no cadence) and `now` for an incident still open.
pub fn figures(
    incident: &Incident,
    timeline: &[TimelineEntry],
    cadence: impl Fn(Severity) -> Option<Duration>,
    now: DateTime<Utc>,
) -> Figures {
    let mut entries: Vec<&TimelineEntry> = timeline.iter().collect();
    entries.sort_by_key(|e| e.at);
    // A playbook's cadence replaces the severity's.
    let cadence = |severity| match incident.update_minutes {
        Some(minutes) => Some(Duration::minutes(minutes)),
        None => cadence(severity),
    };
    let mut f = Figures {
        declared_at: incident.declared_at,
        acknowledged_at: None,
        first_update_at: None,
        identified_at: None,
        resolved_at: None,
        updates: 0,
        late_updates: 0,
        overdue_at_end: false,
        severities: Vec::new(),
        pages: Vec::new(),
        reopened: 0,
    };
    let mut severity = incident.severity;
    let mut since = incident.declared_at;
    let mut snoozed = Duration::zero();
    let mut open = true;
    for entry in entries {
        let at = entry.at;
        match &entry.event {
            Event::Declared { severity: s, .. } => {
                severity = *s;
                f.declared_at = at;
                since = at;
                f.severities.push((at, *s));
            }
            Event::SeverityChanged { to, .. } => {
                severity = *to;
                f.severities.push((at, *to));
            }
            Event::Acknowledged => {
                f.acknowledged_at.get_or_insert(at);
            }
            Event::StatusChanged {
                to: Status::Identified | Status::Monitoring,
                ..
            } => {
                f.identified_at.get_or_insert(at);
            }
            Event::Updated(_) => {
                f.updates += 1;
                f.first_update_at.get_or_insert(at);
                if let Some(every) = cadence(severity)
                    && at > since + every + snoozed
                {
                    f.late_updates += 1;
                }
                since = at;
                snoozed = Duration::zero();
            }
            Event::Snoozed { minutes } => snoozed += Duration::minutes(i64::from(*minutes)),
            Event::Resolved { .. } => {
                f.resolved_at = Some(at);
                f.overdue_at_end =
                    cadence(severity).is_some_and(|every| at > since + every + snoozed);
                open = false;
            }
            Event::Reopened { .. } => {
                f.reopened += 1;
                f.resolved_at = None;
                // The cadence starts again from the reopening.
                since = at;
                snoozed = Duration::zero();
                open = true;
            }
            Event::Paged {
                step,
                of,
                who,
                manual,
                ..
            } => f.pages.push(Paged {
                at,
                step: *step,
                of: *of,
                who: who.clone(),
                manual: *manual,
            }),
            _ => {}
        }
    }
    if f.severities.is_empty() {
        f.severities.push((incident.declared_at, incident.severity));
    }
    if open {
        f.resolved_at = None;
        f.overdue_at_end = cadence(severity).is_some_and(|every| now > since + every + snoozed);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::incident::{Actor, UpdateFields};
    use chrono::TimeZone;

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 13, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    fn entry(minutes: i64, event: Event) -> TimelineEntry {
        TimelineEntry {
            incident: 1,
            at: t(minutes),
            actor: "<@U01ANA|ana>".into(),
            room: "runroom".into(),
            event,
        }
    }

    #[test]
    fn the_figures_count_from_the_declaration_and_late_updates_against_the_cadence() {
        let actor = Actor {
            name: "ana".into(),
            room: "runroom".into(),
        };
        let (incident, _) =
            Incident::declare("Pix down".into(), Severity::Sev2, None, &actor, t(0));
        let cadence = |s: Severity| match s {
            Severity::Sev1 => Some(Duration::minutes(15)),
            Severity::Sev2 => Some(Duration::minutes(30)),
            _ => None,
        };
        let timeline = vec![
            entry(
                0,
                Event::Declared {
                    title: "Pix down".into(),
                    severity: Severity::Sev2,
                    impact: None,
                },
            ),
            entry(4, Event::Acknowledged),
            // On time (due at 30).
            entry(20, Event::Updated(UpdateFields::default())),
            entry(
                22,
                Event::SeverityChanged {
                    from: Severity::Sev2,
                    to: Severity::Sev1,
                },
            ),
            // Late: due at 20 + 15 = 35.
            entry(40, Event::Updated(UpdateFields::default())),
            entry(
                42,
                Event::StatusChanged {
                    from: Status::Investigating,
                    to: Status::Identified,
                },
            ),
            entry(50, Event::Resolved { summary: None }),
        ];
        let f = figures(&incident, &timeline, cadence, t(60));
        assert_eq!(f.time_to_acknowledge(), Some(Duration::minutes(4)));
        assert_eq!(f.time_to_first_update(), Some(Duration::minutes(20)));
        assert_eq!(f.time_to_identify(), Some(Duration::minutes(42)));
        assert_eq!(f.time_to_resolve(), Some(Duration::minutes(50)));
        assert_eq!((f.updates, f.late_updates), (2, 1));
        assert!(!f.overdue_at_end, "resolved 10 min after the last update");
        assert!(!f.cadence_kept());
        assert_eq!(
            f.severities,
            vec![(t(0), Severity::Sev2), (t(22), Severity::Sev1)]
        );
    }
}
