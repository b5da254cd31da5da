//! Durable state: incidents, their timeline, the outbox, jobs, contacts, settings. Callers hold
//! a [`Store`] (reads on the pool; a statement that writes outside a transaction, as the
//! outbox's and the scheduler's claims do, runs on the store's `writes()`, on SQLite the
//! writer's own connection taken in turn); the engine's writer opens a [`StoreTx`] per batch of
//! decisions, one savepoint each; both are made of role traits, one file each with its SQL:
//!
//! - [`incidents`]: incidents and their timeline ([`IncidentStore`], [`IncidentTx`]);
//! - [`outbox`]: enqueueing and delivering messages ([`OutboxStore`], [`OutboxTx`]);
//! - [`jobs`]: durable jobs ([`JobStore`], [`JobTx`]);
//! - [`contacts`]: contacts, people, cards and delivery reports ([`ContactStore`], [`ContactTx`]);
//! - [`settings`]: settings, room languages, inbound dedupe ([`SettingsStore`], [`SettingsTx`]);
//! - [`oncall`]: checklists, on-call overrides, handoff notes ([`OncallTx`]);
//! - [`retention`]: pruning what is older than the retention ([`RetentionTx`]);
//! - [`alerts`]: alerts and the incidents their groups joined ([`AlertStore`], [`AlertTx`]).
//!
//! A `dyn Store` or `dyn StoreTx` answers every role's methods as it is; a concrete store
//! ([`sqlite::SqliteStore`], [`postgres::PgStore`]) or a generic bound needs the role traits in
//! scope: `use crate::store::prelude::*;`. The rows are in [`types`], re-exported here.
//!
//! [`sqlite`] is the zero-setup default, [`postgres`] serves several replicas; both run the same
//! statements (their shared encodings are in `sql.rs`) and the same conformance tests. Each role
//! file stamps its statements onto a backend's store and transaction types with one small macro,
//! invoked by `sqlite.rs` and `postgres.rs`; inside it, a statement both the pool and a transaction
//! run is one function over that backend's executor. A macro rather than functions generic over
//! the database, because the statement text is the same for both backends (only lock suffixes
//! differ) and generic functions would repeat a trait bound for every type bound or decoded.

pub mod alerts;
pub mod contacts;
pub mod incidents;
pub mod jobs;
pub mod oncall;
pub mod outbox;
pub mod postgres;
pub mod retention;
pub mod settings;
mod sql;
pub mod sqlite;
pub mod types;

use std::sync::Arc;

use async_trait::async_trait;

pub use alerts::{AlertStore, AlertTx, Flap, StoredAlert};
pub use contacts::{ContactStore, ContactTx};
pub use incidents::{
    Bounded, HandoffIncidents, IncidentSearch, IncidentStore, IncidentTx, OpenFilter, StatusFilter,
};
pub use jobs::{JobStore, JobTx};
pub use oncall::OncallTx;
pub use outbox::{OutboxStore, OutboxTx, RoomDelivery};
pub use retention::{Pruned, RetentionTx};
pub use settings::{InboundKey, SettingsStore, SettingsTx};
pub use types::{
    CardRef, Checklist, ChecklistItem, Completion, Contact, DeliveryReport, DeliveryStatus,
    HandoffNote, JobKind, JobRow, JobState, MessageKind, NewJob, NewOutbound, OncallOverride,
    OutboxRow, OutboxStat, OutboxState, Topic,
};

/// The store's traits, for callers that use a concrete store or a generic bound (a `dyn Store` or
/// `dyn StoreTx` needs no import beyond its own name): `use crate::store::prelude::*;`.
pub mod prelude {
    pub use super::{
        AlertStore, AlertTx, ContactStore, ContactTx, IncidentStore, IncidentTx, JobStore, JobTx,
        OncallTx, OutboxStore, OutboxTx, RetentionTx, SettingsStore, SettingsTx, Store, StoreTx,
    };
}

