//! The retention job: deletes what is older than `[retention] days` (sent messages, inbound
//! dedupe keys, finished jobs, delivery reports) one bounded chunk per job, so it never holds
//! the write lock long. A full chunk plans its continuation at once; otherwise the next run is
//! at the next full hour (a time every replica computes alike, so their plans are one job).
//! The scheduler plans the first run at start, beside the schedules and handoffs.

use chrono::{DateTime, Duration, DurationRound as _, Utc};

use super::EngineError;
use super::plan::JobPayload;
use super::unit::Unit;
use crate::store::{JobKind, NewJob, StoreError};

/// Rows of each kind deleted per job: a few milliseconds of the write lock.
pub const PRUNE_CHUNK: i64 = 500;
/// How far back the overdue postmortems gauge looks (incidents declared since).
const OVERDUE_WINDOW_DAYS: i64 = 90;

/// The retention job's first run after `now`: the next full hour.
pub fn first_prune(now: DateTime<Utc>) -> NewJob {
    let hour = Duration::hours(1);
    let next = now.duration_trunc(hour).unwrap_or(now) + hour;
    JobPayload::Prune { round: 0 }.at(next)
}

impl super::Engine {
    /// Plans the retention job's next run unless one is pending or running (every replica may
    /// call it: the run's key is its hour). Returns whether it planned one.
    pub async fn plan_retention(&self) -> Result<bool, EngineError> {
        let planned = self
            .unguarded(|unit| {
                Box::pin(async move {
                    let now = unit.out.now();
                    let planned = unit.tx.active_jobs(JobKind::Prune).await?.is_empty();
                    if planned {
                        unit.tx.schedule_jobs(&[first_prune(now)], now).await?;
                    }
                    unit.planned_jobs = planned;
                    Ok(planned)
                })
            })
            .await?;
        Ok(planned.value)
    }

    /// One chunk of the retention job, in the job's own transaction; plans what comes next.
    /// Hourly, with the retention: how many postmortems are overdue among the incidents of
    /// the last `OVERDUE_WINDOW_DAYS` (the `runroom_postmortems_overdue` gauge).
    async fn count_overdue_postmortems(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let since = now - Duration::days(OVERDUE_WINDOW_DAYS);
        let incidents = self
            .store
            .declared_since(since, crate::postmortem::report::MAX_INCIDENTS)
            .await?;
        let overdue = crate::postmortem::report::overdue(&incidents, now);
        metrics::gauge!("runroom_postmortems_overdue").set(overdue as f64);
        Ok(())
    }

    pub(super) async fn prune(&self, unit: &mut Unit<'_>, round: u32) -> Result<(), StoreError> {
        let now = unit.out.now();
        let before = now - self.policies.retention;
        let pruned = unit.tx.prune(before, PRUNE_CHUNK).await?;
        for (table, n) in [
            ("outbox", pruned.outbox),
            ("inbound_events", pruned.inbound),
            ("jobs", pruned.jobs),
            ("delivery_reports", pruned.delivery_reports),
            ("alerts", pruned.alerts),
        ] {
            metrics::counter!("runroom_pruned_rows_total", "table" => table).increment(n);
        }
        tracing::debug!(rows = pruned.total(), round, "pruned past the retention");
        if round == 0 {
            self.count_overdue_postmortems(now).await?;
        }
        let next = if pruned.maybe_more(PRUNE_CHUNK) {
            JobPayload::Prune {
                round: round.saturating_add(1),
            }
            .at(now)
        } else {
            first_prune(now)
        };
        unit.tx.schedule_jobs(&[next], now).await?;
        Ok(())
    }
}
