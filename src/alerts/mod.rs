//! Alerts become incidents. Each `[[alert_sources]]` entry is a webhook at
//! `/webhooks/alerts/<id>` in one format — Alertmanager ([`alertmanager`], Grafana's too),
//! Datadog ([`datadog`]) or PagerDuty-style events ([`events`]) — checked by its own secret
//! ([`auth`]). A delivery is parsed into platform-neutral [`model::Alert`]s and handed to
//! [`crate::engine::Engine::take_alerts`], which stores them, deduplicates, groups them into
//! incidents and says what changed, in one unit of work; the webhook answers 2xx only after
//! that committed ([`webhook`]).

pub mod alertmanager;
pub mod auth;
pub mod datadog;
pub mod events;
pub mod heartbeat;
pub mod model;
pub mod routes;
pub mod webhook;

use serde::Deserialize;

use self::auth::SourceAuth;
use crate::config::Secrets;

/// The formats a source may speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Alertmanager,
    Grafana,
    Datadog,
    Events,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alertmanager => "alertmanager",
            Self::Grafana => "grafana",
            Self::Datadog => "datadog",
            Self::Events => "events",
        }
    }

    /// The alerts of one delivery in this format.
    pub fn parse(self, body: &[u8]) -> Result<Vec<model::Alert>, FormatError> {
        match self {
            Self::Alertmanager | Self::Grafana => alertmanager::parse(body),
            Self::Datadog => datadog::parse(body),
            Self::Events => events::parse(body),
        }
    }
}

/// A delivery that can never be read as alerts (answered 400: retrying would not help).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FormatError {
    #[error("not a notification of this format: {0}")]
    Malformed(String),
}

/// How a source authenticates, as the file says it (the secret comes from the environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    Bearer,
    Basic,
    Hmac,
}

/// One `[[alert_sources]]` entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertSourceConfig {
    /// The webhook's path segment and the name the secrets are read by.
    pub id: String,
    pub format: Format,
    /// `bearer`, `basic` (with `username`) or `hmac` (Grafana); by default `basic` when a
    /// username is set, `hmac` for Grafana with `RUNROOM_ALERT_HMAC_<ID>` set, else `bearer`.
    #[serde(default)]
    pub auth: Option<AuthMethod>,
    #[serde(default)]
    pub username: Option<String>,
    /// Grafana's signature header, when it is not the default.
    #[serde(default)]
    pub signature_header: Option<String>,
    /// Grafana's timestamp header, when its webhook is set to sign `timestamp:body`.
    #[serde(default)]
    pub timestamp_header: Option<String>,
    /// Labels that group alerts into one incident (default: the format's group, Alertmanager's
    /// `groupKey`; a Datadog monitor; an event's dedup key).
    #[serde(default)]
    pub group_by: Vec<String>,
    /// Past this many incidents opened by this source in a minute, new alert groups join one
    /// "alert storm" incident of the source instead.
    #[serde(default = "default_storm")]
    pub max_new_incidents_per_minute: u32,
    /// Resolve an incident once every alert in it has resolved (else the commander decides).
    #[serde(default)]
    pub auto_resolve: bool,
    /// An alert firing again more than this many times within `flap_minutes` is flapping: said
    /// once, and it no longer announces each change.
    #[serde(default = "default_flap_threshold")]
    pub flap_threshold: u32,
    #[serde(default = "default_flap_minutes")]
    pub flap_minutes: u32,
}

fn default_storm() -> u32 {
    10
}
fn default_flap_threshold() -> u32 {
    3
}
fn default_flap_minutes() -> u32 {
    30
}

/// A source ready to take deliveries: its rules and its checked secret.
#[derive(Debug, Clone)]
pub struct AlertSource {
    pub id: String,
    pub format: Format,
    pub auth: SourceAuth,
    pub rules: SourceRules,
}

