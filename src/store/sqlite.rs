//! The embedded default: one SQLite file (created on first run) in WAL mode with a busy timeout,
//! so the console, the server and `runroom incidents` can share it. Its transactions start with
//! `BEGIN IMMEDIATE`; no statement needs a row lock.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::alerts::alert_sql;
use super::contacts::contact_sql;
use super::incidents::incident_sql;
use super::jobs::job_sql;
use super::oncall::oncall_sql;
use super::outbox::outbox_sql;
use super::retention::retention_sql;
use super::settings::settings_sql;
use super::sql::{Conn, conn_sql, embedded_migrations};
use super::{Store, StoreResult, StoreTx};

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// The transaction a batch of decisions is committed in, on SQLite.
pub struct SqliteTx(Conn<sqlx::Sqlite>);

pub(super) fn migrator() -> sqlx::migrate::Migrator {
    embedded_migrations!("sqlite": 1 "init", 2 "delivery", 3 "cards_people", 4 "whatsapp", 5 "scheduler", 6 "bounded", 7 "retention", 8 "pacing", 9 "role_keys", 10 "alerts", 11 "heartbeats", 12 "alert_locks", 13 "card_places", 14 "dashboard", 15 "in_doubt")
}

impl SqliteStore {
    /// Opens `sqlite://FILE` (or `sqlite::memory:`), creating the file when it does not exist.
    pub async fn connect(url: &str) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // An in-memory database exists once per connection: keep exactly one.
        let max = if url.contains(":memory:") { 1 } else { 4 };
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }

    /// A consistent copy of the database in the new file `to` (`VACUUM INTO`), taken while
    /// others read and write: the copy is the database as of one read transaction, compacted.
    pub async fn backup_into(&self, to: &str) -> StoreResult<()> {
        sqlx::query("VACUUM INTO $1")
            .bind(to)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The pool, for benchmarks and tests that measure the bare database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        // Take the write lock up front: a deferred transaction that reads and then writes can fail
        // with SQLITE_BUSY halfway instead of waiting its turn.
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<()> {
        migrator().run(&self.pool).await?;
        Ok(())
    }

    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
        Ok(Box::new(SqliteTx(Conn::new(self.begin_tx().await?))))
    }

    async fn begin_read(&self) -> StoreResult<Box<dyn StoreTx>> {
        // Deferred: the first read takes a snapshot, and without a write the lock is never asked.
        let tx = self.pool.begin_with("BEGIN DEFERRED").await?;
        Ok(Box::new(SqliteTx(Conn::new(tx))))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

conn_sql!(sqlx::Sqlite, defer = true);
super::sql::tx_sql!(SqliteTx);

// SQLite's writer holds the database lock for the whole transaction: no row locks to add.
incident_sql!(SqliteStore, SqliteTx, sqlx::Sqlite, lock = "");
outbox_sql!(SqliteStore, SqliteTx, sqlx::Sqlite, skip_locked = "");
job_sql!(SqliteStore, SqliteTx, sqlx::Sqlite, skip_locked = "");
contact_sql!(SqliteStore, SqliteTx, sqlx::Sqlite);
settings_sql!(SqliteStore, SqliteTx, sqlx::Sqlite);
alert_sql!(SqliteStore, SqliteTx, sqlx::Sqlite);
oncall_sql!(SqliteTx, sqlx::Sqlite, lock = "");
retention_sql!(SqliteTx, SQLITE_PRUNE);
