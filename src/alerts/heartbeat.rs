//! `[[heartbeats]]`, a dead man's switch: a service pings `POST /webhooks/heartbeat/<id>` with
//! its token (`RUNROOM_HEARTBEAT_TOKEN_<ID>`) at least every `every`; when no ping has come for
//! `every + grace`, runroom opens the incident (the seeds' "MCP heartbeat failure", "CRON job
//! not running"), and when pings resume it says so and resolves it (unless `auto_resolve =
//! false`). A missed heartbeat is an alert of the source `heartbeat:<id>`, so it is stored,
//! deduplicated, routed and announced like any other; the check is a durable job planned with
//! each ping, so a restart or a second replica neither misses nor doubles it.

use chrono::Duration;
use serde::Deserialize;

use super::routes::Route;
use super::{SourceRules, ensure_known, is_path_id};
use crate::engine::command::parse_minutes;
use crate::engine::incident::Severity;

/// One `[[heartbeats]]` entry as the file says it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatConfig {
    pub id: String,
    /// How often the service pings (`1m`, `1h`).
    pub every: String,
    /// How much later than `every` a ping may come before it counts as missed (default:
    /// `every`).
    #[serde(default)]
    pub grace: Option<String>,
    /// The incident's title (default: "No heartbeat from <id>", in the first room's language).
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default = "default_severity")]
    pub severity: String,
    /// The rooms that hear it (none: every room).
    #[serde(default)]
    pub rooms: Vec<String>,
    #[serde(default = "yes")]
    pub page: bool,
    /// Resolve the incident when pings resume.
    #[serde(default = "yes")]
    pub auto_resolve: bool,
    /// The playbook its incident starts with.
    #[serde(default)]
    pub playbook: Option<String>,
}

fn default_severity() -> String {
    "sev2".into()
}
fn yes() -> bool {
    true
}

/// A heartbeat, checked.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    pub id: String,
    pub every: Duration,
    pub grace: Duration,
    pub title: Option<String>,
    pub severity: Severity,
    pub rooms: Vec<String>,
    pub page: bool,
    pub auto_resolve: bool,
    pub playbook: Option<String>,
}

impl Heartbeat {
    /// How long after a ping the next one counts as missed.
    pub fn deadline(&self) -> Duration {
        self.every + self.grace
    }

    /// What identifies its timing: a check planned with other timing is planned again.
    pub fn spec(&self) -> String {
        format!(
            "{}m+{}m",
            self.every.num_minutes(),
            self.grace.num_minutes()
        )
    }

    /// The alert source a missed heartbeat fires from.
    pub fn source(&self) -> String {
        format!("heartbeat:{}", self.id)
    }

    /// Its source's rules: one route that sets its severity, rooms and paging.
    pub fn rules(&self) -> SourceRules {
        SourceRules {
            routes: vec![Route::fixed(
                self.severity,
                self.rooms.clone(),
                self.page,
                self.playbook.clone(),
            )],
            auto_resolve: self.auto_resolve,
            ..SourceRules::new(&self.source())
        }
    }
}

