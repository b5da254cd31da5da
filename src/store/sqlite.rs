//! The embedded default: one SQLite file (created on first run) in WAL mode with a busy timeout,
//! so the console, the server and `runroom incidents` can share it.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::sql::{self, embedded_migrations, sql_store};
use super::{
    CardRef, Checklist, ChecklistItem, Completion, Contact, DeliveryReport, HandoffNote, JobRow,
    NewJob, NewOutbound, OncallOverride, OutboxRow, OutboxStat, Store, StoreResult, StoreTx,
};
use crate::engine::incident::{Incident, TimelineEntry};
use crate::i18n::Lang;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

fn migrator() -> sqlx::migrate::Migrator {
    embedded_migrations!("sqlite": 1 "init", 2 "delivery", 3 "cards_people", 4 "whatsapp", 5 "scheduler")
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

sql_store!(
    SqliteStore,
    SqliteTx,
    sqlx::Sqlite,
    backend = "sqlite",
    lock = "",
    skip_locked = ""
);
