//! Datadog's webhook integration: a JSON body the user writes from Datadog's `$VARIABLES`. The
//! README documents the template runroom reads (`alert_id` ← `$ALERT_ID`, `cycle_key` ←
//! `$ALERT_CYCLE_KEY`, `transition` ← `$ALERT_TRANSITION`, `title` ← `$EVENT_TITLE`,
//! `priority` ← `$ALERT_PRIORITY`, `tags` ← `$TAGS`, `link` ← `$LINK`, `date` ← `$DATE`).
//! One notification is one alert; a monitor's alerts group together by default.

use serde::Deserialize;

use super::FormatError;
use super::model::{self, Alert, AlertStatus, TITLE_MAX_CHARS};

#[derive(Debug, Deserialize)]
struct Payload {
    alert_id: Option<Scalar>,
    #[serde(default)]
    cycle_key: Option<Scalar>,
    transition: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    tags: Option<String>,
    #[serde(default)]
    link: Option<String>,
    #[serde(default)]
    date: Option<Scalar>,
}

/// Datadog substitutes numbers into the template as the user quoted them, or not.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Number(i64),
}

impl Scalar {
    fn text(self) -> String {
        match self {
            Scalar::Text(s) => s,
            Scalar::Number(n) => n.to_string(),
        }
    }
}

/// The alert of one notification; none for a transition that says nothing about the alert
/// (muted, unmuted).
pub fn parse(body: &[u8]) -> Result<Vec<Alert>, FormatError> {
    let p: Payload =
        serde_json::from_slice(body).map_err(|e| FormatError::Malformed(e.to_string()))?;
    let monitor = p
        .alert_id
        .map(Scalar::text)
        .filter(|id| !id.trim().is_empty() && !id.starts_with('$'))
        .ok_or_else(|| FormatError::Malformed("alert_id ($ALERT_ID) is missing".into()))?;
    let transition = p.transition.trim().to_ascii_lowercase();
    let status = if transition.contains("recover") || transition.contains("resolve") {
        AlertStatus::Resolved
    } else if transition.contains("mute") {
        return Ok(Vec::new());
    } else if transition.is_empty() {
        return Err(FormatError::Malformed(
            "transition ($ALERT_TRANSITION) is empty".into(),
        ));
    } else {
        AlertStatus::Firing
    };
    // The cycle key links a trigger to its recovery; without it, the monitor is the alert.
    let key = p
        .cycle_key
        .map(Scalar::text)
        .filter(|k| !k.trim().is_empty() && !k.starts_with('$'))
        .map(|k| format!("{monitor}:{k}"))
        .unwrap_or_else(|| monitor.clone());
    let mut labels: Vec<(String, String)> = p
        .tags
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|tag| match tag.split_once(':') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (tag.to_string(), String::new()),
        })
        .collect();
    labels.push(("monitor".into(), monitor.clone()));
    labels.push(("transition".into(), p.transition.trim().to_string()));
    if let Some(priority) = p.priority.filter(|v| !v.trim().is_empty()) {
        labels.push(("priority".into(), priority));
    }
    let title = p
        .title
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| format!("Datadog monitor {monitor}"));
    let at = p
        .date
        .map(Scalar::text)
        .and_then(|d| d.trim().parse::<i64>().ok())
        .and_then(chrono::DateTime::from_timestamp_millis);
    Ok(vec![Alert {
        key,
        status,
        group_key: format!("monitor:{monitor}"),
        labels: model::bounded_labels(labels),
        title: model::one_line(&title, TITLE_MAX_CHARS),
        links: model::links([("datadog".to_string(), p.link)]),
        starts_at: (status == AlertStatus::Firing).then_some(at).flatten(),
        ends_at: (status == AlertStatus::Resolved).then_some(at).flatten(),
        acknowledge: false,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRIGGERED: &str = include_str!("fixtures/datadog.json");

    #[test]
    fn reads_a_triggered_monitor_and_its_recovery() {
        let alerts = parse(TRIGGERED.as_bytes()).expect("parses");
        let a = &alerts[0];
        assert_eq!(a.key, "8675309:1732876800000");
        assert_eq!(a.group_key, "monitor:8675309");
        assert_eq!(a.status, AlertStatus::Firing);
        assert_eq!(a.labels["service"], "whatsapp-gateway");
        assert_eq!(a.labels["priority"], "P1");
        assert_eq!(a.severity(), crate::engine::incident::Severity::Sev1);
        assert_eq!(a.links[0].url, "https://app.datadoghq.com/monitors/8675309");
        let recovered = TRIGGERED.replace("\"Triggered\"", "\"Recovered\"");
        let r = &parse(recovered.as_bytes()).expect("parses")[0];
        assert_eq!(r.status, AlertStatus::Resolved);
        assert_eq!(
            r.key, a.key,
            "the cycle key ties the recovery to its trigger"
        );
    }

    #[test]
    fn muting_says_nothing_and_a_missing_monitor_is_refused() {
        let muted = TRIGGERED.replace("\"Triggered\"", "\"Muted\"");
        assert!(parse(muted.as_bytes()).expect("parses").is_empty());
        let unfilled = TRIGGERED.replace("\"8675309\"", "\"$ALERT_ID\"");
        assert!(parse(unfilled.as_bytes()).is_err());
        assert!(parse(b"{}").is_err());
    }
}
