//! Configuration: a TOML file (see `examples/runroom.toml`), every non-secret key overridable from
//! the environment, and validation that names the field and the problem. Secrets are never read
//! from the file: they come from the environment, once, as [`Secrets`].

mod access;
mod policies;
mod secrets;

pub use self::secrets::Secrets;

use std::path::Path;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::engine::room::{Platform, Room, RoomRole};
use crate::i18n::Lang;
use crate::outbox::OutboxConfig;
use crate::platforms::whatsapp::{RoomKind, phone};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://runroom.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The console room's id and chat.
pub const CONSOLE_ROOM: &str = "console";

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub rooms: Vec<RoomConfig>,
    #[serde(default)]
    pub incidents: IncidentsConfig,
    #[serde(default)]
    pub outbox: OutboxConfig,
    #[serde(default)]
    pub slack: Option<crate::platforms::slack::SlackConfig>,
    #[serde(default)]
    pub whatsapp: Option<crate::platforms::whatsapp::WhatsappConfig>,
    #[serde(default)]
    pub telegram: Option<crate::platforms::telegram::TelegramConfig>,
    #[serde(default)]
    pub evolution: Option<crate::platforms::whatsapp::EvolutionConfig>,
    #[serde(default)]
    pub scheduler: crate::scheduler::SchedulerConfig,
    #[serde(default)]
    pub reminders: RemindersConfig,
    #[serde(default)]
    pub postmortems: PostmortemsConfig,
    #[serde(default)]
    pub people: Vec<PersonConfig>,
    #[serde(default)]
    pub escalation: Vec<EscalationConfig>,
    #[serde(default)]
    pub schedules: Vec<ScheduleConfig>,
    #[serde(default)]
    pub rotations: Vec<RotationConfig>,
    #[serde(default)]
    pub retention: RetentionConfig,
    /// Alert webhooks, one per source (`/webhooks/alerts/<id>`).
    #[serde(default)]
    pub alert_sources: Vec<crate::alerts::AlertSourceConfig>,
    /// Where alert groups go (first match wins).
    #[serde(default)]
    pub alert_routes: Vec<crate::alerts::routes::AlertRouteConfig>,
    /// Dead man's switches: `/webhooks/heartbeat/<id>`.
    #[serde(default)]
    pub heartbeats: Vec<crate::alerts::heartbeat::HeartbeatConfig>,
    /// What to do for each kind of incident.
    #[serde(default)]
    pub playbooks: Vec<PlaybookConfig>,
    /// Who may do what (`None`: everyone in a linked room may do everything).
    #[serde(default)]
    pub access: Option<AccessConfig>,
}

pub use access::{AccessConfig, UnlinkedConfig};
pub use policies::{
    EscalationConfig, MIN_RETENTION_DAYS, PersonConfig, PlaybookConfig, PostmortemsConfig,
    RemindersConfig, RetentionConfig, RotationConfig, ScheduleConfig, StepConfig, TextsConfig,
};

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: String,
    /// runroom is reached over HTTPS (through a proxy that ends TLS): the dashboard's cookies
    /// are then marked `Secure`.
    #[serde(default)]
    pub https: bool,
    /// Open connections at once; one more is answered 503 with `Retry-After` (`http::server`).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Seconds a client has to send a request's head (and an idle keep-alive connection to
    /// start its next one).
    #[serde(default = "default_header_timeout")]
    pub header_timeout_seconds: u64,
    /// The inbound journal (`engine::journal`): events answered before their work committed,
    /// kept until it has. Default: beside a SQLite database file (`FILE.inbound`), or
    /// `runroom-inbound.journal` in the working directory with Postgres.
    #[serde(default)]
    pub journal: Option<String>,
}

fn default_header_timeout() -> u64 {
    crate::http::server::Limits::default()
        .header_timeout
        .as_secs()
}

