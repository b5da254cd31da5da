//! The incident model and its pure transitions: every change takes `now` and returns the new state
//! plus the timeline events it causes, or a typed error when the change makes no sense.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::text::fold;
use crate::alerts::model::AlertLink;

/// Severity, SEV1 (critical) to SEV4 (low), as the seeds' P1–P4 / critical–low levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    Sev1 = 1,
    Sev2 = 2,
    Sev3 = 3,
    Sev4 = 4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Self::Sev1, Self::Sev2, Self::Sev3, Self::Sev4];

    /// Accepts `sev1`, `SEV-1`, `1`, `P1`, `critical`, and the Portuguese and Spanish words
    /// (`crítico`, `alta`, `média`, `baja` …). `P0` is the seeds' name for the worst level: SEV1.
    pub fn parse(raw: &str) -> Option<Severity> {
        let word = fold(raw);
        let word = word.trim_start_matches("sev").trim_start_matches('-');
        match word {
            "1" | "p0" | "p1" | "critical" | "crit" | "critico" | "critica" => Some(Self::Sev1),
            "2" | "p2" | "high" | "alta" | "alto" => Some(Self::Sev2),
            "3" | "p3" | "medium" | "med" | "media" | "medio" => Some(Self::Sev3),
            "4" | "p4" | "low" | "baixa" | "baixo" | "baja" | "bajo" => Some(Self::Sev4),
            _ => None,
        }
    }

    pub fn number(self) -> i64 {
        self as i64
    }

    pub fn from_number(n: i64) -> Option<Severity> {
        Self::ALL.into_iter().find(|s| s.number() == n)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SEV{}", self.number())
    }
}

/// Where the response stands. `Resolved` is reached through [`Incident::resolve`] and left
/// through [`Incident::reopen`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Self::Investigating,
        Self::Identified,
        Self::Monitoring,
        Self::Resolved,
    ];

    pub fn parse(raw: &str) -> Option<Status> {
        match fold(raw).as_str() {
            "investigating" | "investigando" | "investigacao" | "investigacion" | "inv" => {
                Some(Self::Investigating)
            }
            "identified" | "identificado" | "identificada" | "ident" => Some(Self::Identified),
            "monitoring" | "monitorando" | "monitoreando" | "monitorizando" | "monitor" | "mon" => {
                Some(Self::Monitoring)
            }
            "resolved" | "resolvido" | "resolvida" | "resuelto" | "resuelta" => {
                Some(Self::Resolved)
            }
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Investigating => "investigating",
            Self::Identified => "identified",
            Self::Monitoring => "monitoring",
            Self::Resolved => "resolved",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Status> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The built-in roles; teams may configure more (stored by their own name).
pub const BUILTIN_ROLES: [&str; 3] = ["commander", "comms", "scribe"];

/// Maps a role word in any of the three languages to its canonical name; unknown words come back
/// folded so the engine can check them against the configured extra roles.
pub fn canonical_role(raw: &str) -> String {
    let word = fold(raw);
    let canonical = match word.as_str() {
        "commander" | "ic" | "incident-commander" | "comandante" | "lider" | "coordenador"
        | "coordinador" => "commander",
        "comms" | "communications" | "comm" | "comunicacao" | "comunicacoes" | "comunicacion"
        | "comunicaciones" => "comms",
        "scribe" | "escriba" | "escrivao" | "relator" | "notas" => "scribe",
        other => return other.to_string(),
    };
    canonical.to_string()
}

/// A role holder or a command's author as one comparable key, so `inc list mine` finds the
/// incidents where the author holds a role: a Slack mention token by its user id (`<@U0123>`
/// and `<@U0123|Joana>` are one person), anything else without a leading `@`, ASCII lowercase
/// (the stored migration backfills the same way in SQL).
pub fn person_key(raw: &str) -> String {
    let s = raw.trim();
    if let Some(rest) = s.strip_prefix("<@") {
        let id = rest.split(['|', '>']).next().unwrap_or("");
        return format!("<@{}>", id.to_ascii_lowercase());
    }
    s.trim_start_matches('@').to_ascii_lowercase()
}

/// A follow-up action noted during the incident (the post-incident to-do list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub number: u32,
    pub text: String,
    pub added_by: String,
    pub done: bool,
}

/// A structured update, the seeds' internal template: impact, actions, next check, blockers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateFields {
    pub text: Option<String>,
    pub impact: Option<String>,
    pub actions: Option<String>,
    /// Minutes until the next check, when the update names one.
    pub next_check_minutes: Option<u32>,
    pub blockers: Option<String>,
}

