//! A generic format shaped like PagerDuty's Events API v2, so any script or checker can raise
//! and clear an incident: `event_action` (`trigger`, `acknowledge`, `resolve`), `dedup_key`, and
//! for a trigger `payload { summary, source, severity, timestamp?, component?, group?, class?,
//! custom_details? }` and `links`.

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::FormatError;
use super::model::{self, Alert, AlertStatus, TITLE_MAX_CHARS};

/// PagerDuty's own limit on a dedup key.
const DEDUP_KEY_MAX: usize = 255;

#[derive(Debug, Deserialize)]
struct Event {
    event_action: String,
    #[serde(default)]
    dedup_key: Option<String>,
    #[serde(default)]
    payload: Option<Payload>,
    #[serde(default)]
    links: Vec<Link>,
}

#[derive(Debug, Deserialize)]
struct Payload {
    summary: String,
    source: String,
    severity: String,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    component: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    custom_details: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Link {
    href: String,
    #[serde(default)]
    text: Option<String>,
}

/// The alert an event is about.
pub fn parse(body: &[u8]) -> Result<Vec<Alert>, FormatError> {
    let event: Event =
        serde_json::from_slice(body).map_err(|e| FormatError::Malformed(e.to_string()))?;
    let dedup_key = event.dedup_key.filter(|k| !k.trim().is_empty());
    if let Some(key) = &dedup_key
        && key.chars().count() > DEDUP_KEY_MAX
    {
        return Err(FormatError::Malformed(format!(
            "dedup_key is longer than {DEDUP_KEY_MAX} characters"
        )));
    }
    let links = model::links(
        event
            .links
            .into_iter()
            .map(|l| (l.text.unwrap_or_else(|| "link".into()), Some(l.href))),
    );
    match event.event_action.as_str() {
        "trigger" => {
            let p = event.payload.ok_or_else(|| {
                FormatError::Malformed(
                    "a trigger needs a payload (summary, source, severity)".into(),
                )
            })?;
            if model::severity_word(&p.severity).is_none() {
                return Err(FormatError::Malformed(format!(
                    "payload.severity {:?} is not critical, error, warning or info",
                    p.severity
                )));
            }
            // Without a key, the same trigger sent twice (a retry) must still be one alert.
            let key = dedup_key.unwrap_or_else(|| content_key(&p));
            let mut labels: BTreeMap<String, String> = BTreeMap::new();
            if let Some(serde_json::Value::Object(details)) = &p.custom_details {
                for (k, v) in details {
                    let value = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Bool(b) => b.to_string(),
                        _ => continue,
                    };
                    labels.insert(k.clone(), value);
                }
            }
            // The standard fields win over a custom detail of the same name.
            labels.insert("severity".into(), p.severity.clone());
            labels.insert("source".into(), p.source.clone());
            for (name, value) in [
                ("component", &p.component),
                ("group", &p.group),
                ("class", &p.class),
            ] {
                if let Some(value) = value {
                    labels.insert(name.into(), value.clone());
                }
            }
            let starts_at = p
                .timestamp
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc));
            Ok(vec![Alert {
                group_key: key.clone(),
                key,
                status: AlertStatus::Firing,
                labels: model::bounded_labels(labels),
                title: model::one_line(&p.summary, TITLE_MAX_CHARS),
                links,
                starts_at,
                ends_at: None,
                acknowledge: false,
            }])
        }
        action @ ("acknowledge" | "resolve") => {
            let key = dedup_key.ok_or_else(|| {
                FormatError::Malformed(format!("{action} needs the dedup_key of its trigger"))
            })?;
            Ok(vec![Alert {
                group_key: key.clone(),
                title: key.clone(),
                key,
                status: if action == "resolve" {
                    AlertStatus::Resolved
                } else {
                    AlertStatus::Firing
                },
                labels: BTreeMap::new(),
                links,
                starts_at: None,
                ends_at: None,
                acknowledge: action == "acknowledge",
            }])
        }
        other => Err(FormatError::Malformed(format!(
            "event_action {other:?} is not trigger, acknowledge or resolve"
        ))),
    }
}

/// A key from what identifies a trigger (source, component, group, class, summary).
fn content_key(p: &Payload) -> String {
    let mut hash = Sha256::new();
    for part in [
        Some(&p.source),
        p.component.as_ref(),
        p.group.as_ref(),
        p.class.as_ref(),
        Some(&p.summary),
    ] {
        hash.update(part.map(String::as_bytes).unwrap_or_default());
        hash.update([0xff]);
    }
    let digest = hash.finalize();
    let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    format!("runroom-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRIGGER: &str = include_str!("fixtures/events.json");

    #[test]
    fn reads_a_trigger_with_its_details_and_links() {
        let a = &parse(TRIGGER.as_bytes()).expect("parses")[0];
        assert_eq!(a.key, "mcp-heartbeat/prod");
        assert_eq!(a.status, AlertStatus::Firing);
        assert_eq!(a.title, "MCP heartbeat missing for 3 minutes");
        assert_eq!(a.labels["severity"], "critical");
        assert_eq!(a.labels["component"], "mcp");
        assert_eq!(a.labels["region"], "sa-east-1");
        assert_eq!(a.links[0].label, "Runbook");
        assert!(a.starts_at.is_some());
    }

    #[test]
    fn acknowledge_and_resolve_name_their_trigger() {
        let ack = parse(br#"{"event_action":"acknowledge","dedup_key":"k1"}"#).expect("parses");
        assert!(ack[0].acknowledge);
        let resolve = parse(br#"{"event_action":"resolve","dedup_key":"k1"}"#).expect("parses");
        assert_eq!(resolve[0].status, AlertStatus::Resolved);
        assert!(parse(br#"{"event_action":"resolve"}"#).is_err());
    }

    #[test]
    fn a_trigger_without_a_key_gets_the_same_key_each_time() {
        let body = br#"{"event_action":"trigger","payload":{"summary":"disk full","source":"db-1","severity":"error"}}"#;
        let first = parse(body).expect("parses");
        let again = parse(body).expect("parses");
        assert_eq!(first[0].key, again[0].key);
        assert!(first[0].key.starts_with("runroom-"));
    }

    #[test]
    fn refuses_what_pagerduty_would_refuse() {
        for body in [
            &br#"{"event_action":"trigger"}"#[..],
            br#"{"event_action":"explode","dedup_key":"k"}"#,
            br#"{"event_action":"trigger","payload":{"summary":"x","source":"y","severity":"apocalyptic"}}"#,
            br#"{"payload":{}}"#,
        ] {
            assert!(parse(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
        let long = format!(
            r#"{{"event_action":"resolve","dedup_key":"{}"}}"#,
            "k".repeat(256)
        );
        assert!(parse(long.as_bytes()).is_err());
    }
}
