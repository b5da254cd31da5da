//! The durable send queue. Every outbound message is an outbox row written with the decision that
//! caused it; workers claim due rows under a lease, pace them per platform and destination, send
//! them through the platform's [`Sender`], and record the result: sent, retry later (backoff with
//! jitter, or the platform's Retry-After), or dead with the reason. Safety switches (sending mode,
//! daily and per-minute limits) hold messages back without ever dropping them.

pub mod backoff;
pub mod breaker;
pub mod config;
pub mod pacing;
pub mod worker;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use self::config::{OutboxConfig, PlatformLimits, SendingMode};
pub use self::worker::Worker;
use crate::engine::room::Platform;
use crate::store::OutboxRow;

/// A platform-neutral rich form of a message, which each platform renders natively (a Block Kit
/// card, WhatsApp reply buttons, a Telegram inline keyboard); the plain `text` is the fallback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Rich {
    pub title: String,
    pub fields: Vec<RichField>,
    pub buttons: Vec<RichButton>,
    /// What a platform names the incident's own place (`INC-7 · Checkout down`, a Telegram
    /// forum topic); absent from rows queued before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The incident is over: its place may be closed (reopened when a later card is not).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RichField {
    pub label: String,
    pub value: String,
}

/// A button: `id` comes back in the platform's interaction payload (`ack:7`, `resolve:7`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RichButton {
    pub id: String,
    pub label: String,
}

/// What the platform said when it accepted a message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivered {
    /// The platform's id for the message (Slack `ts`, WhatsApp `wamid`, Telegram `message_id`).
    pub platform_message_id: Option<String>,
}

/// What a send to a platform that counts every call against a destination's limit (a Telegram
/// group's 20 a minute counts a pin or a card edit as a message) waits at before each call: the
/// destination's pace, kept by the worker that gave the row its slot.
#[async_trait]
pub trait Gate: Send + Sync {
    /// Waits for the destination's next turn and counts the call; `extra`: beyond the one call
    /// the row's slot paid for. `Err` when that turn is too far off for the row's lease: the row
    /// is tried again then, and what it already did must make the retry skip it.
    async fn turn(&self, extra: bool) -> Result<(), SendError>;

    /// The longest a send may wait for anything of its destination (its lease allows no more).
    fn max_wait(&self) -> std::time::Duration;
}

/// A gate that never waits, for sends outside the worker (tests, tools).
pub struct Ungated;

#[async_trait]
impl Gate for Ungated {
    async fn turn(&self, _extra: bool) -> Result<(), SendError> {
        Ok(())
    }

    fn max_wait(&self) -> std::time::Duration {
        std::time::Duration::from_secs(15)
    }
}

/// Why a send failed, as the worker must treat it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again: rate limits, 5xx, timeouts, transient platform codes. `retry_after`
    /// is the platform's own instruction when it gave one, and `scope` what it pauses.
    #[error("retryable: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
        scope: PauseScope,
    },
    /// Will fail the same way every time (bad recipient, revoked token, rejected template):
    /// straight to `dead`, with the reason kept on the row.
    #[error("permanent: {reason}")]
    Permanent { reason: String },
}

impl SendError {
    pub fn retryable(reason: impl Into<String>) -> SendError {
        SendError::Retryable {
            reason: reason.into(),
            retry_after: None,
            scope: PauseScope::Account,
        }
    }

    /// A rate limit: nothing in `scope` before `after` has passed.
    pub fn rate_limited(
        reason: impl Into<String>,
        after: Duration,
        scope: PauseScope,
    ) -> SendError {
        SendError::Retryable {
            reason: reason.into(),
            retry_after: Some(after),
            scope,
        }
    }

    pub fn permanent(reason: impl Into<String>) -> SendError {
        SendError::Permanent {
            reason: reason.into(),
        }
    }
}

/// What a platform's Retry-After applies to, as far as the platform says: a pause holds only the
/// rows it covers, so one channel's limit never holds up another channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PauseScope {
    /// The whole platform account (WhatsApp's number-wide 130429).
    Account,
    /// Every request to one destination (Telegram's per-chat 429, WhatsApp's 131056 pair limit).
    Chat(String),
    /// One API method across the account (a Slack tier limit, e.g. on `chat.update`).
    Method(&'static str),
    /// One API method to one destination (Slack's `chat.postMessage` to one channel).
    MethodInChat { method: &'static str, chat: String },
}

impl PauseScope {
    /// Whether a pause of this scope holds a row to `chat` whose send may call `methods`.
    pub fn covers(&self, chat: &str, methods: &[&str]) -> bool {
        match self {
            PauseScope::Account => true,
            PauseScope::Chat(c) => c == chat,
            PauseScope::Method(m) => methods.contains(m),
            PauseScope::MethodInChat { method, chat: c } => c == chat && methods.contains(method),
        }
    }
}

/// Delivers outbox rows to one platform. Implementations speak the platform's wire format and
/// classify its errors; pacing, retries and bookkeeping are the worker's.
#[async_trait]
pub trait Sender: Send + Sync {
    /// The platform whose rows it sends.
    fn platform(&self) -> Platform;
    async fn send(&self, row: &OutboxRow) -> Result<Delivered, SendError>;

    /// Sends `row` as the worker does: a platform that counts every call against a
    /// destination's limit waits at `gate` before each call. Others just send.
    async fn send_gated(&self, row: &OutboxRow, _gate: &dyn Gate) -> Result<Delivered, SendError> {
        self.send(row).await
    }

    /// The API methods sending `row` may call, so that a pause scoped to one method holds only
    /// the rows that would call it. A platform whose pauses never name a method leaves it empty.
    fn methods(&self, _row: &OutboxRow) -> &'static [&'static str] {
        &[]
    }

    /// Whether a message whose last attempt's outcome is unknown (`row.in_doubt`: its worker
    /// stopped mid-send) reached the platform after all: what was delivered when it did, so it
    /// is not sent twice; `None` to send it (again). A platform with no way to look a message
    /// up sends it again: the default.
    async fn reconcile(&self, _row: &OutboxRow) -> Result<Option<Delivered>, SendError> {
        Ok(None)
    }

    /// Runs once a sent row's platform id is recorded. A platform whose delivery reports can
    /// overtake the send's own answer (a WhatsApp status webhook that arrives before the worker
    /// stored the wamid) applies the reports kept for that id here.
    async fn after_sent(&self, _row: &OutboxRow, _platform_message_id: &str) {}
}
