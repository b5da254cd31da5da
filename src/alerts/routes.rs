//! `[[alert_routes]]`: where an alert group goes. The first route whose sources and label
//! matchers (Alertmanager's syntax: `severity = "critical"`, `service =~ "api|pix"`, `!=`, `!~`)
//! fit the group's first alert decides its severity (fixed, or mapped from the alert's own
//! severity label), the rooms that hear the incident, whether its escalation pages, whether it
//! resolves when its alerts do, and whether it is only a notice (posted to the rooms, no
//! incident: the seeds' "info → #monitoring"). With no route, every group opens an incident in
//! every room.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;

use super::ensure_known;
use super::model::{Alert, severity_word};
use crate::engine::incident::Severity;

/// One `[[alert_routes]]` entry as the file says it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertRouteConfig {
    /// The sources it applies to (none: all).
    #[serde(default)]
    pub sources: Vec<String>,
    /// Label matchers, all of which must hold (none: every alert).
    #[serde(default)]
    pub matchers: Vec<String>,
    /// The incident's severity, whatever the alerts say.
    #[serde(default)]
    pub severity: Option<String>,
    /// The alert's `severity` (or `priority`) label value → severity (`critical = "sev1"`).
    #[serde(default)]
    pub severity_map: BTreeMap<String, String>,
    /// The rooms that hear it (none: every linked room).
    #[serde(default)]
    pub rooms: Vec<String>,
    /// Only post a notice to `rooms`; open no incident.
    #[serde(default)]
    pub notice: bool,
    /// Whether the escalation policy pages people for these incidents.
    #[serde(default = "yes")]
    pub page: bool,
    /// Overrides the source's `auto_resolve`.
    #[serde(default)]
    pub auto_resolve: Option<bool>,
    /// The playbook its incidents start with (else the first whose matchers fit).
    #[serde(default)]
    pub playbook: Option<String>,
}

fn yes() -> bool {
    true
}

/// A route, checked and compiled.
#[derive(Debug, Clone)]
pub struct Route {
    /// Its place in the file (`alert_routes[i]`).
    pub index: usize,
    pub sources: Vec<String>,
    matchers: Vec<Matcher>,
    severity: Option<Severity>,
    severity_map: BTreeMap<String, Severity>,
    pub rooms: Vec<String>,
    pub notice: bool,
    pub page: bool,
    pub auto_resolve: Option<bool>,
    pub playbook: Option<String>,
}

impl Route {
    /// A route for everything: this severity, these rooms, paging or not (a heartbeat's).
    pub fn fixed(
        severity: Severity,
        rooms: Vec<String>,
        page: bool,
        playbook: Option<String>,
    ) -> Route {
        Route {
            index: 0,
            sources: Vec::new(),
            matchers: Vec::new(),
            severity: Some(severity),
            severity_map: BTreeMap::new(),
            rooms,
            notice: false,
            page,
            auto_resolve: None,
            playbook,
        }
    }

    /// Whether every matcher holds for these labels.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matchers.iter().all(|m| m.matches(labels))
    }

    /// The severity this route gives an alert.
    pub fn severity(&self, alert: &Alert) -> Severity {
        if let Some(fixed) = self.severity {
            return fixed;
        }
        ["severity", "priority"]
            .iter()
            .filter_map(|name| alert.labels.get(*name))
            .find_map(|value| self.severity_map.get(&value.to_lowercase()).copied())
            .unwrap_or_else(|| alert.severity())
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

/// One label matcher. A label the alert lacks counts as the empty string, as in Alertmanager.
#[derive(Debug, Clone)]
pub struct Matcher {
    label: String,
    op: Op,
    value: String,
    regex: Option<Regex>,
}

/// Two matchers are the same when they read the same (the regex follows from the text).
impl PartialEq for Matcher {
    fn eq(&self, other: &Matcher) -> bool {
        self.label == other.label && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    /// `label = "value"`, `!=`, `=~` (anchored regular expression) or `!~`.
    pub fn parse(raw: &str) -> Result<Matcher, String> {
        let (label, op, rest) = [
            ("=~", Op::Regex),
            ("!~", Op::NotRegex),
            ("!=", Op::NotEqual),
            ("=", Op::Equal),
        ]
        .iter()
        .find_map(|(token, op)| {
            let at = raw.find(token)?;
            Some((raw[..at].trim(), *op, raw[at + token.len()..].trim()))
        })
        .ok_or_else(|| {
            format!(
                "{raw:?} is not a matcher such as severity = \"critical\" or service =~ \"api|pix\""
            )
        })?;
        let label_ok =
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !label_ok {
            return Err(format!("{raw:?}: {label:?} is not a label name"));
        }
        let value = rest
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(rest)
            .to_string();
        let regex = match op {
            Op::Regex | Op::NotRegex => Some(
                Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| format!("{raw:?}: not a regular expression ({e})"))?,
            ),
            Op::Equal | Op::NotEqual => None,
        };
        Ok(Matcher {
            label: label.to_string(),
            op,
            value,
            regex,
        })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.label).map(String::as_str).unwrap_or("");
        match (&self.op, &self.regex) {
            (Op::Equal, _) => value == self.value,
            (Op::NotEqual, _) => value != self.value,
            (Op::Regex, Some(re)) => re.is_match(value),
            (Op::NotRegex, Some(re)) => !re.is_match(value),
            (Op::Regex | Op::NotRegex, None) => false,
        }
    }
}