fn default_max_connections() -> usize {
    crate::http::server::Limits::default().max_connections
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    #[serde(default = "default_database_url")]
    pub url: String,
    /// Writers committing units of work at once (default 1; SQLite, which has one write lock,
    /// ignores more).
    #[serde(default = "default_writers")]
    pub writers: usize,
    /// The most units of work one transaction commits.
    #[serde(default = "default_commit_batch")]
    pub commit_batch: usize,
    /// How long a busy writer waits for more units before it commits, in microseconds.
    #[serde(default = "default_commit_linger_us")]
    pub commit_linger_us: u64,
}

/// The longest a writer may wait for more commands: group commit is meant to cost a command a
/// few hundred microseconds at most, never a noticeable delay.
pub const MAX_COMMIT_LINGER_US: u64 = 1_000;

impl DatabaseConfig {
    /// The writers' settings are within what group commit is for.
    fn validate(&self) -> Result<(), ConfigError> {
        if self.writers == 0 {
            return Err(invalid("database.writers", "must be at least 1"));
        }
        if self.commit_batch == 0 {
            return Err(invalid("database.commit_batch", "must be at least 1"));
        }
        if self.commit_linger_us > MAX_COMMIT_LINGER_US {
            return Err(invalid(
                "database.commit_linger_us",
                format!(
                    "{} µs is too long: a command waits for it; at most {MAX_COMMIT_LINGER_US}",
                    self.commit_linger_us
                ),
            ));
        }
        Ok(())
    }

    /// How the engine commits units of work.
    pub fn writer(&self) -> crate::engine::writer::WriterConfig {
        crate::engine::writer::WriterConfig {
            writers: self.writers,
            batch: self.commit_batch,
            linger: std::time::Duration::from_micros(self.commit_linger_us),
            inline: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoomConfig {
    pub id: String,
    pub platform: Platform,
    /// The platform's chat id; a WhatsApp roster has none (it defaults to the room's id).
    #[serde(default)]
    pub chat: String,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default)]
    pub role: RoomRole,
    /// WhatsApp only: `roster`, `group` or `evolution` (see [`RoomConfig::whatsapp_kind`]).
    #[serde(default)]
    pub kind: Option<RoomKind>,
    /// A WhatsApp roster's members, as phone numbers (normalised to E.164).
    #[serde(default)]
    pub members: Vec<String>,
}

impl RoomConfig {
    /// A WhatsApp room's kind: as configured, or else a roster when it lists members, an
    /// Evolution group when its chat is a classic group JID (`…@g.us`), and a Cloud API group
    /// otherwise. `None` for other platforms.
    pub fn whatsapp_kind(&self) -> Option<RoomKind> {
        if self.platform != Platform::Whatsapp {
            return None;
        }
        Some(self.kind.unwrap_or(if !self.members.is_empty() {
            RoomKind::Roster
        } else if self.chat.ends_with("@g.us") {
            RoomKind::Evolution
        } else {
            RoomKind::Group
        }))
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct IncidentsConfig {
    /// Roles beyond commander, comms and scribe (e.g. "liaison", "ops").
    #[serde(default)]
    pub extra_roles: Vec<String>,
}

fn default_listen() -> String {
    DEFAULT_LISTEN.to_string()
}
fn default_database_url() -> String {
    DEFAULT_DATABASE_URL.to_string()
}
fn default_writers() -> usize {
    crate::engine::writer::WriterConfig::default().writers
}
fn default_commit_batch() -> usize {
    crate::engine::writer::WriterConfig::DEFAULT_BATCH
}
fn default_commit_linger_us() -> u64 {
    crate::engine::writer::WriterConfig::DEFAULT_LINGER.as_micros() as u64
}
fn default_language() -> String {
    "en".to_string()
}
fn default_timezone() -> String {
    "UTC".to_string()
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            https: false,
            max_connections: default_max_connections(),
            header_timeout_seconds: default_header_timeout(),
            journal: None,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: default_database_url(),
            writers: default_writers(),
            commit_batch: default_commit_batch(),
            commit_linger_us: default_commit_linger_us(),
        }
    }
}

/// What is wrong with a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
}