/// What the engine needs to know of a source.
#[derive(Debug, Clone)]
pub struct SourceRules {
    pub id: String,
    /// The `[[alert_routes]]` that apply to it, in the file's order.
    pub routes: Vec<routes::Route>,
    pub group_by: Vec<String>,
    pub max_new_incidents_per_minute: u32,
    pub auto_resolve: bool,
    pub flap_threshold: u32,
    pub flap_minutes: u32,
}

impl SourceRules {
    /// A source's rules with the defaults (for tests and benchmarks that call the engine).
    pub fn new(id: &str) -> SourceRules {
        SourceRules {
            id: id.to_string(),
            routes: Vec::new(),
            group_by: Vec::new(),
            max_new_incidents_per_minute: default_storm(),
            auto_resolve: false,
            flap_threshold: default_flap_threshold(),
            flap_minutes: default_flap_minutes(),
        }
    }
}

/// A secret's environment name for a source: `RUNROOM_ALERT_<KIND>_<ID>` with the id
/// upper-cased and `-` as `_`.
pub fn secret_name(kind: &str, id: &str) -> String {
    format!(
        "RUNROOM_ALERT_{kind}_{}",
        id.to_ascii_uppercase().replace('-', "_")
    )
}

/// Whether an id can be a webhook's path segment (and the tail of a secret's name).
pub(crate) fn is_path_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Checks that `id` (at `field`) is one of `known`, the ids of the config table `table`.
pub(crate) fn ensure_known(
    field: String,
    id: &str,
    known: &[&str],
    table: &str,
) -> Result<(), (String, String)> {
    if known.contains(&id) {
        Ok(())
    } else {
        Err((field, format!("{id:?} is not a {table} id")))
    }
}

/// Checks one entry's fields (`field` names it in the error: `alert_sources[0].id`).
pub fn validate(
    i: usize,
    source: &AlertSourceConfig,
    earlier: &[AlertSourceConfig],
) -> Result<(), (String, String)> {
    let field = |name: &str| format!("alert_sources[{i}].{name}");
    let id = &source.id;
    if !is_path_id(id) {
        return Err((
            field("id"),
            format!("{id:?} must be letters, digits, '-' or '_' (it is the webhook's path)"),
        ));
    }
    if earlier.iter().any(|o| o.id.eq_ignore_ascii_case(id)) {
        return Err((field("id"), format!("{id:?} is used by another source")));
    }
    if source.max_new_incidents_per_minute == 0 {
        return Err((
            field("max_new_incidents_per_minute"),
            "must be at least 1".into(),
        ));
    }
    if source.flap_threshold == 0 || source.flap_minutes == 0 {
        return Err((
            field("flap_threshold"),
            "flap_threshold and flap_minutes must be at least 1".into(),
        ));
    }
    if source.auth == Some(AuthMethod::Basic) && source.username.is_none() {
        return Err((field("username"), "basic auth needs a username".into()));
    }
    if source.auth == Some(AuthMethod::Hmac) && source.format != Format::Grafana {
        return Err((
            field("auth"),
            "only Grafana signs its webhooks (hmac)".into(),
        ));
    }
    if source.group_by.iter().any(|l| l.trim().is_empty()) {
        return Err((field("group_by"), "a label name must not be empty".into()));
    }
    Ok(())
}

