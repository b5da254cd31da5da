//! Prometheus Alertmanager's webhook (payload version 4) and Grafana alerting's, which has the
//! same shape plus a title, a message, a state and per-alert dashboard, panel and silence links.
//! Unknown fields are ignored: newer versions add some (`truncatedAlerts`, …).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::FormatError;
use super::model::{self, Alert, AlertStatus, TITLE_MAX_CHARS};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    group_key: Option<String>,
    #[serde(default)]
    common_annotations: BTreeMap<String, String>,
    /// Grafana: the notification's title.
    #[serde(default)]
    title: Option<String>,
    alerts: Vec<PayloadAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PayloadAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
    /// Grafana's links.
    #[serde(default, rename = "dashboardURL")]
    dashboard_url: Option<String>,
    #[serde(default, rename = "panelURL")]
    panel_url: Option<String>,
    #[serde(default, rename = "silenceURL")]
    silence_url: Option<String>,
}

/// The alerts of one notification.
pub fn parse(body: &[u8]) -> Result<Vec<Alert>, FormatError> {
    let payload: Payload =
        serde_json::from_slice(body).map_err(|e| FormatError::Malformed(e.to_string()))?;
    if let Some(version) = &payload.version
        && version != "4"
        && version != "1"
    {
        // Alertmanager has sent version 4 since 0.x; Grafana sends "1". Another is a shape we
        // do not know: refusing it tells the sender (it will not retry a 4xx).
        return Err(FormatError::Malformed(format!(
            "payload version {version:?} is not supported (4 expected)"
        )));
    }
    let common_title = payload
        .common_annotations
        .get("summary")
        .cloned()
        .or(payload.title.clone());
    payload
        .alerts
        .into_iter()
        .map(|a| {
            let status = match a.status.as_str() {
                "firing" | "alerting" => AlertStatus::Firing,
                "resolved" | "ok" | "normal" => AlertStatus::Resolved,
                other => {
                    return Err(FormatError::Malformed(format!(
                        "alert status {other:?} is neither firing nor resolved"
                    )));
                }
            };
            let key = match a.fingerprint.filter(|f| !f.trim().is_empty()) {
                Some(f) => f,
                None => labels_fingerprint(&a.labels),
            };
            let title = a
                .annotations
                .get("summary")
                .or_else(|| a.labels.get("alertname"))
                .cloned()
                .or_else(|| common_title.clone())
                .unwrap_or_else(|| key.clone());
            let group_key = payload
                .group_key
                .clone()
                .filter(|g| !g.is_empty())
                .unwrap_or_else(|| key.clone());
            let links = model::links([
                ("source".to_string(), a.generator_url),
                ("dashboard".to_string(), a.dashboard_url),
                ("panel".to_string(), a.panel_url),
                (
                    "runbook".to_string(),
                    a.annotations.get("runbook_url").cloned(),
                ),
                ("silence".to_string(), a.silence_url),
            ]);
            Ok(Alert {
                key,
                status,
                group_key,
                labels: model::bounded_labels(a.labels),
                title: model::one_line(&title, TITLE_MAX_CHARS),
                links,
                starts_at: a.starts_at.as_deref().and_then(time),
                ends_at: a.ends_at.as_deref().and_then(time),
                acknowledge: false,
            })
        })
        .collect()
}

/// An RFC 3339 time; Alertmanager's "no end" (`0001-01-01T00:00:00Z`) is none.
fn time(raw: &str) -> Option<DateTime<Utc>> {
    let at = DateTime::parse_from_rfc3339(raw).ok()?.with_timezone(&Utc);
    (at.timestamp() > 0).then_some(at)
}

/// An alert's identity when the sender gave no fingerprint: its label set, as Alertmanager's own
/// fingerprint is.
fn labels_fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut hash = Sha256::new();
    for (k, v) in labels {
        hash.update(k.as_bytes());
        hash.update([0xff]);
        hash.update(v.as_bytes());
        hash.update([0xff]);
    }
    let digest = hash.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALERTMANAGER: &str = include_str!("fixtures/alertmanager.json");
    const GRAFANA: &str = include_str!("fixtures/grafana.json");

    #[test]
    fn reads_an_alertmanager_notification() {
        let alerts = parse(ALERTMANAGER.as_bytes()).expect("parses");
        assert_eq!(alerts.len(), 2);
        let first = &alerts[0];
        assert_eq!(first.key, "a1b2c3d4e5f60718");
        assert_eq!(first.status, AlertStatus::Firing);
        assert_eq!(first.group_key, r#"{}:{alertname="PixLatencyHigh"}"#);
        assert_eq!(first.title, "PIX p99 latency above 2s");
        assert_eq!(first.labels["service"], "pix");
        assert_eq!(first.links[0].label, "source");
        assert!(first.ends_at.is_none(), "0001-01-01 means no end");
        assert_eq!(alerts[1].status, AlertStatus::Resolved);
        assert!(alerts[1].ends_at.is_some());
    }

    #[test]
    fn reads_a_grafana_notification_with_its_links() {
        let alerts = parse(GRAFANA.as_bytes()).expect("parses");
        assert_eq!(alerts.len(), 1);
        let a = &alerts[0];
        assert_eq!(a.key, "8c3bd2b5e0c2e16a");
        assert_eq!(a.title, "WhatsApp delivery failure rate above 2%");
        let labels: Vec<&str> = a.links.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["source", "dashboard", "panel", "silence"]);
    }

    #[test]
    fn a_missing_fingerprint_is_the_label_set() {
        let body = br#"{"version":"4","groupKey":"g","status":"firing","alerts":[
            {"status":"firing","labels":{"alertname":"A","instance":"x"}},
            {"status":"firing","labels":{"instance":"x","alertname":"A"}},
            {"status":"firing","labels":{"alertname":"A","instance":"y"}}]}"#;
        let alerts = parse(body).expect("parses");
        assert_eq!(alerts[0].key, alerts[1].key);
        assert_ne!(alerts[0].key, alerts[2].key);
    }

    #[test]
    fn refuses_what_is_not_a_notification() {
        for body in [
            &b"not json"[..],
            br#"{"version":"4"}"#,
            br#"{"version":"9","alerts":[]}"#,
            br#"{"alerts":[{"status":"exploded"}]}"#,
        ] {
            assert!(parse(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }
}