/// A language as config writes it (`en`, `pt-BR`, `es`); `field` names it in the error.
fn language(field: &str, raw: &str) -> Result<Lang, ConfigError> {
    Lang::ALL
        .into_iter()
        .find(|l| l.as_str().eq_ignore_ascii_case(raw))
        .ok_or_else(|| invalid(field, format!("{raw:?} is not one of en, pt-BR, es")))
}

/// An IANA time zone; `field` names it in the error.
fn zone(field: &str, raw: &str) -> Result<Tz, ConfigError> {
    raw.parse()
        .map_err(|_| invalid(field, format!("{raw:?} is not an IANA time zone")))
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Sections whose keys the environment may override as `RUNROOM_<SECTION>_<KEY>`.
const ENV_SECTIONS: &[&str] = &[
    "server",
    "database",
    "outbox",
    "slack",
    "whatsapp",
    "telegram",
    "evolution",
    "scheduler",
    "reminders",
    "retention",
];

impl Config {
    /// Reads, overrides from `env` and validates a file.
    pub fn load(path: &Path, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string(), env)
    }

    /// The configuration with no file: the defaults and the environment.
    pub fn defaults(env: &[(String, String)]) -> Result<Config, ConfigError> {
        Self::parse("", "(defaults)", env)
    }

    pub fn parse(
        text: &str,
        origin: &str,
        env: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        apply_env(&mut table, env);
        let config: Config =
            table
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    path: origin.to_string(),
                    message: e.to_string(),
                })?;
        config.database.validate()?;
        let rooms = config.rooms()?;
        let policies = config.policies(&rooms)?;
        config.access(&rooms, &policies.people)?;
        for (i, source) in config.alert_sources.iter().enumerate() {
            crate::alerts::validate(i, source, &config.alert_sources[..i])
                .map_err(|(field, problem)| invalid(field, problem))?;
        }
        config.alert_routes()?;
        config.heartbeats()?;
        Ok(config)
    }

    /// The linked rooms, validated.
    pub fn rooms(&self) -> Result<Vec<Room>, ConfigError> {
        let mut rooms: Vec<Room> = Vec::new();
        for (i, r) in self.rooms.iter().enumerate() {
            let field = |name: &str| format!("rooms[{i}].{name}");
            if r.id.trim().is_empty() {
                return Err(invalid(field("id"), "must not be empty"));
            }
            if rooms.iter().any(|o| o.id == r.id) {
                return Err(invalid(
                    field("id"),
                    format!("{:?} is used by another room", r.id),
                ));
            }
            let kind = r.whatsapp_kind();
            if r.kind.is_some() && kind.is_none() {
                return Err(invalid(field("kind"), "only WhatsApp rooms have a kind"));
            }
            let members = room_members(r, kind, &rooms, &field)?;
            let chat = if kind == Some(RoomKind::Roster) && r.chat.trim().is_empty() {
                r.id.clone()
            } else {
                r.chat.clone()
            };
            if chat.trim().is_empty() {
                return Err(invalid(field("chat"), "must not be empty"));
            }
            if rooms
                .iter()
                .any(|o| o.platform == r.platform && o.chat == chat)
            {
                return Err(invalid(
                    field("chat"),
                    "another room has the same platform and chat",
                ));
            }
            let language = language(&field("language"), &r.language)?;
            let timezone = zone(&field("timezone"), &r.timezone)?;
            rooms.push(Room {
                id: r.id.clone(),
                platform: r.platform,
                chat,
                language,
                timezone,
                role: r.role,
                members,
            });
        }
        self.outbox
            .validate()
            .map_err(|(field, problem)| invalid(field, problem))?;
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid(
                "server.listen",
                format!(
                    "{:?} is not an address such as 127.0.0.1:8080",
                    self.server.listen
                ),
            ));
        }
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres:")
            || url.starts_with("postgresql:"))
        {
            return Err(invalid(
                "database.url",
                format!(
                    "{:?} should start with sqlite:// or postgres://",
                    crate::store::redact_url(url)
                ),
            ));
        }
        Ok(rooms)
    }

    /// The alert routes, checked against the rooms and the alert sources.
    pub fn alert_routes(&self) -> Result<Vec<crate::alerts::routes::Route>, ConfigError> {
        let rooms: Vec<&str> = self.rooms.iter().map(|r| r.id.as_str()).collect();
        let sources: Vec<&str> = self.alert_sources.iter().map(|s| s.id.as_str()).collect();
        let playbooks: Vec<&str> = self.playbooks.iter().map(|p| p.id.as_str()).collect();
        crate::alerts::routes::routes(&self.alert_routes, &rooms, &sources, &playbooks)
            .map_err(|(field, problem)| invalid(field, problem))
    }

    /// The heartbeats, checked against the rooms.
    pub fn heartbeats(&self) -> Result<Vec<crate::alerts::heartbeat::Heartbeat>, ConfigError> {
        let rooms: Vec<&str> = self.rooms.iter().map(|r| r.id.as_str()).collect();
        let playbooks: Vec<&str> = self.playbooks.iter().map(|p| p.id.as_str()).collect();
        crate::alerts::heartbeat::heartbeats(&self.heartbeats, &rooms, &playbooks)
            .map_err(|(field, problem)| invalid(field, problem))
    }

    /// `runroom serve`'s rooms: the configured ones, or the console room when none is
    /// configured (a first try). A console room in a deployment with real rooms would print
    /// every broadcast to stdout, so there it runs only when configured
    /// (`[[rooms]] platform = "console"`).
    pub fn for_serve(self, timezone: Option<&str>) -> Config {
        if self.rooms.is_empty() {
            self.with_console_room(None, timezone)
        } else {
            self
        }
    }

    /// Where `serve` keeps its inbound journal: `[server] journal`, else beside a SQLite file,
    /// else (Postgres) in the working directory. `None` for an in-memory database, which keeps
    /// nothing across a crash anyway.
    pub fn journal_path(&self) -> Option<std::path::PathBuf> {
        if let Some(path) = &self.server.journal {
            return Some(path.into());
        }
        let url = self.database.url.as_str();
        match url.strip_prefix("sqlite:") {
            Some(rest) => {
                let (file, query) = rest.split_once('?').unwrap_or((rest, ""));
                let file = file.trim_start_matches("//");
                if file.is_empty() || file.contains(":memory:") || query.contains("mode=memory") {
                    return None;
                }
                Some(format!("{file}.inbound").into())
            }
            None => Some("runroom-inbound.journal".into()),
        }
    }

    /// Whether a console room is configured (then `serve` reads it from stdin).
    pub fn has_console_room(&self) -> bool {
        self.rooms.iter().any(|r| r.platform == Platform::Console)
    }

    /// Makes sure a console room exists (for `runroom console`, and `serve` with no rooms).
    pub fn with_console_room(mut self, language: Option<Lang>, timezone: Option<&str>) -> Config {
        if !self.rooms.iter().any(|r| r.platform == Platform::Console) {
            self.rooms.push(RoomConfig {
                id: CONSOLE_ROOM.to_string(),
                platform: Platform::Console,
                chat: CONSOLE_ROOM.to_string(),
                language: language.unwrap_or_default().as_str().to_string(),
                timezone: timezone
                    .filter(|tz| tz.parse::<Tz>().is_ok())
                    .unwrap_or("UTC")
                    .to_string(),
                role: RoomRole::WarRoom,
                kind: None,
                members: Vec::new(),
            });
        }
        self
    }

    /// Each WhatsApp room's kind, by room id (the sender routes by it).
    pub fn whatsapp_rooms(&self) -> std::collections::HashMap<String, RoomKind> {
        self.rooms
            .iter()
            .filter_map(|r| Some((r.id.clone(), r.whatsapp_kind()?)))
            .collect()
    }
}

