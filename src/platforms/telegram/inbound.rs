//! A Bot API update as what it asks of runroom: a text message in a group or a private chat,
//! with its author, keyed by `update_id` so a redelivery is recognised; a press of a card's
//! button, keyed by the callback query's id; `/start` in a private chat. `/inc@OtherBot …` is
//! another bot's command and not for runroom; `/inc@<our bot> …` is read as `/inc …`. Every
//! author with a username is remembered by id, so pages can reach them.

use chrono::{DateTime, Utc};
use teloxide_core::types::{CallbackQuery, CallbackQueryId, Message, Update, UpdateKind, User};

use super::moves::Moves;
use super::people::People;
use super::press;
use crate::engine::command::{Command, ParseError, button_command};
use crate::engine::room::{Author, Inbound, Input, Origin, Platform, Room, RoomRef};
use crate::store::StoreResult;

/// What an update asks of runroom.
#[derive(Debug)]
pub enum Asked {
    /// A command typed in a room or in a private chat with the bot.
    Command {
        inbound: Inbound,
        parsed: Result<Command, ParseError>,
    },
    /// A press of a card's button: its command (`None`: not something runroom acts on), and
    /// the query Telegram waits to have answered.
    Press {
        inbound: Inbound,
        command: Option<Command>,
        query: CallbackQueryId,
    },
    /// `/start` in a private chat: the person can be paged there now.
    Start {
        inbound: Inbound,
        username: Option<String>,
    },
}

/// What an update asks of runroom, if anything: a group's move is recorded (nothing to act
/// on), a command or press counts from one of `rooms` (its chat followed back to the id the room
/// was configured with) or a private chat. Anyone can add a bot to a group: a command from a
/// group that is not a configured room is logged and ignored, as WhatsApp's unknown groups are
/// (a press there is still answered, so its button stops spinning).
pub async fn receive(
    update: &Update,
    bot_username: Option<&str>,
    (moves, people): (&Moves, &People),
    rooms: &[Room],
    now: DateTime<Utc>,
) -> StoreResult<Option<Asked>> {
    if let Some((from, to)) = migration(update) {
        moves.record(&from, &to, now).await?;
        return Ok(None);
    }
    let Some(mut asked) = asked(update, bot_username, now) else {
        return Ok(None);
    };
    let inbound = match &mut asked {
        Asked::Command { inbound, .. }
        | Asked::Press { inbound, .. }
        | Asked::Start { inbound, .. } => inbound,
    };
    if let Some(user) = author_of(update).filter(|u| !u.is_bot)
        && let Some(username) = &user.username
    {
        people.learn(username, &user.id.0.to_string(), now).await?;
    }
    let chat = moves.original(&inbound.origin.room.chat).await?;
    inbound.origin.room.chat = chat.clone();
    let private = !chat.starts_with('-');
    let known = rooms
        .iter()
        .any(|r| r.platform == Platform::Telegram && r.chat == chat);
    if private || known {
        return Ok(Some(asked));
    }
    tracing::info!(
        chat,
        "a Telegram command from a group that is not a room; ignored"
    );
    metrics::counter!("runroom_inbound_ignored_total", "platform" => "telegram").increment(1);
    Ok(match asked {
        Asked::Press { inbound, query, .. } => Some(Asked::Press {
            inbound,
            command: None,
            query,
        }),
        _ => None,
    })
}

/// Who sent an update.
fn author_of(update: &Update) -> Option<&User> {
    match &update.kind {
        UpdateKind::Message(message) => message.from.as_ref(),
        UpdateKind::CallbackQuery(query) => Some(&query.from),
        _ => None,
    }
}

/// What an update asks, before it is placed.
fn asked(update: &Update, bot_username: Option<&str>, now: DateTime<Utc>) -> Option<Asked> {
    match &update.kind {
        UpdateKind::CallbackQuery(query) => pressed(query, now),
        UpdateKind::Message(message) if message.chat.is_private() && is_start(message) => {
            let from = message.from.as_ref()?;
            Some(Asked::Start {
                inbound: self::message(update, None, now)?,
                username: from.username.clone(),
            })
        }
        UpdateKind::Message(_) => {
            let (inbound, parsed) = command(update, bot_username, now)?;
            Some(Asked::Command { inbound, parsed })
        }
        _ => None,
    }
}

fn is_start(message: &Message) -> bool {
    message.text().is_some_and(|t| {
        let first = t.split_whitespace().next().unwrap_or("");
        first == "/start" || first.starts_with("/start@")
    })
}

/// A press of a card's button, from the chat (and topic) of the message it is under.
fn pressed(query: &CallbackQuery, now: DateTime<Utc>) -> Option<Asked> {
    if query.from.is_bot {
        return None;
    }
    let message = query.message.as_ref()?;
    let topic = message
        .regular_message()
        .filter(|m| m.is_topic_message)
        .and_then(|m| m.thread_id)
        .map(|t| t.0.0.to_string());
    let command = query.data.as_deref().and_then(button_command);
    let inbound = Inbound {
        event_id: format!("cbq:{}", query.id.0),
        origin: Origin {
            room: RoomRef {
                platform: Platform::Telegram,
                chat: message.chat().id.0.to_string(),
                thread: Some(press::thread(topic.as_deref())),
            },
            author: author(&query.from),
            // Answers to the presser alone are shown as the press's toast.
            private_replies: true,
        },
        input: command
            .clone()
            .map_or_else(|| Input::Text(String::new()), Input::Command),
        received_at: now,
    };
    Some(Asked::Press {
        inbound,
        command,
        query: query.id.clone(),
    })
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
        handle: user.username.clone(),
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
