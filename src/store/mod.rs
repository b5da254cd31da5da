//! Durable state behind one trait: incidents, their timeline, the outbox, inbound dedupe keys and
//! room settings. [`sqlite`] is the zero-setup default, [`postgres`] serves several replicas; both
//! run the same SQL (see [`sql`]) and the same conformance tests.

pub mod postgres;
mod sql;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::engine::incident::{Incident, TimelineEntry};
use crate::i18n::Lang;
use crate::outbox::Rich;

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
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A message to deliver, written in the same transaction as the decision that caused it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewOutbound {
    /// Unique per message: a retried decision can never enqueue it twice.
    pub idempotency_key: String,
    pub room_id: String,
    pub platform: String,
    pub chat: String,
    pub thread: Option<String>,
    /// `reply` (to the room a command came from) or `broadcast`.
    pub kind: String,
    pub language: Lang,
    pub text: String,
    /// The platform-neutral rich form (card title, fields, buttons), when the message has one.
    pub rich: Option<Rich>,
    pub incident: Option<i64>,
    /// Lower is sooner: replies 0, then by severity.
    pub priority: i64,
    pub created_at: DateTime<Utc>,
    /// Show only to this user (the platform's user id): a Slack ephemeral message. Platforms
    /// without private messages in a room deliver it to the room.
    pub recipient: Option<String>,
    /// What the message is about, for platforms that must fall back to a pre-approved template
    /// (WhatsApp outside the 24-hour window): `alert`, `update`, `reminder` or `page`. `None`
    /// reads as `update`.
    pub topic: Option<String>,
}

/// The message that carries an incident's card in one chat (edited in place on later changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRef {
    /// The platform's id of the card message (Slack `ts`).
    pub message_id: String,
    /// The outbox row whose content the card shows now.
    pub outbox_id: i64,
}

/// What a platform reported about a message after accepting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub platform_message_id: String,
    /// `sent`, `delivered`, `read` or `failed`.
    pub status: String,
    /// For `failed`: the platform's error code …
    pub error_code: Option<i64>,
    /// … and its reason, with any phone number redacted.
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

/// A contact who wrote to us: when last, and the address the platform knows them by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub seen_as: String,
    pub last_inbound_at: DateTime<Utc>,
}

/// A stored outbox row: the message and its delivery bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub message: NewOutbound,
    /// `pending`, `sending` (claimed under a lease), `sent`, `failed` (an attempt failed; waits
    /// for its retry), `dead` or `dry_run`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub platform_message_id: Option<String>,
    /// What the platform reported after accepting it (`sent`, `delivered`, `read`, `failed`).
    pub delivery_status: Option<String>,
    /// The platform's error code and reason when delivery failed after acceptance.
    pub delivery_error: Option<String>,
}

/// How a claimed row ends its attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    Sent {
        platform_message_id: Option<String>,
    },
    /// Failed; try again at `at`. `error` says why.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    Dead {
        reason: String,
    },
    /// Not attempted (pacing, a pause): back to pending without counting an attempt.
    Release {
        at: DateTime<Utc>,
    },
    /// Dry-run mode: recorded as what would have been sent.
    DryRun,
}

/// Rows per platform and state, and the oldest one's age.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxStat {
    pub platform: String,
    pub state: String,
    pub count: i64,
    pub oldest_created_at: Option<DateTime<Utc>>,
}

/// A job to plan: one occurrence of a reminder, an escalation step, a schedule or a handoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// `reminder`, `escalation`, `schedule` or `handoff`.
    pub kind: String,
    /// Unique per occurrence: planning it again (another replica, a restart) changes nothing,
    /// and a fired one is never planned again.
    pub key: String,
    /// What a re-plan cancels together (`incident:7`, `schedule:morning`, `rotation:ops`).
    pub subject: String,
    pub due_at: DateTime<Utc>,
    /// The job's parameters as JSON.
    pub payload: String,
}

/// A stored job and its bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub subject: String,
    pub due_at: DateTime<Utc>,
    pub payload: String,
    /// `pending`, `running` (claimed under a lease), `done`, `cancelled` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub fired_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// One line of a posted checklist.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChecklistItem {
    pub text: String,
    pub done_by: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
}

/// A checklist a schedule posted to its rooms; ticked from any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    pub id: i64,
    pub schedule: String,
    pub title: String,
    pub rooms: Vec<String>,
    pub posted_at: DateTime<Utc>,
    pub items: Vec<ChecklistItem>,
}

/// Someone holding a rotation's first role for a while (`inc oncall override @x 2h`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OncallOverride {
    pub rotation: String,
    pub person: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub set_by: String,
}

/// A note left for the next handoff (`inc handoff note …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffNote {
    pub author: String,
    pub text: String,
    pub at: DateTime<Utc>,
}

