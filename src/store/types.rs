//! The rows the store reads and writes, shared by its roles: outbound messages and their
//! delivery bookkeeping, jobs, cards, contacts, delivery reports, checklists, on-call overrides and
//! handoff notes; and the words their fields take (states, kinds, topics), stored and serialized
//! as the same lowercase text. `crate::store` re-exports each under its own name.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{StoreError, StoreResult};
use crate::engine::room::Platform;
use crate::i18n::Lang;
use crate::outbox::Rich;

/// An enum stored as one of a fixed set of words: `as_str()` gives the word, `parse` reads it
/// back (an unknown word is [`StoreError::Corrupt`]), and serde uses the same words.
macro_rules! stored_words {
    (
        $(#[$meta:meta])*
        pub enum $Name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $Variant:ident = $word:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $Name {
            $($(#[$vmeta])* $Variant,)+
        }

        impl $Name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$Name] = &[$($Name::$Variant),+];

            /// The stored word.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($Name::$Variant => $word,)+
                }
            }

            /// Reads a stored word; an unknown one means the data is corrupt.
            pub fn parse(raw: &str) -> StoreResult<$Name> {
                match raw {
                    $($word => Ok($Name::$Variant),)+
                    _ => Err(StoreError::Corrupt(format!(concat!($what, " {:?}"), raw))),
                }
            }
        }

        impl FromStr for $Name {
            type Err = StoreError;

            fn from_str(raw: &str) -> StoreResult<$Name> {
                $Name::parse(raw)
            }
        }

        impl fmt::Display for $Name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}

stored_words! {
    /// Where an outbox row is in its delivery.
    pub enum OutboxState ("outbox state") {
        /// Waiting for its time (`next_attempt_at`).
        Pending = "pending",
        /// Claimed by a worker under a lease.
        Sending = "sending",
        Sent = "sent",
        /// An attempt failed; waits for its retry.
        Failed = "failed",
        /// Given up, with the reason kept (`runroom outbox retry` queues it again).
        Dead = "dead",
        /// Recorded as what would have been sent, in dry-run mode.
        DryRun = "dry_run",
    }
}

stored_words! {
    /// How a message relates to what caused it.
    pub enum MessageKind ("message kind") {
        /// To the room a command came from (in its thread).
        Reply = "reply",
        /// To the other rooms that hear about a change.
        Broadcast = "broadcast",
        /// A roster member's message, relayed to the other members.
        Relay = "relay",
        /// Chatter from a WhatsApp room, mirrored into a Slack war room's incident thread.
        Mirror = "mirror",
        /// Queued again as its pre-approved template (WhatsApp, after the 24-hour window closed).
        Template = "template",
        /// A page to a person's own chat.
        Page = "page",
    }
}

stored_words! {
    /// What a message is about, for platforms that must fall back to a pre-approved template.
    pub enum Topic ("message topic") {
        /// An incident was declared.
        Alert = "alert",
        Update = "update",
        Reminder = "reminder",
        Page = "page",
    }
}

stored_words! {
    /// What a platform reported about a message after accepting it; later statuses win.
    pub enum DeliveryStatus ("delivery status") {
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        Failed = "failed",
    }
}

stored_words! {
    /// What a job does.
    pub enum JobKind ("job kind") {
        /// Nudge an incident's commander: an update is due.
        Reminder = "reminder",
        /// Page the next escalation step.
        Escalation = "escalation",
        /// Post a schedule's message or checklist.
        Schedule = "schedule",
        /// Post a rotation's handoff summary.
        Handoff = "handoff",
        /// Delete what is older than the retention, a chunk at a time.
        Prune = "prune",
        /// See whether a heartbeat's ping came in time.
        Heartbeat = "heartbeat",
        /// Remind the war rooms that an incident's postmortem is due.
        Postmortem = "postmortem",
    }
}

stored_words! {
    /// Where a job is.
    pub enum JobState ("job state") {
        /// Planned; runs once due.
        Pending = "pending",
        /// Claimed by a scheduler under a lease.
        Running = "running",
        Done = "done",
        /// Re-planned away (a re-plan back to the same time revives it).
        Cancelled = "cancelled",
        /// Failed and given up.
        Dead = "dead",
    }
}