/// One incident. `number` is the human id (`INC-<number>`), unique per deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub impact: Option<String>,
    /// Role name → person (a platform mention such as `@joana` or a display name).
    pub roles: BTreeMap<String, String>,
    pub acked_by: Option<String>,
    pub acked_at: Option<DateTime<Utc>>,
    pub follow_ups: Vec<FollowUp>,
    pub declared_at: DateTime<Utc>,
    pub declared_by: String,
    pub declared_in: String,
    pub resolved_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub next_check_at: Option<DateTime<Utc>>,
    /// When the last structured update was posted (the update cadence counts from it).
    #[serde(default)]
    pub last_update_at: Option<DateTime<Utc>>,
    /// When the next update is due: the reminder fires then (see `engine::plan`).
    #[serde(default)]
    pub update_due_at: Option<DateTime<Utc>>,
    /// When the escalation chain started (its steps' delays count from it).
    #[serde(default)]
    pub escalation_started_at: Option<DateTime<Utc>>,
    /// The last escalation step paged (0-based), if any.
    #[serde(default)]
    pub escalation_step: Option<u32>,
    /// The rooms that hear about it, when an alert route chose them; empty: every linked room.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rooms: Vec<String>,
    /// Its escalation policy pages nobody (an alert route said so); `inc escalate` still does.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_paging: bool,
    /// The playbooks running on it, in the order they started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub playbooks: Vec<String>,
    /// Their first actions, one checklist in that order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<super::playbook::Step>,
    /// Minutes between updates, when a playbook sets it (instead of the severity's cadence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_minutes: Option<i64>,
    /// A named escalation policy, when a playbook sets it (instead of the severity's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<String>,
    /// When its postmortem is due: set on resolve when its severity needs one (`[postmortems]`),
    /// cleared by a reopening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postmortem_due_at: Option<DateTime<Utc>>,
    /// Reminders sent about the postmortem since it fell due.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub postmortem_reminders: u32,
    /// The postmortem was written (with its link) or skipped (with the reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postmortem: Option<PostmortemOutcome>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What became of an incident's postmortem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostmortemOutcome {
    /// Written (`text` is its link) or skipped (`text` is why).
    pub done: bool,
    pub text: String,
    pub at: DateTime<Utc>,
}

/// What a list line shows of an incident: the columns its row keeps beside the state, so a
/// page of them is read without decoding any incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentLine {
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub declared_at: DateTime<Utc>,
}

impl From<&Incident> for IncidentLine {
    fn from(incident: &Incident) -> IncidentLine {
        IncidentLine {
            number: incident.number,
            title: incident.title.clone(),
            severity: incident.severity,
            status: incident.status,
            declared_at: incident.declared_at,
        }
    }
}

/// Who did something, and from which room: stamped on every timeline entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub room: String,
}

