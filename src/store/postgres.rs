//! Postgres, for teams that run several replicas: the same schema semantics as SQLite, row locks
//! (`FOR UPDATE`) where a decision reads what it is about to change.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::sql::{self, embedded_migrations, sql_store};
use super::{
    CardRef, Checklist, ChecklistItem, Completion, Contact, DeliveryReport, HandoffNote, JobRow,
    NewJob, NewOutbound, OncallOverride, OutboxRow, OutboxStat, Store, StoreResult, StoreTx,
};
use crate::engine::incident::{Incident, TimelineEntry};
use crate::i18n::Lang;

/// The Postgres store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

fn migrator() -> sqlx::migrate::Migrator {
    embedded_migrations!("postgres": 1 "init", 2 "delivery", 3 "cards_people", 4 "whatsapp", 5 "scheduler")
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

    async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}

sql_store!(
    PgStore,
    PgTx,
    sqlx::Postgres,
    backend = "postgres",
    lock = " FOR UPDATE",
    skip_locked = " FOR UPDATE SKIP LOCKED"
);
