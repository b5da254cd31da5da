//! An alert as every format comes to it: one platform-neutral [`Alert`] per alert of a
//! delivery, keyed by its source's own identity (a fingerprint, a cycle key, a dedup key), with
//! the labels routes and grouping read, and what a war room should see (a title, links).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::incident::Severity;
use crate::engine::text::fold;

/// Whether an alert is firing or has cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Resolved => "resolved",
        }
    }

    pub fn parse(raw: &str) -> Option<AlertStatus> {
        match raw {
            "firing" => Some(Self::Firing),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

/// A link an alert carries (its graph, dashboard, panel, silence or runbook page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertLink {
    /// What it is: `source`, `dashboard`, `panel`, `silence`, `runbook`, or the sender's name.
    pub label: String,
    pub url: String,
}

/// One alert of a delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The source's identity of this alert: a repeat has the same key.
    pub key: String,
    pub status: AlertStatus,
    /// What groups it by default (Alertmanager's `groupKey`; for formats without one, its key).
    pub group_key: String,
    pub labels: BTreeMap<String, String>,
    /// A one-line title (summary, else alert name).
    pub title: String,
    pub links: Vec<AlertLink>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// The source asked for the incident to be acknowledged (the events format's `acknowledge`).
    pub acknowledge: bool,
}

/// The most a title keeps: a timeline line, not the alert's whole description.
pub const TITLE_MAX_CHARS: usize = 200;
/// The most links kept per alert.
pub const LINKS_MAX: usize = 5;
/// The most labels kept per alert (a label set is meant to be small; a runaway one is cut).
pub const LABELS_MAX: usize = 64;
/// The most characters of one label's name or value.
pub const LABEL_MAX_CHARS: usize = 512;

impl Alert {
    /// The severity an alert carries in its `severity` or `priority` label: critical / P1 →
    /// SEV1, high / error / P2 → SEV2, warning / P3 → SEV3, info / P4 / P5 → SEV4, SEV3 when
    /// absent or unknown.
    pub fn severity(&self) -> Severity {
        ["severity", "priority"]
            .iter()
            .filter_map(|name| self.labels.get(*name))
            .find_map(|raw| severity_word(raw))
            .unwrap_or(Severity::Sev3)
    }

    /// The grouping key over `labels` (their values in order), or the source's default.
    pub fn group_by(&self, labels: &[String]) -> String {
        if labels.is_empty() {
            return self.group_key.clone();
        }
        let values: Vec<String> = labels
            .iter()
            .map(|name| {
                let value = self.labels.get(name).map(String::as_str).unwrap_or("");
                format!("{name}={value:?}")
            })
            .collect();
        format!("{{{}}}", values.join(","))
    }
}

/// A severity word of the alerting tools.
pub fn severity_word(raw: &str) -> Option<Severity> {
    match fold(raw).as_str() {
        "critical" | "crit" | "fatal" | "page" | "emergency" | "p0" | "p1" | "sev1" | "1" => {
            Some(Severity::Sev1)
        }
        "high" | "error" | "err" | "major" | "p2" | "sev2" | "2" => Some(Severity::Sev2),
        "warning" | "warn" | "medium" | "minor" | "p3" | "sev3" | "3" => Some(Severity::Sev3),
        "info" | "informational" | "low" | "notice" | "p4" | "p5" | "sev4" | "4" | "5" => {
            Some(Severity::Sev4)
        }
        _ => None,
    }
}

/// Cuts `text` to one line of at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        line
    } else {
        let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// Keeps at most [`LABELS_MAX`] labels, each name and value cut to [`LABEL_MAX_CHARS`].
pub fn bounded_labels(
    labels: impl IntoIterator<Item = (String, String)>,
) -> BTreeMap<String, String> {
    labels
        .into_iter()
        .take(LABELS_MAX)
        .map(|(k, v)| (cut(&k, LABEL_MAX_CHARS), cut(&v, LABEL_MAX_CHARS)))
        .collect()
}

fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Links with an http(s) URL only (a link is shown to people and rendered by platforms), at
/// most [`LINKS_MAX`].
pub fn links(candidates: impl IntoIterator<Item = (String, Option<String>)>) -> Vec<AlertLink> {
    candidates
        .into_iter()
        .filter_map(|(label, url)| {
            let url = url?.trim().to_string();
            (url.starts_with("https://") || url.starts_with("http://")).then(|| AlertLink {
                label,
                url: cut(&url, 2_000),
            })
        })
        .take(LINKS_MAX)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(labels: &[(&str, &str)]) -> Alert {
        Alert {
            key: "k".into(),
            status: AlertStatus::Firing,
            group_key: "g".into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            title: "t".into(),
            links: Vec::new(),
            starts_at: None,
            ends_at: None,
            acknowledge: false,
        }
    }

    #[test]
    fn severity_comes_from_the_severity_or_priority_label() {
        let cases = [
            (vec![("severity", "critical")], Severity::Sev1),
            (vec![("priority", "P1")], Severity::Sev1),
            (vec![("severity", "high")], Severity::Sev2),
            (vec![("severity", "error")], Severity::Sev2),
            (vec![("priority", "P2")], Severity::Sev2),
            (vec![("severity", "warning")], Severity::Sev3),
            (vec![("priority", "P3")], Severity::Sev3),
            (vec![("severity", "info")], Severity::Sev4),
            (vec![("priority", "P4")], Severity::Sev4),
            (vec![], Severity::Sev3),
            (vec![("severity", "whatever")], Severity::Sev3),
            (
                vec![("severity", "bogus"), ("priority", "P1")],
                Severity::Sev1,
            ),
        ];
        for (labels, expected) in cases {
            assert_eq!(alert(&labels).severity(), expected, "{labels:?}");
        }
    }

    #[test]
    fn grouping_by_labels_reads_their_values_in_order() {
        let a = alert(&[("alertname", "Latency"), ("service", "pix")]);
        assert_eq!(a.group_by(&[]), "g");
        let by = vec!["service".to_string(), "cluster".to_string()];
        assert_eq!(a.group_by(&by), r#"{service="pix",cluster=""}"#);
    }

    #[test]
    fn titles_are_one_bounded_line() {
        assert_eq!(one_line("  a\n b\t c ", 10), "a b c");
        assert_eq!(one_line("abcdefghijk", 5), "abcd…");
    }

    #[test]
    fn only_web_links_are_kept() {
        let kept = links([
            (
                "source".to_string(),
                Some("http://prom:9090/graph".to_string()),
            ),
            ("x".to_string(), Some("javascript:alert(1)".to_string())),
            ("y".to_string(), None),
        ]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].label, "source");
    }
}
