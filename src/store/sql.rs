//! What every role's SQL shares: SQLite accepts Postgres-style `$1` placeholders, times are stored
//! as UTC epoch milliseconds and JSON as text, so one set of statements serves both backends.
//! Here are those encodings and the embedded migrations; the statements live with their role.

use chrono::{DateTime, Utc};

use super::{StoreError, StoreResult};
use crate::engine::room::Platform;
use crate::i18n::Lang;

pub(super) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(super) fn from_millis(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms}")))
}

pub(super) fn encode<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("encode: {e}")))
}

pub(super) fn decode_lang(raw: &str) -> StoreResult<Lang> {
    Lang::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("language {raw:?}")))
}

/// Appends ` IN ($n, …)`, one bind a value: the list an `id IN (…)` reads. Callers keep each
/// list under the backends' bind limits (their chunks).
pub(super) fn push_in<DB, T>(
    query: &mut sqlx::QueryBuilder<DB>,
    values: impl IntoIterator<Item = T>,
) where
    DB: sqlx::Database,
    T: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    query.push(" IN (");
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    query.push(")");
}

pub(super) fn decode_platform(raw: &str) -> StoreResult<Platform> {
    Platform::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("platform {raw:?}")))
}

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

/// A batch's transaction and the writes it has not sent yet. On SQLite each statement is a round
/// trip to the connection's own thread (sqlx's driver), two thread wake-ups that cost more than
/// the statement itself; so writes whose result nobody reads (the incident row, its roles, jobs,
/// timeline, outbox rows) are gathered into one multi-statement query and sent when something
/// next reads, or with the savepoint's release, or at commit: a unit's writes are one round trip.
/// Postgres runs each write at once (its protocol takes one statement per prepared query).
///
/// A savepoint is gathered too, so a unit's first read opens it in the same round trip; the
/// rooms' languages, read by every unit, are read once per transaction until one changes; and
/// the incident counter is read once per transaction: its row is this transaction's until the
/// commit (SQLite's write lock, a row lock on Postgres), so the numbers after the first are
/// counted here and written with the other gathered writes.
///
/// A unit's release can wait too ([`crate::store::StoreTx::release_later`]): its writes and
/// its release then go with the next unit's savepoint and first read, one round trip for both
/// units where there were two. If that round trip fails, the savepoint still open says whose
/// statement it was, since consecutive units' savepoints have different names: the earlier
/// unit's (its writes were refused: it is rolled back alone, the refusal kept for the writer,
/// and the later unit's savepoint and read are sent again) or the later unit's (its read
/// failed, as it would have on its own).
pub struct Conn<DB: sqlx::Database> {
    pub(super) tx: sqlx::Transaction<'static, DB>,
    pub(super) pending: Option<sqlx::QueryBuilder<DB>>,
    /// The savepoint is among the gathered writes, not sent yet.
    pub(super) savepoint_unsent: bool,
    /// The rooms' languages as this transaction last read or wrote them.
    pub(super) languages: Option<Vec<(String, Lang)>>,
    /// The incident number this transaction last gave out, once it has read the counter.
    pub(super) counter: Option<i64>,
    /// The current unit's savepoint; units alternate between the two.
    pub(super) unit: &'static Savepoint,
    /// The gathered writes start with an earlier unit's writes and the release of its
    /// savepoint (this one), not sent yet.
    pub(super) earlier: Option<&'static Savepoint>,
    /// The earlier unit's writes were refused when they were sent: it was rolled back.
    pub(super) refused: Option<StoreError>,
}

/// A unit's savepoint: its statements.
pub(super) struct Savepoint {
    pub(super) open: &'static str,
    pub(super) release: &'static str,
    pub(super) rollback: &'static str,
}

/// The two savepoints consecutive units alternate between.
pub(super) static SAVEPOINTS: [Savepoint; 2] = [
    Savepoint {
        open: "SAVEPOINT unit_a",
        release: "RELEASE SAVEPOINT unit_a",
        rollback: "ROLLBACK TO SAVEPOINT unit_a",
    },
    Savepoint {
        open: "SAVEPOINT unit_b",
        release: "RELEASE SAVEPOINT unit_b",
        rollback: "ROLLBACK TO SAVEPOINT unit_b",
    },
];

