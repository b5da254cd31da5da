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

/// Turns on SQLite's query planner stability guarantee for a new connection.
///
/// Without it, a statement whose plan could depend on a bound value (`LIMIT $1`, a bound
/// value compared with a partial index's condition) is marked to be compiled again whenever
/// its bindings change, which every run of a cached statement does: the timeline, the outbox
/// and jobs claims and the alerts' pages were parsed and planned anew each time, and that cost
/// more than reading their rows (`BENCHMARKS.md`). No plan here needs a bound value: partial
/// indexes are matched by literal conditions, and the database is never `ANALYZE`d.
async fn plan_once(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    if !planner_stability(conn, Some(true)).await? {
        return Err(sqlx::Error::Configuration(
            "SQLite refused the query planner stability guarantee".into(),
        ));
    }
    Ok(())
}

/// Readies a new connection: the planner's guarantee, and the table whose one row says which
/// unit's gathered statements ran last (`store::sql::Conn`).
async fn prepare(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    plan_once(conn).await?;
    sqlx::query(super::sql::MARK_TABLE).execute(conn).await?;
    Ok(())
}

/// Whether `conn` has the query planner stability guarantee on, after turning it on or off
/// (`set`), or leaving it as it is (`None`).
async fn planner_stability(
    conn: &mut sqlx::SqliteConnection,
    set: Option<bool>,
) -> Result<bool, sqlx::Error> {
    use libsqlite3_sys::{SQLITE_DBCONFIG_ENABLE_QPSG, SQLITE_OK, sqlite3_db_config};
    use std::ffi::c_int;

    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle();
    let value: c_int = set.map_or(-1, c_int::from);
    let mut enabled: c_int = -1;
    // SAFETY: `db` is this connection's open handle, locked against its worker thread for the
    // call. SQLITE_DBCONFIG_ENABLE_QPSG takes an int (1: on, 0: off, -1: unchanged) and a
    // pointer to an int that receives the setting; `enabled` outlives the call.
    let rc = unsafe {
        sqlite3_db_config(
            db.as_ptr(),
            SQLITE_DBCONFIG_ENABLE_QPSG,
            value,
            &mut enabled as *mut c_int,
        )
    };
    if rc != SQLITE_OK {
        return Err(sqlx::Error::Configuration(
            format!("SQLite refused a connection option (code {rc})").into(),
        ));
    }
    Ok(enabled == 1)
}

/// How long a statement waits for SQLite's write lock while another process holds it (the busy
/// timeout), and how long a write waits for the writer's connection: a write gives up after
/// about this long, not after every write queued ahead of it has waited this long in turn.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// How many statements' answers the writer's connection buffers: enough for a round trip's.
const WRITER_ANSWERS: usize = 1_024;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Reads.
    pool: SqlitePool,
    /// Every write: the writer's transactions, and the statements that write outside one (the
    /// outbox's and the scheduler's claims and completions), on one connection of their own.
    writes: SqlitePool,
}

/// The transaction a batch of decisions is committed in, on SQLite.
pub struct SqliteTx(Conn<sqlx::Sqlite>);

pub(super) fn migrator() -> sqlx::migrate::Migrator {
    embedded_migrations!("sqlite": 1 "init", 2 "delivery", 3 "cards_people", 4 "whatsapp", 5 "scheduler", 6 "bounded", 7 "retention", 8 "pacing", 9 "role_keys", 10 "alerts", 11 "heartbeats", 12 "alert_locks", 13 "card_places", 14 "dashboard", 15 "in_doubt", 16 "postmortem_due")
}

