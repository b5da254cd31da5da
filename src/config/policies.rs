//! The scheduling sections of the config: `[reminders]`, `[[people]]`, `[[escalation]]`,
//! `[[schedules]]`, `[[rotations]]`, validated into the engine's [`Policies`]; a problem names
//! the field.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime, NaiveTime};
use serde::Deserialize;

use super::{ConfigError, invalid, language, zone};
use crate::engine::command::parse_minutes;
use crate::engine::incident::Severity;
use crate::engine::policy::{Person, Policies, Step, Target};
use crate::engine::room::{Platform, Room};
use crate::engine::rotation::{Pattern, Rotation};
use crate::engine::schedule::Schedule;
use crate::i18n::Lang;
use crate::platforms::whatsapp::phone;

/// Update cadence per severity: a duration (`15m`, `1h`) or `off`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RemindersConfig {
    #[serde(default = "sev1")]
    pub sev1: String,
    #[serde(default = "sev2")]
    pub sev2: String,
    #[serde(default = "sev3")]
    pub sev3: String,
    #[serde(default = "off")]
    pub sev4: String,
    /// A job firing this much after its time says it is late.
    #[serde(default = "late_after")]
    pub late_after_seconds: u64,
}

fn sev1() -> String {
    "15m".into()
}
fn sev2() -> String {
    "30m".into()
}
fn sev3() -> String {
    "60m".into()
}
fn off() -> String {
    "off".into()
}
fn late_after() -> u64 {
    60
}

impl Default for RemindersConfig {
    fn default() -> Self {
        RemindersConfig {
            sev1: sev1(),
            sev2: sev2(),
            sev3: sev3(),
            sev4: off(),
            late_after_seconds: late_after(),
        }
    }
}

/// `[postmortems]`: which severities need a postmortem and how long after the resolve it is
/// due (`48h`, `5d`, or `off`), and how many reminders (a day apart) an overdue one gets.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PostmortemsConfig {
    pub sev1: String,
    pub sev2: String,
    pub sev3: String,
    pub sev4: String,
    pub reminders: u32,
}

impl Default for PostmortemsConfig {
    fn default() -> Self {
        PostmortemsConfig {
            sev1: "48h".into(),
            sev2: "5d".into(),
            sev3: off(),
            sev4: off(),
            reminders: 3,
        }
    }
}

