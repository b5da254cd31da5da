//! Planning, pure: after each change, when the incident's next update is due and which
//! escalation step comes next, and the durable jobs (one key per occurrence) that carry them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::incident::{Event, Incident};
use super::policy::Policies;
use crate::store::{JobKind, NewJob};

/// What a job does; stored as its payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobPayload {
    /// Nudge the commander: an update is due.
    Reminder { incident: i64 },
    /// Page escalation step `step` (0-based) unless the incident was acknowledged.
    Escalation { incident: i64, step: u32 },
    /// Post a schedule's message or checklist. `spec` is the timing it was planned with.
    Schedule { schedule: String, spec: String },
    /// Post a rotation's handoff summary.
    Handoff { rotation: String, spec: String },
    /// Delete a chunk of what is older than the retention; `round` counts the chunks of one
    /// run (0 for the hourly start), so each continuation is an occurrence of its own.
    Prune { round: u32 },
    /// See whether heartbeat `heartbeat`'s ping came in time; `spec` is the timing it was
    /// planned with.
    Heartbeat { heartbeat: String, spec: String },
    /// Remind the war rooms that the postmortem is due; `reminder` counts the ones before it.
    Postmortem { incident: i64, reminder: u32 },
}

impl JobPayload {
    pub fn kind(&self) -> JobKind {
        match self {
            Self::Reminder { .. } => JobKind::Reminder,
            Self::Escalation { .. } => JobKind::Escalation,
            Self::Schedule { .. } => JobKind::Schedule,
            Self::Handoff { .. } => JobKind::Handoff,
            Self::Prune { .. } => JobKind::Prune,
            Self::Heartbeat { .. } => JobKind::Heartbeat,
            Self::Postmortem { .. } => JobKind::Postmortem,
        }
    }

    /// The group a re-plan cancels together.
    pub fn subject(&self) -> String {
        match self {
            Self::Reminder { incident }
            | Self::Escalation { incident, .. }
            | Self::Postmortem { incident, .. } => incident_subject(*incident),
            Self::Schedule { schedule, .. } => format!("schedule:{schedule}"),
            Self::Handoff { rotation, .. } => format!("rotation:{rotation}"),
            Self::Prune { .. } => "retention".to_string(),
            Self::Heartbeat { heartbeat, .. } => format!("heartbeat:{heartbeat}"),
        }
    }

    /// The job for this occurrence. The key names the occurrence (what and when), so planning
    /// it twice writes one row.
    pub fn at(&self, due: DateTime<Utc>) -> NewJob {
        let when = due.timestamp_millis();
        let key = match self {
            Self::Reminder { incident } => format!("reminder:{incident}:{when}"),
            Self::Escalation { incident, step } => format!("escalation:{incident}:{step}:{when}"),
            Self::Schedule { schedule, .. } => format!("schedule:{schedule}:{when}"),
            Self::Handoff { rotation, .. } => format!("handoff:{rotation}:{when}"),
            Self::Prune { round } => format!("prune:{when}:{round}"),
            Self::Heartbeat { heartbeat, .. } => format!("heartbeat:{heartbeat}:{when}"),
            Self::Postmortem { incident, reminder } => {
                format!("postmortem:{incident}:{reminder}:{when}")
            }
        };
        NewJob {
            kind: self.kind(),
            key,
            subject: self.subject(),
            due_at: due,
            // A derived Serialize on plain fields cannot fail.
            payload: serde_json::to_string(self).unwrap_or_default(),
        }
    }

    pub fn decode(raw: &str) -> Option<JobPayload> {
        serde_json::from_str(raw).ok()
    }
}

pub fn incident_subject(number: i64) -> String {
    format!("incident:{number}")
}

/// How a change moves the incident's jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Cancel the planned reminder, and plan one at this time (if any).
    pub replan_reminder: bool,
    pub reminder: Option<DateTime<Utc>>,
    /// Cancel the planned escalation step, and plan this step at this time (if any).
    pub replan_escalation: bool,
    pub escalation: Option<(u32, DateTime<Utc>)>,
    /// Cancel the planned postmortem reminder, and plan the first at this time (if any).
    pub replan_postmortem: bool,
    pub postmortem: Option<DateTime<Utc>>,
}