impl SqliteStore {
    /// Opens `sqlite://FILE` (or `sqlite::memory:`), creating the file when it does not exist.
    pub async fn connect(url: &str) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Each commit syncs the WAL: an acknowledged command survives a power loss, not
            // only a crash. Group commit pays one sync a batch (`BENCHMARKS.md`: about 9% of
            // the declares at concurrency 32).
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(LOCK_WAIT)
            .foreign_keys(true)
            // Statement journals and savepoints' sub-journals in memory. On disk each was a
            // fresh temporary file per transaction, and every page a unit of a batch changed
            // was written to it first: more than four writes in five a declaration made
            // (`BENCHMARKS.md`). A sub-journal holds one savepoint's pages and is emptied
            // when it is released, so it stays small.
            .pragma("temp_store", "memory");
        let pool_of = |max: u32| {
            SqlitePoolOptions::new()
                .max_connections(max)
                // A connection in this process cannot have gone away: pinging it before each
                // transaction only cost a round trip to its thread.
                .test_before_acquire(false)
                .after_connect(|conn, _| Box::pin(prepare(conn)))
        };
        // An in-memory database exists once per connection: keep exactly one, for all.
        if url.contains(":memory:") {
            let pool = pool_of(1)
                .connect_with(options.row_buffer_size(WRITER_ANSWERS))
                .await?;
            return Ok(SqliteStore {
                writes: pool.clone(),
                pool,
            });
        }
        // Every write takes turns on one connection. Its page cache stays warm: SQLite empties
        // a connection's cache when it finds the database changed since its last transaction,
        // so a writer moving between pooled connections read back every page it touched, some
        // 75 a batch. And the pool hands the connection out first come, first served, where
        // SQLite's busy handler lets whoever tries next win: the outbox's claims and
        // completions were passed by batch after batch during a burst (`BENCHMARKS.md`).
        // While another process holds the lock, a write on this connection waits in SQLite's
        // busy handler and the writes queued behind it wait for the connection: each gives up
        // after `LOCK_WAIT` in the queue, so a batch's transaction fails (and its journaled
        // work is retried) within about twice that, however many writes were ahead of it.
        let writes = pool_of(1)
            .acquire_timeout(LOCK_WAIT)
            // sqlx's thread sends each statement's answer on its own, and waits once it has
            // sent this many that were not taken yet: the units a round trip carries
            // (`store::sql::GATHERED_UNITS`) make a few hundred answers, and the writer took
            // them in turns with the thread at the default 50 (`BENCHMARKS.md`).
            .connect_with(options.clone().row_buffer_size(WRITER_ANSWERS))
            .await?;
        let pool = pool_of(4).connect_with(options).await?;
        Ok(SqliteStore { pool, writes })
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

    /// Where every write goes: one connection, taken in turn (the pool hands it out first come,
    /// first served).
    fn writes(&self) -> &SqlitePool {
        &self.writes
    }