/// The database. Reads outside a decision go straight to the pool; decisions use [`StoreTx`].
#[async_trait]
pub trait Store: Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Applies the backend's migrations (idempotent).
    async fn migrate(&self) -> StoreResult<()>;
    /// Opens the transaction one decision is committed in. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`) so two writers queue instead of failing halfway.
    async fn begin(&self) -> StoreResult<Box<dyn StoreTx>>;
    /// Whether the database answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;
    async fn incident(&self, number: i64) -> StoreResult<Option<Incident>>;
    async fn open_incidents(&self) -> StoreResult<Vec<Incident>>;
    /// Languages rooms chose from chat (`inc lang`), overriding config.
    async fn room_languages(&self) -> StoreResult<Vec<(String, Lang)>>;
    /// Every incident, newest first, at most `limit`.
    async fn recent_incidents(&self, limit: i64) -> StoreResult<Vec<Incident>>;
    /// The latest `limit` entries, oldest first.
    async fn timeline(&self, number: i64, limit: i64) -> StoreResult<Vec<TimelineEntry>>;
    /// Messages of one platform waiting to be sent (pending, or failed and waiting for a retry),
    /// most urgent first.
    async fn pending_outbox(&self, platform: &str, limit: i64) -> StoreResult<Vec<OutboxRow>>;
    /// Claims up to `limit` due rows of a platform for `worker` until `now + lease`: pending rows
    /// whose time has come and rows whose lease expired (their worker died). Most urgent first.
    async fn claim_outbox(
        &self,
        platform: &str,
        worker: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>>;
    /// Records the end of an attempt; `false` when `worker` no longer holds the row (its lease
    /// expired and another worker took it).
    async fn finish_outbox(
        &self,
        id: i64,
        worker: &str,
        completion: &Completion,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Marks a platform's due pending rows as held for `reason` (a safety switch); returns how
    /// many were not marked so before, so each held message is counted once per reason.
    async fn hold_outbox(
        &self,
        platform: &str,
        now: DateTime<Utc>,
        reason: &str,
    ) -> StoreResult<u64>;
    /// Messages of a platform sent since `since` (for the daily and per-minute limits).
    async fn sent_since(&self, platform: &str, since: DateTime<Utc>) -> StoreResult<i64>;
    /// When the next row of a platform falls due (a pending row's time or a lease's end).
    async fn next_due(&self, platform: &str) -> StoreResult<Option<DateTime<Utc>>>;
    async fn outbox_stats(&self) -> StoreResult<Vec<OutboxStat>>;
    /// Rows in one state (e.g. `dead`), newest first.
    async fn outbox_in_state(&self, state: &str, limit: i64) -> StoreResult<Vec<OutboxRow>>;
    async fn outbox_row(&self, id: i64) -> StoreResult<Option<OutboxRow>>;
    /// Puts a dead message back in the queue; `false` when it is not dead.
    async fn retry_dead(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool>;
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    async fn set_setting(&self, key: &str, value: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// The card message of an incident in a chat, once one was posted.
    async fn card(&self, platform: &str, chat: &str, incident: i64)
    -> StoreResult<Option<CardRef>>;
    /// Records the card message (the first one stays) and the row it now shows; a row older than
    /// the one recorded changes nothing.
    async fn save_card(
        &self,
        platform: &str,
        chat: &str,
        incident: i64,
        card: &CardRef,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Records that a contact (an E.164 number or a group id) wrote to us at `at`, as the
    /// platform identified them (`seen_as`); the latest message wins.
    async fn record_contact(
        &self,
        platform: &str,
        address: &str,
        seen_as: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// When a contact last wrote to us (WhatsApp's 24-hour window runs from then), and how the
    /// platform knows them.
    async fn contact(&self, platform: &str, address: &str) -> StoreResult<Option<Contact>>;
    /// Keeps what the platform reported about a message it accepted and applies it to the row
    /// with that platform id, when there is one yet; statuses only move forward. Returns the row.
    async fn record_delivery(
        &self,
        platform: &str,
        report: &DeliveryReport,
    ) -> StoreResult<Option<OutboxRow>>;
    /// The latest report about a platform message id (one that may have arrived before the row
    /// recorded the id).
    async fn delivery_report(
        &self,
        platform: &str,
        platform_message_id: &str,
    ) -> StoreResult<Option<DeliveryReport>>;
    /// The platform says a contact's window is closed: forget messages up to `up_to`, so the
    /// next send goes straight to the template (a later message opens it again).
    async fn close_contact_window(
        &self,
        platform: &str,
        address: &str,
        up_to: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The display name remembered for a platform user id.
    async fn person_name(&self, platform: &str, user_id: &str) -> StoreResult<Option<String>>;
    async fn save_person(
        &self,
        platform: &str,
        user_id: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Claims up to `limit` jobs for `worker` until `now + lease`: pending ones whose time has
    /// come and running ones whose lease ended (their process died). Earliest due first.
    async fn claim_jobs(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> StoreResult<Vec<JobRow>>;
    /// A claimed job failed: try it again at `retry_at`, or give it up (`dead`) when `None`.
    /// `false` when `worker` no longer holds it.
    async fn fail_job(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<bool>;
    /// When the next job may be claimed (a pending job's time or a lease's end).
    async fn next_job_at(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Jobs in one state, earliest due first.
    async fn jobs_in_state(&self, state: &str, limit: i64) -> StoreResult<Vec<JobRow>>;
    async fn job(&self, key: &str) -> StoreResult<Option<JobRow>>;
}

/// One decision's transaction. Dropping it without [`StoreTx::commit`] rolls everything back.
#[async_trait]
pub trait StoreTx: Send {
    /// Records an inbound event id; `false` when it was seen before (a platform retry).
    async fn record_inbound(&mut self, key: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn room_languages(&mut self) -> StoreResult<Vec<(String, Lang)>>;
    async fn set_room_language(
        &mut self,
        room: &str,
        lang: Lang,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Loads an incident for change (row-locked on Postgres).
    async fn incident(&mut self, number: i64) -> StoreResult<Option<Incident>>;
    async fn open_incidents(&mut self) -> StoreResult<Vec<Incident>>;
    async fn timeline(&mut self, number: i64, limit: i64) -> StoreResult<Vec<TimelineEntry>>;
    /// Stores a new incident under the next number (`INC-n`) and returns that number.
    async fn insert_incident(&mut self, incident: &Incident) -> StoreResult<i64>;
    async fn update_incident(&mut self, incident: &Incident) -> StoreResult<()>;
    async fn append_timeline(&mut self, entries: &[TimelineEntry]) -> StoreResult<()>;
    /// Enqueues messages; one whose idempotency key exists already is skipped.
    async fn enqueue(&mut self, messages: &[NewOutbound]) -> StoreResult<()>;
    /// The display name remembered for a platform user id (to render mentions for other rooms).
    async fn person_name(&mut self, platform: &str, user_id: &str) -> StoreResult<Option<String>>;
    /// [`Store::record_contact`] inside a unit of work.
    async fn record_contact(
        &mut self,
        platform: &str,
        address: &str,
        seen_as: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// [`Store::close_contact_window`] inside a unit of work.
    async fn close_contact_window(
        &mut self,
        platform: &str,
        address: &str,
        up_to: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Plans jobs; an occurrence planned before is left as it is, unless it was cancelled (a
    /// re-plan back to the same time revives it).
    async fn schedule_jobs(&mut self, jobs: &[NewJob], now: DateTime<Utc>) -> StoreResult<()>;
    /// Cancels the pending jobs of a kind about a subject; returns how many.
    async fn cancel_jobs(&mut self, subject: &str, kind: &str) -> StoreResult<u64>;
    /// Pending and running jobs of a kind.
    async fn active_jobs(&mut self, kind: &str) -> StoreResult<Vec<JobRow>>;
    /// Marks a claimed job done with the effects written in this transaction; `false` (and
    /// the caller rolls back) when `worker` no longer holds it.
    async fn complete_job(
        &mut self,
        id: i64,
        worker: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Open incidents and those declared or resolved since `since`, by number.
    async fn incidents_since(&mut self, since: DateTime<Utc>) -> StoreResult<Vec<Incident>>;
    async fn insert_checklist(&mut self, checklist: &Checklist) -> StoreResult<i64>;
    /// The latest checklists, newest first.
    async fn recent_checklists(&mut self, limit: i64) -> StoreResult<Vec<Checklist>>;
    async fn save_checklist_items(&mut self, id: i64, items: &[ChecklistItem]) -> StoreResult<()>;
    async fn add_override(&mut self, item: &OncallOverride) -> StoreResult<()>;
    /// Overrides that have not ended by `at` (running or to come), earliest first.
    async fn overrides(&mut self, at: DateTime<Utc>) -> StoreResult<Vec<OncallOverride>>;
    async fn add_handoff_note(&mut self, rotation: &str, note: &HandoffNote) -> StoreResult<()>;
    /// Notes not yet handed over, oldest first.
    async fn handoff_notes(&mut self, rotation: &str) -> StoreResult<Vec<HandoffNote>>;
    /// Marks a rotation's notes as handed over at `at`.
    async fn hand_over_notes(&mut self, rotation: &str, at: DateTime<Utc>) -> StoreResult<()>;
    async fn commit(self: Box<Self>) -> StoreResult<()>;
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