/// The heartbeats, checked against the rooms; an error names the field.
pub fn heartbeats(
    configs: &[HeartbeatConfig],
    rooms: &[&str],
    playbooks: &[&str],
) -> Result<Vec<Heartbeat>, (String, String)> {
    let mut checked: Vec<Heartbeat> = Vec::new();
    for (i, c) in configs.iter().enumerate() {
        let field = |name: &str| format!("heartbeats[{i}].{name}");
        if !is_path_id(&c.id) {
            return Err((
                field("id"),
                format!(
                    "{:?} must be letters, digits, '-' or '_' (it is the webhook's path)",
                    c.id
                ),
            ));
        }
        if checked.iter().any(|h| h.id.eq_ignore_ascii_case(&c.id)) {
            return Err((
                field("id"),
                format!("{:?} is used by another heartbeat", c.id),
            ));
        }
        let minutes = |name: &str, raw: &str| {
            parse_minutes(raw)
                .ok()
                .filter(|m| *m > 0)
                .map(|m| Duration::minutes(i64::from(m)))
                .ok_or_else(|| {
                    (
                        field(name),
                        format!("{raw:?} is not a duration such as 5m or 1h"),
                    )
                })
        };
        let every = minutes("every", &c.every)?;
        let grace = match &c.grace {
            Some(raw) => minutes("grace", raw)?,
            None => every,
        };
        let severity = Severity::parse(&c.severity).ok_or_else(|| {
            (
                field("severity"),
                format!("{:?} is not sev1 … sev4", c.severity),
            )
        })?;
        for (j, room) in c.rooms.iter().enumerate() {
            ensure_known(field(&format!("rooms[{j}]")), room, rooms, "[[rooms]]")?;
        }
        if let Some(id) = &c.playbook {
            ensure_known(field("playbook"), id, playbooks, "[[playbooks]]")?;
        }
        checked.push(Heartbeat {
            id: c.id.clone(),
            every,
            grace,
            title: c.title.clone().filter(|t| !t.trim().is_empty()),
            severity,
            rooms: c.rooms.clone(),
            page: c.page,
            auto_resolve: c.auto_resolve,
            playbook: c.playbook.clone(),
        });
    }
    Ok(checked)
}

/// Each heartbeat's token from the environment (by heartbeat id). A heartbeat without one is
/// refused: its webhook is never left open.
pub fn tokens(
    heartbeats: &[Heartbeat],
    secrets: &crate::config::Secrets,
) -> anyhow::Result<Vec<(String, super::auth::SourceAuth)>> {
    heartbeats
        .iter()
        .map(|h| {
            let name = token_name(&h.id);
            let token = secrets.get(&name).ok_or_else(|| {
                anyhow::anyhow!(
                    "heartbeat {:?} has no token: set {name} (a heartbeat webhook is never left open)",
                    h.id
                )
            })?;
            Ok((h.id.clone(), super::auth::SourceAuth::Bearer { token }))
        })
        .collect()
}

/// A heartbeat's token's environment name: `RUNROOM_HEARTBEAT_TOKEN_<ID>`.
pub fn token_name(id: &str) -> String {
    format!(
        "RUNROOM_HEARTBEAT_TOKEN_{}",
        id.to_ascii_uppercase().replace('-', "_")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Vec<Heartbeat>, (String, String)> {
        let config: HeartbeatConfig = toml::from_str(text).expect("a heartbeat");
        heartbeats(&[config], &["ops"], &[])
    }

    #[test]
    fn grace_defaults_to_the_interval_and_errors_name_the_field() {
        let h = check("id = \"mcp\"\nevery = \"2m\"")
            .expect("valid")
            .remove(0);
        assert_eq!(
            (h.every, h.grace, h.severity),
            (Duration::minutes(2), Duration::minutes(2), Severity::Sev2)
        );
        assert_eq!(h.deadline(), Duration::minutes(4));
        assert_eq!(
            token_name("cron-nightly"),
            "RUNROOM_HEARTBEAT_TOKEN_CRON_NIGHTLY"
        );
        for (text, field) in [
            ("id = \"a b\"\nevery = \"1m\"", "heartbeats[0].id"),
            ("id = \"a\"\nevery = \"soon\"", "heartbeats[0].every"),
            (
                "id = \"a\"\nevery = \"1m\"\ngrace = \"0m\"",
                "heartbeats[0].grace",
            ),
            (
                "id = \"a\"\nevery = \"1m\"\nseverity = \"sev7\"",
                "heartbeats[0].severity",
            ),
            (
                "id = \"a\"\nevery = \"1m\"\nrooms = [\"nowhere\"]",
                "heartbeats[0].rooms[0]",
            ),
        ] {
            assert_eq!(check(text).expect_err(text).0, field);
        }
    }
}
