//! Rooms and inbound messages as the engine sees them: platform-neutral values.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::command::{self, Command, ParseError};
use crate::i18n::Lang;

/// A chat platform runroom speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Console,
    Slack,
    Whatsapp,
    Telegram,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Console => "console",
            Platform::Slack => "slack",
            Platform::Whatsapp => "whatsapp",
            Platform::Telegram => "telegram",
        }
    }

    /// The platform a name (as [`Platform::as_str`] gives it) stands for.
    pub fn parse(raw: &str) -> Option<Platform> {
        match raw {
            "console" => Some(Platform::Console),
            "slack" => Some(Platform::Slack),
            "whatsapp" => Some(Platform::Whatsapp),
            "telegram" => Some(Platform::Telegram),
            _ => None,
        }
    }
}

/// What a room is for: a war room hears everything, an announce room the customer-safe part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RoomRole {
    #[default]
    WarRoom,
    Announce,
}

/// Where a message came from or goes to, on its platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoomRef {
    pub platform: Platform,
    pub chat: String,
    pub thread: Option<String>,
}

/// A linked room, from config: its name, address, language, zone and role.
#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    pub id: String,
    pub platform: Platform,
    pub chat: String,
    pub language: Lang,
    pub timezone: Tz,
    pub role: RoomRole,
    /// A roster room's members (E.164 numbers, for WhatsApp): the room is each of them talking
    /// one-to-one with the bot, so every message to the room goes to each member. Empty for a
    /// room that is one chat.
    pub members: Vec<String>,
}

/// Who wrote a message: the platform's user id and a name to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub id: String,
    pub name: String,
    /// A handle the platform vouches for, when it has one besides the id (a Telegram
    /// username): people may be configured by it.
    pub handle: Option<String>,
}

/// Where a command comes from: the room (and thread), who sent it, and whether answers that
/// change nothing go only to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub room: RoomRef,
    pub author: Author,
    /// Answers that change nothing (help, show, list) go only to the author where the platform
    /// can do that: a Slack slash command or button press is private, a typed message is not.
    /// Errors always go only to the author.
    pub private_replies: bool,
}

/// What an inbound message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Words someone typed: a command when addressed to runroom, chatter otherwise.
    Text(String),
    /// A structured action (a card's button, a quick reply): already a command.
    Command(Command),
    /// Words addressed to runroom by a mention, parsed where they were read: the words, and the
    /// command or what was wrong with it (answered to the author).
    Mention {
        text: String,
        parsed: Result<Command, ParseError>,
    },
}

/// One message from a room, normalised by its platform's inbound adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The platform's own event id (Slack `event_id`, WhatsApp `wamid`, Telegram `update_id`):
    /// a redelivery with the same id is recognised and ignored.
    pub event_id: String,
    pub origin: Origin,
    pub input: Input,
    pub received_at: DateTime<Utc>,
}

impl Inbound {
    /// The dedupe key, namespaced so two platforms' ids never collide.
    pub fn dedupe_key(&self) -> String {
        format!("{}:{}", self.origin.room.platform.as_str(), self.event_id)
    }

    /// The typed words, when it is text that may be chatter.
    pub fn text(&self) -> Option<&str> {
        match &self.input {
            Input::Text(text) => Some(text),
            Input::Command(_) | Input::Mention { .. } => None,
        }
    }

    /// Whatever words it carries (typed or addressed by a mention), to learn the names in them.
    pub fn words(&self) -> Option<&str> {
        match &self.input {
            Input::Text(text) | Input::Mention { text, .. } => Some(text),
            Input::Command(_) => None,
        }
    }

    /// The command it carries: typed text parsed (once: call this once per message), an action
    /// as it is. `None`: chatter, not for runroom.
    pub fn command(&self) -> Option<Result<Command, ParseError>> {
        match &self.input {
            Input::Text(text) => command::parse(text),
            Input::Command(cmd) => Some(Ok(cmd.clone())),
            Input::Mention { parsed, .. } => Some(parsed.clone()),
        }
    }
}
