//! The SQL both backends share. SQLite accepts Postgres-style `$1` placeholders, times are stored
//! as UTC epoch milliseconds and JSON as text, so one set of statements serves both; the macro
//! stamps it onto each backend's concrete types (sqlx's generic executor bounds would cost more
//! code than they save).

use chrono::{DateTime, Utc};

use super::{StoreError, StoreResult};
use crate::engine::incident::{Event, Incident, TimelineEntry};
use crate::i18n::Lang;

pub(super) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(super) fn from_millis(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms}")))
}

pub(super) fn decode_incident(state: &str) -> StoreResult<Incident> {
    serde_json::from_str(state).map_err(|e| StoreError::Corrupt(format!("incident state: {e}")))
}

pub(super) fn encode<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("encode: {e}")))
}

pub(super) fn decode_entry(row: (i64, i64, String, String, String)) -> StoreResult<TimelineEntry> {
    let (incident, at, actor, room, detail) = row;
    let event: Event =
        serde_json::from_str(&detail).map_err(|e| StoreError::Corrupt(format!("timeline: {e}")))?;
    Ok(TimelineEntry {
        incident,
        at: from_millis(at)?,
        actor,
        room,
        event,
    })
}

pub(super) fn decode_lang(raw: &str) -> StoreResult<Lang> {
    Lang::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("language {raw:?}")))
}

/// How many outbox rows one INSERT carries (15 parameters each).
pub(super) const ENQUEUE_CHUNK: usize = 500;

pub(super) fn decode_rich(raw: Option<String>) -> StoreResult<Option<crate::outbox::Rich>> {
    raw.map(|r| {
        serde_json::from_str(&r).map_err(|e| StoreError::Corrupt(format!("rich form: {e}")))
    })
    .transpose()
}

/// The outbox columns every read selects, in the order the decoder reads them by name.
macro_rules! outbox_columns {
    () => {
        "id, idempotency_key, room_id, platform, chat, thread, kind, language, text, rich, incident, \
         priority, created_at, state, attempts, next_attempt_at, last_error, platform_message_id, recipient, \
         topic, delivery_status, delivery_error"
    };
}
pub(super) use outbox_columns;

/// The job columns every read selects.
macro_rules! job_columns {
    () => {
        "id, kind, key, subject, due_at, payload, state, attempts, fired_at, last_error"
    };
}
pub(super) use job_columns;

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

pub(super) fn decode_job(row: RawJob) -> StoreResult<super::JobRow> {
    let (id, kind, key, subject, due_at, payload, state, attempts, fired_at, last_error) = row;
    Ok(super::JobRow {
        id,
        kind,
        key,
        subject,
        due_at: from_millis(due_at)?,
        payload,
        state,
        attempts,
        fired_at: fired_at.map(from_millis).transpose()?,
        last_error,
    })
}

pub(super) type RawChecklist = (i64, String, String, String, i64, String);

pub(super) fn decode_checklist(row: RawChecklist) -> StoreResult<super::Checklist> {
    let (id, schedule, title, rooms, posted_at, items) = row;
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("checklist: {e}"));
    Ok(super::Checklist {
        id,
        schedule,
        title,
        rooms: serde_json::from_str(&rooms).map_err(corrupt)?,
        posted_at: from_millis(posted_at)?,
        items: serde_json::from_str(&items).map_err(corrupt)?,
    })
}

