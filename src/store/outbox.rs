//! The outbox: messages a decision enqueues in its transaction, and their delivery (claimed under
//! a lease, finished, held, counted, retried when dead). `outbox_sql!` stamps the statements
//! onto each backend's types.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::sql::{decode_lang, decode_platform, from_millis};
use super::{
    Completion, DeliveryStatus, MessageKind, NewOutbound, OutboxRow, OutboxStat, OutboxState,
    StoreError, StoreResult, Topic,
};
use crate::engine::room::Platform;

/// Delivery of enqueued messages, by the outbox workers and the operators' commands.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Messages of one platform waiting to be sent (pending, or failed and waiting for a retry),
    /// most urgent first.
    async fn pending_outbox(&self, platform: Platform, limit: i64) -> StoreResult<Vec<OutboxRow>>;
    /// Claims up to `limit` due rows of a platform for `worker` until `now + lease`: pending rows
    /// whose time has come and rows whose lease expired (their worker died). Most urgent first.
    async fn claim_outbox(
        &self,
        platform: Platform,
        worker: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>>;
    /// Extends to `until` the lease of the rows `ids` that `worker` claimed and is still
    /// sending: a batch that takes longer than the lease stays the worker's, rather than being
    /// claimed (and sent) by another meanwhile. Returns how many rows it kept.
    async fn extend_outbox_lease(
        &self,
        worker: &str,
        ids: &[i64],
        until: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Records the end of an attempt; `false` when `worker` no longer holds the row (its lease
    /// expired and another worker took it).
    async fn finish_outbox(
        &self,
        id: i64,
        worker: &str,
        completion: &Completion,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Moves a destination's backlog to its pacing slots in one statement: the rows `worker`
    /// claimed (`claimed`, put back without counting an attempt) and the destination's other due
    /// rows due at `now`, most urgent first, to the `slots`. Claims then take only rows whose
    /// slot has come instead of the whole backlog every round. Returns how many moved.
    async fn defer_outbox(
        &self,
        platform: Platform,
        chat: &str,
        worker: &str,
        claimed: &[i64],
        now: DateTime<Utc>,
        slots: Slots,
    ) -> StoreResult<u64>;
    /// Records that `process` sends on `platform` at `now`, forgets processes silent since
    /// `stale_before`, and returns how many share the platform's limits (this one included).
    async fn pacing_heartbeat(
        &self,
        platform: Platform,
        process: &str,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// Marks a platform's due pending rows as held for `reason` (a safety switch); returns how
    /// many were not marked so before, so each held message is counted once per reason.
    async fn hold_outbox(
        &self,
        platform: Platform,
        now: DateTime<Utc>,
        reason: &str,
    ) -> StoreResult<u64>;
    /// Messages of a platform sent since `since` (for the daily and per-minute limits).
    async fn sent_since(&self, platform: Platform, since: DateTime<Utc>) -> StoreResult<i64>;
    /// When the next row of a platform falls due (a pending row's time or a lease's end).
    async fn next_due(&self, platform: Platform) -> StoreResult<Option<DateTime<Utc>>>;
    async fn outbox_stats(&self) -> StoreResult<Vec<OutboxStat>>;
    /// Rows in one state (e.g. [`OutboxState::Dead`]), newest first.
    async fn outbox_in_state(&self, state: OutboxState, limit: i64) -> StoreResult<Vec<OutboxRow>>;
    async fn outbox_row(&self, id: i64) -> StoreResult<Option<OutboxRow>>;
    /// Puts a dead message back in the queue; `false` when it is not dead.
    async fn retry_dead(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool>;
    /// How an incident's messages stand, per room and state (an index range of that incident).
    async fn incident_delivery(&self, incident: i64) -> StoreResult<Vec<RoomDelivery>>;
}

/// How many of an incident's messages to one room are in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomDelivery {
    pub room_id: String,
    pub state: OutboxState,
    pub count: i64,
}

/// A destination's pacing slots: the first, then one every `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slots {
    pub from: DateTime<Utc>,
    pub interval: chrono::Duration,
}

/// Enqueueing inside one decision's transaction, so a message exists exactly when its decision
/// does.
#[async_trait]
pub trait OutboxTx: Send {
    /// Enqueues messages; one whose idempotency key exists already is skipped.
    async fn enqueue(&mut self, messages: &[NewOutbound]) -> StoreResult<()>;
}

/// How many outbox rows one INSERT carries (15 parameters each).
pub(super) const ENQUEUE_CHUNK: usize = 500;

/// The outbox columns every read selects, in the order the decoder reads them by name.
macro_rules! outbox_columns {
    () => {
        "id, idempotency_key, room_id, platform, chat, thread, kind, language, text, rich, incident, \
         priority, created_at, state, attempts, next_attempt_at, last_error, platform_message_id, recipient, \
         topic, delivery_status, delivery_error, in_doubt"
    };
}
pub(super) use outbox_columns;

fn decode_rich(raw: Option<String>) -> StoreResult<Option<crate::outbox::Rich>> {
    raw.map(|r| {
        serde_json::from_str(&r).map_err(|e| StoreError::Corrupt(format!("rich form: {e}")))
    })
    .transpose()
}

/// Reads an outbox row selected with [`outbox_columns!`], on either backend.
pub(super) fn decode_outbox<R: sqlx::Row>(row: &R) -> StoreResult<OutboxRow>
where
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    Ok(OutboxRow {
        id: row.try_get("id")?,
        message: NewOutbound {
            idempotency_key: row.try_get("idempotency_key")?,
            room_id: row.try_get("room_id")?,
            platform: decode_platform(&row.try_get::<String, _>("platform")?)?,
            chat: row.try_get("chat")?,
            thread: row.try_get("thread")?,
            kind: MessageKind::parse(&row.try_get::<String, _>("kind")?)?,
            language: decode_lang(&row.try_get::<String, _>("language")?)?,
            text: row.try_get("text")?,
            rich: decode_rich(row.try_get("rich")?)?,
            incident: row.try_get("incident")?,
            priority: row.try_get("priority")?,
            created_at: from_millis(row.try_get("created_at")?)?,
            recipient: row.try_get("recipient")?,
            topic: row
                .try_get::<Option<String>, _>("topic")?
                .as_deref()
                .map(Topic::parse)
                .transpose()?,
        },
        state: OutboxState::parse(&row.try_get::<String, _>("state")?)?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: from_millis(row.try_get("next_attempt_at")?)?,
        last_error: row.try_get("last_error")?,
        platform_message_id: row.try_get("platform_message_id")?,
        delivery_status: row
            .try_get::<Option<String>, _>("delivery_status")?
            .as_deref()
            .map(DeliveryStatus::parse)
            .transpose()?,
        delivery_error: row.try_get("delivery_error")?,
        in_doubt: row.try_get::<i64, _>("in_doubt")? != 0,
    })
}

/// Implements [`OutboxStore`] and [`OutboxTx`] for one backend's store and transaction types.
/// `$skip_locked` is appended to the choice of rows to claim (`FOR UPDATE SKIP LOCKED` on
/// Postgres, so concurrent workers take different rows; on SQLite the single UPDATE statement is
/// atomic by itself).
macro_rules! outbox_sql {
    ($Store:ident, $Tx:ident, $Db:ty, skip_locked = $skip_locked:literal) => {
        mod outbox_sql {
            use chrono::{DateTime, Utc};

            use super::{$Store, $Tx};
            use $crate::store::outbox::{decode_outbox, outbox_columns, OutboxStore, OutboxTx, ENQUEUE_CHUNK};
            use $crate::store::sql;
            use $crate::engine::room::Platform;
            use $crate::store::sql::decode_platform;
            use $crate::store::{Completion, NewOutbound, OutboxRow, OutboxStat, OutboxState, StoreResult};

            #[async_trait::async_trait]
            impl OutboxTx for $Tx {
                async fn enqueue(&mut self, messages: &[NewOutbound]) -> StoreResult<()> {
                    // One statement per chunk: a broadcast to many rooms is one round trip, and a
                    // chunk stays far below SQLite's limit on bound parameters.
                    for chunk in messages.chunks(ENQUEUE_CHUNK) {
                        let rich = chunk
                            .iter()
                            .map(|m| m.rich.as_ref().map(sql::encode).transpose())
                            .collect::<StoreResult<Vec<Option<String>>>>()?;
                        self.0.write(|insert| {
                            insert.push(
                                "INSERT INTO outbox (idempotency_key, room_id, platform, chat, thread, kind, language, text, \
                                 rich, incident, priority, next_attempt_at, created_at, recipient, topic) ",
                            );
                            insert.push_values(chunk.iter().zip(rich), |mut row, (m, rich)| {
                                row.push_bind(m.idempotency_key.clone())
                                    .push_bind(m.room_id.clone())
                                    .push_bind(m.platform.as_str())
                                    .push_bind(m.chat.clone())
                                    .push_bind(m.thread.clone())
                                    .push_bind(m.kind.as_str())
                                    .push_bind(m.language.as_str())
                                    .push_bind(m.text.clone())
                                    .push_bind(rich)
                                    .push_bind(m.incident)
                                    .push_bind(m.priority)
                                    .push_bind(sql::millis(m.created_at))
                                    .push_bind(sql::millis(m.created_at))
                                    .push_bind(m.recipient.clone())
                                    .push_bind(m.topic.map(|t| t.as_str()));
                            });
                            insert.push(" ON CONFLICT (idempotency_key) DO NOTHING");
                        })
                        .await?;
                    }
                    Ok(())
                }
            }

            #[async_trait::async_trait]
            impl OutboxStore for $Store {
                async fn pending_outbox(&self, platform: Platform, limit: i64) -> StoreResult<Vec<OutboxRow>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", outbox_columns!(), " FROM outbox WHERE platform = $1 AND state IN ('pending', 'failed') \
                         ORDER BY priority, id LIMIT $2"
                    ))
                    .bind(platform.as_str())
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(decode_outbox).collect()
                }

                async fn claim_outbox(
                    &self,
                    platform: Platform,
                    worker: &str,
                    now: DateTime<Utc>,
                    lease: std::time::Duration,
                    limit: i64,
                ) -> StoreResult<Vec<OutboxRow>> {
                    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
                    let rows = sqlx::query(concat!(
                        "UPDATE outbox SET state = 'sending', lease_until = $3, claimed_by = $2, attempts = attempts + 1, \
                         in_doubt = CASE WHEN state = 'sending' THEN 1 WHEN state = 'pending' THEN in_doubt ELSE 0 END \
                         WHERE id IN (SELECT id FROM outbox WHERE platform = $1 \
                         AND ((state IN ('pending', 'failed') AND next_attempt_at <= $4) OR (state = 'sending' AND lease_until < $4)) \
                         ORDER BY priority, id LIMIT $5", $skip_locked, ") RETURNING ", outbox_columns!()
                    ))
                    .bind(platform.as_str())
                    .bind(worker)
                    .bind(sql::millis(until))
                    .bind(sql::millis(now))
                    .bind(limit)
                    .fetch_all(self.writes())
                    .await?;
                    let mut claimed = rows.iter().map(decode_outbox).collect::<StoreResult<Vec<_>>>()?;
                    claimed.sort_by_key(|r| (r.message.priority, r.id));
                    Ok(claimed)
                }

                async fn extend_outbox_lease(&self, worker: &str, ids: &[i64], until: DateTime<Utc>) -> StoreResult<u64> {
                    if ids.is_empty() {
                        return Ok(0);
                    }
                    let mut update = sqlx::QueryBuilder::<$Db>::new("UPDATE outbox SET lease_until = ");
                    update
                        .push_bind(sql::millis(until))
                        .push(" WHERE state = 'sending' AND claimed_by = ")
                        .push_bind(worker.to_string())
                        .push(" AND id");
                    sql::push_in(&mut update, ids.iter().copied());
                    let kept = update.build().execute(self.writes()).await?;
                    Ok(kept.rows_affected())
                }

                async fn finish_outbox(&self, id: i64, worker: &str, completion: &Completion, now: DateTime<Utc>) -> StoreResult<bool> {
                    let (state, at, error, message_id, sent_at, attempt_delta) = match completion {
                        Completion::Sent { platform_message_id } => (OutboxState::Sent, None, None, platform_message_id.clone(), Some(now), 0i64),
                        Completion::Retry { at, error } => (OutboxState::Failed, Some(*at), Some(error.clone()), None, None, 0),
                        Completion::Dead { reason } => (OutboxState::Dead, None, Some(reason.clone()), None, None, 0),
                        Completion::Release { at } => (OutboxState::Pending, Some(*at), None, None, None, -1),
                        Completion::DryRun => (OutboxState::DryRun, None, None, None, Some(now), 0),
                    };
                    let done = sqlx::query(
                        "UPDATE outbox SET state = $3, next_attempt_at = COALESCE($4, next_attempt_at), last_error = $5, \
                         platform_message_id = COALESCE($6, platform_message_id), sent_at = $7, \
                         attempts = attempts + $8, lease_until = NULL \
                         WHERE id = $1 AND claimed_by = $2 AND state = 'sending'",
                    )
                    .bind(id)
                    .bind(worker)
                    .bind(state.as_str())
                    .bind(at.map(sql::millis))
                    .bind(error)
                    .bind(message_id)
                    .bind(sent_at.map(sql::millis))
                    .bind(attempt_delta)
                    .execute(self.writes())
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn defer_outbox(
                    &self,
                    platform: Platform,
                    chat: &str,
                    worker: &str,
                    claimed: &[i64],
                    now: DateTime<Utc>,
                    slots: $crate::store::outbox::Slots,
                ) -> StoreResult<u64> {
                    // UPDATE … FROM numbers the rows in one pass on both backends (SQLite ≥ 3.33).
                    let mut update = sqlx::QueryBuilder::<$Db>::new(
                        "UPDATE outbox SET state = 'pending', lease_until = NULL, \
                         attempts = outbox.attempts - CASE WHEN outbox.state = 'sending' THEN 1 ELSE 0 END, \
                         next_attempt_at = ",
                    );
                    update
                        .push_bind(sql::millis(slots.from))
                        .push(" + (r.slot - 1) * ")
                        .push_bind(slots.interval.num_milliseconds().max(1))
                        .push(" FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY priority, id) AS slot FROM outbox WHERE platform = ")
                        .push_bind(platform.as_str())
                        .push(" AND chat = ")
                        .push_bind(chat.to_string())
                        .push(" AND ((state IN ('pending', 'failed') AND next_attempt_at <= ")
                        .push_bind(sql::millis(now))
                        .push(")");
                    if !claimed.is_empty() {
                        update
                            .push(" OR (state = 'sending' AND claimed_by = ")
                            .push_bind(worker.to_string())
                            .push(" AND id");
                        sql::push_in(&mut update, claimed.iter().copied());
                        update.push(")");
                    }
                    update.push(")) AS r WHERE outbox.id = r.id");
                    let done = update.build().execute(self.writes()).await?;
                    Ok(done.rows_affected())
                }

                async fn pacing_heartbeat(
                    &self,
                    platform: Platform,
                    process: &str,
                    now: DateTime<Utc>,
                    stale_before: DateTime<Utc>,
                ) -> StoreResult<i64> {
                    sqlx::query(
                        "INSERT INTO pacing_shares (platform, process, seen_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (platform, process) DO UPDATE SET seen_at = excluded.seen_at",
                    )
                    .bind(platform.as_str())
                    .bind(process)
                    .bind(sql::millis(now))
                    .execute(self.writes())
                    .await?;
                    sqlx::query("DELETE FROM pacing_shares WHERE platform = $1 AND seen_at < $2")
                        .bind(platform.as_str())
                        .bind(sql::millis(stale_before))
                        .execute(self.writes())
                        .await?;
                    let (live,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM pacing_shares WHERE platform = $1",
                    )
                    .bind(platform.as_str())
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(live)
                }

                async fn hold_outbox(&self, platform: Platform, now: DateTime<Utc>, reason: &str) -> StoreResult<u64> {
                    let done = sqlx::query(
                        "UPDATE outbox SET last_error = $3 WHERE platform = $1 AND state IN ('pending', 'failed') \
                         AND next_attempt_at <= $2 AND (last_error IS NULL OR last_error <> $3)",
                    )
                    .bind(platform.as_str())
                    .bind(sql::millis(now))
                    .bind(reason)
                    .execute(self.writes())
                    .await?;
                    Ok(done.rows_affected())
                }

                async fn sent_since(&self, platform: Platform, since: DateTime<Utc>) -> StoreResult<i64> {
                    let (count,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM outbox WHERE platform = $1 AND state = 'sent' AND sent_at >= $2",
                    )
                    .bind(platform.as_str())
                    .bind(sql::millis(since))
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(count)
                }

                async fn next_due(&self, platform: Platform) -> StoreResult<Option<DateTime<Utc>>> {
                    let (at,): (Option<i64>,) = sqlx::query_as(
                        "SELECT MIN(CASE WHEN state IN ('pending', 'failed') THEN next_attempt_at ELSE lease_until END) \
                         FROM outbox WHERE platform = $1 AND state IN ('pending', 'failed', 'sending')",
                    )
                    .bind(platform.as_str())
                    .fetch_one(&self.pool)
                    .await?;
                    at.map(sql::from_millis).transpose()
                }

                async fn outbox_stats(&self) -> StoreResult<Vec<OutboxStat>> {
                    let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
                        "SELECT platform, state, COUNT(*), MIN(created_at) FROM outbox GROUP BY platform, state \
                         ORDER BY platform, state",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter()
                        .map(|(platform, state, count, oldest)| {
                            Ok(OutboxStat {
                                platform: decode_platform(&platform)?,
                                state: OutboxState::parse(&state)?,
                                count,
                                oldest_created_at: oldest.map(sql::from_millis).transpose()?,
                            })
                        })
                        .collect()
                }

                async fn incident_delivery(&self, incident: i64) -> StoreResult<Vec<$crate::store::outbox::RoomDelivery>> {
                    let rows: Vec<(String, String, i64)> = sqlx::query_as(
                        "SELECT room_id, state, COUNT(*) FROM outbox WHERE incident = $1 GROUP BY room_id, state \
                         ORDER BY room_id, state",
                    )
                    .bind(incident)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter()
                        .map(|(room_id, state, count)| {
                            Ok($crate::store::outbox::RoomDelivery { room_id, state: OutboxState::parse(&state)?, count })
                        })
                        .collect()
                }

                async fn outbox_in_state(&self, state: OutboxState, limit: i64) -> StoreResult<Vec<OutboxRow>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", outbox_columns!(), " FROM outbox WHERE state = $1 ORDER BY id DESC LIMIT $2"
                    ))
                    .bind(state.as_str())
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(decode_outbox).collect()
                }

                async fn outbox_row(&self, id: i64) -> StoreResult<Option<OutboxRow>> {
                    let row = sqlx::query(concat!("SELECT ", outbox_columns!(), " FROM outbox WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                    row.as_ref().map(decode_outbox).transpose()
                }

                async fn retry_dead(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE outbox SET state = 'pending', next_attempt_at = $2, attempts = 0, last_error = NULL, \
                         claimed_by = NULL WHERE id = $1 AND state = 'dead'",
                    )
                    .bind(id)
                    .bind(sql::millis(now))
                    .execute(self.writes())
                    .await?;
                    Ok(done.rows_affected() == 1)
                }
            }
        }
    };
}

pub(super) use outbox_sql;