/// Each configured source with its secret from the environment and the routes that apply to
/// it. A source whose secret is not set is refused: an alert webhook is never left open.
pub fn sources(
    configs: &[AlertSourceConfig],
    routes: &[routes::Route],
    secrets: &Secrets,
) -> anyhow::Result<Vec<AlertSource>> {
    configs
        .iter()
        .map(|c| {
            let need = |kind: &str| {
                let name = secret_name(kind, &c.id);
                secrets.get(&name).ok_or_else(|| {
                    anyhow::anyhow!(
                        "alert source {:?} has no secret: set {name} (an alert webhook is never left open)",
                        c.id
                    )
                })
            };
            let method = c.auth.unwrap_or(if c.username.is_some() {
                AuthMethod::Basic
            } else if c.format == Format::Grafana
                && secrets.get(&secret_name("HMAC", &c.id)).is_some()
            {
                AuthMethod::Hmac
            } else {
                AuthMethod::Bearer
            });
            let auth = match method {
                AuthMethod::Bearer => SourceAuth::Bearer {
                    token: need("TOKEN")?,
                },
                AuthMethod::Basic => SourceAuth::Basic {
                    username: c.username.clone().unwrap_or_default(),
                    password: need("PASSWORD")?,
                },
                AuthMethod::Hmac => SourceAuth::Hmac {
                    secret: need("HMAC")?,
                    header: c
                        .signature_header
                        .clone()
                        .unwrap_or_else(|| auth::GRAFANA_SIGNATURE_HEADER.to_string()),
                    timestamp_header: c.timestamp_header.clone(),
                },
            };
            Ok(AlertSource {
                id: c.id.clone(),
                format: c.format,
                auth,
                rules: SourceRules {
                    id: c.id.clone(),
                    routes: routes
                        .iter()
                        .filter(|r| r.sources.is_empty() || r.sources.contains(&c.id))
                        .cloned()
                        .collect(),
                    group_by: c.group_by.clone(),
                    max_new_incidents_per_minute: c.max_new_incidents_per_minute,
                    auto_resolve: c.auto_resolve,
                    flap_threshold: c.flap_threshold,
                    flap_minutes: c.flap_minutes,
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(toml_text: &str) -> AlertSourceConfig {
        toml::from_str(toml_text).expect("a source")
    }

    #[test]
    fn secrets_are_named_after_the_source() {
        assert_eq!(
            secret_name("TOKEN", "prod-am"),
            "RUNROOM_ALERT_TOKEN_PROD_AM"
        );
    }

    #[test]
    fn a_source_without_its_secret_is_refused() {
        let am = source("id = \"am\"\nformat = \"alertmanager\"");
        let error = sources(std::slice::from_ref(&am), &[], &Secrets::none()).expect_err("refused");
        assert!(
            error.to_string().contains("RUNROOM_ALERT_TOKEN_AM"),
            "{error}"
        );
        let ok = sources(
            &[am],
            &[],
            &Secrets::from_pairs([("RUNROOM_ALERT_TOKEN_AM", "t")]),
        )
        .expect("ok");
        assert_eq!(ok[0].auth.method(), "bearer");

        let basic = source("id = \"am\"\nformat = \"alertmanager\"\nusername = \"alertmanager\"");
        let error = sources(
            std::slice::from_ref(&basic),
            &[],
            &Secrets::from_pairs([("RUNROOM_ALERT_TOKEN_AM", "t")]),
        )
        .expect_err("refused");
        assert!(
            error.to_string().contains("RUNROOM_ALERT_PASSWORD_AM"),
            "{error}"
        );

        let grafana = source("id = \"graf\"\nformat = \"grafana\"");
        let ok = sources(
            &[grafana],
            &[],
            &Secrets::from_pairs([("RUNROOM_ALERT_HMAC_GRAF", "s")]),
        )
        .expect("ok");
        assert_eq!(ok[0].auth.method(), "hmac");
    }

    #[test]
    fn entries_are_checked_field_by_field() {
        let bad_id = source("id = \"a/b\"\nformat = \"events\"");
        assert_eq!(
            validate(0, &bad_id, &[]).expect_err("bad").0,
            "alert_sources[0].id"
        );
        let am = source("id = \"am\"\nformat = \"alertmanager\"");
        assert_eq!(
            validate(1, &am, std::slice::from_ref(&am))
                .expect_err("twice")
                .0,
            "alert_sources[1].id"
        );
        let hmac = source("id = \"dd\"\nformat = \"datadog\"\nauth = \"hmac\"");
        assert_eq!(
            validate(0, &hmac, &[]).expect_err("hmac").0,
            "alert_sources[0].auth"
        );
        let basic = source("id = \"dd\"\nformat = \"datadog\"\nauth = \"basic\"");
        assert_eq!(
            validate(0, &basic, &[]).expect_err("basic").0,
            "alert_sources[0].username"
        );
        assert!(toml::from_str::<AlertSourceConfig>("id = \"x\"\nformat = \"nagios\"").is_err());
    }
}