    async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        // Take the write lock up front: a deferred transaction that reads and then writes can fail
        // with SQLITE_BUSY halfway instead of waiting its turn.
        self.writes.begin_with("BEGIN IMMEDIATE").await
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<()> {
        migrator().run(&self.writes).await?;
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
incident_sql!(
    SqliteStore,
    SqliteTx,
    sqlx::Sqlite,
    lock = "",
    lines = "json_group_array(json_array(number, title, severity, status, declared_at))"
);
outbox_sql!(SqliteStore, SqliteTx, sqlx::Sqlite, skip_locked = "");
job_sql!(SqliteStore, SqliteTx, sqlx::Sqlite, skip_locked = "");
contact_sql!(SqliteStore, SqliteTx, sqlx::Sqlite);
settings_sql!(SqliteStore, SqliteTx, sqlx::Sqlite);
alert_sql!(SqliteStore, SqliteTx, sqlx::Sqlite);
oncall_sql!(SqliteTx, sqlx::Sqlite, lock = "");
retention_sql!(SqliteTx, SQLITE_PRUNE);

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;
    use crate::store::StoreError;

    /// Write transactions follow each other on the same connection, whose page cache SQLite
    /// keeps while no other connection writes: a temporary table, which only the connection
    /// that made it can see, is still there in the next write transaction, while reads go
    /// to other connections.
    #[tokio::test]
    async fn write_transactions_take_turns_on_one_connection() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("runroom.db").display());
        let store = SqliteStore::connect(&url).await.expect("store");
        let marked = "SELECT count(*) FROM temp.sqlite_master WHERE name = 'marker'";
        for round in 0..4 {
            let mut tx = store.begin_tx().await.expect("a write transaction");
            let (seen,): (i64,) = sqlx::query_as(marked)
                .fetch_one(&mut *tx)
                .await
                .expect("the marker");
            assert_eq!(seen, i64::from(round > 0), "round {round}");
            if round == 0 {
                sqlx::query("CREATE TEMP TABLE marker (x)")
                    .execute(&mut *tx)
                    .await
                    .expect("a temporary table");
            }
            tx.commit().await.expect("commit");
            let mut read = store.pool().acquire().await.expect("a reader");
            let (seen,): (i64,) = sqlx::query_as(marked)
                .fetch_one(&mut *read)
                .await
                .expect("the marker");
            assert_eq!(seen, 0, "a reader on the writer's connection");
        }
    }

    /// The changes a connection has made since it opened (`total_changes()`), asked in a write
    /// transaction: the writer's connection's count.
    async fn writer_changes(store: &SqliteStore) -> i64 {
        let mut tx = store.begin_tx().await.expect("a write transaction");
        let (changes,): (i64,) = sqlx::query_as("SELECT total_changes()")
            .fetch_one(&mut *tx)
            .await
            .expect("the count");
        tx.commit().await.expect("commit");
        changes
    }

    /// A statement that writes outside a transaction (here a setting; the outbox's and the
    /// scheduler's claims and completions go the same way) runs on the writer's connection and
    /// waits its turn there: while a write transaction is open it waits for that one, and it
    /// goes before a write transaction that asked after it. Waiting in SQLite's busy handler
    /// instead, it could be passed by every later transaction (`BENCHMARKS.md`).
    #[tokio::test]
    async fn writes_outside_a_transaction_take_their_turn_on_the_writers_connection() {
        use crate::store::SettingsStore;

        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("runroom.db").display());
        let store = SqliteStore::connect(&url).await.expect("store");
        store.migrate().await.expect("migrations");
        let now = chrono::Utc::now();

        let before = writer_changes(&store).await;
        store
            .set_setting("first", "1", now)
            .await
            .expect("a setting");
        assert_eq!(
            writer_changes(&store).await,
            before + 1,
            "written elsewhere"
        );

        let held = store.begin_tx().await.expect("a write transaction");
        let setting = tokio::spawn({
            let store = store.clone();
            async move { store.set_setting("second", "2", now).await }
        });
        // On this one-thread runtime the spawned write runs up to its wait for the connection.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        let later = tokio::spawn({
            let store = store.clone();
            async move {
                let mut tx = store.begin_tx().await.expect("a later write transaction");
                let seen: Option<(String,)> =
                    sqlx::query_as("SELECT value FROM settings WHERE key = 'second'")
                        .fetch_optional(&mut *tx)
                        .await
                        .expect("the setting");
                tx.commit().await.expect("commit");
                seen
            }
        });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(
            !setting.is_finished(),
            "the setting waited for the transaction"
        );
        held.commit().await.expect("commit");
        setting.await.expect("the task").expect("the setting");
        let seen = later.await.expect("the task");
        assert_eq!(
            seen,
            Some(("2".to_string(),)),
            "the later transaction went first"
        );
    }

    /// Every connection the pool opens has the guarantee and keeps its journals in memory, not
    /// only the first: four held at once are four connections.
    #[tokio::test]
    async fn every_pooled_connection_plans_once_and_journals_in_memory() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("runroom.db").display());
        let store = SqliteStore::connect(&url).await.expect("store");
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(store.pool().acquire().await.expect("a connection"));
        }
        for conn in &mut held {
            let on = planner_stability(conn, None).await.expect("the setting");
            assert!(on, "a connection without the guarantee");
            let (temp_store,): (i64,) = sqlx::query_as("PRAGMA temp_store")
                .fetch_one(&mut **conn)
                .await
                .expect("temp_store");
            assert_eq!(temp_store, 2, "journals on disk (2 is MEMORY)");
        }
        let mut plain = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("a bare connection");
        let on = planner_stability(&mut plain, None)
            .await
            .expect("the setting");
        assert!(!on, "SQLite's default, which the check must tell apart");
        let (temp_store,): (i64,) = sqlx::query_as("PRAGMA temp_store")
            .fetch_one(&mut plain)
            .await
            .expect("temp_store");
        assert_eq!(
            temp_store, 0,
            "SQLite's default (files), which the check must tell apart"
        );
    }

    /// A transaction on a fresh in-memory store with a table whose rows may not say "poison".
    async fn poisonable() -> SqliteTx {
        let store = SqliteStore::connect("sqlite::memory:")
            .await
            .expect("store");
        sqlx::query("CREATE TABLE t (v TEXT NOT NULL CHECK (v <> 'poison'))")
            .execute(store.pool())
            .await
            .expect("a table");
        SqliteTx(Conn::new(
            store.begin_tx().await.expect("a write transaction"),
        ))
    }

    async fn insert(tx: &mut SqliteTx, value: &str) {
        let value = value.to_string();
        tx.0.write(|query| {
            query.push("INSERT INTO t (v) VALUES (");
            query.push_bind(value);
            query.push(")");
        })
        .await
        .expect("gathered");
    }

    async fn rows(tx: &mut SqliteTx) -> Vec<String> {
        let rows: Vec<(String,)> =
            tx.0.fetch_all(|query| {
                query.push("SELECT v FROM t ORDER BY v");
            })
            .await
            .expect("the rows");
        rows.into_iter().map(|(v,)| v).collect()
    }

    /// Units kept with their release for later go to the database together, with the next
    /// read. When one of them is refused, the mark it wrote says it was that one: it alone is
    /// rolled back and named, and the units after it are sent again.
    #[tokio::test]
    async fn a_unit_refused_among_several_sent_together_is_undone_alone() {
        let mut tx = poisonable().await;
        for (expected, value) in ["a", "poison", "c", "poison", "e"].into_iter().enumerate() {
            let unit = tx.savepoint().await.expect("a savepoint");
            assert_eq!(unit, expected, "numbered in order");
            insert(&mut tx, value).await;
            tx.release_later().await.expect("kept for later");
        }
        assert_eq!(tx.unsent(), 5, "nothing was sent");
        assert!(tx.refused_earlier().is_empty());

        tx.savepoint().await.expect("a savepoint");
        assert_eq!(
            rows(&mut tx).await,
            ["a", "c", "e"],
            "one read sent them all"
        );
        let refused: Vec<usize> = tx.refused_earlier().into_iter().map(|(u, _)| u).collect();
        assert_eq!(refused, [1, 3], "the units whose writes were refused");
        assert_eq!(tx.unsent(), 0);
        insert(&mut tx, "f").await;
        tx.release().await.expect("kept");
        Box::new(tx).commit().await.expect("commit");
    }

    /// A unit rolled back drops its gathered writes but sends those of the units kept before
    /// it; the last unit's release sends every unit's writes, so nothing waits for the commit.
    #[tokio::test]
    async fn a_unit_rolled_back_sends_the_writes_kept_before_it_and_drops_its_own() {
        let mut tx = poisonable().await;
        tx.savepoint().await.expect("a savepoint");
        insert(&mut tx, "a").await;
        tx.release_later().await.expect("kept for later");
        tx.savepoint().await.expect("a savepoint");
        insert(&mut tx, "b").await;
        tx.rollback_to().await.expect("undone");
        assert_eq!(tx.unsent(), 0, "the unit before it was sent");
        tx.savepoint().await.expect("a savepoint");
        insert(&mut tx, "poison").await;
        tx.release_later().await.expect("kept for later");
        tx.savepoint().await.expect("a savepoint");
        insert(&mut tx, "d").await;
        tx.release()
            .await
            .expect("the last unit's own writes are fine");
        let refused: Vec<usize> = tx.refused_earlier().into_iter().map(|(u, _)| u).collect();
        assert_eq!(refused, [2]);
        assert_eq!(tx.unsent(), 0);
        tx.savepoint().await.expect("a savepoint");
        assert_eq!(rows(&mut tx).await, ["a", "d"]);
    }

    /// When a failed round trip carried kept units' writes and the mark cannot say whose
    /// statement failed (here a trigger keeps writing a number no unit has), the transaction
    /// refuses to go on: rolling back "the open savepoint" could undo a unit already counted as
    /// kept. The unit's rollback and the commit fail, so the batch is rolled back whole.
    #[tokio::test]
    async fn a_failure_no_mark_explains_fails_the_transaction() {
        let mut tx = poisonable().await;
        sqlx::query(
            "CREATE TEMP TRIGGER lost_mark AFTER UPDATE ON unit_sent WHEN NEW.unit <> 999 \
             BEGIN UPDATE unit_sent SET unit = 999; END",
        )
        .execute(tx.0.get().await.expect("the connection"))
        .await
        .expect("a trigger");
        for value in ["a", "poison"] {
            tx.savepoint().await.expect("a savepoint");
            insert(&mut tx, value).await;
            tx.release_later().await.expect("kept for later");
        }
        tx.savepoint().await.expect("a savepoint");
        let read: StoreResult<Vec<(String,)>> =
            tx.0.fetch_all(|query| {
                query.push("SELECT v FROM t");
            })
            .await;
        assert!(read.is_err(), "the round trip failed: {read:?}");
        assert!(tx.refused_earlier().is_empty(), "no unit was named");
        let undone = tx.rollback_to().await;
        assert!(
            matches!(undone, Err(StoreError::Unattributed(_))),
            "the unit's rollback: {undone:?}"
        );
        let committed = Box::new(tx).commit().await;
        assert!(
            matches!(committed, Err(StoreError::Unattributed(_))),
            "the commit: {committed:?}"
        );
    }
}
