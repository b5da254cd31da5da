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
/// next reads, or with the last unit's release, or at commit. Postgres runs each write at once
/// (its protocol takes one statement per prepared query).
///
/// Savepoints and releases are gathered too, so the units of a batch that read nothing (their
/// dedupe keys claimed by the writer before the first, see `engine::writer`) send their writes
/// together, up to [`GATHERED_UNITS`] units a round trip (the driver's thread answers each
/// statement on its own, so the writer's connection buffers that many answers: `store::sqlite`). The rooms' languages, read by every
/// unit, are read once per transaction until one changes; and the incident counter is read once
/// per transaction: its row is this transaction's until the commit (SQLite's write lock, a row
/// lock on Postgres), so the numbers after the first are counted here and written with the other
/// gathered writes.
///
/// When such a round trip fails, SQLite has run every statement before the failing one and none
/// after it. Each unit's statements start by writing its number to a temporary table of the
/// connection ([`MARK`]), outside its savepoint, so the table says whose statement failed, and
/// that unit's savepoint is the one still open. A unit that was already released (kept, its
/// writes sent with a later round trip) is rolled back alone and its refusal kept for the writer
/// ([`crate::store::StoreTx::refused_earlier`]); the statements after its own are sent again,
/// behind a statement that takes the binds of those already run. The unit still being decided
/// fails on its own, as it would have alone. The units sent again keep what they decided: a
/// number counted after a refused declaration's stays theirs, so that one number goes unused.
pub struct Conn<DB: sqlx::Database> {
    pub(super) tx: sqlx::Transaction<'static, DB>,
    pub(super) pending: Option<sqlx::QueryBuilder<DB>>,
    /// The units with statements among the gathered writes, in order.
    pub(super) gathered: Vec<Gathered>,
    /// The current unit's savepoint is among the gathered writes, not sent yet.
    pub(super) savepoint_unsent: bool,
    /// The rooms' languages as this transaction last read or wrote them.
    pub(super) languages: Option<Vec<(String, Lang)>>,
    /// The incident number this transaction last gave out, once it has read the counter.
    pub(super) counter: Option<i64>,
    /// The units this transaction has opened: the next one's number.
    pub(super) opened: usize,
    /// The unit between its savepoint and its release or rollback, if any.
    pub(super) open: Option<usize>,
    /// Earlier units whose writes were refused when they were sent with a later round trip:
    /// each was rolled back alone.
    pub(super) refused: Vec<(usize, StoreError)>,
    /// A round trip with kept units' writes failed and its mark did not say whose statement it
    /// was: nothing more is sent, and the commit fails.
    pub(super) unattributed: Option<String>,
}

/// One unit's statements among the gathered writes.
pub(super) struct Gathered {
    /// The unit's number in its transaction.
    pub(super) unit: usize,
    /// Where they start in the gathered text, and the binds before them.
    pub(super) at: Position,
    /// Its release is among them: it was kept, its writes not sent yet.
    pub(super) released: bool,
}

/// A place in gathered statements: bytes of text and binds before it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Position {
    pub(super) text: usize,
    pub(super) binds: usize,
}

/// The most units whose statements one round trip carries. sqlx caches a prepared query by its
/// whole text, so a bounded group keeps the texts a busy writer sends few and each cached one
/// small, while the round trips still fall to one in this many units.
pub(super) const GATHERED_UNITS: usize = 8;

/// A unit's savepoint: units follow each other and never nest, so one name serves them all.
pub(super) const SAVEPOINT: &str = "SAVEPOINT unit";
pub(super) const RELEASE: &str = "RELEASE SAVEPOINT unit";
pub(super) const ROLLBACK: &str = "ROLLBACK TO SAVEPOINT unit";

