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
pub struct Conn<DB: sqlx::Database> {
    pub(super) tx: sqlx::Transaction<'static, DB>,
    pub(super) pending: Option<sqlx::QueryBuilder<DB>>,
    /// The savepoint is among the gathered writes, not sent yet.
    pub(super) savepoint_unsent: bool,
    /// The rooms' languages as this transaction last read or wrote them.
    pub(super) languages: Option<Vec<(String, Lang)>>,
    /// The incident number this transaction last gave out, once it has read the counter.
    pub(super) counter: Option<i64>,
}

impl<DB: sqlx::Database> Conn<DB> {
    pub(super) fn new(tx: sqlx::Transaction<'static, DB>) -> Conn<DB> {
        Conn {
            tx,
            pending: None,
            savepoint_unsent: false,
            languages: None,
            counter: None,
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
            pub(super) async fn fetch_all<O>(
                &mut self,
                build: impl FnOnce(&mut sqlx::QueryBuilder<$Db>),
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
                self.savepoint_unsent = false;
                Ok(query.build_query_as::<O>().fetch_all(&mut *self.tx).await?)
            }

            /// Sends the gathered writes, in one round trip.
            pub(super) async fn flush(&mut self) -> $crate::store::StoreResult<()> {
                if let Some(mut query) = self.pending.take() {
                    self.savepoint_unsent = false;
                    query.build().execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            /// Opens the unit's savepoint: gathered on SQLite (sent with what follows). The unit
            /// before sent or forgot its writes, so the savepoint comes first.
            pub(super) async fn savepoint(&mut self) -> $crate::store::StoreResult<()> {
                debug_assert!(self.pending.is_none(), "a savepoint after unsent writes");
                self.write(|query| {
                    query.push("SAVEPOINT unit");
                })
                .await?;
                self.savepoint_unsent = $defer;
                Ok(())
            }

            /// Forgets the gathered writes (the unit that made them is being rolled back), and
            /// the languages and counter read since they may have changed. Whether the
            /// savepoint was sent (and so must be rolled back to).
            pub(super) fn discard(&mut self) -> bool {
                self.pending = None;
                self.languages = None;
                self.counter = None;
                !std::mem::take(&mut self.savepoint_unsent)
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

/// A backend's transaction: commit, and the one savepoint group commit needs (the same
/// statements on SQLite and Postgres; units follow each other and never nest, so one name
/// serves). The release goes with the unit's gathered writes, in the same round trip; a rollback
/// forgets them unsent.
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
                self.0
                    .write(|query| {
                        query.push("RELEASE SAVEPOINT unit");
                    })
                    .await?;
                self.0.flush().await
            }

            async fn rollback_to(&mut self) -> $crate::store::StoreResult<()> {
                if !self.0.discard() {
                    // Nothing of the unit reached the database.
                    return Ok(());
                }
                sqlx::query("ROLLBACK TO SAVEPOINT unit")
                    .execute(self.0.get().await?)
                    .await?;
                sqlx::query("RELEASE SAVEPOINT unit")
                    .execute(self.0.get().await?)
                    .await?;
                Ok(())
            }
        }
    };
}

pub(super) use tx_sql;
