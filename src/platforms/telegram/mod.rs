//! Telegram: its rules for mentioning people (`@username`, from a person's `telegram` identity,
//! which every room shows as it is).
//! The sender and the webhook arrive with the Telegram issue; until then the messages of
//! `platform = "telegram"` rooms wait in the outbox, nothing is dropped.

use std::sync::Arc;

use super::{Setup, Wired};
use crate::engine::policy::Person;
use crate::engine::reach::{Limits, Reach};
use crate::engine::room::Platform;

/// Telegram mentions a person by username.
pub struct TelegramReach;

impl Reach for TelegramReach {
    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    /// A username is public and readable: every room shows it as it is.
    fn person_mention(&self, person: &Person) -> Option<String> {
        Some(format!("@{}", person.identity(Platform::Telegram)?))
    }

    /// 4,096 characters a message (`sendMessage`, `editMessageText`), counted after entity
    /// parsing; counted here in UTF-16 units, as Telegram counts its entities, to be safe.
    fn limits(&self) -> Limits {
        Limits {
            text: Some(TEXT_MAX),
            measure: utf16_len,
            ..Limits::UNBOUNDED
        }
    }
}

/// The longest text of one Telegram message.
pub const TEXT_MAX: usize = 4096;

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

pub fn reach() -> Arc<dyn Reach> {
    Arc::new(TelegramReach)
}

pub fn wire(setup: &Setup<'_>) -> anyhow::Result<Wired> {
    let mut wired = Wired::new(reach());
    if setup
        .config
        .rooms
        .iter()
        .any(|r| r.platform == Platform::Telegram)
    {
        wired
            .warnings
            .push("a room is on Telegram, which has no sender yet: its messages will wait".into());
    }
    Ok(wired)
}
