//! Postgres, for teams that run several replicas: the same schema semantics as SQLite, row locks
//! (`FOR UPDATE`) where a decision reads what it is about to change, and `FOR UPDATE SKIP LOCKED`
//! where workers claim outbox rows and jobs.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

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

/// The Postgres store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

/// The transaction a batch of decisions is committed in, on Postgres.
pub struct PgTx(Conn<sqlx::Postgres>);

pub(super) fn migrator() -> sqlx::migrate::Migrator {
    embedded_migrations!("postgres": 1 "init", 2 "delivery", 3 "cards_people", 4 "whatsapp", 5 "scheduler", 6 "bounded", 7 "retention", 8 "pacing", 9 "role_keys", 10 "alerts", 11 "heartbeats", 12 "alert_locks", 13 "card_places", 14 "dashboard", 15 "in_doubt", 16 "postmortem_due")
}

impl PgStore {
    pub async fn connect(url: &str) -> StoreResult<PgStore> {
        Self::connect_with(PgConnectOptions::from_str(url)?).await
    }

    /// Connects with explicit options (tests use this to pin a schema with `search_path`).
    pub async fn connect_with(options: PgConnectOptions) -> StoreResult<PgStore> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(PgStore { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Where the statements that write outside a transaction go: the one pool, as Postgres
    /// locks rows, not the database.
    fn writes(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> StoreResult<()> {
        migrator().run(&self.pool).await?;
        Ok(())
    }

    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
        Ok(Box::new(PgTx(Conn::new(self.begin_tx().await?))))
    }

    async fn begin_read(&self) -> StoreResult<Box<dyn StoreTx>> {
        // Read committed, as the writer's: a query locks nothing the writer would wait for, apart
        // from `incident()`'s row lock for the moment the answer is read.
        self.begin().await
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

conn_sql!(sqlx::Postgres, defer = false);
super::sql::tx_sql!(PgTx);

incident_sql!(
    PgStore,
    PgTx,
    sqlx::Postgres,
    lock = " FOR UPDATE",
    lines = "json_agg(json_build_array(number, title, severity, status, declared_at))"
);
outbox_sql!(
    PgStore,
    PgTx,
    sqlx::Postgres,
    skip_locked = " FOR UPDATE SKIP LOCKED"
);
job_sql!(
    PgStore,
    PgTx,
    sqlx::Postgres,
    skip_locked = " FOR UPDATE SKIP LOCKED"
);
contact_sql!(PgStore, PgTx, sqlx::Postgres);
settings_sql!(PgStore, PgTx, sqlx::Postgres);
alert_sql!(PgStore, PgTx, sqlx::Postgres);
oncall_sql!(PgTx, sqlx::Postgres, lock = " FOR UPDATE");
retention_sql!(PgTx, POSTGRES_PRUNE);