impl Plan {
    /// The jobs to write for incident `number` (known once a new incident is stored).
    pub fn jobs(&self, number: i64) -> Vec<NewJob> {
        let reminder = self
            .reminder
            .map(|due| JobPayload::Reminder { incident: number }.at(due));
        let escalation = self.escalation.map(|(step, due)| {
            JobPayload::Escalation {
                incident: number,
                step,
            }
            .at(due)
        });
        let postmortem = self.postmortem.map(|due| {
            JobPayload::Postmortem {
                incident: number,
                reminder: 0,
            }
            .at(due)
        });
        reminder
            .into_iter()
            .chain(escalation)
            .chain(postmortem)
            .collect()
    }
}

/// Sets `after`'s update due time and escalation fields for the change that led from `before`
/// to it, and says which jobs move.
///
/// Reminders: the clock starts at declaration and restarts at each update (at the update's own
/// `next=` when it names one); a severity change re-plans it at the new cadence from the last
/// update; a snooze puts it off from now; resolve stops it.
/// Escalation: the chain starts at declaration; acknowledging or resolving stops it; a severity
/// change continues with the next step of the new severity's policy; a page (timed or
/// `inc escalate`) plans the step after it.
pub fn replan(
    before: Option<&Incident>,
    after: &mut Incident,
    events: &[Event],
    now: DateTime<Utc>,
    policies: &Policies,
) -> Plan {
    let mut plan = Plan::default();
    let was_due = before.and_then(|b| b.update_due_at);
    let mut due = after.update_due_at;
    for event in events {
        match event {
            Event::Declared { .. } | Event::Reopened { .. } => {
                due = policies.update_due_of(after, now);
            }
            Event::Updated(fields) => {
                after.last_update_at = Some(now);
                due = fields
                    .next_check_minutes
                    .map(|m| now + Duration::minutes(i64::from(m)))
                    .or_else(|| policies.update_due_of(after, now));
            }
            // A playbook may bring its own cadence: re-planned like a severity change.
            Event::SeverityChanged { .. } | Event::PlaybookStarted { .. } => {
                let from = after.last_update_at.unwrap_or(after.declared_at);
                due = policies.update_due_of(after, from).map(|d| d.max(now));
            }
            Event::Snoozed { minutes } => {
                due = Some(now + Duration::minutes(i64::from(*minutes)));
            }
            _ => {}
        }
    }
    if !after.is_open() {
        due = None;
    }
    after.update_due_at = due;
    if due != was_due || before.is_none() {
        plan.replan_reminder = before.is_some();
        plan.reminder = due;
    }

    for event in events {
        let steps = if after.no_paging {
            &[][..]
        } else {
            policies.steps_of(after)
        };
        match event {
            Event::Declared { .. } => {
                after.escalation_started_at = Some(now);
                after.escalation_step = None;
                plan.escalation = steps.first().map(|s| (0, now + s.after));
            }
            Event::Reopened { .. } if after.acked_by.is_none() => {
                after.escalation_started_at = Some(now);
                after.escalation_step = None;
                plan.replan_escalation = true;
                plan.escalation = steps.first().map(|s| (0, now + s.after));
            }
            Event::Acknowledged | Event::Resolved { .. } => {
                plan.replan_escalation = true;
                plan.escalation = None;
            }
            // A playbook may bring its own escalation policy: the chain goes on under it.
            Event::SeverityChanged { .. } | Event::Paged { .. } | Event::PlaybookStarted { .. } => {
                plan.replan_escalation = true;
                plan.escalation = None;
                if after.acked_by.is_some() || !after.is_open() {
                    continue;
                }
                let started = *after.escalation_started_at.get_or_insert(now);
                let next = after.escalation_step.map_or(0, |s| s + 1);
                let step_at = |n: u32| usize::try_from(n).ok().and_then(|i| steps.get(i));
                let Some(step) = step_at(next) else { continue };
                // Whoever was paged last gets the policy's gap to acknowledge, even when that
                // page was late (after downtime) or came with a raised severity: the chain
                // never pages several steps at once.
                let previous = after
                    .escalation_step
                    .and_then(step_at)
                    .map_or(Duration::zero(), |p| p.after);
                let gap = (step.after - previous).max(Duration::zero());
                plan.escalation = Some((next, (started + step.after).max(now + gap)));
            }
            _ => {}
        }
    }

    // Postmortems: due a while after the resolve (per severity), unless one was already
    // recorded; a reopening or a recorded postmortem cancels the reminder.
    for event in events {
        match event {
            Event::Resolved { .. } if after.postmortem.is_none() => {
                after.postmortem_due_at = policies.postmortem_due(after.severity).map(|d| now + d);
                after.postmortem_reminders = 0;
                plan.replan_postmortem = before.is_some();
                plan.postmortem = after.postmortem_due_at;
            }
            Event::Reopened { .. }
            | Event::PostmortemDone { .. }
            | Event::PostmortemSkipped { .. } => {
                after.postmortem_due_at = None;
                after.postmortem_reminders = 0;
                plan.replan_postmortem = true;
                plan.postmortem = None;
            }
            _ => {}
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::incident::{Actor, Severity, UpdateFields};
    use crate::engine::policy::{Step, Target};
    use chrono::TimeZone;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 13, 0, 0).unwrap() + Duration::minutes(minute)
    }

    fn policies() -> Policies {
        let step = |m: i64| Step {
            after: Duration::minutes(m),
            notify: vec![Target::Person("x".into())],
        };
        let mut p = Policies::default();
        p.escalation
            .insert(Severity::Sev1, vec![step(0), step(5), step(30)]);
        p
    }

    fn declared(sev: Severity) -> (Incident, Plan) {
        let actor = Actor {
            name: "joana".into(),
            room: "r".into(),
        };
        let (mut inc, events) = Incident::declare("x".into(), sev, None, &actor, at(0));
        let plan = replan(None, &mut inc, &events, at(0), &policies());
        (inc, plan)
    }

    #[test]
    fn cadence_follows_severity_and_updates_reset_it() {
        let (inc, plan) = declared(Severity::Sev1);
        assert_eq!(plan.reminder, Some(at(15)));
        assert_eq!(plan.escalation, Some((0, at(0))));
        assert_eq!(
            declared(Severity::Sev4).1.reminder,
            None,
            "SEV4 has no cadence"
        );

        let (mut next, events) = inc.post_update(UpdateFields::default(), at(10)).unwrap();
        let plan = replan(Some(&inc), &mut next, &events, at(10), &policies());
        assert!(plan.replan_reminder);
        assert_eq!(plan.reminder, Some(at(25)));

        // SEV1 → SEV3: 60 minutes from the last update (at 10), not from now.
        let (mut lower, events) = next.set_severity(Severity::Sev3, at(12)).unwrap();
        let plan = replan(Some(&next), &mut lower, &events, at(12), &policies());
        assert_eq!(plan.reminder, Some(at(70)));
        assert_eq!(plan.escalation, None, "SEV3 has no policy here");

        let (mut resolved, events) = lower.resolve(None, at(20)).unwrap();
        let plan = replan(Some(&lower), &mut resolved, &events, at(20), &policies());
        assert!(plan.replan_reminder && plan.reminder.is_none());
        assert!(plan.replan_escalation && plan.escalation.is_none());
    }

    #[test]
    fn a_raised_severity_starts_its_chain_from_now_and_late_pages_keep_their_gaps() {
        // Declared SEV3 (no policy here), raised to SEV1 two hours later: step 1 now, then 5
        // minutes to acknowledge before step 2, not every step at once.
        let (inc, _) = declared(Severity::Sev3);
        let (mut raised, events) = inc.set_severity(Severity::Sev1, at(120)).unwrap();
        let plan = replan(Some(&inc), &mut raised, &events, at(120), &policies());
        assert_eq!(plan.escalation, Some((0, at(120))));
        let (mut paged, events) = raised.page(0, 3, vec![], false, at(120)).unwrap();
        let plan = replan(Some(&raised), &mut paged, &events, at(120), &policies());
        assert_eq!(plan.escalation, Some((1, at(125))));
        // Step 2 fired 40 minutes late (runroom was down): step 3 (due at 30) waits 25 more.
        let (mut late, events) = paged.page(1, 3, vec![], false, at(165)).unwrap();
        let plan = replan(Some(&paged), &mut late, &events, at(165), &policies());
        assert_eq!(plan.escalation, Some((2, at(190))));
    }

    #[test]
    fn a_page_plans_the_next_step_and_ack_stops_the_chain() {
        let (inc, _) = declared(Severity::Sev1);
        let (mut paged, events) = inc.page(0, 3, vec![], false, at(0)).unwrap();
        let plan = replan(Some(&inc), &mut paged, &events, at(0), &policies());
        assert_eq!(plan.escalation, Some((1, at(5))));
        let actor = Actor {
            name: "ana".into(),
            room: "r".into(),
        };
        let (mut acked, events) = paged.acknowledge(&actor, at(2)).unwrap();
        let plan = replan(Some(&paged), &mut acked, &events, at(2), &policies());
        assert!(plan.replan_escalation && plan.escalation.is_none());
    }
}