/// A message to deliver, written in the same transaction as the decision that caused it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewOutbound {
    /// Unique per message: a retried decision can never enqueue it twice.
    pub idempotency_key: String,
    pub room_id: String,
    pub platform: Platform,
    pub chat: String,
    pub thread: Option<String>,
    pub kind: MessageKind,
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
    /// (WhatsApp outside the 24-hour window). `None` reads as [`Topic::Update`].
    pub topic: Option<Topic>,
}

/// The message that carries an incident's card in one chat (edited in place on later changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRef {
    /// The platform's id of the card message (Slack `ts`); `""` while only its place exists.
    pub message_id: String,
    /// The outbox row whose content the card shows now.
    pub outbox_id: i64,
    /// The incident's own place in the chat, when the platform makes one (a Telegram forum
    /// topic's id).
    pub thread: Option<String>,
    /// Whether that place is closed (the incident was resolved when the card last changed).
    pub closed: bool,
}

impl CardRef {
    /// A card message showing row `outbox_id`, in no place of its own.
    pub fn new(message_id: impl Into<String>, outbox_id: i64) -> CardRef {
        CardRef {
            message_id: message_id.into(),
            outbox_id,
            thread: None,
            closed: false,
        }
    }

    /// Whether the card message was posted (not only its place made).
    pub fn is_posted(&self) -> bool {
        !self.message_id.is_empty()
    }
}

/// What a platform reported about a message after accepting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub platform_message_id: String,
    pub status: DeliveryStatus,
    /// For `failed`: the platform's error code …
    pub error_code: Option<i64>,
    /// … and its reason, with any phone number redacted.
    pub error: Option<String>,
    pub at: DateTime<Utc>,
    /// The outbox row it is about, when the send carried its id (WhatsApp's
    /// `biz_opaque_callback_data`): the row learns its platform id from it if it had none.
    pub outbox_id: Option<i64>,
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
    pub state: OutboxState,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub platform_message_id: Option<String>,
    /// What the platform reported after accepting it.
    pub delivery_status: Option<DeliveryStatus>,
    /// The platform's error code and reason when delivery failed after acceptance.
    pub delivery_error: Option<String>,
    /// Claimed again after the last claim's lease ran out mid-send: that attempt's outcome is
    /// unknown (the platform may have accepted it), so the sender checks before sending again.
    pub in_doubt: bool,
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
    pub platform: Platform,
    pub state: OutboxState,
    pub count: i64,
    pub oldest_created_at: Option<DateTime<Utc>>,
}

/// A job to plan: one occurrence of a reminder, an escalation step, a schedule or a handoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: JobKind,
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
    pub kind: JobKind,
    pub key: String,
    pub subject: String,
    pub due_at: DateTime<Utc>,
    pub payload: String,
    pub state: JobState,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every word reads back as itself, serializes as itself, and an unknown one is corrupt.
    fn round_trips<T>(all: &[T], unknown: &str)
    where
        T: Copy + PartialEq + fmt::Debug + fmt::Display + FromStr<Err = StoreError>,
        T: serde::Serialize,
    {
        for &value in all {
            let word = value.to_string();
            assert_eq!(word.parse::<T>().ok(), Some(value));
            assert_eq!(serde_json::to_value(value).ok(), Some(word.clone().into()));
        }
        assert!(matches!(unknown.parse::<T>(), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn stored_words_round_trip_and_unknown_ones_are_corrupt() {
        round_trips(OutboxState::ALL, "queued");
        round_trips(MessageKind::ALL, "digest");
        round_trips(Topic::ALL, "");
        round_trips(DeliveryStatus::ALL, "deleted");
        round_trips(JobKind::ALL, "Reminder");
        round_trips(JobState::ALL, "later");
        assert_eq!(OutboxState::DryRun.as_str(), "dry_run");
        assert_eq!(
            JobState::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            ["pending", "running", "done", "cancelled", "dead"]
        );
    }
}
