//! A Bot API update as the engine's message: a text message in a group (or a private chat) with
//! its author, keyed by `update_id` so a redelivery is recognised. `/inc@OtherBot …` is another
//! bot's command and not for runroom; `/inc@<our bot> …` is read as `/inc …`.

use chrono::{DateTime, Utc};
use teloxide_core::types::{Update, UpdateKind, User};

use super::moves::Moves;
use crate::engine::command::{Command, ParseError};
use crate::engine::room::{Author, Inbound, Input, Origin, Platform, Room, RoomRef};
use crate::store::StoreResult;

/// What an update asks of runroom: a group's move to record (nothing to act on), or a command
/// from one of `rooms` (its chat followed back to the id the room was configured with), or
/// nothing. Anyone can add a bot to a group: a command from a chat that is not a configured
/// room is logged and ignored, as WhatsApp's unknown groups are.
pub async fn receive(
    update: &Update,
    bot_username: Option<&str>,
    moves: &Moves,
    rooms: &[Room],
    now: DateTime<Utc>,
) -> StoreResult<Option<(Inbound, Result<Command, ParseError>)>> {
    if let Some((from, to)) = migration(update) {
        moves.record(&from, &to, now).await?;
        return Ok(None);
    }
    let Some((mut inbound, parsed)) = command(update, bot_username, now) else {
        return Ok(None);
    };
    inbound.origin.room.chat = moves.original(&inbound.origin.room.chat).await?;
    let chat = &inbound.origin.room.chat;
    if !rooms
        .iter()
        .any(|r| r.platform == Platform::Telegram && &r.chat == chat)
    {
        // A group's id says nothing about a person; a private chat's is the user's id.
        let group = chat.starts_with('-').then_some(chat.as_str());
        tracing::info!(chat = ?group, "a Telegram command from a chat that is not a room; ignored");
        metrics::counter!("runroom_inbound_ignored_total", "platform" => "telegram").increment(1);
        return Ok(None);
    }
    Ok(Some((inbound, parsed)))
}

/// The (old, new) chat ids of a group's migration service message (Telegram posts one in each).
fn migration(update: &Update) -> Option<(String, String)> {
    let UpdateKind::Message(message) = &update.kind else {
        return None;
    };
    let here = message.chat.id.0.to_string();
    if let Some(to) = message.migrate_to_chat_id() {
        return Some((here, to.0.to_string()));
    }
    message
        .migrate_from_chat_id()
        .map(|from| (from.0.to_string(), here))
}

/// The engine's message in an update and what it parsed to, when it is a command for runroom.
pub fn command(
    update: &Update,
    bot_username: Option<&str>,
    now: DateTime<Utc>,
) -> Option<(Inbound, Result<Command, ParseError>)> {
    let inbound = message(update, bot_username, now)?;
    let parsed = inbound.command()?;
    Some((inbound, parsed))
}

/// The engine's message in an update, if it carries one for runroom.
pub fn message(update: &Update, bot_username: Option<&str>, now: DateTime<Utc>) -> Option<Inbound> {
    let UpdateKind::Message(message) = &update.kind else {
        return None;
    };
    let text = for_us(message.text()?, bot_username)?;
    let from = message.from.as_ref()?;
    if from.is_bot {
        return None;
    }
    Some(Inbound {
        event_id: update.id.0.to_string(),
        origin: Origin {
            room: RoomRef {
                platform: Platform::Telegram,
                chat: message.chat.id.0.to_string(),
                // A forum topic's id; a plain group's reply threads are not topics, and sending
                // into one would be refused.
                thread: message
                    .thread_id
                    .filter(|_| message.is_topic_message)
                    .map(|t| t.0.0.to_string()),
            },
            author: author(from),
            private_replies: false,
        },
        input: Input::Text(text),
        received_at: now,
    })
}

/// The text with a command's `@bot` suffix removed when it names this bot; `None` when it names
/// another.
fn for_us(text: &str, bot_username: Option<&str>) -> Option<String> {
    let (first, rest) = match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, ""),
    };
    let Some((command, bot)) = first.strip_prefix('/').and_then(|c| c.split_once('@')) else {
        return Some(text.to_string());
    };
    match bot_username {
        Some(ours) if ours.trim_start_matches('@').eq_ignore_ascii_case(bot) => {
            Some(format!("/{command}{rest}"))
        }
        _ => None,
    }
}

/// A Telegram user as a mention token (`<@telegram:42|ana_ops>`, the label their username, else
/// their first name): every room shows `@ana_ops`, which Telegram rooms read as a mention.
fn author(user: &User) -> Author {
    let label = user
        .username
        .clone()
        .unwrap_or_else(|| user.first_name.clone());
    Author {
        id: user.id.0.to_string(),
        name: format!(
            "<@telegram:{}|{}>",
            user.id.0,
            label.replace(['|', '>'], "")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::for_us;

    #[test]
    fn another_bots_command_is_not_ours() {
        assert_eq!(
            for_us("/inc@RunroomBot declare x", Some("runroombot")).as_deref(),
            Some("/inc declare x")
        );
        assert_eq!(for_us("/inc@OtherBot declare x", Some("RunroomBot")), None);
        assert_eq!(for_us("/inc@OtherBot", None), None);
        assert_eq!(
            for_us("inc ack", Some("RunroomBot")).as_deref(),
            Some("inc ack")
        );
        assert_eq!(for_us("/inc ack", None).as_deref(), Some("/inc ack"));
    }
}
