//! The team's policies from config, as the engine uses them: update cadence per severity,
//! escalation steps, the people runroom can page, cron schedules and on-call rotations.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::incident::Severity;
use super::room::Platform;
use super::rotation::Rotation;
use super::schedule::Schedule;
use crate::i18n::Lang;

/// Someone runroom can page, and how to reach them on each platform.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    /// The name config and commands use (`joana`).
    pub id: String,
    /// The name to show (`Joana`).
    pub name: String,
    /// Who they are on each platform: a Slack user id (`U0123`), an E.164 WhatsApp number, a
    /// Telegram username (without `@`). Each platform's adapter decides what it does with its
    /// own (`crate::engine::reach`).
    pub identities: BTreeMap<Platform, String>,
    /// The language and zone of their direct pages.
    pub language: Lang,
    pub timezone: Tz,
}

impl Person {
    /// Who they are on `platform`, if they are there.
    pub fn identity(&self, platform: Platform) -> Option<&str> {
        self.identities.get(&platform).map(String::as_str)
    }
}

/// Who an escalation step notifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A person from `[[people]]`.
    Person(String),
    /// Whoever holds a rotation's role now (`oncall`, `oncall:ops`, `oncall:field:comms`).
    OnCall {
        rotation: Option<String>,
        role: Option<String>,
    },
}

/// One step of an escalation policy: whom to notify, how long after the incident was declared
/// and still unacknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub after: Duration,
    pub notify: Vec<Target>,
}

/// Everything the scheduler plans from. The default has the seeds' update cadence (SEV1 every
/// 15 min, SEV2 30, SEV3 60, SEV4 none) and no escalation, schedules or rotations.
#[derive(Debug, Clone, PartialEq)]
pub struct Policies {
    /// Minutes between updates, per severity (index 0 is SEV1); `None`: no reminders.
    pub cadence: [Option<i64>; 4],
    /// Escalation steps per severity; a severity without steps pages nobody.
    pub escalation: BTreeMap<Severity, Vec<Step>>,
    /// Escalation policies by name, for playbooks (`[[escalation]] id = …`).
    pub named_escalation: BTreeMap<String, Vec<Step>>,
    pub playbooks: Vec<super::playbook::Playbook>,
    pub people: Vec<Person>,
    pub schedules: Vec<Schedule>,
    pub rotations: Vec<Rotation>,
    /// A job this much past due says it is late (the process was down or overloaded).
    pub late_after: Duration,
    /// How long sent messages, inbound dedupe keys, finished jobs and delivery reports are
    /// kept (`[retention] days`).
    pub retention: Duration,
    /// Minutes from resolve until the postmortem is due, per severity (index 0 is SEV1);
    /// `None`: that severity needs none (`[postmortems]`).
    pub postmortem_due: [Option<i64>; 4],
    /// Reminders about an overdue postmortem, a day apart, at most.
    pub postmortem_reminders: u32,
}

impl Default for Policies {
    fn default() -> Policies {
        Policies {
            cadence: [Some(15), Some(30), Some(60), None],
            escalation: BTreeMap::new(),
            named_escalation: BTreeMap::new(),
            playbooks: Vec::new(),
            people: Vec::new(),
            schedules: Vec::new(),
            rotations: Vec::new(),
            late_after: Duration::seconds(60),
            retention: Duration::days(30),
            postmortem_due: [Some(48 * 60), Some(5 * 24 * 60), None, None],
            postmortem_reminders: 3,
        }
    }
}

impl Policies {
    pub fn cadence(&self, severity: Severity) -> Option<Duration> {
        let index = usize::try_from(severity.number() - 1).ok()?;
        self.cadence
            .get(index)
            .copied()
            .flatten()
            .map(Duration::minutes)
    }

    /// How long after its resolve an incident of `severity` has its postmortem due.
    pub fn postmortem_due(&self, severity: Severity) -> Option<Duration> {
        let index = usize::try_from(severity.number() - 1).ok()?;
        self.postmortem_due
            .get(index)
            .copied()
            .flatten()
            .map(Duration::minutes)
    }

    pub fn steps(&self, severity: Severity) -> &[Step] {
        self.escalation
            .get(&severity)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// An incident's escalation steps: its playbook's named policy, else its severity's.
    pub fn steps_of(&self, incident: &super::incident::Incident) -> &[Step] {
        match incident
            .escalation
            .as_ref()
            .and_then(|name| self.named_escalation.get(name))
        {
            Some(steps) => steps,
            None => self.steps(incident.severity),
        }
    }

    pub fn playbook(&self, id: &str) -> Option<&super::playbook::Playbook> {
        self.playbooks
            .iter()
            .find(|p| p.id.eq_ignore_ascii_case(id))
    }

    /// When an incident's next update is due after one at `from`: its playbook's cadence, else
    /// its severity's.
    pub fn update_due_of(
        &self,
        incident: &super::incident::Incident,
        from: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        match incident.update_minutes {
            Some(minutes) => Some(from + Duration::minutes(minutes)),
            None => self.update_due(incident.severity, from),
        }
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    /// A person named in chat: `@joana`, `joana`, `Joana`, a Telegram username (`@ana_ops`, the
    /// one identity people type), or a mention token (`<@U0123>`, `<@telegram:42>`, see
    /// [`super::reach`]).
    pub fn find_person(&self, word: &str) -> Option<&Person> {
        let word = word.trim();
        if let Some(id) = word.strip_prefix("<@").and_then(|w| w.strip_suffix('>')) {
            let id = id.split('|').next().unwrap_or(id);
            let (platform, user) = match id.split_once(':') {
                Some((ns, user)) => (Platform::parse(ns)?, user),
                None => (Platform::Slack, id),
            };
            return self
                .people
                .iter()
                .find(|p| p.identity(platform) == Some(user));
        }
        let bare = word.trim_start_matches('@');
        self.people.iter().find(|p| {
            p.id.eq_ignore_ascii_case(bare)
                || p.name.eq_ignore_ascii_case(bare)
                || p.identity(Platform::Telegram)
                    .is_some_and(|t| t.eq_ignore_ascii_case(bare))
        })
    }

    pub fn rotation(&self, id: &str) -> Option<&Rotation> {
        self.rotations.iter().find(|r| r.id == id)
    }

    /// The rotation a command names, or the only one configured.
    pub fn rotation_or_only(&self, named: Option<&str>) -> Option<&Rotation> {
        match (named, self.rotations.as_slice()) {
            (Some(id), _) => self.rotation(id),
            (None, [only]) => Some(only),
            (None, _) => None,
        }
    }

    pub fn schedule(&self, id: &str) -> Option<&Schedule> {
        self.schedules.iter().find(|s| s.id == id)
    }

    /// When the update after one posted at `from` is due, at `severity`'s cadence.
    pub fn update_due(&self, severity: Severity, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cadence(severity).map(|c| from + c)
    }
}
