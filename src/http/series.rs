//! Every metric series runroom reports, registered at zero when it starts, with each label set
//! that is known up front (platforms, states, verbs, job kinds, the configured alert sources
//! and heartbeats): a dashboard or an absent-series alert sees every series from the first
//! scrape, not after the first event of its kind. A test reads the sources and fails when a
//! metric is reported that is not listed here.

use crate::engine::command::VERBS;
use crate::engine::incident::Severity;
use crate::engine::room::Platform;
use crate::store::{JobKind, OutboxState};

/// The platforms messages go to.
const PLATFORMS: [Platform; 4] = [
    Platform::Console,
    Platform::Slack,
    Platform::Whatsapp,
    Platform::Telegram,
];
/// Where inbound deliveries are refused (a bad signature, a bad secret).
const INBOUND: [&str; 6] = [
    "slack",
    "whatsapp",
    "evolution",
    "telegram",
    "alerts",
    "heartbeat",
];
/// Why the outbox holds messages back.
const HELD: [&str; 3] = ["mode_off", "daily_limit", "minute_limit"];
/// The tables retention prunes.
const PRUNED: [&str; 5] = [
    "outbox",
    "inbound_events",
    "jobs",
    "delivery_reports",
    "alerts",
];
/// An alert's states as counted on receipt.
const ALERT_STATES: [&str; 3] = ["firing", "resolved", "acknowledge"];

/// Counters without labels.
pub const COUNTERS: &[&str] = &[
    "runroom_commit_batch_failures_total",
    "runroom_inbound_duplicates_total",
    "runroom_inbound_journaled_total",
    "runroom_inbound_replayed_total",
    "runroom_relayed_total",
    "runroom_telegram_polling_refused_total",
    "runroom_whatsapp_templates_total",
    "runroom_whatsapp_window_closed_total",
];
/// Counters per platform.
pub const PER_PLATFORM: &[&str] = &[
    "runroom_outbox_dead_total",
    "runroom_outbox_dry_run_total",
    "runroom_outbox_lease_lost_total",
    "runroom_outbox_reconciled_total",
    "runroom_outbox_retried_total",
    "runroom_outbox_sent_total",
];
/// Counters per alert source.
pub const PER_SOURCE: &[&str] = &[
    "runroom_alert_storm_total",
    "runroom_alerts_deduplicated_total",
    "runroom_alerts_malformed_total",
];
/// Histograms per severity.
pub const PER_SEVERITY: &[&str] = &[
    "runroom_incident_time_to_ack_seconds",
    "runroom_incident_time_to_resolve_seconds",
];
/// Histograms without labels.
pub const HISTOGRAMS: &[&str] = &[
    "runroom_commit_batch_seconds",
    "runroom_commit_batch_units",
    "runroom_job_lateness_seconds",
];
/// The series with labels of their own, registered one by one in [`register`].
pub const OTHERS: &[&str] = &[
    "runroom_alerts_received_total",
    "runroom_commands_total",
    "runroom_heartbeat_pings_total",
    "runroom_http_refused_total",
    "runroom_inbound_ignored_total",
    "runroom_inbound_journal_pending",
    "runroom_inbound_rejected_total",
    "runroom_jobs_fired_total",
    "runroom_outbox_messages",
    "runroom_outbox_oldest_pending_seconds",
    "runroom_outbox_send_seconds",
    "runroom_outbox_skipped_total",
    "runroom_postmortems_overdue",
    "runroom_pruned_rows_total",
];

/// Registers every series at zero, for the configured alert source and heartbeat ids.
pub fn register(alert_sources: &[String], heartbeats: &[String]) {
    for name in COUNTERS {
        metrics::counter!(*name).absolute(0);
    }
    for platform in PLATFORMS.map(Platform::as_str) {
        for name in PER_PLATFORM {
            metrics::counter!(*name, "platform" => platform).absolute(0);
        }
        let _ = metrics::histogram!("runroom_outbox_send_seconds", "platform" => platform);
        metrics::gauge!("runroom_outbox_oldest_pending_seconds", "platform" => platform).set(0.0);
        for state in OutboxState::ALL {
            metrics::gauge!("runroom_outbox_messages", "platform" => platform, "state" => state.as_str())
                .set(0.0);
        }
        for reason in HELD {
            metrics::counter!("runroom_outbox_skipped_total", "platform" => platform, "reason" => reason)
                .absolute(0);
        }
    }
    for platform in INBOUND {
        metrics::counter!("runroom_inbound_rejected_total", "platform" => platform).absolute(0);
    }
    for platform in ["telegram", "whatsapp"] {
        metrics::counter!("runroom_inbound_ignored_total", "platform" => platform).absolute(0);
    }
    for reason in ["body_too_large", "connections"] {
        metrics::counter!("runroom_http_refused_total", "reason" => reason).absolute(0);
    }
    for verb in VERBS.iter().map(|(verb, _)| verb.name()).chain(["invalid"]) {
        for ok in ["true", "false"] {
            metrics::counter!("runroom_commands_total", "verb" => verb, "ok" => ok).absolute(0);
        }
    }
    for kind in JobKind::ALL {
        metrics::counter!("runroom_jobs_fired_total", "kind" => kind.as_str()).absolute(0);
    }
    for table in PRUNED {
        metrics::counter!("runroom_pruned_rows_total", "table" => table).absolute(0);
    }
    for severity in Severity::ALL.map(|s| s.to_string()) {
        for name in PER_SEVERITY {
            let _ = metrics::histogram!(*name, "severity" => severity.clone());
        }
    }
    for name in HISTOGRAMS {
        let _ = metrics::histogram!(*name);
    }
    metrics::gauge!("runroom_postmortems_overdue").set(0.0);
    metrics::gauge!("runroom_inbound_journal_pending").set(0.0);
    for source in alert_sources {
        for name in PER_SOURCE {
            metrics::counter!(*name, "source" => source.clone()).absolute(0);
        }
        for status in ALERT_STATES {
            metrics::counter!("runroom_alerts_received_total", "source" => source.clone(), "status" => status)
                .absolute(0);
        }
    }
    for heartbeat in heartbeats {
        metrics::counter!("runroom_heartbeat_pings_total", "heartbeat" => heartbeat.clone())
            .absolute(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name a `metrics::…!("name"` in the sources reports is one of the listed series.
    #[test]
    fn every_reported_metric_is_registered_at_start() {
        let listed: Vec<&str> = [
            COUNTERS,
            PER_PLATFORM,
            PER_SOURCE,
            PER_SEVERITY,
            HISTOGRAMS,
            OTHERS,
        ]
        .concat();
        let mut reported = Vec::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("a source directory") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("a source file");
                    for quoted in text.split('"').skip(1).step_by(2) {
                        if quoted.starts_with("runroom_") && !quoted.contains(' ') {
                            reported.push((quoted.to_string(), path.display().to_string()));
                        }
                    }
                }
            }
        }
        let metric_like = |name: &str| {
            ["_total", "_seconds", "_units", "_messages", "_overdue"]
                .iter()
                .any(|end| name.ends_with(end))
        };
        let missing: Vec<_> = reported
            .iter()
            .filter(|(name, _)| metric_like(name) && !listed.contains(&name.as_str()))
            .collect();
        assert!(missing.is_empty(), "not registered at start: {missing:?}");
        assert!(reported.len() > 20, "the sources were read");
    }
}