/// Implements [`super::Store`] and [`super::StoreTx`] for one backend. The backend supplies
/// `pool`, `begin_tx()` and `migrator()`; `$lock` is appended to the read of an incident that is
/// about to change (`FOR UPDATE` on Postgres; SQLite's writer already holds the database lock),
/// and `$skip_locked` to the choice of outbox rows to claim (`FOR UPDATE SKIP LOCKED` on
/// Postgres, so concurrent workers take different rows; on SQLite the single UPDATE statement is
/// atomic by itself).
macro_rules! sql_store {
    ($Store:ident, $Tx:ident, $Db:ty, backend = $name:literal, lock = $lock:literal, skip_locked = $skip_locked:literal) => {
        /// One decision's transaction on this backend.
        pub struct $Tx(sqlx::Transaction<'static, $Db>);

        type Conn = <$Db as sqlx::Database>::Connection;
        type DbRow = <$Db as sqlx::Database>::Row;

        fn decode_outbox(row: &DbRow) -> StoreResult<OutboxRow> {
            use sqlx::Row;
            Ok(OutboxRow {
                id: row.try_get("id")?,
                message: NewOutbound {
                    idempotency_key: row.try_get("idempotency_key")?,
                    room_id: row.try_get("room_id")?,
                    platform: row.try_get("platform")?,
                    chat: row.try_get("chat")?,
                    thread: row.try_get("thread")?,
                    kind: row.try_get("kind")?,
                    language: sql::decode_lang(&row.try_get::<String, _>("language")?)?,
                    text: row.try_get("text")?,
                    rich: sql::decode_rich(row.try_get("rich")?)?,
                    incident: row.try_get("incident")?,
                    priority: row.try_get("priority")?,
                    created_at: sql::from_millis(row.try_get("created_at")?)?,
                    recipient: row.try_get("recipient")?,
                    topic: row.try_get("topic")?,
                },
                state: row.try_get("state")?,
                attempts: row.try_get("attempts")?,
                next_attempt_at: sql::from_millis(row.try_get("next_attempt_at")?)?,
                last_error: row.try_get("last_error")?,
                platform_message_id: row.try_get("platform_message_id")?,
                delivery_status: row.try_get("delivery_status")?,
                delivery_error: row.try_get("delivery_error")?,
            })
        }

        async fn load_incident(conn: &mut Conn, number: i64, lock: bool) -> StoreResult<Option<Incident>> {
            let sql = if lock {
                concat!("SELECT state FROM incidents WHERE number = $1", $lock)
            } else {
                "SELECT state FROM incidents WHERE number = $1"
            };
            let row: Option<(String,)> = sqlx::query_as(sql).bind(number).fetch_optional(&mut *conn).await?;
            row.map(|(state,)| sql::decode_incident(&state)).transpose()
        }

        async fn load_open(conn: &mut Conn) -> StoreResult<Vec<Incident>> {
            let rows: Vec<(String,)> =
                sqlx::query_as("SELECT state FROM incidents WHERE status <> 'resolved' ORDER BY number")
                    .fetch_all(&mut *conn)
                    .await?;
            rows.iter().map(|(s,)| sql::decode_incident(s)).collect()
        }

        async fn load_timeline(conn: &mut Conn, number: i64, limit: i64) -> StoreResult<Vec<TimelineEntry>> {
            let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
                "SELECT incident, at, actor, room, detail FROM timeline WHERE incident = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(number)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
            rows.into_iter().rev().map(sql::decode_entry).collect()
        }

        async fn load_person(conn: &mut Conn, platform: &str, user_id: &str) -> StoreResult<Option<String>> {
            let row: Option<(String,)> =
                sqlx::query_as("SELECT name FROM people WHERE platform = $1 AND user_id = $2")
                    .bind(platform)
                    .bind(user_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            Ok(row.map(|(name,)| name))
        }

        async fn load_room_languages(conn: &mut Conn) -> StoreResult<Vec<(String, Lang)>> {
            let rows: Vec<(String, String)> = sqlx::query_as("SELECT room_id, language FROM room_settings")
                .fetch_all(&mut *conn)
                .await?;
            rows.into_iter()
                .map(|(room, lang)| Ok((room, sql::decode_lang(&lang)?)))
                .collect()
        }

        async fn write_incident(conn: &mut Conn, incident: &Incident) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO incidents (number, title, severity, status, declared_at, updated_at, resolved_at, state) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (number) DO UPDATE SET title = $2, severity = $3, status = $4, \
                 updated_at = $6, resolved_at = $7, state = $8",
            )
            .bind(incident.number)
            .bind(&incident.title)
            .bind(incident.severity.number())
            .bind(incident.status.as_str())
            .bind(sql::millis(incident.declared_at))
            .bind(sql::millis(incident.updated_at))
            .bind(incident.resolved_at.map(sql::millis))
            .bind(sql::encode(incident)?)
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl StoreTx for $Tx {
            async fn record_inbound(&mut self, key: &str, at: DateTime<Utc>) -> StoreResult<bool> {
                let done = sqlx::query(
                    "INSERT INTO inbound_events (event_key, received_at) VALUES ($1, $2) ON CONFLICT (event_key) DO NOTHING",
                )
                .bind(key)
                .bind(sql::millis(at))
                .execute(&mut *self.0)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn room_languages(&mut self) -> StoreResult<Vec<(String, Lang)>> {
                load_room_languages(&mut self.0).await
            }

            async fn set_room_language(&mut self, room: &str, lang: Lang, at: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO room_settings (room_id, language, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (room_id) DO UPDATE SET language = $2, updated_at = $3",
                )
                .bind(room)
                .bind(lang.as_str())
                .bind(sql::millis(at))
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn incident(&mut self, number: i64) -> StoreResult<Option<Incident>> {
                load_incident(&mut self.0, number, true).await
            }

            async fn open_incidents(&mut self) -> StoreResult<Vec<Incident>> {
                load_open(&mut self.0).await
            }

            async fn timeline(&mut self, number: i64, limit: i64) -> StoreResult<Vec<TimelineEntry>> {
                load_timeline(&mut self.0, number, limit).await
            }

            async fn insert_incident(&mut self, incident: &Incident) -> StoreResult<i64> {
                // The counter row serialises numbering on both backends (a row lock on Postgres).
                let (number,): (i64,) = sqlx::query_as(
                    "UPDATE counters SET value = value + 1 WHERE name = 'incident' RETURNING value",
                )
                .fetch_one(&mut *self.0)
                .await?;
                let stored = Incident {
                    number,
                    ..incident.clone()
                };
                write_incident(&mut self.0, &stored).await?;
                Ok(number)
            }

            async fn update_incident(&mut self, incident: &Incident) -> StoreResult<()> {
                write_incident(&mut self.0, incident).await
            }

            async fn append_timeline(&mut self, entries: &[TimelineEntry]) -> StoreResult<()> {
                for entry in entries {
                    sqlx::query(
                        "INSERT INTO timeline (incident, at, actor, room, kind, detail) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(entry.incident)
                    .bind(sql::millis(entry.at))
                    .bind(&entry.actor)
                    .bind(&entry.room)
                    .bind(entry.event.kind())
                    .bind(sql::encode(&entry.event)?)
                    .execute(&mut *self.0)
                    .await?;
                }
                Ok(())
            }

            async fn enqueue(&mut self, messages: &[NewOutbound]) -> StoreResult<()> {
                // One statement per chunk: a broadcast to many rooms is one round trip, and a
                // chunk stays far below SQLite's limit on bound parameters.
                for chunk in messages.chunks(sql::ENQUEUE_CHUNK) {
                    let mut insert = sqlx::QueryBuilder::<$Db>::new(
                        "INSERT INTO outbox (idempotency_key, room_id, platform, chat, thread, kind, language, text, \
                         rich, incident, priority, next_attempt_at, created_at, recipient, topic) ",
                    );
                    let rich = chunk
                        .iter()
                        .map(|m| m.rich.as_ref().map(sql::encode).transpose())
                        .collect::<StoreResult<Vec<Option<String>>>>()?;
                    insert.push_values(chunk.iter().enumerate(), |mut row, (i, m)| {
                        row.push_bind(m.idempotency_key.clone())
                            .push_bind(m.room_id.clone())
                            .push_bind(m.platform.clone())
                            .push_bind(m.chat.clone())
                            .push_bind(m.thread.clone())
                            .push_bind(m.kind.clone())
                            .push_bind(m.language.as_str())
                            .push_bind(m.text.clone())
                            .push_bind(rich[i].clone())
                            .push_bind(m.incident)
                            .push_bind(m.priority)
                            .push_bind(sql::millis(m.created_at))
                            .push_bind(sql::millis(m.created_at))
                            .push_bind(m.recipient.clone())
                            .push_bind(m.topic.clone());
                    });
                    insert.push(" ON CONFLICT (idempotency_key) DO NOTHING");
                    insert.build().execute(&mut *self.0).await?;
                }
                Ok(())
            }

            async fn person_name(&mut self, platform: &str, user_id: &str) -> StoreResult<Option<String>> {
                load_person(&mut *self.0, platform, user_id).await
            }

            async fn record_contact(&mut self, platform: &str, address: &str, seen_as: &str, at: DateTime<Utc>) -> StoreResult<()> {
                // Webhooks can arrive out of order: the window runs from the latest message.
                sqlx::query(
                    "INSERT INTO contact_windows (platform, address, seen_as, last_inbound_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (platform, address) DO UPDATE SET seen_as = $3, last_inbound_at = $4 \
                     WHERE contact_windows.last_inbound_at < $4",
                )
                .bind(platform)
                .bind(address)
                .bind(seen_as)
                .bind(sql::millis(at))
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn close_contact_window(&mut self, platform: &str, address: &str, up_to: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE contact_windows SET last_inbound_at = 0 \
                     WHERE platform = $1 AND address = $2 AND last_inbound_at <= $3",
                )
                .bind(platform)
                .bind(address)
                .bind(sql::millis(up_to))
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn schedule_jobs(&mut self, jobs: &[NewJob], now: DateTime<Utc>) -> StoreResult<()> {
                for job in jobs {
                    sqlx::query(
                        "INSERT INTO jobs (kind, key, subject, due_at, run_after, payload, created_at) \
                         VALUES ($1, $2, $3, $4, $4, $5, $6) ON CONFLICT (key) DO UPDATE \
                         SET state = 'pending', attempts = 0, payload = $5, run_after = $4, last_error = NULL \
                         WHERE jobs.state = 'cancelled'",
                    )
                    .bind(&job.kind)
                    .bind(&job.key)
                    .bind(&job.subject)
                    .bind(sql::millis(job.due_at))
                    .bind(&job.payload)
                    .bind(sql::millis(now))
                    .execute(&mut *self.0)
                    .await?;
                }
                Ok(())
            }

            async fn cancel_jobs(&mut self, subject: &str, kind: &str) -> StoreResult<u64> {
                let done = sqlx::query(
                    "UPDATE jobs SET state = 'cancelled' WHERE subject = $1 AND kind = $2 AND state = 'pending'",
                )
                .bind(subject)
                .bind(kind)
                .execute(&mut *self.0)
                .await?;
                Ok(done.rows_affected())
            }

            async fn active_jobs(&mut self, kind: &str) -> StoreResult<Vec<JobRow>> {
                let rows: Vec<sql::RawJob> = sqlx::query_as(concat!(
                    "SELECT ", sql::job_columns!(), " FROM jobs WHERE kind = $1 AND state IN ('pending', 'running') \
                     ORDER BY due_at, id"
                ))
                .bind(kind)
                .fetch_all(&mut *self.0)
                .await?;
                rows.into_iter().map(sql::decode_job).collect()
            }

            async fn complete_job(&mut self, id: i64, worker: &str, now: DateTime<Utc>) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE jobs SET state = 'done', fired_at = $3, lease_until = NULL \
                     WHERE id = $1 AND claimed_by = $2 AND state = 'running'",
                )
                .bind(id)
                .bind(worker)
                .bind(sql::millis(now))
                .execute(&mut *self.0)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn incidents_since(&mut self, since: DateTime<Utc>) -> StoreResult<Vec<Incident>> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT state FROM incidents WHERE status <> 'resolved' OR declared_at >= $1 OR resolved_at >= $1 \
                     ORDER BY number",
                )
                .bind(sql::millis(since))
                .fetch_all(&mut *self.0)
                .await?;
                rows.iter().map(|(s,)| sql::decode_incident(s)).collect()
            }

            async fn insert_checklist(&mut self, checklist: &Checklist) -> StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO checklists (schedule, title, rooms, posted_at, items) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(&checklist.schedule)
                .bind(&checklist.title)
                .bind(sql::encode(&checklist.rooms)?)
                .bind(sql::millis(checklist.posted_at))
                .bind(sql::encode(&checklist.items)?)
                .fetch_one(&mut *self.0)
                .await?;
                Ok(id)
            }

            async fn recent_checklists(&mut self, limit: i64) -> StoreResult<Vec<Checklist>> {
                // Locked on Postgres: two people ticking at once must not overwrite each other.
                let rows: Vec<sql::RawChecklist> = sqlx::query_as(concat!(
                    "SELECT id, schedule, title, rooms, posted_at, items FROM checklists ORDER BY id DESC LIMIT $1",
                    $lock
                ))
                .bind(limit)
                .fetch_all(&mut *self.0)
                .await?;
                rows.into_iter().map(sql::decode_checklist).collect()
            }

            async fn save_checklist_items(&mut self, id: i64, items: &[ChecklistItem]) -> StoreResult<()> {
                sqlx::query("UPDATE checklists SET items = $2 WHERE id = $1")
                    .bind(id)
                    .bind(sql::encode(&items)?)
                    .execute(&mut *self.0)
                    .await?;
                Ok(())
            }

            async fn add_override(&mut self, item: &OncallOverride) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO oncall_overrides (rotation, person, starts_at, ends_at, set_by) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&item.rotation)
                .bind(&item.person)
                .bind(sql::millis(item.starts_at))
                .bind(sql::millis(item.ends_at))
                .bind(&item.set_by)
                .execute(&mut *self.0)
                .await?;
                Ok(())
            }

            async fn overrides(&mut self, at: DateTime<Utc>) -> StoreResult<Vec<OncallOverride>> {
                let rows: Vec<(String, String, i64, i64, String)> = sqlx::query_as(
                    "SELECT rotation, person, starts_at, ends_at, set_by FROM oncall_overrides WHERE ends_at > $1 \
                     ORDER BY starts_at, id",
                )
                .bind(sql::millis(at))
                .fetch_all(&mut *self.0)
                .await?;
                rows.into_iter()
                    .map(|(rotation, person, starts_at, ends_at, set_by)| {
                        Ok(OncallOverride {
                            rotation,
                            person,
                            starts_at: sql::from_millis(starts_at)?,
                            ends_at: sql::from_millis(ends_at)?,
                            set_by,
                        })
                    })
                    .collect()
            }

            async fn add_handoff_note(&mut self, rotation: &str, note: &HandoffNote) -> StoreResult<()> {
                sqlx::query("INSERT INTO handoff_notes (rotation, author, text, at) VALUES ($1, $2, $3, $4)")
                    .bind(rotation)
                    .bind(&note.author)
                    .bind(&note.text)
                    .bind(sql::millis(note.at))
                    .execute(&mut *self.0)
                    .await?;
                Ok(())
            }

            async fn handoff_notes(&mut self, rotation: &str) -> StoreResult<Vec<HandoffNote>> {
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT author, text, at FROM handoff_notes WHERE rotation = $1 AND handed_at IS NULL ORDER BY id",
                )
                .bind(rotation)
                .fetch_all(&mut *self.0)
                .await?;
                rows.into_iter()
                    .map(|(author, text, at)| Ok(HandoffNote { author, text, at: sql::from_millis(at)? }))
                    .collect()
            }

            async fn hand_over_notes(&mut self, rotation: &str, at: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query("UPDATE handoff_notes SET handed_at = $2 WHERE rotation = $1 AND handed_at IS NULL")
                    .bind(rotation)
                    .bind(sql::millis(at))
                    .execute(&mut *self.0)
                    .await?;
                Ok(())
            }

            async fn commit(self: Box<Self>) -> StoreResult<()> {
                self.0.commit().await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl Store for $Store {
            fn backend(&self) -> &'static str {
                $name
            }

            async fn migrate(&self) -> StoreResult<()> {
                migrator().run(&self.pool).await?;
                Ok(())
            }

            async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
                Ok(Box::new($Tx(self.begin_tx().await?)))
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn incident(&self, number: i64) -> StoreResult<Option<Incident>> {
                load_incident(&mut *self.pool.acquire().await?, number, false).await
            }

            async fn open_incidents(&self) -> StoreResult<Vec<Incident>> {
                load_open(&mut *self.pool.acquire().await?).await
            }

            async fn room_languages(&self) -> StoreResult<Vec<(String, Lang)>> {
                load_room_languages(&mut *self.pool.acquire().await?).await
            }

            async fn recent_incidents(&self, limit: i64) -> StoreResult<Vec<Incident>> {
                let rows: Vec<(String,)> =
                    sqlx::query_as("SELECT state FROM incidents ORDER BY number DESC LIMIT $1")
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?;
                rows.iter().map(|(s,)| sql::decode_incident(s)).collect()
            }

            async fn timeline(&self, number: i64, limit: i64) -> StoreResult<Vec<TimelineEntry>> {
                load_timeline(&mut *self.pool.acquire().await?, number, limit).await
            }

            async fn pending_outbox(&self, platform: &str, limit: i64) -> StoreResult<Vec<OutboxRow>> {
                let rows = sqlx::query(concat!(
                    "SELECT ", sql::outbox_columns!(), " FROM outbox WHERE platform = $1 AND state IN ('pending', 'failed') \
                     ORDER BY priority, id LIMIT $2"
                ))
                .bind(platform)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(decode_outbox).collect()
            }

            async fn claim_outbox(
                &self,
                platform: &str,
                worker: &str,
                now: DateTime<Utc>,
                lease: std::time::Duration,
                limit: i64,
            ) -> StoreResult<Vec<OutboxRow>> {
                let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
                let rows = sqlx::query(concat!(
                    "UPDATE outbox SET state = 'sending', lease_until = $3, claimed_by = $2, attempts = attempts + 1 \
                     WHERE id IN (SELECT id FROM outbox WHERE platform = $1 \
                     AND ((state IN ('pending', 'failed') AND next_attempt_at <= $4) OR (state = 'sending' AND lease_until < $4)) \
                     ORDER BY priority, id LIMIT $5", $skip_locked, ") RETURNING ", sql::outbox_columns!()
                ))
                .bind(platform)
                .bind(worker)
                .bind(sql::millis(until))
                .bind(sql::millis(now))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let mut claimed = rows.iter().map(decode_outbox).collect::<StoreResult<Vec<_>>>()?;
                claimed.sort_by_key(|r| (r.message.priority, r.id));
                Ok(claimed)
            }

            async fn finish_outbox(&self, id: i64, worker: &str, completion: &Completion, now: DateTime<Utc>) -> StoreResult<bool> {
                let (state, at, error, message_id, sent_at, attempt_delta) = match completion {
                    Completion::Sent { platform_message_id } => ("sent", None, None, platform_message_id.clone(), Some(now), 0i64),
                    Completion::Retry { at, error } => ("failed", Some(*at), Some(error.clone()), None, None, 0),
                    Completion::Dead { reason } => ("dead", None, Some(reason.clone()), None, None, 0),
                    Completion::Release { at } => ("pending", Some(*at), None, None, None, -1),
                    Completion::DryRun => ("dry_run", None, None, None, Some(now), 0),
                };
                let done = sqlx::query(
                    "UPDATE outbox SET state = $3, next_attempt_at = COALESCE($4, next_attempt_at), last_error = $5, \
                     platform_message_id = COALESCE($6, platform_message_id), sent_at = $7, \
                     attempts = attempts + $8, lease_until = NULL \
                     WHERE id = $1 AND claimed_by = $2 AND state = 'sending'",
                )
                .bind(id)
                .bind(worker)
                .bind(state)
                .bind(at.map(sql::millis))
                .bind(error)
                .bind(message_id)
                .bind(sent_at.map(sql::millis))
                .bind(attempt_delta)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn hold_outbox(&self, platform: &str, now: DateTime<Utc>, reason: &str) -> StoreResult<u64> {
                let done = sqlx::query(
                    "UPDATE outbox SET last_error = $3 WHERE platform = $1 AND state IN ('pending', 'failed') \
                     AND next_attempt_at <= $2 AND (last_error IS NULL OR last_error <> $3)",
                )
                .bind(platform)
                .bind(sql::millis(now))
                .bind(reason)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn sent_since(&self, platform: &str, since: DateTime<Utc>) -> StoreResult<i64> {
                let (count,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM outbox WHERE platform = $1 AND state = 'sent' AND sent_at >= $2",
                )
                .bind(platform)
                .bind(sql::millis(since))
                .fetch_one(&self.pool)
                .await?;
                Ok(count)
            }

            async fn next_due(&self, platform: &str) -> StoreResult<Option<DateTime<Utc>>> {
                let (at,): (Option<i64>,) = sqlx::query_as(
                    "SELECT MIN(CASE WHEN state IN ('pending', 'failed') THEN next_attempt_at ELSE lease_until END) \
                     FROM outbox WHERE platform = $1 AND state IN ('pending', 'failed', 'sending')",
                )
                .bind(platform)
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
                            platform,
                            state,
                            count,
                            oldest_created_at: oldest.map(sql::from_millis).transpose()?,
                        })
                    })
                    .collect()
            }

            async fn outbox_in_state(&self, state: &str, limit: i64) -> StoreResult<Vec<OutboxRow>> {
                let rows = sqlx::query(concat!(
                    "SELECT ", sql::outbox_columns!(), " FROM outbox WHERE state = $1 ORDER BY id DESC LIMIT $2"
                ))
                .bind(state)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(decode_outbox).collect()
            }

            async fn outbox_row(&self, id: i64) -> StoreResult<Option<OutboxRow>> {
                let row = sqlx::query(concat!("SELECT ", sql::outbox_columns!(), " FROM outbox WHERE id = $1"))
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
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
                let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(v,)| v))
            }

            async fn card(&self, platform: &str, chat: &str, incident: i64) -> StoreResult<Option<CardRef>> {
                let row: Option<(String, i64)> = sqlx::query_as(
                    "SELECT message_id, outbox_id FROM cards WHERE platform = $1 AND chat = $2 AND incident = $3",
                )
                .bind(platform)
                .bind(chat)
                .bind(incident)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(message_id, outbox_id)| CardRef { message_id, outbox_id }))
            }

            async fn save_card(&self, platform: &str, chat: &str, incident: i64, card: &CardRef, now: DateTime<Utc>) -> StoreResult<()> {
                // The first message stays the card; later rows only move `outbox_id` forward.
                sqlx::query(
                    "INSERT INTO cards (platform, chat, incident, message_id, outbox_id, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (platform, chat, incident) DO UPDATE SET outbox_id = $5, updated_at = $6 \
                     WHERE cards.outbox_id < $5",
                )
                .bind(platform)
                .bind(chat)
                .bind(incident)
                .bind(&card.message_id)
                .bind(card.outbox_id)
                .bind(sql::millis(now))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn person_name(&self, platform: &str, user_id: &str) -> StoreResult<Option<String>> {
                let mut conn = self.pool.acquire().await?;
                load_person(&mut conn, platform, user_id).await
            }

            async fn save_person(&self, platform: &str, user_id: &str, name: &str, now: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO people (platform, user_id, name, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (platform, user_id) DO UPDATE SET name = $3, updated_at = $4",
                )
                .bind(platform)
                .bind(user_id)
                .bind(name)
                .bind(sql::millis(now))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn record_contact(&self, platform: &str, address: &str, seen_as: &str, at: DateTime<Utc>) -> StoreResult<()> {
                // Webhooks can arrive out of order: the window runs from the latest message.
                sqlx::query(
                    "INSERT INTO contact_windows (platform, address, seen_as, last_inbound_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (platform, address) DO UPDATE SET seen_as = $3, last_inbound_at = $4 \
                     WHERE contact_windows.last_inbound_at < $4",
                )
                .bind(platform)
                .bind(address)
                .bind(seen_as)
                .bind(sql::millis(at))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn contact(&self, platform: &str, address: &str) -> StoreResult<Option<Contact>> {
                let row: Option<(String, i64)> = sqlx::query_as(
                    "SELECT seen_as, last_inbound_at FROM contact_windows WHERE platform = $1 AND address = $2",
                )
                .bind(platform)
                .bind(address)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(seen_as, at)| Ok(Contact { seen_as, last_inbound_at: sql::from_millis(at)? }))
                    .transpose()
            }

            async fn record_delivery(&self, platform: &str, report: &DeliveryReport) -> StoreResult<Option<OutboxRow>> {
                // Statuses only move forward (sent < delivered < read < failed): a late or
                // redelivered `sent` never hides a `read`, and the same status twice is a no-op.
                let rank = |column: &str| {
                    format!(
                        "(CASE {column} WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 \
                         WHEN 'failed' THEN 4 ELSE 0 END)"
                    )
                };
                let keep = format!(
                    "INSERT INTO delivery_reports (platform, platform_message_id, status, error_code, error, at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (platform, platform_message_id) DO UPDATE \
                     SET status = $3, error_code = COALESCE($4, delivery_reports.error_code), \
                     error = COALESCE($5, delivery_reports.error), at = $6 WHERE {} < {}",
                    rank("delivery_reports.status"),
                    rank("$3"),
                );
                let apply = format!(
                    "UPDATE outbox SET delivery_status = $3, delivery_error = COALESCE($4, delivery_error), \
                     delivery_at = $5 WHERE platform = $1 AND platform_message_id = $2 AND {} < {}",
                    rank("delivery_status"),
                    rank("$3"),
                );
                let error = match (report.error_code, &report.error) {
                    (_, Some(error)) => Some(error.clone()),
                    (Some(code), None) => Some(code.to_string()),
                    (None, None) => None,
                };
                let mut tx = self.begin_tx().await?;
                sqlx::query(sqlx::AssertSqlSafe(keep))
                    .bind(platform)
                    .bind(&report.platform_message_id)
                    .bind(&report.status)
                    .bind(report.error_code)
                    .bind(&report.error)
                    .bind(sql::millis(report.at))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(sqlx::AssertSqlSafe(apply))
                    .bind(platform)
                    .bind(&report.platform_message_id)
                    .bind(&report.status)
                    .bind(error)
                    .bind(sql::millis(report.at))
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query(concat!(
                    "SELECT ", sql::outbox_columns!(), " FROM outbox WHERE platform = $1 AND platform_message_id = $2"
                ))
                .bind(platform)
                .bind(&report.platform_message_id)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                row.as_ref().map(decode_outbox).transpose()
            }

            async fn delivery_report(&self, platform: &str, platform_message_id: &str) -> StoreResult<Option<DeliveryReport>> {
                let row: Option<(String, Option<i64>, Option<String>, i64)> = sqlx::query_as(
                    "SELECT status, error_code, error, at FROM delivery_reports WHERE platform = $1 AND platform_message_id = $2",
                )
                .bind(platform)
                .bind(platform_message_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(status, error_code, error, at)| {
                    Ok(DeliveryReport {
                        platform_message_id: platform_message_id.to_string(),
                        status,
                        error_code,
                        error,
                        at: sql::from_millis(at)?,
                    })
                })
                .transpose()
            }

            async fn close_contact_window(&self, platform: &str, address: &str, up_to: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE contact_windows SET last_inbound_at = 0 \
                     WHERE platform = $1 AND address = $2 AND last_inbound_at <= $3",
                )
                .bind(platform)
                .bind(address)
                .bind(sql::millis(up_to))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn claim_jobs(
                &self,
                worker: &str,
                now: DateTime<Utc>,
                lease: std::time::Duration,
                limit: i64,
            ) -> StoreResult<Vec<JobRow>> {
                let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
                let rows: Vec<sql::RawJob> = sqlx::query_as(concat!(
                    "UPDATE jobs SET state = 'running', lease_until = $2, claimed_by = $1, attempts = attempts + 1 \
                     WHERE id IN (SELECT id FROM jobs WHERE (state = 'pending' AND run_after <= $3) \
                     OR (state = 'running' AND lease_until < $3) ORDER BY run_after, id LIMIT $4", $skip_locked,
                    ") RETURNING ", sql::job_columns!()
                ))
                .bind(worker)
                .bind(sql::millis(until))
                .bind(sql::millis(now))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let mut claimed = rows.into_iter().map(sql::decode_job).collect::<StoreResult<Vec<_>>>()?;
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
                .bind(if retry_at.is_some() { "pending" } else { "dead" })
                .bind(retry_at.map(sql::millis))
                .bind(error)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn next_job_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
                // Two indexed lookups rather than one scan: the planned jobs can be many.
                let (pending,): (Option<i64>,) =
                    sqlx::query_as("SELECT MIN(run_after) FROM jobs WHERE state = 'pending'")
                        .fetch_one(&self.pool)
                        .await?;
                let (lease,): (Option<i64>,) =
                    sqlx::query_as("SELECT MIN(lease_until) FROM jobs WHERE state = 'running'")
                        .fetch_one(&self.pool)
                        .await?;
                pending.into_iter().chain(lease).min().map(sql::from_millis).transpose()
            }

            async fn jobs_in_state(&self, state: &str, limit: i64) -> StoreResult<Vec<JobRow>> {
                let rows: Vec<sql::RawJob> = sqlx::query_as(concat!(
                    "SELECT ", sql::job_columns!(), " FROM jobs WHERE state = $1 ORDER BY due_at, id LIMIT $2"
                ))
                .bind(state)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(sql::decode_job).collect()
            }

            async fn job(&self, key: &str) -> StoreResult<Option<JobRow>> {
                let row: Option<sql::RawJob> =
                    sqlx::query_as(concat!("SELECT ", sql::job_columns!(), " FROM jobs WHERE key = $1"))
                        .bind(key)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(sql::decode_job).transpose()
            }

            async fn set_setting(&self, key: &str, value: &str, now: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = $3",
                )
                .bind(key)
                .bind(value)
                .bind(sql::millis(now))
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    };
}

pub(super) use sql_store;

/// The embedded migrations of one backend, in sqlx's own format (so `_sqlx_migrations` tracks
/// them exactly as `sqlx migrate` would), without needing the migration folder at run time.
macro_rules! embedded_migrations {
    ($dir:literal: $($version:literal $name:literal),+ $(,)?) => {{
        use sqlx::SqlSafeStr;
        sqlx::migrate::Migrator::with_migrations(vec![$(
            sqlx::migrate::Migration::new(
                $version,
                std::borrow::Cow::Borrowed($name),
                sqlx::migrate::MigrationType::Simple,
                include_str!(concat!("../../migrations/", $dir, "/", $version, "_", $name, ".sql")).into_sql_str(),
                false,
            )
        ),+])
    }};
}

pub(super) use embedded_migrations;