/// What happened, as the timeline records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Declared {
        title: String,
        severity: Severity,
        /// The impact it was declared with (absent from entries written before it was kept).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        impact: Option<String>,
    },
    SeverityChanged {
        from: Severity,
        to: Severity,
    },
    StatusChanged {
        from: Status,
        to: Status,
    },
    RoleAssigned {
        role: String,
        person: String,
        previous: Option<String>,
    },
    Acknowledged,
    Updated(UpdateFields),
    Note {
        text: String,
    },
    FollowUpAdded {
        number: u32,
        text: String,
    },
    Resolved {
        summary: Option<String>,
    },
    Reopened {
        reason: Option<String>,
    },
    /// The next update reminder was put off by `minutes`.
    Snoozed {
        minutes: u32,
    },
    /// An escalation step notified people (`manual`: `inc escalate`, else its timer).
    Paged {
        /// 1-based step and the policy's number of steps.
        step: u32,
        of: u32,
        /// Person ids from config, and how each is mentioned (a mention token each room renders
        /// its own way, see `engine::reach`).
        people: Vec<String>,
        who: Vec<String>,
        manual: bool,
    },
    /// An alert joined the incident or fired again; `back`: the incident's alerts had all
    /// cleared, so the war rooms hear it (otherwise only the timeline has it).
    AlertFired {
        source: String,
        alert: String,
        #[serde(default)]
        links: Vec<AlertLink>,
        back: bool,
    },
    AlertResolved {
        source: String,
        alert: String,
    },
    /// Every alert of the incident has resolved; `quiet`: only the timeline hears it (an alert
    /// of it is flapping, and that was said).
    AlertsCleared {
        source: String,
        quiet: bool,
    },
    /// An alert fired `fires` times within `minutes`: said once per window.
    AlertFlapping {
        source: String,
        alert: String,
        fires: u32,
        minutes: u32,
    },
    /// A playbook started: its `steps` first actions joined the checklist.
    PlaybookStarted {
        playbook: String,
        steps: u32,
    },
    /// Checklist items (1-based) were ticked.
    StepsDone {
        items: Vec<u32>,
    },
    /// The postmortem was written: its link.
    PostmortemDone {
        link: String,
    },
    /// The postmortem was skipped: why.
    PostmortemSkipped {
        reason: String,
    },
    /// Someone tried a command their role does not allow (`engine::access`); nothing changed.
    Refused {
        /// The verb's name (`resolve`) and the role it needs (`responder`).
        verb: String,
        needs: String,
    },
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Declared { .. } => "declared",
            Self::SeverityChanged { .. } => "severity_changed",
            Self::StatusChanged { .. } => "status_changed",
            Self::RoleAssigned { .. } => "role_assigned",
            Self::Acknowledged => "acknowledged",
            Self::Updated(_) => "updated",
            Self::Note { .. } => "note",
            Self::FollowUpAdded { .. } => "follow_up_added",
            Self::Resolved { .. } => "resolved",
            Self::Reopened { .. } => "reopened",
            Self::Snoozed { .. } => "snoozed",
            Self::Paged { .. } => "paged",
            Self::PostmortemDone { .. } => "postmortem_done",
            Self::PostmortemSkipped { .. } => "postmortem_skipped",
            Self::Refused { .. } => "refused",
            Self::AlertFired { .. } => "alert_fired",
            Self::AlertResolved { .. } => "alert_resolved",
            Self::AlertsCleared { .. } => "alerts_cleared",
            Self::AlertFlapping { .. } => "alert_flapping",
            Self::PlaybookStarted { .. } => "playbook_started",
            Self::StepsDone { .. } => "steps_done",
        }
    }
}

/// An entry of the append-only timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub incident: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub room: String,
    pub event: Event,
}

/// A change that makes no sense for the incident as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("INC-{0} is already resolved")]
    AlreadyResolved(i64),
    #[error("INC-{0} is not resolved")]
    NotResolved(i64),
    #[error("INC-{number} is already {severity}")]
    SameSeverity { number: i64, severity: Severity },
    #[error("INC-{number} is already {status:?}")]
    SameStatus { number: i64, status: Status },
    #[error("INC-{number} was already acknowledged by {by}")]
    AlreadyAcknowledged { number: i64, by: String },
    #[error("{person} already holds {role} on INC-{number}")]
    SameRoleHolder {
        number: i64,
        role: String,
        person: String,
    },
    #[error("playbook {playbook} already runs on INC-{number}")]
    PlaybookRunning { number: i64, playbook: String },
    #[error("INC-{0} has no checklist")]
    NoSteps(i64),
    #[error("INC-{number} has no checklist item {item} (it has {count})")]
    NoStep { number: i64, item: u32, count: u32 },
}

/// What a transition produced: the state to store and the events to append.
pub type Transition = Result<(Incident, Vec<Event>), TransitionError>;