/// A roster's members in E.164, checked: numbers only, at least one, none in two rosters (a
/// message from a number must belong to one room). The error names the entry, not the number.
fn room_members(
    r: &RoomConfig,
    kind: Option<RoomKind>,
    earlier: &[Room],
    field: &dyn Fn(&str) -> String,
) -> Result<Vec<String>, ConfigError> {
    if kind != Some(RoomKind::Roster) {
        if !r.members.is_empty() {
            return Err(invalid(
                field("members"),
                "only a WhatsApp roster (kind = \"roster\") has members",
            ));
        }
        return Ok(Vec::new());
    }
    if r.members.is_empty() {
        return Err(invalid(
            field("members"),
            "a roster needs at least one phone number",
        ));
    }
    let mut members: Vec<String> = Vec::new();
    for (j, raw) in r.members.iter().enumerate() {
        let entry = field(&format!("members[{j}]"));
        let number = phone::normalize(raw).ok_or_else(|| {
            invalid(
                entry.clone(),
                "is not a phone number in international form (+5511987654321)",
            )
        })?;
        if members.iter().any(|m| phone::same_number(m, &number)) {
            return Err(invalid(entry, "is listed twice"));
        }
        if let Some(other) = earlier
            .iter()
            .find(|o| o.members.iter().any(|m| phone::same_number(m, &number)))
        {
            return Err(invalid(
                entry,
                format!(
                    "is also a member of room {:?}: a number belongs to one roster",
                    other.id
                ),
            ));
        }
        members.push(number);
    }
    Ok(members)
}

