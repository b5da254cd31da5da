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

/// How many outbox rows one INSERT carries (12 parameters each).
pub(super) const ENQUEUE_CHUNK: usize = 500;

/// Outbox columns, in the order [`decode_outbox`] reads them.
pub(super) type OutboxTuple = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<i64>,
    i64,
    i64,
    String,
);

pub(super) fn decode_outbox(row: OutboxTuple) -> StoreResult<super::OutboxRow> {
    let (
        id,
        key,
        room_id,
        platform,
        chat,
        thread,
        kind,
        language,
        text,
        incident,
        priority,
        created,
        state,
    ) = row;
    Ok(super::OutboxRow {
        id,
        message: super::NewOutbound {
            idempotency_key: key,
            room_id,
            platform,
            chat,
            thread,
            kind,
            language: decode_lang(&language)?,
            text,
            incident,
            priority,
            created_at: from_millis(created)?,
        },
        state,
    })
}

/// Implements [`super::Store`] and [`super::StoreTx`] for one backend. The backend supplies
/// `pool`, `begin_tx()` and `migrator()`; `$lock` is appended to the read of an incident that is
/// about to change (`FOR UPDATE` on Postgres; SQLite's writer already holds the database lock).
macro_rules! sql_store {
    ($Store:ident, $Tx:ident, $Db:ty, backend = $name:literal, lock = $lock:literal) => {
        /// One decision's transaction on this backend.
        pub struct $Tx(sqlx::Transaction<'static, $Db>);

        type Conn = <$Db as sqlx::Database>::Connection;

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
                         incident, priority, next_attempt_at, created_at) ",
                    );
                    insert.push_values(chunk, |mut row, m| {
                        row.push_bind(m.idempotency_key.clone())
                            .push_bind(m.room_id.clone())
                            .push_bind(m.platform.clone())
                            .push_bind(m.chat.clone())
                            .push_bind(m.thread.clone())
                            .push_bind(m.kind.clone())
                            .push_bind(m.language.as_str())
                            .push_bind(m.text.clone())
                            .push_bind(m.incident)
                            .push_bind(m.priority)
                            .push_bind(sql::millis(m.created_at))
                            .push_bind(sql::millis(m.created_at));
                    });
                    insert.push(" ON CONFLICT (idempotency_key) DO NOTHING");
                    insert.build().execute(&mut *self.0).await?;
                }
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
                let rows: Vec<sql::OutboxTuple> = sqlx::query_as(
                    "SELECT id, idempotency_key, room_id, platform, chat, thread, kind, language, text, incident, \
                     priority, created_at, state FROM outbox WHERE platform = $1 AND state = 'pending' \
                     ORDER BY priority, id LIMIT $2",
                )
                .bind(platform)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(sql::decode_outbox).collect()
            }

            async fn mark_sent(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query("UPDATE outbox SET state = 'sent', sent_at = $2, attempts = attempts + 1 WHERE id = $1")
                    .bind(id)
                    .bind(sql::millis(at))
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