impl Incident {
    /// A new incident; the store gives it its number when it is committed.
    pub fn declare(
        title: String,
        severity: Severity,
        impact: Option<String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> (Incident, Vec<Event>) {
        let declared = Event::Declared {
            title: title.clone(),
            severity,
            impact: impact.clone(),
        };
        let incident = Incident {
            number: 0,
            title,
            severity,
            status: Status::Investigating,
            impact,
            roles: BTreeMap::new(),
            acked_by: None,
            acked_at: None,
            follow_ups: Vec::new(),
            declared_at: now,
            declared_by: actor.name.clone(),
            declared_in: actor.room.clone(),
            resolved_at: None,
            updated_at: now,
            next_check_at: None,
            last_update_at: None,
            update_due_at: None,
            escalation_started_at: None,
            escalation_step: None,
            rooms: Vec::new(),
            no_paging: false,
            playbooks: Vec::new(),
            steps: Vec::new(),
            update_minutes: None,
            escalation: None,
            postmortem_due_at: None,
            postmortem_reminders: 0,
            postmortem: None,
        };
        (incident, vec![declared])
    }

    pub fn is_open(&self) -> bool {
        self.status != Status::Resolved
    }

    /// When its postmortem falls due, while it is resolved and the postmortem is neither
    /// written nor skipped (stored beside the state, so the handoff reads only these).
    pub fn postmortem_pending(&self) -> Option<DateTime<Utc>> {
        self.postmortem_due_at
            .filter(|_| !self.is_open() && self.postmortem.is_none())
    }

    /// Whether the room `id` hears about this incident.
    pub fn heard_in(&self, id: &str) -> bool {
        self.rooms.is_empty() || self.rooms.iter().any(|r| r == id)
    }

    fn ensure_open(&self) -> Result<(), TransitionError> {
        if self.is_open() {
            Ok(())
        } else {
            Err(TransitionError::AlreadyResolved(self.number))
        }
    }

    fn touched(&self, now: DateTime<Utc>) -> Incident {
        Incident {
            updated_at: now,
            ..self.clone()
        }
    }

    pub fn set_severity(&self, to: Severity, now: DateTime<Utc>) -> Transition {
        self.ensure_open()?;
        if self.severity == to {
            return Err(TransitionError::SameSeverity {
                number: self.number,
                severity: to,
            });
        }
        let mut next = self.touched(now);
        next.severity = to;
        let event = Event::SeverityChanged {
            from: self.severity,
            to,
        };
        Ok((next, vec![event]))
    }

    /// Moves between the open statuses; `Resolved` is delegated to [`Incident::resolve`].
    pub fn set_status(&self, to: Status, now: DateTime<Utc>) -> Transition {
        if to == Status::Resolved {
            return self.resolve(None, now);
        }
        self.ensure_open()?;
        if self.status == to {
            return Err(TransitionError::SameStatus {
                number: self.number,
                status: to,
            });
        }
        let mut next = self.touched(now);
        next.status = to;
        let event = Event::StatusChanged {
            from: self.status,
            to,
        };
        Ok((next, vec![event]))
    }

    pub fn assign(&self, role: &str, person: &str, now: DateTime<Utc>) -> Transition {
        self.ensure_open()?;
        let previous = self.roles.get(role).cloned();
        if previous.as_deref() == Some(person) {
            return Err(TransitionError::SameRoleHolder {
                number: self.number,
                role: role.to_string(),
                person: person.to_string(),
            });
        }
        let mut next = self.touched(now);
        next.roles.insert(role.to_string(), person.to_string());
        let event = Event::RoleAssigned {
            role: role.to_string(),
            person: person.to_string(),
            previous,
        };
        Ok((next, vec![event]))
    }

    pub fn acknowledge(&self, actor: &Actor, now: DateTime<Utc>) -> Transition {
        self.ensure_open()?;
        if let Some(by) = &self.acked_by {
            return Err(TransitionError::AlreadyAcknowledged {
                number: self.number,
                by: by.clone(),
            });
        }
        let mut next = self.touched(now);
        next.acked_by = Some(actor.name.clone());
        next.acked_at = Some(now);
        Ok((next, vec![Event::Acknowledged]))
    }

    pub fn post_update(&self, fields: UpdateFields, now: DateTime<Utc>) -> Transition {
        self.ensure_open()?;
        let mut next = self.touched(now);
        if let Some(impact) = &fields.impact {
            next.impact = Some(impact.clone());
        }
        next.next_check_at = fields
            .next_check_minutes
            .map(|m| now + chrono::Duration::minutes(i64::from(m)));
        Ok((next, vec![Event::Updated(fields)]))
    }

    /// Notes are allowed on resolved incidents too: post-incident context is worth keeping.
    pub fn add_note(&self, text: String, now: DateTime<Utc>) -> Transition {
        Ok((self.touched(now), vec![Event::Note { text }]))
    }

    /// Follow-ups are mostly written after the fact, so resolved incidents accept them.
    pub fn add_follow_up(&self, text: String, actor: &Actor, now: DateTime<Utc>) -> Transition {
        let mut next = self.touched(now);
        let number = u32::try_from(self.follow_ups.len()).unwrap_or(u32::MAX - 1) + 1;
        next.follow_ups.push(FollowUp {
            number,
            text: text.clone(),
            added_by: actor.name.clone(),
            done: false,
        });
        Ok((next, vec![Event::FollowUpAdded { number, text }]))
    }

    /// Records what became of the postmortem of a resolved incident: written (`text` its link)
    /// or skipped (`text` why). Its reminders stop.
    pub fn record_postmortem(&self, done: bool, text: String, now: DateTime<Utc>) -> Transition {
        if self.is_open() {
            return Err(TransitionError::NotResolved(self.number));
        }
        let mut next = self.touched(now);
        next.postmortem = Some(PostmortemOutcome {
            done,
            text: text.clone(),
            at: now,
        });
        let event = if done {
            Event::PostmortemDone { link: text }
        } else {
            Event::PostmortemSkipped { reason: text }
        };
        Ok((next, vec![event]))
    }

    pub fn resolve(&self, summary: Option<String>, now: DateTime<Utc>) -> Transition {
        self.ensure_open()?;
        let mut next = self.touched(now);
        next.status = Status::Resolved;
        next.resolved_at = Some(now);
        next.next_check_at = None;
        Ok((next, vec![Event::Resolved { summary }]))
    }

    /// Starts a playbook: its first actions join the checklist after those already there, its
    /// cadence and escalation policy take over, and each role it names goes to `holders`' person
    /// (role, mention) unless someone holds it already.
    pub fn run_playbook(
        &self,
        playbook: &super::playbook::Playbook,
        holders: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Transition {
        self.ensure_open()?;
        if self.playbooks.iter().any(|p| p == &playbook.id) {
            return Err(TransitionError::PlaybookRunning {
                number: self.number,
                playbook: playbook.id.clone(),
            });
        }
        let mut next = self.touched(now);
        next.playbooks.push(playbook.id.clone());
        next.steps.extend(
            (0..playbook.first_actions.len()).map(|i| super::playbook::Step {
                playbook: playbook.id.clone(),
                item: u32::try_from(i).unwrap_or(u32::MAX),
                done_by: None,
                done_at: None,
            }),
        );
        if playbook.update_every.is_some() {
            next.update_minutes = playbook.update_every;
        }
        if playbook.escalation.is_some() {
            next.escalation = playbook.escalation.clone();
        }
        let mut events = vec![Event::PlaybookStarted {
            playbook: playbook.id.clone(),
            steps: u32::try_from(playbook.first_actions.len()).unwrap_or(u32::MAX),
        }];
        for (role, person) in holders {
            if next.roles.contains_key(role) {
                continue;
            }
            if let Ok((assigned, more)) = next.assign(role, person, now) {
                next = assigned;
                events.extend(more);
            }
        }
        Ok((next, events))
    }

    /// Ticks checklist items (1-based); ticking a done one keeps who did it first.
    pub fn tick_steps(&self, items: &[u32], actor: &Actor, now: DateTime<Utc>) -> Transition {
        if self.steps.is_empty() {
            return Err(TransitionError::NoSteps(self.number));
        }
        let count = u32::try_from(self.steps.len()).unwrap_or(u32::MAX);
        let mut next = self.touched(now);
        for n in items {
            let Some(step) = usize::try_from(*n)
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| next.steps.get_mut(i))
            else {
                return Err(TransitionError::NoStep {
                    number: self.number,
                    item: *n,
                    count,
                });
            };
            if step.done_by.is_none() {
                step.done_by = Some(actor.name.clone());
                step.done_at = Some(now);
            }
        }
        Ok((
            next,
            vec![Event::StepsDone {
                items: items.to_vec(),
            }],
        ))
    }

    /// Puts off the next update reminder (the engine's planner moves it).
    pub fn snooze(&self, minutes: u32, now: DateTime<Utc>) -> Transition {
        self.ensure_open()?;
        Ok((self.touched(now), vec![Event::Snoozed { minutes }]))
    }

    /// Records that escalation step `step` (0-based) of `of` notified `people`.
    pub fn page(
        &self,
        step: u32,
        of: u32,
        people: Vec<(String, String)>,
        manual: bool,
        now: DateTime<Utc>,
    ) -> Transition {
        self.ensure_open()?;
        let mut next = self.touched(now);
        next.escalation_step = Some(step);
        if next.escalation_started_at.is_none() {
            next.escalation_started_at = Some(now);
        }
        let (people, who) = people.into_iter().unzip();
        Ok((
            next,
            vec![Event::Paged {
                step: step + 1,
                of,
                people,
                who,
                manual,
            }],
        ))
    }

    pub fn reopen(&self, reason: Option<String>, now: DateTime<Utc>) -> Transition {
        if self.is_open() {
            return Err(TransitionError::NotResolved(self.number));
        }
        let mut next = self.touched(now);
        next.status = Status::Investigating;
        next.resolved_at = None;
        Ok((next, vec![Event::Reopened { reason }]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 10, minute, 0).unwrap()
    }

    fn actor() -> Actor {
        Actor {
            name: "joana".into(),
            room: "war-room".into(),
        }
    }

    fn declared() -> Incident {
        let (mut inc, events) = Incident::declare(
            "Checkout down".into(),
            Severity::Sev1,
            None,
            &actor(),
            at(0),
        );
        inc.number = 7;
        assert_eq!(events.len(), 1);
        inc
    }

    #[test]
    fn person_keys_compare_mentions_by_id_and_names_without_at() {
        assert_eq!(person_key("<@U0123>"), person_key("<@U0123|Joana>"));
        assert_eq!(person_key("@Joana"), "joana");
        assert_eq!(person_key(" joana "), "joana");
        assert_ne!(person_key("<@U0123>"), person_key("U0123"));
    }

    #[test]
    fn severity_words_in_three_languages() {
        for (raw, sev) in [
            ("sev1", Severity::Sev1),
            ("SEV-2", Severity::Sev2),
            ("3", Severity::Sev3),
            ("P4", Severity::Sev4),
            ("P0", Severity::Sev1),
            ("critical", Severity::Sev1),
            ("crítico", Severity::Sev1),
            ("Alta", Severity::Sev2),
            ("média", Severity::Sev3),
            ("baja", Severity::Sev4),
        ] {
            assert_eq!(Severity::parse(raw), Some(sev), "{raw}");
        }
        for bad in ["sev5", "0", "urgent", "", "sev"] {
            assert_eq!(Severity::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn lifecycle_and_impossible_transitions() {
        let inc = declared();
        let (inc, ev) = inc.set_status(Status::Identified, at(5)).unwrap();
        assert_eq!(
            ev,
            vec![Event::StatusChanged {
                from: Status::Investigating,
                to: Status::Identified
            }]
        );
        assert_eq!(inc.updated_at, at(5));
        let (resolved, _) = inc.resolve(Some("rolled back".into()), at(9)).unwrap();
        assert_eq!(resolved.status, Status::Resolved);
        assert_eq!(resolved.resolved_at, Some(at(9)));
        assert_eq!(
            resolved.resolve(None, at(10)),
            Err(TransitionError::AlreadyResolved(7))
        );
        assert!(matches!(
            resolved.set_severity(Severity::Sev2, at(10)),
            Err(TransitionError::AlreadyResolved(7))
        ));
        let (reopened, ev) = resolved.reopen(None, at(11)).unwrap();
        assert_eq!(reopened.status, Status::Investigating);
        assert_eq!(reopened.resolved_at, None);
        assert_eq!(ev, vec![Event::Reopened { reason: None }]);
        assert_eq!(
            reopened.reopen(None, at(12)),
            Err(TransitionError::NotResolved(7))
        );
    }

    #[test]
    fn same_value_changes_are_refused() {
        let inc = declared();
        assert!(matches!(
            inc.set_severity(Severity::Sev1, at(1)),
            Err(TransitionError::SameSeverity { .. })
        ));
        let (inc, _) = inc.assign("commander", "@joana", at(1)).unwrap();
        assert!(matches!(
            inc.assign("commander", "@joana", at(2)),
            Err(TransitionError::SameRoleHolder { .. })
        ));
        let (inc, ev) = inc.assign("commander", "@marcos", at(3)).unwrap();
        assert_eq!(
            ev,
            vec![Event::RoleAssigned {
                role: "commander".into(),
                person: "@marcos".into(),
                previous: Some("@joana".into())
            }]
        );
        let (inc, _) = inc.acknowledge(&actor(), at(4)).unwrap();
        assert!(matches!(
            inc.acknowledge(&actor(), at(5)),
            Err(TransitionError::AlreadyAcknowledged { .. })
        ));
    }

    #[test]
    fn update_sets_next_check_and_follow_ups_number_up() {
        let inc = declared();
        let fields = UpdateFields {
            impact: Some("card payments failing".into()),
            next_check_minutes: Some(15),
            ..Default::default()
        };
        let (inc, _) = inc.post_update(fields, at(10)).unwrap();
        assert_eq!(inc.impact.as_deref(), Some("card payments failing"));
        assert_eq!(inc.next_check_at, Some(at(25)));
        let (inc, _) = inc
            .add_follow_up("add alert".into(), &actor(), at(11))
            .unwrap();
        let (inc, ev) = inc
            .add_follow_up("runbook".into(), &actor(), at(12))
            .unwrap();
        assert_eq!(inc.follow_ups.len(), 2);
        assert_eq!(
            ev,
            vec![Event::FollowUpAdded {
                number: 2,
                text: "runbook".into()
            }]
        );
    }
}
