//! Alerts and their groups: each alert's last state under its source's key, which incident a
//! group of alerts joins while it is open, and each heartbeat's last ping. Read a delivery at a time (one statement for its
//! alerts, one for its groups), written as gathered multi-row upserts. `alert_sql!` stamps the
//! statements onto each backend's types.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::sql::from_millis;
use super::{Bounded, StoreError, StoreResult};
use crate::alerts::model::{AlertLink, AlertStatus};
use crate::engine::incident::Severity;

/// How often an alert fired, and within the current flapping window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flap {
    /// Every time it went to firing.
    pub fires: i64,
    /// When the window started (epoch ms) and the fires in it.
    pub window_start: i64,
    pub window_fires: i64,
    /// When flapping was last said (epoch ms), once per window.
    pub said_at: Option<i64>,
}

/// An alert as runroom keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredAlert {
    pub source: String,
    pub key: String,
    pub status: AlertStatus,
    pub group_key: String,
    /// The incident it joined (none: it never fired while runroom saw it).
    pub incident: Option<i64>,
    pub title: String,
    pub severity: Severity,
    pub labels: BTreeMap<String, String>,
    pub links: Vec<AlertLink>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub first_seen: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
    pub flap: Flap,
}

/// An alert row as read: source, key, status, group, incident, title, severity, labels, links,
/// starts, ends, first seen, changed, flap.
pub(super) type RawAlert = (
    String,
    String,
    String,
    String,
    Option<i64>,
    String,
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    String,
);

pub(super) const ALERT_COLUMNS: &str = "source, alert_key, status, group_key, incident, title, severity, labels, links, starts_at, ends_at, first_seen, changed_at, flap";

pub(super) fn decode_alert(row: RawAlert) -> StoreResult<StoredAlert> {
    let corrupt =
        |what: &str, e: &dyn std::fmt::Display| StoreError::Corrupt(format!("alert {what}: {e}"));
    Ok(StoredAlert {
        status: AlertStatus::parse(&row.2).ok_or_else(|| corrupt("status", &row.2))?,
        severity: Severity::from_number(row.6).ok_or_else(|| corrupt("severity", &row.6))?,
        labels: serde_json::from_str(&row.7).map_err(|e| corrupt("labels", &e))?,
        links: serde_json::from_str(&row.8).map_err(|e| corrupt("links", &e))?,
        starts_at: row.9.map(from_millis).transpose()?,
        ends_at: row.10.map(from_millis).transpose()?,
        first_seen: from_millis(row.11)?,
        changed_at: from_millis(row.12)?,
        flap: serde_json::from_str(&row.13).map_err(|e| corrupt("flap", &e))?,
        source: row.0,
        key: row.1,
        group_key: row.3,
        incident: row.4,
        title: row.5,
    })
}

/// Alerts for the operator's views.
#[async_trait]
pub trait AlertStore: Send + Sync {
    /// The latest changed alerts first (`firing`: only those still firing), at most `limit`,
    /// with how many there are in all.
    async fn recent_alerts(&self, firing: bool, limit: i64) -> StoreResult<Bounded<StoredAlert>>;
    /// The alerts that joined an incident, the latest changed first, at most `limit`.
    async fn incident_alerts(&self, incident: i64, limit: i64) -> StoreResult<Vec<StoredAlert>>;
}