/// Writes the number of the unit whose statements follow (SQLite's writer's connection keeps
/// the one-row temporary table, [`MARK_TABLE`]). Outside the unit's savepoint, so it stays when
/// the unit is rolled back, until the next unit's statements run.
pub(super) const MARK: &str = "UPDATE temp.unit_sent SET unit = ";
/// The unit whose statements ran last.
pub(super) const MARKED: &str = "SELECT unit FROM temp.unit_sent";
/// Creates the marks' table on a new SQLite connection.
pub(super) const MARK_TABLE: &str = "CREATE TEMP TABLE IF NOT EXISTS unit_sent (unit INTEGER NOT NULL); \
     INSERT INTO temp.unit_sent (unit) SELECT -1 WHERE NOT EXISTS (SELECT 1 FROM temp.unit_sent)";

/// A statement that returns no rows and takes `binds` binds: what stands for the statements
/// already run when the ones after them are sent again with all the binds.
pub(super) fn skipping(binds: usize) -> String {
    if binds == 0 {
        return String::new();
    }
    let mut text = String::with_capacity(40 + 3 * binds);
    text.push_str("SELECT 1 WHERE 0 AND 1 IN (?");
    for _ in 1..binds {
        text.push_str(", ?");
    }
    text.push_str("); ");
    text
}

impl<DB: sqlx::Database> Conn<DB> {
    pub(super) fn new(tx: sqlx::Transaction<'static, DB>) -> Conn<DB> {
        Conn {
            tx,
            pending: None,
            gathered: Vec::new(),
            savepoint_unsent: false,
            languages: None,
            counter: None,
            opened: 0,
            open: None,
            refused: Vec::new(),
            unattributed: None,
        }
    }

    /// `Err` once a failed round trip could not be pinned on one unit.
    pub(super) fn trusted(&self) -> StoreResult<()> {
        match &self.unattributed {
            Some(error) => Err(StoreError::Unattributed(error.clone())),
            None => Ok(()),
        }
    }

