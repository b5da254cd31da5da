//! Durable jobs (update reminders, escalation steps, schedules, handoffs): planned and cancelled
//! inside a decision, claimed under a lease and completed in the transaction of their effects.
//! `job_sql!` stamps the statements onto each backend's types.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::sql::from_millis;
use super::{JobKind, JobRow, JobState, NewJob, StoreResult};

/// Jobs outside a decision: claimed, failed, and listed for the operators.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Claims up to `limit` jobs for `worker` until `now + lease`: running ones whose lease ended
    /// (their process died), then pending ones whose time has come, each an index range scan
    /// that stops at the limit. Earliest due first.
    async fn claim_jobs(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> StoreResult<Vec<JobRow>>;
    /// A claimed job failed: try it again at `retry_at`, or give it up ([`JobState::Dead`]) when
    /// `None`.
    /// `false` when `worker` no longer holds it.
    async fn fail_job(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<bool>;
    /// When the next job may be claimed (a pending job's time or a lease's end).
    async fn next_job_at(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Jobs in one state, earliest due first.
    async fn jobs_in_state(&self, state: JobState, limit: i64) -> StoreResult<Vec<JobRow>>;
    async fn job(&self, key: &str) -> StoreResult<Option<JobRow>>;
}

/// Jobs inside one decision's transaction.
#[async_trait]
pub trait JobTx: Send {
    /// Plans jobs; an occurrence planned before is left as it is, unless it was cancelled (a
    /// re-plan back to the same time revives it).
    async fn schedule_jobs(&mut self, jobs: &[NewJob], now: DateTime<Utc>) -> StoreResult<()>;
    /// Cancels the pending jobs of a kind about a subject; returns how many.
    async fn cancel_jobs(&mut self, subject: &str, kind: JobKind) -> StoreResult<u64>;
    /// Pending and running jobs of a kind.
    async fn active_jobs(&mut self, kind: JobKind) -> StoreResult<Vec<JobRow>>;
    /// Marks a claimed job done with the effects written in this transaction; `false` (and
    /// the caller rolls back) when `worker` no longer holds it.
    async fn complete_job(
        &mut self,
        id: i64,
        worker: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// [`JobTx::complete_job`] for the jobs of one claim, in one statement per chunk; returns
    /// the ids `worker` still held (the others are left as they are).
    async fn complete_jobs(
        &mut self,
        ids: &[i64],
        worker: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>>;
}

/// Jobs written or completed per statement: 7 bound values a row stays far below either
/// backend's limit on parameters.
pub const JOBS_CHUNK: usize = 500;

/// The job columns every read selects.
macro_rules! job_columns {
    () => {
        "id, kind, key, subject, due_at, payload, state, attempts, fired_at, last_error"
    };
}
pub(super) use job_columns;

/// A job row as selected with [`job_columns!`].
pub(super) type RawJob = (
    i64,
    String,
    String,
    String,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

pub(super) fn decode_job(row: RawJob) -> StoreResult<JobRow> {
    let (id, kind, key, subject, due_at, payload, state, attempts, fired_at, last_error) = row;
    Ok(JobRow {
        id,
        kind: JobKind::parse(&kind)?,
        key,
        subject,
        due_at: from_millis(due_at)?,
        payload,
        state: JobState::parse(&state)?,
        attempts,
        fired_at: fired_at.map(from_millis).transpose()?,
        last_error,
    })
}

/// Claims running jobs whose lease ended (their process died), by the lease's end, over the
/// partial index `jobs_lease (state, lease_until) WHERE state = 'running'`. `$lock`: the
/// backend's lock clause. Binds: worker, lease end, now, limit.
macro_rules! claim_expired_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET state = 'running', lease_until = $2, claimed_by = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND lease_until < $3 \
             ORDER BY lease_until LIMIT $4",
            $lock,
            ") RETURNING ",
            job_columns!()
        )
    };
}
pub(super) use claim_expired_sql;

/// Claims due pending jobs, earliest first, walking `jobs_due (state, run_after)` in its order
/// and stopping at the limit: a burst of due jobs is never sorted, and finished jobs (other
/// `state` values) are never read. Binds as [`claim_expired_sql!`].
macro_rules! claim_due_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET state = 'running', lease_until = $2, claimed_by = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE state = 'pending' AND run_after <= $3 \
             ORDER BY run_after LIMIT $4",
            $lock,
            ") RETURNING ",
            job_columns!()
        )
    };
}
pub(super) use claim_due_sql;