/// Alerts and groups inside a unit of work.
#[async_trait]
pub trait AlertTx: Send {
    /// Takes `source`'s lock row until the transaction ends: deliveries of one source on
    /// several replicas then run one after the other (Postgres' row lock; SQLite's writer
    /// holds the database already).
    async fn lock_source(&mut self, source: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// The stored alerts of `source` among `keys`.
    async fn alerts_of(&mut self, source: &str, keys: &[String]) -> StoreResult<Vec<StoredAlert>>;
    /// Stores alerts (new or changed), gathered.
    async fn save_alerts(&mut self, alerts: &[StoredAlert]) -> StoreResult<()>;
    /// The incidents `source`'s groups among `keys` joined last.
    async fn alert_groups(
        &mut self,
        source: &str,
        keys: &[String],
    ) -> StoreResult<Vec<(String, i64)>>;
    /// Points a group at an incident; `opened_at`: the group opened it.
    async fn set_alert_group(
        &mut self,
        source: &str,
        group_key: &str,
        incident: i64,
        opened_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    /// How many incidents `source`'s groups opened at or after `since`.
    async fn incidents_opened_since(
        &mut self,
        source: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// Whether an incident still has a firing alert.
    async fn has_firing_alert(&mut self, incident: i64) -> StoreResult<bool>;
    /// Records a heartbeat's ping at `at`.
    async fn record_ping(&mut self, heartbeat: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Each heartbeat's last ping.
    async fn last_pings(&mut self) -> StoreResult<Vec<(String, DateTime<Utc>)>>;
}

/// Rows per upsert statement (14 binds each: far below either backend's limit).
pub(super) const ALERTS_CHUNK: usize = 200;

/// Implements [`AlertStore`] and [`AlertTx`] for one backend's store and transaction types.
macro_rules! alert_sql {
    ($Store:ident, $Tx:ident, $Db:ty) => {
        mod alert_sql {
            use chrono::{DateTime, Utc};

            use super::{$Store, $Tx};
            use $crate::store::alerts::{
                decode_alert, AlertStore, AlertTx, RawAlert, StoredAlert, ALERTS_CHUNK, ALERT_COLUMNS,
            };
            use $crate::store::sql;
            use $crate::store::{Bounded, StoreResult};

            #[async_trait::async_trait]
            impl AlertTx for $Tx {
                async fn lock_source(&mut self, source: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    // An upsert that always writes the row, so it always takes the row lock,
                    // whether the row was there or not.
                    let source = source.to_string();
                    self.0
                        .write(|upsert| {
                            upsert.push("INSERT INTO alert_locks (source, taken_at) VALUES (");
                            upsert.push_bind(source);
                            upsert.push(", ");
                            upsert.push_bind(sql::millis(at));
                            upsert.push(") ON CONFLICT (source) DO UPDATE SET taken_at = excluded.taken_at");
                        })
                        .await
                }

                async fn alerts_of(&mut self, source: &str, keys: &[String]) -> StoreResult<Vec<StoredAlert>> {
                    let mut found = Vec::new();
                    for chunk in keys.chunks(ALERTS_CHUNK) {
                        let rows: Vec<RawAlert> = self
                            .0
                            .fetch_all(|select| {
                                select.push("SELECT ");
                                select.push(ALERT_COLUMNS);
                                select.push(" FROM alerts WHERE source = ");
                                select.push_bind(source.to_string());
                                select.push(" AND alert_key");
                                sql::push_in(select, chunk.iter().cloned());
                            })
                            .await?;
                        for row in rows {
                            found.push(decode_alert(row)?);
                        }
                    }
                    Ok(found)
                }

                async fn save_alerts(&mut self, alerts: &[StoredAlert]) -> StoreResult<()> {
                    for chunk in alerts.chunks(ALERTS_CHUNK) {
                        let encoded = chunk
                            .iter()
                            .map(|a| Ok((sql::encode(&a.labels)?, sql::encode(&a.links)?, sql::encode(&a.flap)?)))
                            .collect::<StoreResult<Vec<_>>>()?;
                        self.0
                            .write(|upsert| {
                                upsert.push("INSERT INTO alerts (");
                                upsert.push(ALERT_COLUMNS);
                                upsert.push(") ");
                                upsert.push_values(chunk.iter().zip(encoded), |mut row, (a, (labels, links, flap))| {
                                    row.push_bind(a.source.clone())
                                        .push_bind(a.key.clone())
                                        .push_bind(a.status.as_str())
                                        .push_bind(a.group_key.clone())
                                        .push_bind(a.incident)
                                        .push_bind(a.title.clone())
                                        .push_bind(a.severity.number())
                                        .push_bind(labels)
                                        .push_bind(links)
                                        .push_bind(a.starts_at.map(sql::millis))
                                        .push_bind(a.ends_at.map(sql::millis))
                                        .push_bind(sql::millis(a.first_seen))
                                        .push_bind(sql::millis(a.changed_at))
                                        .push_bind(flap);
                                });
                                upsert.push(
                                    " ON CONFLICT (source, alert_key) DO UPDATE SET status = excluded.status, \
                                     group_key = excluded.group_key, incident = excluded.incident, title = excluded.title, \
                                     severity = excluded.severity, labels = excluded.labels, links = excluded.links, \
                                     starts_at = excluded.starts_at, ends_at = excluded.ends_at, \
                                     changed_at = excluded.changed_at, flap = excluded.flap",
                                );
                            })
                            .await?;
                    }
                    Ok(())
                }

                async fn alert_groups(&mut self, source: &str, keys: &[String]) -> StoreResult<Vec<(String, i64)>> {
                    let mut found = Vec::new();
                    for chunk in keys.chunks(ALERTS_CHUNK) {
                        let rows: Vec<(String, i64)> = self
                            .0
                            .fetch_all(|select| {
                                select.push("SELECT group_key, incident FROM alert_groups WHERE source = ");
                                select.push_bind(source.to_string());
                                select.push(" AND group_key");
                                sql::push_in(select, chunk.iter().cloned());
                            })
                            .await?;
                        found.extend(rows);
                    }
                    Ok(found)
                }

                async fn set_alert_group(
                    &mut self,
                    source: &str,
                    group_key: &str,
                    incident: i64,
                    opened_at: Option<DateTime<Utc>>,
                ) -> StoreResult<()> {
                    let (source, group_key) = (source.to_string(), group_key.to_string());
                    self.0
                        .write(|upsert| {
                            upsert.push("INSERT INTO alert_groups (source, group_key, incident, opened_at) VALUES (");
                            let mut values = upsert.separated(", ");
                            values.push_bind(source);
                            values.push_bind(group_key);
                            values.push_bind(incident);
                            values.push_bind(opened_at.map(sql::millis));
                            upsert.push(
                                ") ON CONFLICT (source, group_key) DO UPDATE SET incident = excluded.incident, \
                                 opened_at = excluded.opened_at",
                            );
                        })
                        .await
                }

                async fn incidents_opened_since(&mut self, source: &str, since: DateTime<Utc>) -> StoreResult<i64> {
                    let rows: Vec<(i64,)> = self
                        .0
                        .fetch_all(|select| {
                            select.push("SELECT COUNT(*) FROM alert_groups WHERE source = ");
                            select.push_bind(source.to_string());
                            select.push(" AND opened_at IS NOT NULL AND opened_at >= ");
                            select.push_bind(sql::millis(since));
                        })
                        .await?;
                    Ok(rows.first().map_or(0, |r| r.0))
                }

                async fn record_ping(&mut self, heartbeat: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    let heartbeat = heartbeat.to_string();
                    self.0
                        .write(|upsert| {
                            upsert.push("INSERT INTO heartbeats (id, last_ping, pings) VALUES (");
                            upsert.push_bind(heartbeat);
                            upsert.push(", ");
                            upsert.push_bind(sql::millis(at));
                            upsert.push(
                                ", 1) ON CONFLICT (id) DO UPDATE SET last_ping = excluded.last_ping, \
                                 pings = heartbeats.pings + 1",
                            );
                        })
                        .await
                }

                async fn last_pings(&mut self) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
                    let rows: Vec<(String, i64)> = self
                        .0
                        .fetch_all(|select| {
                            select.push("SELECT id, last_ping FROM heartbeats ORDER BY id");
                        })
                        .await?;
                    rows.into_iter()
                        .map(|(id, at)| Ok((id, sql::from_millis(at)?)))
                        .collect()
                }

                async fn has_firing_alert(&mut self, incident: i64) -> StoreResult<bool> {
                    let rows: Vec<(i64,)> = self
                        .0
                        .fetch_all(|select| {
                            select.push("SELECT incident FROM alerts WHERE status = 'firing' AND incident = ");
                            select.push_bind(incident);
                            select.push(" LIMIT 1");
                        })
                        .await?;
                    Ok(!rows.is_empty())
                }
            }

            #[async_trait::async_trait]
            impl AlertStore for $Store {
                async fn recent_alerts(&self, firing: bool, limit: i64) -> StoreResult<Bounded<StoredAlert>> {
                    let filter = if firing { " WHERE status = 'firing'" } else { "" };
                    let rows: Vec<RawAlert> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {ALERT_COLUMNS} FROM alerts{filter} ORDER BY changed_at DESC, source, alert_key LIMIT $1"
                    )))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM alerts{filter}")))
                        .fetch_one(&self.pool)
                        .await?;
                    Ok(Bounded {
                        items: rows.into_iter().map(decode_alert).collect::<StoreResult<_>>()?,
                        total,
                    })
                }

                async fn incident_alerts(&self, incident: i64, limit: i64) -> StoreResult<Vec<StoredAlert>> {
                    let rows: Vec<RawAlert> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {ALERT_COLUMNS} FROM alerts WHERE incident = $1 ORDER BY changed_at DESC, source, alert_key LIMIT $2"
                    )))
                    .bind(incident)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(decode_alert).collect()
                }
            }
        }
    };
}

pub(super) use alert_sql;
