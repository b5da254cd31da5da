//! Bounded growth: deleting what has served its purpose once it is older than the retention —
//! sent and dry-run messages, inbound dedupe keys, finished jobs, delivery reports, resolved
//! alerts — a bounded
//! chunk per call, so a run never holds the write lock long. Incidents, their timeline,
//! checklists, cards, people and dead messages are never deleted here. `retention_sql!` stamps
//! the statements onto each backend's transaction type.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;

/// How many rows of each kind one call deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Sent and dry-run outbox rows.
    pub outbox: u64,
    /// Inbound dedupe keys.
    pub inbound: u64,
    /// Done, cancelled and dead jobs.
    pub jobs: u64,
    pub delivery_reports: u64,
    /// Alerts that resolved before the cut-off (a later fire is taken as a new alert).
    pub alerts: u64,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.outbox + self.inbound + self.jobs + self.delivery_reports + self.alerts
    }

    /// Whether some kind filled its chunk, so more may be left to delete.
    pub fn maybe_more(&self, limit: i64) -> bool {
        let limit = u64::try_from(limit).unwrap_or(0);
        [
            self.outbox,
            self.inbound,
            self.jobs,
            self.delivery_reports,
            self.alerts,
        ]
        .into_iter()
        .any(|n| n >= limit)
    }
}

/// Pruning inside one transaction (the retention job's).
#[async_trait]
pub trait RetentionTx: Send {
    /// Deletes up to `limit` rows of each kind from before `before`: outbox rows sent (or
    /// recorded in dry-run) then, inbound dedupe keys received then, finished jobs (done,
    /// cancelled, dead) whose time was then, delivery reports received then. Each is one
    /// range over an index on that time, so its cost follows the rows it deletes.
    async fn prune(&mut self, before: DateTime<Utc>, limit: i64) -> StoreResult<Pruned>;
}

/// The deletions, in [`Pruned`]'s order, for a backend's row key and list form: each picks a
/// chunk over an index on its time, then deletes those rows by their physical key (SQLite's
/// `rowid`, Postgres' `ctid` as an array, so Postgres never hash-joins the whole table against
/// the chunk). Binds: the cut-off (epoch ms), the chunk size.
macro_rules! prune_sql {
    ($key:literal, $open:literal, $close:literal) => {
        [
            // Only sent and dry-run rows have a `sent_at` (`finish_outbox` clears it for every
            // other end), and only they are in `outbox_sent_at`. Dead rows have none and stay for
            // the operators (`runroom outbox dead` lists them, `retry` queues them again).
            concat!(
                "DELETE FROM outbox WHERE ", $key, $open, "SELECT ", $key,
                " FROM outbox WHERE sent_at < $1 LIMIT $2", $close
            ),
            concat!(
                "DELETE FROM inbound_events WHERE ", $key, $open, "SELECT ", $key,
                " FROM inbound_events WHERE received_at < $1 LIMIT $2", $close
            ),
            // Over `jobs_due (state, run_after)`: one range per finished state.
            concat!(
                "DELETE FROM jobs WHERE ", $key, $open, "SELECT ", $key,
                " FROM jobs WHERE state IN ('done', 'cancelled', 'dead') AND run_after < $1 LIMIT $2",
                $close
            ),
            concat!(
                "DELETE FROM delivery_reports WHERE ", $key, $open, "SELECT ", $key,
                " FROM delivery_reports WHERE at < $1 LIMIT $2", $close
            ),
            // Over `alerts_changed (changed_at)`; firing alerts stay however old.
            concat!(
                "DELETE FROM alerts WHERE ", $key, $open, "SELECT ", $key,
                " FROM alerts WHERE changed_at < $1 AND status = 'resolved' LIMIT $2", $close
            ),
        ]
    };
}

/// [`prune_sql!`] for SQLite.
pub const SQLITE_PRUNE: [&str; 5] = prune_sql!("rowid", " IN (", ")");
/// [`prune_sql!`] for Postgres.
pub const POSTGRES_PRUNE: [&str; 5] = prune_sql!("ctid", " = ANY(ARRAY(", "))");

/// Implements [`RetentionTx`] for one backend's transaction type with its statements
/// ([`SQLITE_PRUNE`] or [`POSTGRES_PRUNE`]).
macro_rules! retention_sql {
    ($Tx:ident, $statements:ident) => {
        mod retention_sql {
            use chrono::{DateTime, Utc};

            use super::$Tx;
            use $crate::store::StoreResult;
            use $crate::store::retention::{Pruned, RetentionTx, $statements};
            use $crate::store::sql;

            #[async_trait::async_trait]
            impl RetentionTx for $Tx {
                async fn prune(
                    &mut self,
                    before: DateTime<Utc>,
                    limit: i64,
                ) -> StoreResult<Pruned> {
                    let mut counts = [0u64; 5];
                    for (statement, count) in $statements.into_iter().zip(counts.iter_mut()) {
                        *count = sqlx::query(statement)
                            .bind(sql::millis(before))
                            .bind(limit)
                            .execute(self.0.get().await?)
                            .await?
                            .rows_affected();
                    }
                    let [outbox, inbound, jobs, delivery_reports, alerts] = counts;
                    Ok(Pruned {
                        outbox,
                        inbound,
                        jobs,
                        delivery_reports,
                        alerts,
                    })
                }
            }
        }
    };
}

pub(super) use retention_sql;
