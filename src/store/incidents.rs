//! Incidents and their timeline: reads from the pool, and the changes one decision makes (numbered
//! from the `counters` row). `incident_sql!` stamps the statements onto each backend's types.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{StoreError, StoreResult};
use crate::engine::incident::{Event, Incident, TimelineEntry};

/// Incident reads outside a decision.
#[async_trait]
pub trait IncidentStore: Send + Sync {
    async fn incident(&self, number: i64) -> StoreResult<Option<Incident>>;
    async fn open_incidents(&self) -> StoreResult<Vec<Incident>>;
    /// Every incident, newest first, at most `limit`.
    async fn recent_incidents(&self, limit: i64) -> StoreResult<Vec<Incident>>;
    /// The latest `limit` entries, oldest first.
    async fn timeline(&self, number: i64, limit: i64) -> StoreResult<Vec<TimelineEntry>>;
}

/// Incidents inside one decision's transaction.
#[async_trait]
pub trait IncidentTx: Send {
    /// Loads an incident for change (row-locked on Postgres).
    async fn incident(&mut self, number: i64) -> StoreResult<Option<Incident>>;
    async fn open_incidents(&mut self) -> StoreResult<Vec<Incident>>;
    async fn timeline(&mut self, number: i64, limit: i64) -> StoreResult<Vec<TimelineEntry>>;
    /// Stores a new incident under the next number (`INC-n`) and returns that number.
    async fn insert_incident(&mut self, incident: &Incident) -> StoreResult<i64>;
    async fn update_incident(&mut self, incident: &Incident) -> StoreResult<()>;
    async fn append_timeline(&mut self, entries: &[TimelineEntry]) -> StoreResult<()>;
    /// Open incidents and those declared or resolved since `since`, by number.
    async fn incidents_since(&mut self, since: DateTime<Utc>) -> StoreResult<Vec<Incident>>;
}

pub(super) fn decode_incident(state: &str) -> StoreResult<Incident> {
    serde_json::from_str(state).map_err(|e| StoreError::Corrupt(format!("incident state: {e}")))
}

pub(super) fn decode_entry(row: (i64, i64, String, String, String)) -> StoreResult<TimelineEntry> {
    let (incident, at, actor, room, detail) = row;
    let event: Event =
        serde_json::from_str(&detail).map_err(|e| StoreError::Corrupt(format!("timeline: {e}")))?;
    Ok(TimelineEntry {
        incident,
        at: super::sql::from_millis(at)?,
        actor,
        room,
        event,
    })
}

/// Implements [`IncidentStore`] and [`IncidentTx`] for one backend's store and transaction types.
/// `$lock` is appended to the read of an incident that is about to change (`FOR UPDATE` on
/// Postgres; SQLite's writer already holds the database lock).
macro_rules! incident_sql {
    ($Store:ident, $Tx:ident, $Db:ty, lock = $lock:literal) => {
        mod incident_sql {
            use chrono::{DateTime, Utc};

            use super::{$Store, $Tx};
            use $crate::engine::incident::{Incident, TimelineEntry};
            use $crate::store::incidents::{decode_entry, decode_incident, IncidentStore, IncidentTx};
            use $crate::store::sql;
            use $crate::store::StoreResult;

            async fn load_incident<'e>(
                ex: impl sqlx::Executor<'e, Database = $Db>,
                number: i64,
                lock: bool,
            ) -> StoreResult<Option<Incident>> {
                let sql = if lock {
                    concat!("SELECT state FROM incidents WHERE number = $1", $lock)
                } else {
                    "SELECT state FROM incidents WHERE number = $1"
                };
                let row: Option<(String,)> = sqlx::query_as(sql).bind(number).fetch_optional(ex).await?;
                row.map(|(state,)| decode_incident(&state)).transpose()
            }

            async fn load_open<'e>(ex: impl sqlx::Executor<'e, Database = $Db>) -> StoreResult<Vec<Incident>> {
                let rows: Vec<(String,)> =
                    sqlx::query_as("SELECT state FROM incidents WHERE status <> 'resolved' ORDER BY number")
                        .fetch_all(ex)
                        .await?;
                rows.iter().map(|(s,)| decode_incident(s)).collect()
            }

            async fn load_timeline<'e>(
                ex: impl sqlx::Executor<'e, Database = $Db>,
                number: i64,
                limit: i64,
            ) -> StoreResult<Vec<TimelineEntry>> {
                let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
                    "SELECT incident, at, actor, room, detail FROM timeline WHERE incident = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(number)
                .bind(limit)
                .fetch_all(ex)
                .await?;
                rows.into_iter().rev().map(decode_entry).collect()
            }

            async fn write_incident<'e>(ex: impl sqlx::Executor<'e, Database = $Db>, incident: &Incident) -> StoreResult<()> {
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
                .execute(ex)
                .await?;
                Ok(())
            }

            #[async_trait::async_trait]
            impl IncidentStore for $Store {
                async fn incident(&self, number: i64) -> StoreResult<Option<Incident>> {
                    load_incident(&self.pool, number, false).await
                }

                async fn open_incidents(&self) -> StoreResult<Vec<Incident>> {
                    load_open(&self.pool).await
                }

                async fn recent_incidents(&self, limit: i64) -> StoreResult<Vec<Incident>> {
                    let rows: Vec<(String,)> =
                        sqlx::query_as("SELECT state FROM incidents ORDER BY number DESC LIMIT $1")
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await?;
                    rows.iter().map(|(s,)| decode_incident(s)).collect()
                }

                async fn timeline(&self, number: i64, limit: i64) -> StoreResult<Vec<TimelineEntry>> {
                    load_timeline(&self.pool, number, limit).await
                }
            }

            #[async_trait::async_trait]
            impl IncidentTx for $Tx {
                async fn incident(&mut self, number: i64) -> StoreResult<Option<Incident>> {
                    load_incident(&mut *self.0, number, true).await
                }

                async fn open_incidents(&mut self) -> StoreResult<Vec<Incident>> {
                    load_open(&mut *self.0).await
                }

                async fn timeline(&mut self, number: i64, limit: i64) -> StoreResult<Vec<TimelineEntry>> {
                    load_timeline(&mut *self.0, number, limit).await
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
                    write_incident(&mut *self.0, &stored).await?;
                    Ok(number)
                }

                async fn update_incident(&mut self, incident: &Incident) -> StoreResult<()> {
                    write_incident(&mut *self.0, incident).await
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

                async fn incidents_since(&mut self, since: DateTime<Utc>) -> StoreResult<Vec<Incident>> {
                    let rows: Vec<(String,)> = sqlx::query_as(
                        "SELECT state FROM incidents WHERE status <> 'resolved' OR declared_at >= $1 OR resolved_at >= $1 \
                         ORDER BY number",
                    )
                    .bind(sql::millis(since))
                    .fetch_all(&mut *self.0)
                    .await?;
                    rows.iter().map(|(s,)| decode_incident(s)).collect()
                }
            }
        }
    };
}

pub(super) use incident_sql;