/// A delay in whole days, hours or minutes (`5d`, `48h`, `90m`), or `off`.
fn days_or_minutes(field: &str, raw: &str) -> Result<Option<i64>, ConfigError> {
    let word = raw.trim().to_ascii_lowercase();
    if word == "off" || word == "none" {
        return Ok(None);
    }
    let unit = |suffix: &str, minutes: i64| {
        word.strip_suffix(suffix)
            .and_then(|n| n.trim().parse::<i64>().ok())
            .filter(|n| *n > 0)
            .map(|n| n * minutes)
    };
    unit("d", 24 * 60)
        .or_else(|| unit("h", 60))
        .or_else(|| unit("m", 1))
        .map(Some)
        .ok_or_else(|| invalid(field, format!("{raw:?} is not a delay such as 48h or 5d")))
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PersonConfig {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub slack: Option<String>,
    #[serde(default)]
    pub whatsapp: Option<String>,
    #[serde(default)]
    pub telegram: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StepConfig {
    /// After the declaration (`0m`, `5m`, `1h`).
    pub after: String,
    /// Person ids, or `oncall`, `oncall:ROTATION`, `oncall:ROTATION:ROLE`.
    pub notify: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EscalationConfig {
    /// A name playbooks refer to it by (`escalation = "meta-partner"`).
    #[serde(default)]
    pub id: Option<String>,
    /// The severities it is the policy of (none: only playbooks that name it use it).
    #[serde(default)]
    pub severities: Vec<String>,
    pub steps: Vec<StepConfig>,
}

/// Words in the team's own language: one text, or one per language
/// (`{ en = "…", pt-BR = "…", es = "…" }`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum TextsConfig {
    One(String),
    Many(BTreeMap<String, String>),
}

/// One `[[playbooks]]` entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlaybookConfig {
    pub id: String,
    pub title: TextsConfig,
    #[serde(default)]
    pub severity: Option<String>,
    /// Alert label matchers that start it when an alert opens an incident.
    #[serde(default)]
    pub matchers: Vec<String>,
    #[serde(default)]
    pub first_actions: Vec<TextsConfig>,
    /// A named `[[escalation]]` policy.
    #[serde(default)]
    pub escalation: Option<String>,
    /// Role → a `[[people]]` id or `oncall[:ROTATION[:ROLE]]`.
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
    #[serde(default)]
    pub update_every: Option<String>,
    /// `declared`, `update`, `resolved` → the customer message for announce rooms.
    #[serde(default)]
    pub customer: BTreeMap<crate::engine::playbook::Moment, TextsConfig>,
    #[serde(default)]
    pub links: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    pub id: String,
    pub cron: String,
    #[serde(default = "utc")]
    pub timezone: String,
    pub rooms: Vec<String>,
    pub title: String,
    #[serde(default)]
    pub items: Vec<String>,
}

fn utc() -> String {
    "UTC".into()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RotationConfig {
    pub id: String,
    #[serde(default = "utc")]
    pub timezone: String,
    /// Where handoff summaries go.
    #[serde(default)]
    pub rooms: Vec<String>,
    /// Weekly: the first handoff (`2026-01-05 10:00`, local), and the people in turn.
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub people: Vec<String>,
    /// Weekday/weekend: the handoff time (`09:00`) and each part's role holders.
    #[serde(default)]
    pub handoff: Option<String>,
    #[serde(default)]
    pub weekdays: BTreeMap<String, String>,
    #[serde(default)]
    pub weekends: BTreeMap<String, String>,
}

fn minutes(field: &str, raw: &str, allow_zero: bool) -> Result<Option<i64>, ConfigError> {
    let word = raw.trim().to_ascii_lowercase();
    if word == "off" || word == "none" {
        return Ok(None);
    }
    if allow_zero && (word == "0" || word == "0m") {
        return Ok(Some(0));
    }
    parse_minutes(&word)
        .map(|m| Some(i64::from(m)))
        .map_err(|_| {
            invalid(
                field,
                format!("{raw:?} is not a duration such as 15m or 1h"),
            )
        })
}

/// Platforms redeliver a webhook for up to this long (Meta: 7 days); an inbound dedupe key kept
/// for less would let a late redelivery act twice.
pub const MIN_RETENTION_DAYS: u32 = 7;

/// `[retention]`: how long what has served its purpose is kept (sent messages, inbound dedupe
/// keys, finished jobs, delivery reports) before the retention job deletes it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    pub days: u32,
}

impl Default for RetentionConfig {
    fn default() -> RetentionConfig {
        RetentionConfig { days: 30 }
    }
}

impl RetentionConfig {
    fn keep_for(&self) -> Result<Duration, ConfigError> {
        if self.days < MIN_RETENTION_DAYS {
            return Err(invalid(
                "retention.days",
                format!(
                    "{} is shorter than {MIN_RETENTION_DAYS} days: platforms redeliver webhooks \
                     for up to {MIN_RETENTION_DAYS} days (Meta), and a redelivery whose dedupe key \
                     was deleted would be carried out again",
                    self.days
                ),
            ));
        }
        Ok(Duration::days(i64::from(self.days)))
    }
}

/// Roles as written in config, in the engine's canonical names (commander for `ic`).
fn roles(map: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut holders: Vec<(String, String)> = map
        .iter()
        .map(|(role, person)| {
            (
                crate::engine::incident::canonical_role(role),
                person.clone(),
            )
        })
        .collect();
    // The commander first: it is the role an override or `oncall` means.
    holders.sort_by_key(|(role, _)| role != "commander");
    holders
}

impl super::Config {
    /// The scheduling policies, validated against the rooms.
    pub fn policies(&self, rooms: &[Room]) -> Result<Policies, ConfigError> {
        let r = &self.reminders;
        let mut policies = Policies {
            cadence: [
                minutes("reminders.sev1", &r.sev1, false)?,
                minutes("reminders.sev2", &r.sev2, false)?,
                minutes("reminders.sev3", &r.sev3, false)?,
                minutes("reminders.sev4", &r.sev4, false)?,
            ],
            late_after: Duration::seconds(i64::try_from(r.late_after_seconds).unwrap_or(60)),
            retention: self.retention.keep_for()?,
            postmortem_due: [
                days_or_minutes("postmortems.sev1", &self.postmortems.sev1)?,
                days_or_minutes("postmortems.sev2", &self.postmortems.sev2)?,
                days_or_minutes("postmortems.sev3", &self.postmortems.sev3)?,
                days_or_minutes("postmortems.sev4", &self.postmortems.sev4)?,
            ],
            postmortem_reminders: self.postmortems.reminders,
            ..Policies::default()
        };
        let room_exists = |field: String, id: &str| {
            if rooms.iter().any(|r| r.id == id) {
                Ok(())
            } else {
                Err(invalid(field, format!("{id:?} is not a configured room")))
            }
        };
        for (i, p) in self.people.iter().enumerate() {
            let field = |name: &str| format!("people[{i}].{name}");
            if p.id.trim().is_empty() || policies.person(&p.id).is_some() {
                return Err(invalid(field("id"), "must be set and unique"));
            }
            let whatsapp = p
                .whatsapp
                .as_deref()
                .map(|raw| {
                    phone::normalize(raw).ok_or_else(|| {
                        invalid(
                            field("whatsapp"),
                            "is not a phone number in international form (+5511987654321)",
                        )
                    })
                })
                .transpose()?;
            let language = match &p.language {
                Some(raw) => language(&field("language"), raw)?,
                None => Lang::En,
            };
            let timezone = match &p.timezone {
                Some(raw) => zone(&field("timezone"), raw)?,
                None => chrono_tz::UTC,
            };
            let identities = [
                (Platform::Slack, p.slack.clone()),
                (Platform::Whatsapp, whatsapp),
                (
                    Platform::Telegram,
                    p.telegram
                        .as_deref()
                        .map(|t| t.trim_start_matches('@').to_string()),
                ),
            ]
            .into_iter()
            .filter_map(|(platform, id)| Some((platform, id?)))
            .collect();
            policies.people.push(Person {
                id: p.id.clone(),
                name: p.name.clone().unwrap_or_else(|| p.id.clone()),
                identities,
                language,
                timezone,
            });
        }
        for (i, s) in self.schedules.iter().enumerate() {
            let field = |name: &str| format!("schedules[{i}].{name}");
            if s.id.trim().is_empty() || policies.schedule(&s.id).is_some() {
                return Err(invalid(field("id"), "must be set and unique"));
            }
            let cron = Schedule::parse_cron(&s.cron).map_err(|e| invalid(field("cron"), e))?;
            for (j, room) in s.rooms.iter().enumerate() {
                room_exists(field(&format!("rooms[{j}]")), room)?;
            }
            if s.rooms.is_empty() {
                return Err(invalid(field("rooms"), "name at least one room"));
            }
            policies.schedules.push(Schedule {
                id: s.id.clone(),
                pattern: s.cron.clone(),
                cron,
                timezone: zone(&field("timezone"), &s.timezone)?,
                rooms: s.rooms.clone(),
                title: s.title.clone(),
                items: s.items.clone(),
            });
        }
        for (i, r) in self.rotations.iter().enumerate() {
            let field = |name: &str| format!("rotations[{i}].{name}");
            if r.id.trim().is_empty() || policies.rotation(&r.id).is_some() {
                return Err(invalid(field("id"), "must be set and unique"));
            }
            for (j, room) in r.rooms.iter().enumerate() {
                room_exists(field(&format!("rooms[{j}]")), room)?;
            }
            let pattern = match (&r.start, &r.handoff) {
                (Some(start), None) => {
                    let first =
                        NaiveDateTime::parse_from_str(start, "%Y-%m-%d %H:%M").map_err(|_| {
                            invalid(
                                field("start"),
                                format!("{start:?} is not like 2026-01-05 10:00"),
                            )
                        })?;
                    if r.people.is_empty() {
                        return Err(invalid(field("people"), "a weekly rotation needs people"));
                    }
                    Pattern::Weekly {
                        first,
                        people: r.people.clone(),
                    }
                }
                (None, Some(at)) => {
                    let at = NaiveTime::parse_from_str(at, "%H:%M").map_err(|_| {
                        invalid(field("handoff"), format!("{at:?} is not a time like 09:00"))
                    })?;
                    if r.weekdays.is_empty() || r.weekends.is_empty() {
                        return Err(invalid(
                            field("weekdays"),
                            "a weekday/weekend rotation needs weekdays and weekends holders",
                        ));
                    }
                    Pattern::Split {
                        at,
                        weekdays: roles(&r.weekdays),
                        weekends: roles(&r.weekends),
                    }
                }
                _ => {
                    return Err(invalid(
                        field("start"),
                        "set either start and people (weekly) or handoff with weekdays and weekends",
                    ));
                }
            };
            policies.rotations.push(Rotation {
                id: r.id.clone(),
                timezone: zone(&field("timezone"), &r.timezone)?,
                rooms: r.rooms.clone(),
                pattern,
            });
        }
        for (i, e) in self.escalation.iter().enumerate() {
            let field = |name: &str| format!("escalation[{i}].{name}");
            if e.id.is_none() && e.severities.is_empty() {
                return Err(invalid(
                    field("severities"),
                    "a policy needs severities, or an id for playbooks to name it",
                ));
            }
            let mut steps = Vec::new();
            for (j, s) in e.steps.iter().enumerate() {
                let step = |name: &str| field(&format!("steps[{j}].{name}"));
                let after = minutes(&step("after"), &s.after, true)?
                    .ok_or_else(|| invalid(step("after"), "a step needs a delay"))?;
                let mut notify = Vec::new();
                for (k, target) in s.notify.iter().enumerate() {
                    notify.push(self.target(&policies, &step(&format!("notify[{k}]")), target)?);
                }
                steps.push(Step {
                    after: Duration::minutes(after),
                    notify,
                });
            }
            for (j, raw) in e.severities.iter().enumerate() {
                let severity = Severity::parse(raw).ok_or_else(|| {
                    invalid(
                        field(&format!("severities[{j}]")),
                        format!("{raw:?} is not a severity (sev1 … sev4)"),
                    )
                })?;
                if policies
                    .escalation
                    .insert(severity, steps.clone())
                    .is_some()
                {
                    return Err(invalid(
                        field(&format!("severities[{j}]")),
                        "has two escalation policies",
                    ));
                }
            }
            if let Some(id) = &e.id
                && policies
                    .named_escalation
                    .insert(id.clone(), steps)
                    .is_some()
            {
                return Err(invalid(field("id"), format!("{id:?} names two policies")));
            }
        }
        for (i, p) in self.playbooks.iter().enumerate() {
            let playbook = self.playbook(&policies, i, p)?;
            if policies.playbook(&playbook.id).is_some() {
                return Err(invalid(
                    format!("playbooks[{i}].id"),
                    format!("{:?} is used by another playbook", p.id),
                ));
            }
            policies.playbooks.push(playbook);
        }
        Ok(policies)
    }

    /// One playbook, checked against the people, rotations, roles and escalation policies.
    fn playbook(
        &self,
        policies: &Policies,
        i: usize,
        p: &PlaybookConfig,
    ) -> Result<crate::engine::playbook::Playbook, ConfigError> {
        use crate::engine::playbook::{Playbook, Texts};
        let field = |name: &str| format!("playbooks[{i}].{name}");
        if !crate::alerts::is_path_id(&p.id) {
            return Err(invalid(
                field("id"),
                format!(
                    "{:?} must be letters, digits, '-' or '_' (it is typed in chat)",
                    p.id
                ),
            ));
        }
        let texts = |name: String, raw: &TextsConfig| -> Result<Texts, ConfigError> {
            let map = match raw {
                TextsConfig::One(text) => BTreeMap::from([(Lang::En, text.clone())]),
                TextsConfig::Many(by_lang) => by_lang
                    .iter()
                    .map(|(l, text)| Ok((language(&format!("{name}.{l}"), l)?, text.clone())))
                    .collect::<Result<BTreeMap<_, _>, ConfigError>>()?,
            };
            if map.is_empty() || map.values().any(|t| t.trim().is_empty()) {
                return Err(invalid(name, "must not be empty"));
            }
            Ok(Texts(map))
        };
        let severity = p
            .severity
            .as_deref()
            .map(|raw| {
                Severity::parse(raw).ok_or_else(|| {
                    invalid(
                        field("severity"),
                        format!("{raw:?} is not a severity (sev1 … sev4)"),
                    )
                })
            })
            .transpose()?;
        let matchers = p
            .matchers
            .iter()
            .enumerate()
            .map(|(j, m)| {
                crate::alerts::routes::Matcher::parse(m)
                    .map_err(|e| invalid(field(&format!("matchers[{j}]")), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let first_actions = p
            .first_actions
            .iter()
            .enumerate()
            .map(|(j, t)| texts(field(&format!("first_actions[{j}]")), t))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(name) = &p.escalation
            && !policies.named_escalation.contains_key(name)
        {
            return Err(invalid(
                field("escalation"),
                format!("{name:?} is not an [[escalation]] id"),
            ));
        }
        let mut roles = BTreeMap::new();
        for (role, who) in &p.roles {
            let name = crate::engine::incident::canonical_role(role);
            let known = crate::engine::incident::BUILTIN_ROLES.contains(&name.as_str())
                || self
                    .incidents
                    .extra_roles
                    .iter()
                    .any(|r| crate::engine::incident::canonical_role(r) == name);
            if !known {
                return Err(invalid(
                    field(&format!("roles.{role}")),
                    format!(
                        "{role:?} is not a role (commander, comms, scribe or incidents.extra_roles)"
                    ),
                ));
            }
            roles.insert(
                name,
                self.target(policies, &field(&format!("roles.{role}")), who)?,
            );
        }
        let update_every = p
            .update_every
            .as_deref()
            .map(|raw| {
                minutes(&field("update_every"), raw, false)?
                    .ok_or_else(|| invalid(field("update_every"), "must be a duration such as 20m"))
            })
            .transpose()?;
        let customer = p
            .customer
            .iter()
            .map(|(moment, t)| {
                let name = format!("{moment:?}").to_lowercase();
                Ok((*moment, texts(field(&format!("customer.{name}")), t)?))
            })
            .collect::<Result<BTreeMap<_, _>, ConfigError>>()?;
        for (j, link) in p.links.iter().enumerate() {
            if !(link.starts_with("https://") || link.starts_with("http://")) {
                return Err(invalid(
                    field(&format!("links[{j}]")),
                    format!("{link:?} is not an http(s) address"),
                ));
            }
        }
        Ok(Playbook {
            id: p.id.clone(),
            title: texts(field("title"), &p.title)?,
            severity,
            matchers,
            first_actions,
            escalation: p.escalation.clone(),
            roles,
            update_every,
            customer,
            links: p.links.clone(),
        })
    }

    fn target(&self, policies: &Policies, field: &str, raw: &str) -> Result<Target, ConfigError> {
        let mut parts = raw.split(':');
        if parts.next() == Some("oncall") {
            let rotation = parts.next().map(str::to_string);
            let role = parts.next().map(crate::engine::incident::canonical_role);
            match &rotation {
                Some(id) if policies.rotation(id).is_none() => Err(invalid(
                    field,
                    format!("{id:?} is not a configured rotation"),
                )),
                None if policies.rotations.is_empty() => {
                    Err(invalid(field, "`oncall` needs a [[rotations]] entry"))
                }
                _ => Ok(Target::OnCall { rotation, role }),
            }
        } else if policies.person(raw).is_some() {
            Ok(Target::Person(raw.to_string()))
        } else {
            Err(invalid(
                field,
                format!("{raw:?} is neither a [[people]] id nor oncall[:ROTATION[:ROLE]]"),
            ))
        }
    }
}