/// The routes, checked against the rooms and sources the file configures; an error names the
/// field (`alert_routes[1].matchers[0]`) and the problem.
pub fn routes(
    configs: &[AlertRouteConfig],
    rooms: &[&str],
    sources: &[&str],
    playbooks: &[&str],
) -> Result<Vec<Route>, (String, String)> {
    configs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let field = |name: &str| format!("alert_routes[{i}].{name}");
            for (j, source) in c.sources.iter().enumerate() {
                ensure_known(
                    field(&format!("sources[{j}]")),
                    source,
                    sources,
                    "[[alert_sources]]",
                )?;
            }
            for (j, room) in c.rooms.iter().enumerate() {
                ensure_known(field(&format!("rooms[{j}]")), room, rooms, "[[rooms]]")?;
            }
            if let Some(id) = &c.playbook {
                ensure_known(field("playbook"), id, playbooks, "[[playbooks]]")?;
            }
            if c.notice && c.rooms.is_empty() {
                return Err((
                    field("rooms"),
                    "a notice route needs the rooms it posts to".into(),
                ));
            }
            let matchers = c
                .matchers
                .iter()
                .enumerate()
                .map(|(j, m)| Matcher::parse(m).map_err(|e| (field(&format!("matchers[{j}]")), e)))
                .collect::<Result<Vec<_>, _>>()?;
            let severity = c
                .severity
                .as_deref()
                .map(|s| {
                    Severity::parse(s)
                        .ok_or_else(|| (field("severity"), format!("{s:?} is not sev1 … sev4")))
                })
                .transpose()?;
            let severity_map = c
                .severity_map
                .iter()
                .map(|(label, s)| {
                    let sev = Severity::parse(s)
                        .or_else(|| severity_word(s))
                        .ok_or_else(|| {
                            (
                                field(&format!("severity_map.{label}")),
                                format!("{s:?} is not sev1 … sev4"),
                            )
                        })?;
                    Ok::<_, (String, String)>((label.to_lowercase(), sev))
                })
                .collect::<Result<BTreeMap<_, _>, _>>()?;
            Ok(Route {
                index: i,
                sources: c.sources.clone(),
                matchers,
                severity,
                severity_map,
                rooms: c.rooms.clone(),
                notice: c.notice,
                page: c.page,
                auto_resolve: c.auto_resolve,
                playbook: c.playbook.clone(),
            })
        })
        .collect()
}

/// The first of `routes` for these labels.
pub fn route_for<'r>(routes: &'r [Route], labels: &BTreeMap<String, String>) -> Option<&'r Route> {
    routes.iter().find(|r| r.matches(labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn route(toml_text: &str) -> Result<Vec<Route>, (String, String)> {
        let config: AlertRouteConfig = toml::from_str(toml_text).expect("a route");
        routes(
            &[config],
            &["war-room", "monitoring"],
            &["prometheus"],
            &["latency"],
        )
    }

    #[test]
    fn matchers_follow_alertmanager() {
        let r = route(r#"matchers = ['severity = "critical"', 'service =~ "api|pix"', 'env != "staging"', 'team !~ "qa.*"']"#)
            .expect("valid")
            .remove(0);
        assert!(r.matches(&labels(&[("severity", "critical"), ("service", "pix")])));
        assert!(
            !r.matches(&labels(&[("severity", "critical"), ("service", "pixel")])),
            "anchored"
        );
        assert!(!r.matches(&labels(&[("severity", "warning"), ("service", "api")])));
        assert!(!r.matches(&labels(&[
            ("severity", "critical"),
            ("service", "api"),
            ("env", "staging")
        ])));
        assert!(!r.matches(&labels(&[
            ("severity", "critical"),
            ("service", "api"),
            ("team", "qa-br")
        ])));
        let empty = route(r#"matchers = ['env = ""']"#)
            .expect("valid")
            .remove(0);
        assert!(
            empty.matches(&labels(&[])),
            "a missing label is the empty string"
        );
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                r#"matchers = ['severity critical']"#,
                "alert_routes[0].matchers[0]",
            ),
            (
                r#"matchers = ['service =~ "("']"#,
                "alert_routes[0].matchers[0]",
            ),
            (r#"rooms = ["nowhere"]"#, "alert_routes[0].rooms[0]"),
            (r#"sources = ["nagios"]"#, "alert_routes[0].sources[0]"),
            (r#"severity = "sev9""#, "alert_routes[0].severity"),
            (
                r#"severity_map = { critical = "urgent!" }"#,
                "alert_routes[0].severity_map.critical",
            ),
            (r#"notice = true"#, "alert_routes[0].rooms"),
            (r#"playbook = "nope""#, "alert_routes[0].playbook"),
        ];
        for (text, field) in cases {
            assert_eq!(route(text).expect_err(text).0, field, "{text}");
        }
    }
}