impl<DB: sqlx::Database> Conn<DB> {
    pub(super) fn new(tx: sqlx::Transaction<'static, DB>) -> Conn<DB> {
        Conn {
            tx,
            pending: None,
            savepoint_unsent: false,
            languages: None,
            counter: None,
            unit: &SAVEPOINTS[1],
            earlier: None,
            refused: None,
        }
    }
}

/// Implements [`Conn`] for one backend; `defer` says whether writes wait to be sent together.
macro_rules! conn_sql {
    ($Db:ty, defer = $defer:literal) => {
        impl $crate::store::sql::Conn<$Db> {
            /// The connection, once the writes gathered so far are sent: what follows reads them.
            pub(super) async fn get(
                &mut self,
            ) -> $crate::store::StoreResult<&mut <$Db as sqlx::Database>::Connection> {
                self.flush().await?;
                Ok(&mut *self.tx)
            }

            /// A write whose result is not read: `build` writes its statement (with its binds)
            /// into the builder, never with `RETURNING` (the gathered statements must return no
            /// rows, see [`Self::fetch_all`]). Gathered on SQLite; run at once on Postgres.
            pub(super) async fn write(
                &mut self,
                build: impl FnOnce(&mut sqlx::QueryBuilder<$Db>),
            ) -> $crate::store::StoreResult<()> {
                if $defer {
                    // An earlier unit's writes are settled before this unit gathers its own:
                    // only a savepoint and a read can be sent again after a refusal.
                    if self.earlier.is_some() {
                        self.flush().await?;
                    }
                    match &mut self.pending {
                        Some(query) => {
                            query.push("; ");
                            build(query);
                        }
                        None => {
                            let mut query = sqlx::QueryBuilder::new("");
                            build(&mut query);
                            self.pending = Some(query);
                        }
                    }
                    Ok(())
                } else {
                    let mut query = sqlx::QueryBuilder::new("");
                    build(&mut query);
                    query.build().execute(&mut *self.tx).await?;
                    Ok(())
                }
            }

            /// A read whose statement `build` writes (with its binds), sent with the gathered
            /// writes in one round trip (they return no rows, so the rows are the read's).
            /// `build` runs again when an earlier unit's writes sent with it were refused.
            pub(super) async fn fetch_all<O>(
                &mut self,
                build: impl Fn(&mut sqlx::QueryBuilder<$Db>),
            ) -> $crate::store::StoreResult<Vec<O>>
            where
                O: for<'r> sqlx::FromRow<'r, <$Db as sqlx::Database>::Row> + Send + Unpin,
            {
                let mut query = match self.pending.take() {
                    Some(mut query) => {
                        query.push("; ");
                        query
                    }
                    None => sqlx::QueryBuilder::new(""),
                };
                build(&mut query);
                let savepoint = std::mem::take(&mut self.savepoint_unsent);
                let earlier = self.earlier.take();
                let error = match query.build_query_as::<O>().fetch_all(&mut *self.tx).await {
                    Ok(rows) => return Ok(rows),
                    Err(error) => error,
                };
                self.settle(earlier, error).await?;
                let mut query = sqlx::QueryBuilder::new("");
                if savepoint {
                    query.push(self.unit.open);
                    query.push("; ");
                }
                build(&mut query);
                Ok(query.build_query_as::<O>().fetch_all(&mut *self.tx).await?)
            }

            /// Sends the gathered writes, in one round trip.
            pub(super) async fn flush(&mut self) -> $crate::store::StoreResult<()> {
                let Some(mut query) = self.pending.take() else {
                    return Ok(());
                };
                let savepoint = std::mem::take(&mut self.savepoint_unsent);
                let earlier = self.earlier.take();
                let Err(error) = query.build().execute(&mut *self.tx).await else {
                    return Ok(());
                };
                self.settle(earlier, error).await?;
                if savepoint {
                    sqlx::query(self.unit.open).execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            /// After a round trip failed: `Ok` when it was the earlier unit's writes (sent with
            /// it) that were refused, now rolled back with the refusal kept, so the current
            /// unit's part can be sent again; `Err` when the failure was the current unit's own.
            async fn settle(
                &mut self,
                earlier: Option<&'static $crate::store::sql::Savepoint>,
                error: sqlx::Error,
            ) -> $crate::store::StoreResult<()> {
                let Some(earlier) = earlier else {
                    return Err(error.into());
                };
                // Its savepoint is still open only if its release was never reached.
                if sqlx::query(earlier.rollback)
                    .execute(&mut *self.tx)
                    .await
                    .is_err()
                {
                    return Err(error.into());
                }
                sqlx::query(earlier.release).execute(&mut *self.tx).await?;
                // What the earlier unit counted or chose is gone with it.
                self.languages = None;
                self.counter = None;
                self.refused = Some(error.into());
                Ok(())
            }

            /// Opens the unit's savepoint: gathered on SQLite (sent with what follows, an
            /// earlier unit's release included). The unit before sent or forgot its writes, or
            /// left them to go with this savepoint, so the savepoint comes after them.
            pub(super) async fn savepoint(&mut self) -> $crate::store::StoreResult<()> {
                debug_assert!(
                    self.pending.is_none() || self.earlier.is_some(),
                    "a savepoint after unsent writes"
                );
                let [a, b] = &$crate::store::sql::SAVEPOINTS;
                self.unit = if std::ptr::eq(self.unit, a) { b } else { a };
                let statement = self.unit.open;
                match &mut self.pending {
                    // After an earlier unit's release, without settling it first.
                    Some(query) if $defer => {
                        query.push("; ");
                        query.push(statement);
                    }
                    _ => {
                        self.write(|query| {
                            query.push(statement);
                        })
                        .await?
                    }
                }
                self.savepoint_unsent = $defer;
                Ok(())
            }

            /// Keeps the unit's writes: its release is gathered behind them (and sent with the
            /// next unit's first round trip, `later`) or sent now.
            pub(super) async fn release(&mut self, later: bool) -> $crate::store::StoreResult<()> {
                // Gathered like a write, so an earlier unit's release still waiting (this unit
                // sent nothing) is settled first.
                let unit = self.unit;
                self.write(|query| {
                    query.push(unit.release);
                })
                .await?;
                if $defer && later {
                    self.earlier = Some(unit);
                    Ok(())
                } else {
                    self.flush().await
                }
            }

            /// Forgets the gathered writes (the unit that made them is being rolled back), and
            /// the languages and counter read since they may have changed. Whether the
            /// savepoint was sent (and so must be rolled back to). An earlier unit's writes
            /// gathered before them are sent first.
            pub(super) async fn discard(&mut self) -> $crate::store::StoreResult<bool> {
                if self.earlier.is_some() {
                    self.flush().await?;
                }
                self.pending = None;
                self.languages = None;
                self.counter = None;
                Ok(!std::mem::take(&mut self.savepoint_unsent))
            }

            pub(super) async fn commit(mut self) -> $crate::store::StoreResult<()> {
                self.flush().await?;
                self.tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(super) use conn_sql;

/// A backend's transaction: commit, and the savepoints group commit needs (the same
/// statements on SQLite and Postgres; units follow each other and never nest). The release goes
/// with the unit's gathered writes, in the same round trip; a rollback forgets them unsent.
macro_rules! tx_sql {
    ($tx:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::StoreTx for $tx {
            async fn commit(self: Box<Self>) -> $crate::store::StoreResult<()> {
                self.0.commit().await
            }

            async fn savepoint(&mut self) -> $crate::store::StoreResult<()> {
                self.0.savepoint().await
            }

            async fn release(&mut self) -> $crate::store::StoreResult<()> {
                self.0.release(false).await
            }

            async fn release_later(&mut self) -> $crate::store::StoreResult<()> {
                self.0.release(true).await
            }

            fn refused_earlier(&mut self) -> Option<$crate::store::StoreError> {
                self.0.refused.take()
            }

            async fn rollback_to(&mut self) -> $crate::store::StoreResult<()> {
                if !self.0.discard().await? {
                    // Nothing of the unit reached the database.
                    return Ok(());
                }
                let unit = self.0.unit;
                sqlx::query(unit.rollback)
                    .execute(self.0.get().await?)
                    .await?;
                sqlx::query(unit.release)
                    .execute(self.0.get().await?)
                    .await?;
                Ok(())
            }
        }
    };
}

pub(super) use tx_sql;