/// Ids are digits but strings: accept `123` as well as `"123"` (an environment override of an
/// all-digit id arrives as a number).
pub fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(i64),
    }
    Ok(match Id::deserialize(d)? {
        Id::Text(s) => s,
        Id::Number(n) => n.to_string(),
    })
}

/// An environment value as TOML (`30`, `true`, `2.5`, `"x"`), or else as a plain string.
fn env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

fn is_secret(key: &str) -> bool {
    key.contains("token")
        || key.contains("secret")
        || key.contains("password")
        || key.ends_with("apikey")
}

/// `RUNROOM_DATABASE_URL` → `[database] url`, `RUNROOM_SERVER_LISTEN` (or `RUNROOM_LISTEN`) →
/// `[server] listen`, and so on for every section in [`ENV_SECTIONS`]. Secrets stay out of the
/// config: the platform that needs one reads it from the environment itself.
fn apply_env(table: &mut toml::Table, env: &[(String, String)]) {
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("RUNROOM_") else {
            continue;
        };
        let rest = rest.to_ascii_lowercase();
        let (section, key) = if rest == "listen" {
            ("server", "listen".to_string())
        } else {
            let Some(section) = ENV_SECTIONS
                .iter()
                .find(|s| rest.starts_with(&format!("{s}_")))
            else {
                continue;
            };
            (*section, rest[section.len() + 1..].to_string())
        };
        if key.is_empty() || is_secret(&key) {
            continue;
        }
        let entry = table
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(t) = entry {
            t.insert(key, env_value(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_writers_settings_are_checked() {
        let refused = |text: &str| match Config::parse(text, "test", &[]) {
            Err(ConfigError::Invalid { field, problem }) => format!("{field}: {problem}"),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            refused("[database]\ncommit_linger_us = 5000\n"),
            "database.commit_linger_us: 5000 µs is too long: a command waits for it; at most 1000"
        );
        assert_eq!(
            refused("[database]\ncommit_batch = 0\n"),
            "database.commit_batch: must be at least 1"
        );
        assert_eq!(
            refused("[database]\nwriters = 0\n"),
            "database.writers: must be at least 1"
        );
        let most = Config::parse("[database]\ncommit_linger_us = 1000\n", "test", &[]).unwrap();
        assert_eq!(
            most.database.writer().linger,
            std::time::Duration::from_micros(MAX_COMMIT_LINGER_US)
        );
    }

    #[test]
    fn defaults_are_sqlite_and_loopback() {
        let c = Config::defaults(&[]).unwrap();
        assert_eq!(c.database.url, DEFAULT_DATABASE_URL);
        assert_eq!(c.server.listen, DEFAULT_LISTEN);
        assert!(c.rooms.is_empty());
    }

    #[test]
    fn the_inbound_journal_lives_beside_the_database() {
        let at = |url: &str, journal: Option<&str>| {
            let mut c = Config::defaults(&[]).unwrap();
            c.database.url = url.to_string();
            c.server.journal = journal.map(str::to_string);
            c.journal_path().map(|p| p.display().to_string())
        };
        assert_eq!(
            at(DEFAULT_DATABASE_URL, None).as_deref(),
            Some("runroom.db.inbound")
        );
        assert_eq!(
            at("sqlite:///var/lib/runroom/r.db?mode=rwc", None).as_deref(),
            Some("/var/lib/runroom/r.db.inbound")
        );
        assert_eq!(at("sqlite::memory:", None), None);
        assert_eq!(
            at("postgres://db/runroom", None).as_deref(),
            Some("runroom-inbound.journal")
        );
        assert_eq!(
            at("postgres://db/runroom", Some("/srv/in.journal")).as_deref(),
            Some("/srv/in.journal")
        );
    }

    #[test]
    fn example_config_is_valid() {
        let text = include_str!("../../examples/runroom.toml");
        let c = Config::parse(text, "examples/runroom.toml", &[]).unwrap();
        let rooms = c.rooms().unwrap();
        assert!(rooms.len() >= 3);
        assert!(rooms.iter().any(|r| r.language == Lang::PtBr));
    }

    #[test]
    fn environment_overrides_but_never_takes_secrets() {
        let c = Config::parse(
            "[database]\nurl = \"sqlite://a.db\"\n",
            "t",
            &env(&[
                ("RUNROOM_DATABASE_URL", "postgres://x@h/db"),
                ("RUNROOM_LISTEN", "0.0.0.0:9000"),
                ("RUNROOM_SLACK_API_URL", "http://127.0.0.1:1/api"),
                ("RUNROOM_SLACK_BOT_TOKEN", "xoxb-secret"),
            ]),
        )
        .unwrap();
        assert_eq!(c.database.url, "postgres://x@h/db");
        assert_eq!(c.server.listen, "0.0.0.0:9000");
        let slack = c.slack.unwrap();
        assert_eq!(slack.api_url, "http://127.0.0.1:1/api");
        // `[slack]` denies unknown keys: had the token been copied in, parsing would have failed.
        assert_eq!(
            slack,
            crate::platforms::slack::SlackConfig {
                api_url: "http://127.0.0.1:1/api".into(),
                ..Default::default()
            }
        );
    }

    #[test]
    fn whatsapp_rooms_have_a_kind_and_rosters_have_members() {
        let text = r#"
[[rooms]]
id = "campo"
platform = "whatsapp"
kind = "roster"
members = ["+55 (11) 98765-4321", "5511912345678"]

[[rooms]]
id = "bodega"
platform = "whatsapp"
kind = "group"
chat = "120363099999999999"

[[rooms]]
id = "loja"
platform = "whatsapp"
chat = "120363025246125486@g.us"
"#;
        let c = Config::parse(text, "t", &[]).unwrap();
        let rooms = c.rooms().unwrap();
        assert_eq!(rooms[0].chat, "campo", "a roster's chat defaults to its id");
        assert_eq!(rooms[0].members, ["+5511987654321", "+5511912345678"]);
        let kinds = c.whatsapp_rooms();
        assert_eq!(kinds["campo"], RoomKind::Roster);
        assert_eq!(kinds["bodega"], RoomKind::Group);
        assert_eq!(kinds["loja"], RoomKind::Evolution, "a classic group JID");

        let bad = |text: &str| Config::parse(text, "t", &[]).unwrap_err().to_string();
        let e = bad("[[rooms]]\nid = \"a\"\nplatform = \"whatsapp\"\nkind = \"roster\"\n");
        assert!(e.contains("rooms[0].members"), "{e}");
        let e = bad("[[rooms]]\nid = \"a\"\nplatform = \"whatsapp\"\nmembers = [\"+55 11 9\"]\n");
        assert!(
            e.contains("rooms[0].members[0]") && !e.contains("+55 11 9"),
            "{e}"
        );
        let e =
            bad("[[rooms]]\nid = \"a\"\nplatform = \"slack\"\nchat = \"C1\"\nkind = \"group\"\n");
        assert!(e.contains("rooms[0].kind"), "{e}");
        let e = bad(
            "[[rooms]]\nid = \"a\"\nplatform = \"whatsapp\"\nkind = \"group\"\nchat = \"1\"\nmembers = [\"+5511987654321\"]\n",
        );
        assert!(e.contains("rooms[0].members"), "{e}");
        // One number in two rosters (here once with, once without Brazil's ninth digit).
        let e = bad(
            "[[rooms]]\nid = \"a\"\nplatform = \"whatsapp\"\nmembers = [\"+5511987654321\"]\n[[rooms]]\nid = \"b\"\nplatform = \"whatsapp\"\nmembers = [\"+551187654321\"]\n",
        );
        assert!(
            e.contains("rooms[1].members[0]") && e.contains("\"a\""),
            "{e}"
        );
    }

    #[test]
    fn serve_adds_the_console_room_only_when_no_room_is_configured() {
        let parse = |text: &str| Config::parse(text, "t", &[]).unwrap().for_serve(None);
        let bare = parse("");
        assert!(bare.has_console_room());
        assert_eq!(bare.rooms().unwrap().len(), 1);
        let slack = parse("[[rooms]]\nid = \"w\"\nplatform = \"slack\"\nchat = \"C1\"\n");
        assert!(!slack.has_console_room());
        assert_eq!(slack.rooms.len(), 1);
        let both = parse(
            "[[rooms]]\nid = \"w\"\nplatform = \"slack\"\nchat = \"C1\"\n[[rooms]]\nid = \"term\"\nplatform = \"console\"\nchat = \"term\"\n",
        );
        assert!(both.has_console_room());
        assert_eq!(both.rooms.len(), 2);
    }

    #[test]
    fn the_example_has_the_seeds_policies() {
        let text = include_str!("../../examples/runroom.toml");
        let c = Config::parse(text, "examples/runroom.toml", &[]).unwrap();
        let p = c.policies(&c.rooms().unwrap()).unwrap();
        assert_eq!(p.cadence, [Some(15), Some(30), Some(60), None]);
        assert_eq!(p.steps(crate::engine::incident::Severity::Sev1).len(), 3);
        assert!(p.steps(crate::engine::incident::Severity::Sev3).is_empty());
        assert_eq!(p.rotations.len(), 2);
        assert_eq!(p.schedules.len(), 4);
        assert_eq!(
            p.person("joana")
                .and_then(|j| j.identity(Platform::Whatsapp)),
            Some("+5511987654321")
        );
    }

    #[test]
    fn scheduling_errors_name_the_field() {
        let room = "[[rooms]]\nid = \"r\"\nplatform = \"console\"\nchat = \"c\"\n";
        let bad = |text: &str| {
            Config::parse(&format!("{room}{text}"), "t", &[])
                .unwrap_err()
                .to_string()
        };
        let e = bad("[reminders]\nsev1 = \"soon\"\n");
        assert!(e.contains("reminders.sev1") && e.contains("soon"), "{e}");
        let e = bad(
            "[[schedules]]\nid = \"s\"\ncron = \"0 25 * * *\"\nrooms = [\"r\"]\ntitle = \"t\"\n",
        );
        assert!(e.contains("schedules[0].cron"), "{e}");
        let e = bad(
            "[[schedules]]\nid = \"s\"\ncron = \"0 9 * * *\"\ntimezone = \"Asia/Mumbay\"\nrooms = [\"r\"]\ntitle = \"t\"\n",
        );
        assert!(e.contains("schedules[0].timezone"), "{e}");
        let e = bad(
            "[[schedules]]\nid = \"s\"\ncron = \"0 9 * * *\"\nrooms = [\"nowhere\"]\ntitle = \"t\"\n",
        );
        assert!(
            e.contains("schedules[0].rooms[0]") && e.contains("nowhere"),
            "{e}"
        );
        let e = bad("[[people]]\nid = \"p\"\nwhatsapp = \"12\"\n");
        assert!(
            e.contains("people[0].whatsapp") && !e.contains("\"12\""),
            "{e}"
        );
        let e = bad(
            "[[escalation]]\nseverities = [\"sev1\"]\nsteps = [{ after = \"0m\", notify = [\"ghost\"] }]\n",
        );
        assert!(
            e.contains("escalation[0].steps[0].notify[0]") && e.contains("ghost"),
            "{e}"
        );
        let e = bad(
            "[[escalation]]\nseverities = [\"sev1\"]\nsteps = [{ after = \"0m\", notify = [\"oncall\"] }]\n",
        );
        assert!(e.contains("[[rotations]]"), "{e}");
        let e = bad("[[rotations]]\nid = \"o\"\nstart = \"monday\"\npeople = [\"a\"]\n");
        assert!(e.contains("rotations[0].start"), "{e}");
        let e = bad(
            "[[rotations]]\nid = \"o\"\nhandoff = \"09:00\"\nweekdays = { commander = \"a\" }\n",
        );
        assert!(e.contains("rotations[0].weekdays"), "{e}");
    }

    #[test]
    fn errors_name_the_field() {
        let bad_tz = "[[rooms]]\nid = \"a\"\nplatform = \"slack\"\nchat = \"C1\"\ntimezone = \"Mars/Base\"\n";
        let e = Config::parse(bad_tz, "t", &[]).unwrap_err().to_string();
        assert!(
            e.contains("rooms[0].timezone") && e.contains("Mars/Base"),
            "{e}"
        );

        let bad_lang =
            "[[rooms]]\nid = \"a\"\nplatform = \"slack\"\nchat = \"C1\"\nlanguage = \"fr\"\n";
        let e = Config::parse(bad_lang, "t", &[]).unwrap_err().to_string();
        assert!(e.contains("rooms[0].language"), "{e}");

        let typo = "[server]\nlisten_on = \"1\"\n";
        let e = Config::parse(typo, "t", &[]).unwrap_err().to_string();
        assert!(e.contains("listen_on"), "{e}");

        let platform = "[[rooms]]\nid = \"a\"\nplatform = \"irc\"\nchat = \"C1\"\n";
        let e = Config::parse(platform, "t", &[]).unwrap_err().to_string();
        assert!(e.contains("irc"), "{e}");

        let dup = "[[rooms]]\nid = \"a\"\nplatform = \"slack\"\nchat = \"C1\"\n[[rooms]]\nid = \"a\"\nplatform = \"slack\"\nchat = \"C2\"\n";
        let e = Config::parse(dup, "t", &[]).unwrap_err().to_string();
        assert!(e.contains("rooms[1].id"), "{e}");

        let url = "[database]\nurl = \"mysql://x\"\n";
        let e = Config::parse(url, "t", &[]).unwrap_err().to_string();
        assert!(e.contains("database.url"), "{e}");
    }
}
