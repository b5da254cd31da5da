//! Figures across incidents (`runroom report`, `GET /api/report`): per severity, how many were
//! declared in the period, the median and 90th percentile of the time to acknowledge and to
//! resolve, updates per incident, and what became of the postmortems that were due: done on
//! time, done late, skipped, missing (overdue), or not due yet. Pure over what the store read.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::engine::incident::{Incident, Severity};
use crate::engine::reply;
use crate::i18n::Msg;

/// One severity's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeverityFigures {
    pub severity: Severity,
    pub incidents: usize,
    pub acknowledged: usize,
    pub resolved: usize,
    pub ack_p50_seconds: Option<i64>,
    pub ack_p90_seconds: Option<i64>,
    pub resolve_p50_seconds: Option<i64>,
    pub resolve_p90_seconds: Option<i64>,
    pub updates_per_incident: f64,
    pub postmortems: PostmortemCounts,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PostmortemCounts {
    pub on_time: usize,
    pub late: usize,
    pub skipped: usize,
    /// Due and neither written nor skipped.
    pub missing: usize,
    /// Not due yet.
    pub pending: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Every severity that had an incident, most severe first.
    pub severities: Vec<SeverityFigures>,
}

/// The most incidents one report reads (the newest of a longer period are left out).
pub const MAX_INCIDENTS: i64 = 100_000;

/// A period such as `30d`, `12h` or `90m`.
pub fn period(raw: &str) -> Option<Duration> {
    let raw = raw.trim().to_ascii_lowercase();
    let unit = |suffix: &str, f: fn(i64) -> Duration| {
        raw.strip_suffix(suffix)
            .and_then(|n| n.trim().parse::<i64>().ok())
            .filter(|n| *n > 0 && *n <= 100_000)
            .map(f)
    };
    unit("d", Duration::days)
        .or_else(|| unit("h", Duration::hours))
        .or_else(|| unit("m", Duration::minutes))
}

/// The nearest-rank percentile `p` (0–100) of `sorted` values.
fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// The postmortem of `incident` as the report counts it at `now` (`None`: none was needed).
fn postmortem_state(incident: &Incident, now: DateTime<Utc>) -> Option<&'static str> {
    match (&incident.postmortem, incident.postmortem_due_at) {
        (Some(p), due) if p.done => Some(match due {
            Some(due) if p.at > due => "late",
            _ => "on_time",
        }),
        (Some(_), _) => Some("skipped"),
        (None, Some(due)) if due <= now => Some("missing"),
        (None, Some(_)) => Some("pending"),
        (None, None) => None,
    }
}

/// The report over `incidents` (each with its number of updates), declared since `since`.
pub fn report(incidents: &[(Incident, i64)], since: DateTime<Utc>, now: DateTime<Utc>) -> Report {
    let mut severities = Vec::new();
    for severity in [
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev4,
    ] {
        let of: Vec<&(Incident, i64)> = incidents
            .iter()
            .filter(|(i, _)| i.severity == severity)
            .collect();
        if of.is_empty() {
            continue;
        }
        let mut ack: Vec<i64> = of
            .iter()
            .filter_map(|(i, _)| i.acked_at.map(|at| (at - i.declared_at).num_seconds()))
            .collect();
        let mut resolve: Vec<i64> = of
            .iter()
            .filter_map(|(i, _)| i.resolved_at.map(|at| (at - i.declared_at).num_seconds()))
            .collect();
        ack.sort_unstable();
        resolve.sort_unstable();
        let mut postmortems = PostmortemCounts::default();
        for (incident, _) in &of {
            match postmortem_state(incident, now) {
                Some("on_time") => postmortems.on_time += 1,
                Some("late") => postmortems.late += 1,
                Some("skipped") => postmortems.skipped += 1,
                Some("missing") => postmortems.missing += 1,
                Some(_) => postmortems.pending += 1,
                None => {}
            }
        }
        let updates: i64 = of.iter().map(|(_, u)| *u).sum();
        severities.push(SeverityFigures {
            severity,
            incidents: of.len(),
            acknowledged: ack.len(),
            resolved: resolve.len(),
            ack_p50_seconds: percentile(&ack, 50),
            ack_p90_seconds: percentile(&ack, 90),
            resolve_p50_seconds: percentile(&resolve, 50),
            resolve_p90_seconds: percentile(&resolve, 90),
            updates_per_incident: updates as f64 / of.len() as f64,
            postmortems,
        });
    }
    Report {
        since,
        until: now,
        severities,
    }
}

/// Resolved incidents among `incidents` whose postmortem is overdue at `now`.
pub fn overdue(incidents: &[(Incident, i64)], now: DateTime<Utc>) -> usize {
    incidents
        .iter()
        .filter(|(i, _)| postmortem_state(i, now) == Some("missing"))
        .count()
}

/// The report as the operator reads it, in a language.
pub fn message(report: &Report) -> Msg {
    let took = |seconds: Option<i64>| match seconds {
        Some(s) => reply::duration(Duration::seconds(s).num_minutes()),
        None => Msg::new("pm-never"),
    };
    let lines = report
        .severities
        .iter()
        .map(|f| {
            Msg::new("report-severity")
                .msg("severity", reply::severity(f.severity))
                .number("incidents", f.incidents as i64)
                .msg("ack50", took(f.ack_p50_seconds))
                .msg("ack90", took(f.ack_p90_seconds))
                .msg("resolve50", took(f.resolve_p50_seconds))
                .msg("resolve90", took(f.resolve_p90_seconds))
                .text("updates", format!("{:.1}", f.updates_per_incident))
                .number("on_time", f.postmortems.on_time as i64)
                .number("late", f.postmortems.late as i64)
                .number("skipped", f.postmortems.skipped as i64)
                .number("missing", f.postmortems.missing as i64)
                .number("pending", f.postmortems.pending as i64)
        })
        .collect();
    if report.severities.is_empty() {
        return Msg::new("report-empty").time("since", report.since);
    }
    Msg::new("report")
        .time("since", report.since)
        .lines("lines", lines)
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v = [60, 120, 180, 240, 300, 360, 420, 480, 540, 600];
        assert_eq!(percentile(&v, 50), Some(300));
        assert_eq!(percentile(&v, 90), Some(540));
        assert_eq!(percentile(&[42], 90), Some(42));
        assert_eq!(percentile(&[], 50), None);
    }
}