/// A failure of the database or of the data in it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported database URL (expected sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    /// A round trip carrying several decisions' writes failed and it could not be told whose
    /// statement failed: the transaction no longer says what it holds, and is rolled back.
    #[error("a batch's writes failed and could not be told apart: {0}")]
    Unattributed(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The database. Reads and deliveries outside a decision go straight to the pool; decisions use
/// [`StoreTx`].
#[async_trait]
pub trait Store:
    IncidentStore + OutboxStore + JobStore + ContactStore + SettingsStore + AlertStore + Send + Sync
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Applies the backend's migrations (idempotent).
    async fn migrate(&self) -> StoreResult<()>;
    /// Opens the transaction a batch of decisions is committed in (the engine's writer, see
    /// `engine::writer`). On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`) so two
    /// writers queue instead of failing halfway.
    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>>;
    /// Opens a transaction that only reads, beside the writer's: a query's answer is read and
    /// rendered in it without waiting for the write lock or holding it (SQLite: a deferred
    /// `BEGIN`, a snapshot of what was committed). Nothing may be written in it; dropped, it
    /// rolls back.
    async fn begin_read(&self) -> StoreResult<Box<dyn StoreTx>>;
    /// Whether the database answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;
}

/// One batch of decisions' transaction. Dropping it without [`StoreTx::commit`] rolls
/// everything back. Each decision in it runs between [`StoreTx::savepoint`] and
/// [`StoreTx::release`] or [`StoreTx::release_later`] (kept) or [`StoreTx::rollback_to`]
/// (undone, the others kept); decisions follow each other and never nest.
#[async_trait]
pub trait StoreTx:
    IncidentTx + OutboxTx + JobTx + ContactTx + SettingsTx + OncallTx + RetentionTx + AlertTx + Send
{
    async fn commit(self: Box<Self>) -> StoreResult<()>;
    /// Marks where a decision starts (`SAVEPOINT unit`); returns the decision's number in
    /// this transaction (0, 1, …), by which [`StoreTx::refused_earlier`] names it.
    async fn savepoint(&mut self) -> StoreResult<usize>;
    /// Keeps what the decision wrote (`RELEASE SAVEPOINT`), sending what is gathered. `Err`:
    /// its writes were refused as they were sent; its savepoint is still open.
    async fn release(&mut self) -> StoreResult<()>;
    /// Keeps what the decision wrote, its writes and release sent with a later round trip
    /// (on Postgres, where writes run at once: now). Whether they were refused is known once
    /// they are sent: [`StoreTx::unsent`] no longer counts them, and
    /// [`StoreTx::refused_earlier`] names them if they were.
    async fn release_later(&mut self) -> StoreResult<()>;
    /// The decisions kept with [`StoreTx::release_later`] whose writes were refused when a
    /// later round trip sent them, by number, with the refusal: each was rolled back alone,
    /// the others were not. Taken: each is named once.
    fn refused_earlier(&mut self) -> Vec<(usize, StoreError)>;
    /// How many decisions kept with [`StoreTx::release_later`] are not sent yet: the last ones
    /// kept. Those before them were sent, and kept unless refused.
    fn unsent(&self) -> usize;
    /// Undoes what the decision wrote, and ends its savepoint (`ROLLBACK TO` then `RELEASE`);
    /// on Postgres this also clears the transaction's failed state after a statement error.
    async fn rollback_to(&mut self) -> StoreResult<()>;
}

/// Opens (and migrates) the store a URL names: `sqlite://FILE` (created on first run) or
/// `postgres://…`.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(sqlite::SqliteStore::connect(url).await?)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Arc::new(postgres::PgStore::connect(url).await?)
    } else {
        return Err(StoreError::UnsupportedUrl(redact_url(url)));
    };
    store.migrate().await?;
    Ok(store)
}

/// A database URL without its password, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    /// A migration file left out of the list would never run (nor fail): each one is listed.
    #[test]
    fn every_migration_file_is_applied() {
        for (dir, migrator) in [
            ("sqlite", super::sqlite::migrator()),
            ("postgres", super::postgres::migrator()),
        ] {
            let path = format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
            let mut files: Vec<String> = std::fs::read_dir(&path)
                .expect("the migrations directory")
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|name| name.ends_with(".sql"))
                .collect();
            files.sort();
            let mut listed: Vec<String> = migrator
                .iter()
                .map(|m| format!("{}_{}.sql", m.version, m.description))
                .collect();
            listed.sort();
            assert_eq!(listed, files, "{dir}");
        }
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("postgres://bot:s3cret@db/runroom"),
            "postgres://bot:***@db/runroom"
        );
        assert_eq!(
            super::redact_url("sqlite://runroom.db"),
            "sqlite://runroom.db"
        );
    }
}