    /// Kept units whose writes are gathered, not sent yet.
    pub(super) fn unsent(&self) -> usize {
        self.gathered.iter().filter(|g| g.released).count()
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

            /// The binds `query` holds, taken out of it (it encodes each as it is pushed, so
            /// there is no error left to report).
            fn take_binds(
                query: &mut sqlx::QueryBuilder<$Db>,
            ) -> <$Db as sqlx::Database>::Arguments {
                use sqlx::Execute;
                query
                    .build()
                    .take_arguments()
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            }

            /// Where the next gathered statement starts (after the separator it needs).
            fn next_position(&mut self) -> $crate::store::sql::Position {
                let Some(mut query) = self.pending.take() else {
                    return $crate::store::sql::Position { text: 0, binds: 0 };
                };
                query.push("; ");
                // A builder does not say how many binds it holds: take it apart and back.
                let binds = Self::take_binds(&mut query);
                let text = query.into_string();
                let at = $crate::store::sql::Position {
                    text: text.len(),
                    binds: sqlx::Arguments::len(&binds),
                };
                self.pending = Some(sqlx::QueryBuilder::with_arguments(text, binds));
                at
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
                let at = self.next_position();
                let mut query = self
                    .pending
                    .take()
                    .unwrap_or_else(|| sqlx::QueryBuilder::new(""));
                build(&mut query);
                self.send(query, None, Some(at)).await
            }

            /// Sends the gathered writes, in one round trip.
            pub(super) async fn flush(&mut self) -> $crate::store::StoreResult<()> {
                let Some(query) = self.pending.take() else {
                    return Ok(());
                };
                self.send::<(i64,)>(query, None, None).await.map(drop)
            }

            /// Sends `query`: the gathered statements (up to `cut` when the current unit's are
            /// being dropped), then a read starting at `read` if there is one. A statement of an
            /// earlier, released unit that fails rolls that unit back alone (its refusal kept)
            /// and the statements after its own are sent again; the current unit's own failure
            /// is returned.
            async fn send<O>(
                &mut self,
                mut query: sqlx::QueryBuilder<$Db>,
                cut: Option<$crate::store::sql::Position>,
                read: Option<$crate::store::sql::Position>,
            ) -> $crate::store::StoreResult<Vec<O>>
            where
                O: for<'r> sqlx::FromRow<'r, <$Db as sqlx::Database>::Row> + Send + Unpin,
            {
                use sqlx::SqlSafeStr;
                self.trusted()?;
                let mut gathered = std::mem::take(&mut self.gathered);
                let mut text = query.sql();
                let binds = Self::take_binds(&mut query);
                if let Some(cut) = cut {
                    text =
                        sqlx::AssertSqlSafe(text.as_str()[..cut.text].to_string()).into_sql_str();
                }
                if cut.is_none() {
                    self.savepoint_unsent = false;
                }
                // Only an earlier unit's refusal sends anything again.
                if !gathered.iter().any(|g| g.released) {
                    let rows = sqlx::query_as_with::<$Db, O, _>(text, binds)
                        .fetch_all(&mut *self.tx)
                        .await?;
                    self.sent();
                    return Ok(rows);
                }
                let mut from: Option<$crate::store::sql::Position> = None;
                loop {
                    let attempt = match from {
                        None => text.clone(),
                        Some(from) => {
                            let mut again = $crate::store::sql::skipping(from.binds);
                            again.push_str(&text.as_str()[from.text..]);
                            sqlx::AssertSqlSafe(again).into_sql_str()
                        }
                    };
                    let error = match sqlx::query_as_with::<$Db, O, _>(attempt, binds.clone())
                        .persistent(from.is_none())
                        .fetch_all(&mut *self.tx)
                        .await
                    {
                        Ok(rows) => {
                            self.sent();
                            return Ok(rows);
                        }
                        Err(error) => error,
                    };
                    // Whose statement failed: the unit that wrote its mark last.
                    let marked: Option<(i64,)> = sqlx::query_as($crate::store::sql::MARKED)
                        .fetch_optional(&mut *self.tx)
                        .await
                        .ok()
                        .flatten();
                    let owner = marked.and_then(|(unit,)| {
                        gathered
                            .iter()
                            .position(|g| i64::try_from(g.unit).ok() == Some(unit))
                    });
                    let index = match owner {
                        Some(index) if gathered[index].released => index,
                        // The unit still being decided: its own statement, failed as it would
                        // have alone.
                        Some(_) => return Err(error.into()),
                        None => {
                            // Kept units' writes went with it and none can be told apart from
                            // the one that failed: undoing "the open savepoint" could undo a
                            // unit already answered as kept.
                            self.unattributed = Some(error.to_string());
                            return Err(error.into());
                        }
                    };
                    // Its release was never reached: its savepoint is the one still open.
                    if sqlx::query($crate::store::sql::ROLLBACK)
                        .execute(&mut *self.tx)
                        .await
                        .is_err()
                    {
                        self.unattributed = Some(error.to_string());
                        return Err(error.into());
                    }
                    sqlx::query($crate::store::sql::RELEASE)
                        .execute(&mut *self.tx)
                        .await?;
                    let refused = gathered.remove(index);
                    self.refused.push((refused.unit, error.into()));
                    // What it counted or chose is gone with it.
                    self.languages = None;
                    self.counter = None;
                    let end = cut.map_or(text.as_str().len(), |c| c.text);
                    let next = gathered
                        .get(index)
                        .map(|g| g.at)
                        .or(read)
                        .filter(|at| at.text < end);
                    match next {
                        Some(at) => {
                            gathered.drain(..index);
                            from = Some(at);
                        }
                        // Nothing was after it.
                        None => {
                            self.sent();
                            return Ok(Vec::new());
                        }
                    }
                }
            }

            /// After a round trip went through: the unit still open (if any) goes on writing
            /// after it, its statements marked by the mark it wrote before.
            fn sent(&mut self) {
                if let Some(unit) = self.open {
                    self.gathered.push($crate::store::sql::Gathered {
                        unit,
                        at: $crate::store::sql::Position { text: 0, binds: 0 },
                        released: false,
                    });
                }
            }

            /// Opens a unit's savepoint (gathered on SQLite, sent with what follows); returns
            /// the unit's number in the transaction. Past [`super::sql::GATHERED_UNITS`] units
            /// the gathered writes are sent first.
            pub(super) async fn savepoint(&mut self) -> $crate::store::StoreResult<usize> {
                let unit = self.opened;
                self.opened += 1;
                self.open = Some(unit);
                if !$defer {
                    sqlx::query($crate::store::sql::SAVEPOINT)
                        .execute(&mut *self.tx)
                        .await?;
                    return Ok(unit);
                }
                if self.gathered.len() >= $crate::store::sql::GATHERED_UNITS {
                    // Not the new unit's: it is opened after them.
                    self.open = None;
                    self.flush().await?;
                    self.open = Some(unit);
                }
                let at = self.next_position();
                let query = self
                    .pending
                    .get_or_insert_with(|| sqlx::QueryBuilder::new(""));
                query
                    .push($crate::store::sql::MARK)
                    .push_bind(unit as i64)
                    .push("; ")
                    .push($crate::store::sql::SAVEPOINT);
                self.gathered.push($crate::store::sql::Gathered {
                    unit,
                    at,
                    released: false,
                });
                self.savepoint_unsent = true;
                Ok(unit)
            }

            /// Keeps the unit's writes: its release is gathered behind them (and sent with a
            /// later round trip, `later`) or sent now.
            pub(super) async fn release(&mut self, later: bool) -> $crate::store::StoreResult<()> {
                let current = self.open.take();
                if !$defer {
                    sqlx::query($crate::store::sql::RELEASE)
                        .execute(&mut *self.tx)
                        .await?;
                    return Ok(());
                }
                self.write(|query| {
                    query.push($crate::store::sql::RELEASE);
                })
                .await?;
                match self.gathered.last_mut() {
                    Some(last) if later && Some(last.unit) == current => {
                        last.released = true;
                        Ok(())
                    }
                    _ => self.flush().await,
                }
            }

            /// Forgets the current unit's gathered writes (it is being rolled back), and the
            /// languages and counter read since they may have changed; the earlier units'
            /// writes gathered before them are sent. Whether the unit's savepoint was sent (and
            /// so must be rolled back to).
            pub(super) async fn discard(&mut self) -> $crate::store::StoreResult<bool> {
                self.trusted()?;
                let current = self.open.take();
                let cut = match self.gathered.last() {
                    Some(last) if Some(last.unit) == current && !last.released => Some(last.at),
                    _ => None,
                };
                let sent = !std::mem::take(&mut self.savepoint_unsent);
                if let Some(query) = self.pending.take() {
                    if let Some(cut) = cut {
                        self.gathered.pop();
                        if cut.text > 0 {
                            self.send::<(i64,)>(query, Some(cut), None).await?;
                        }
                    } else {
                        // No unit is open: all of it is kept units' writes.
                        self.send::<(i64,)>(query, None, None).await?;
                    }
                }
                self.gathered.clear();
                self.languages = None;
                self.counter = None;
                Ok(sent)
            }

            pub(super) async fn commit(mut self) -> $crate::store::StoreResult<()> {
                self.trusted()?;
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

            async fn savepoint(&mut self) -> $crate::store::StoreResult<usize> {
                self.0.savepoint().await
            }

            async fn release(&mut self) -> $crate::store::StoreResult<()> {
                self.0.release(false).await
            }

            async fn release_later(&mut self) -> $crate::store::StoreResult<()> {
                self.0.release(true).await
            }

            fn refused_earlier(&mut self) -> Vec<(usize, $crate::store::StoreError)> {
                std::mem::take(&mut self.0.refused)
            }

            fn unsent(&self) -> usize {
                self.0.unsent()
            }

            async fn rollback_to(&mut self) -> $crate::store::StoreResult<()> {
                if !self.0.discard().await? {
                    // Nothing of the unit reached the database.
                    return Ok(());
                }
                sqlx::query($crate::store::sql::ROLLBACK)
                    .execute(self.0.get().await?)
                    .await?;
                sqlx::query($crate::store::sql::RELEASE)
                    .execute(self.0.get().await?)
                    .await?;
                Ok(())
            }
        }
    };
}

pub(super) use tx_sql;
