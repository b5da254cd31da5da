//! The rows the store reads and writes, shared by its roles: outbound messages and their
//! delivery bookkeeping, jobs, cards, contacts, delivery reports, checklists, on-call overrides and
//! handoff notes. `crate::store` re-exports each under its own name.

use chrono::{DateTime, Utc};

use crate::i18n::Lang;
use crate::outbox::Rich;

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