/// When the next job may be claimed, for the idle tick: the first entry of each index (the
/// earliest pending job, the earliest lease end), two seeks rather than an aggregate.
pub const NEXT_JOB_SQL: &str = "SELECT \
     (SELECT run_after FROM jobs WHERE state = 'pending' ORDER BY run_after LIMIT 1), \
     (SELECT lease_until FROM jobs WHERE state = 'running' ORDER BY lease_until LIMIT 1)";

/// The scheduler's statements that run whatever the table holds (the two claims and the idle
/// tick's read) as a backend runs them, for checking their plans: `postgres` or `sqlite`.
pub fn hot_statements(backend: &str) -> [&'static str; 3] {
    if backend == "postgres" {
        [
            claim_expired_sql!(" FOR UPDATE SKIP LOCKED"),
            claim_due_sql!(" FOR UPDATE SKIP LOCKED"),
            NEXT_JOB_SQL,
        ]
    } else {
        [claim_expired_sql!(""), claim_due_sql!(""), NEXT_JOB_SQL]
    }
}

/// Implements [`JobStore`] and [`JobTx`] for one backend's store and transaction types.
/// `$skip_locked` is appended to the choice of jobs to claim (`FOR UPDATE SKIP LOCKED` on
/// Postgres, so concurrent schedulers take different jobs; on SQLite the single UPDATE statement
/// is atomic by itself).
macro_rules! job_sql {
    ($Store:ident, $Tx:ident, $Db:ty, skip_locked = $skip_locked:literal) => {
        mod job_sql {
            use chrono::{DateTime, Utc};

            use super::{$Store, $Tx};
            use $crate::store::jobs::{
                claim_due_sql, claim_expired_sql, decode_job, job_columns, JobStore, JobTx, RawJob, JOBS_CHUNK, NEXT_JOB_SQL,
            };
            use $crate::store::sql;
            use $crate::store::{JobKind, JobRow, JobState, NewJob, StoreResult};

            #[async_trait::async_trait]
            impl JobTx for $Tx {
                async fn schedule_jobs(&mut self, jobs: &[NewJob], now: DateTime<Utc>) -> StoreResult<()> {
                    // One statement per chunk. A key given twice keeps its first occurrence, as
                    // planning them one after the other would (and Postgres refuses to update one
                    // row twice in a statement).
                    let mut seen = std::collections::HashSet::new();
                    let jobs: Vec<&NewJob> = jobs.iter().filter(|j| seen.insert(j.key.as_str())).collect();
                    for chunk in jobs.chunks(JOBS_CHUNK) {
                        self.0.write(|insert| {
                            insert.push("INSERT INTO jobs (kind, key, subject, due_at, run_after, payload, created_at) ");
                            insert.push_values(chunk, |mut row, job| {
                                row.push_bind(job.kind.as_str())
                                    .push_bind(job.key.clone())
                                    .push_bind(job.subject.clone())
                                    .push_bind(sql::millis(job.due_at))
                                    .push_bind(sql::millis(job.due_at))
                                    .push_bind(job.payload.clone())
                                    .push_bind(sql::millis(now));
                            });
                            insert.push(
                                " ON CONFLICT (key) DO UPDATE SET state = 'pending', attempts = 0, \
                                 payload = excluded.payload, run_after = excluded.run_after, last_error = NULL \
                                 WHERE jobs.state = 'cancelled'",
                            );
                        })
                        .await?;
                    }
                    Ok(())
                }

                async fn cancel_jobs(&mut self, subject: &str, kind: JobKind) -> StoreResult<u64> {
                    // Read as rows, so it goes with the writes gathered before it.
                    let cancelled: Vec<(i64,)> = self
                        .0
                        .fetch_all(|update| {
                            update.push("UPDATE jobs SET state = 'cancelled' WHERE subject = ");
                            update.push_bind(subject.to_string());
                            update.push(" AND kind = ");
                            update.push_bind(kind.as_str());
                            update.push(" AND state = 'pending' RETURNING id");
                        })
                        .await?;
                    Ok(cancelled.len() as u64)
                }

                async fn active_jobs(&mut self, kind: JobKind) -> StoreResult<Vec<JobRow>> {
                    let rows: Vec<RawJob> = sqlx::query_as(concat!(
                        "SELECT ", job_columns!(), " FROM jobs WHERE kind = $1 AND state IN ('pending', 'running') \
                         ORDER BY due_at, id"
                    ))
                    .bind(kind.as_str())
                    .fetch_all(self.0.get().await?)
                    .await?;
                    rows.into_iter().map(decode_job).collect()
                }

                async fn complete_job(&mut self, id: i64, worker: &str, now: DateTime<Utc>) -> StoreResult<bool> {
                    // A read (a row when the job was still this worker's): it goes with the
                    // unit's savepoint and the writes before it, in one round trip.
                    let done: Vec<(i64,)> = self
                        .0
                        .fetch_all(|update| {
                            update.push("UPDATE jobs SET state = 'done', fired_at = ");
                            update.push_bind(sql::millis(now));
                            update.push(", lease_until = NULL WHERE id = ");
                            update.push_bind(id);
                            update.push(" AND claimed_by = ");
                            update.push_bind(worker.to_string());
                            update.push(" AND state = 'running' RETURNING id");
                        })
                        .await?;
                    Ok(done.len() == 1)
                }

                async fn complete_jobs(&mut self, ids: &[i64], worker: &str, now: DateTime<Utc>) -> StoreResult<Vec<i64>> {
                    let mut held = Vec::with_capacity(ids.len());
                    for chunk in ids.chunks(JOBS_CHUNK) {
                        let mut update = sqlx::QueryBuilder::<$Db>::new("UPDATE jobs SET state = 'done', fired_at = ");
                        update.push_bind(sql::millis(now));
                        update.push(", lease_until = NULL WHERE claimed_by = ");
                        update.push_bind(worker.to_string());
                        update.push(" AND state = 'running' AND id");
                        sql::push_in(&mut update, chunk.iter().copied());
                        update.push(" RETURNING id");
                        let rows: Vec<(i64,)> = update.build_query_as().fetch_all(self.0.get().await?).await?;
                        held.extend(rows.into_iter().map(|(id,)| id));
                    }
                    Ok(held)
                }
            }

            #[async_trait::async_trait]
            impl JobStore for $Store {
                async fn claim_jobs(
                    &self,
                    worker: &str,
                    now: DateTime<Utc>,
                    lease: std::time::Duration,
                    limit: i64,
                ) -> StoreResult<Vec<JobRow>> {
                    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
                    // Two claims, each walking its own index in order up to the limit: the jobs
                    // whose lease ended (a dead process's, few), then the due pending ones.
                    let mut rows: Vec<RawJob> = Vec::new();
                    for statement in [claim_expired_sql!($skip_locked), claim_due_sql!($skip_locked)] {
                        let left = limit - rows.len() as i64;
                        if left <= 0 {
                            break;
                        }
                        let claimed: Vec<RawJob> = sqlx::query_as(statement)
                            .bind(worker)
                            .bind(sql::millis(until))
                            .bind(sql::millis(now))
                            .bind(left)
                            .fetch_all(self.writes())
                            .await?;
                        rows.extend(claimed);
                    }
                    let mut claimed = rows.into_iter().map(decode_job).collect::<StoreResult<Vec<_>>>()?;
                    claimed.sort_by_key(|j| (j.due_at, j.id));
                    Ok(claimed)
                }

                async fn fail_job(&self, id: i64, worker: &str, error: &str, retry_at: Option<DateTime<Utc>>) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE jobs SET state = $3, run_after = COALESCE($4, run_after), last_error = $5, lease_until = NULL \
                         WHERE id = $1 AND claimed_by = $2 AND state = 'running'",
                    )
                    .bind(id)
                    .bind(worker)
                    .bind(if retry_at.is_some() { JobState::Pending } else { JobState::Dead }.as_str())
                    .bind(retry_at.map(sql::millis))
                    .bind(error)
                    .execute(self.writes())
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn next_job_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
                    let (pending, lease): (Option<i64>, Option<i64>) = sqlx::query_as(NEXT_JOB_SQL)
                        .fetch_one(&self.pool)
                        .await?;
                    pending.into_iter().chain(lease).min().map(sql::from_millis).transpose()
                }

                async fn jobs_in_state(&self, state: JobState, limit: i64) -> StoreResult<Vec<JobRow>> {
                    let rows: Vec<RawJob> = sqlx::query_as(concat!(
                        "SELECT ", job_columns!(), " FROM jobs WHERE state = $1 ORDER BY due_at, id LIMIT $2"
                    ))
                    .bind(state.as_str())
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(decode_job).collect()
                }

                async fn job(&self, key: &str) -> StoreResult<Option<JobRow>> {
                    let row: Option<RawJob> =
                        sqlx::query_as(concat!("SELECT ", job_columns!(), " FROM jobs WHERE key = $1"))
                            .bind(key)
                            .fetch_optional(&self.pool)
                            .await?;
                    row.map(decode_job).transpose()
                }
            }
        }
    };
}

pub(super) use job_sql;
