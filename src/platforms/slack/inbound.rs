//! Slack's payloads as the engine's [`Inbound`] messages: channel messages (keyword commands
//! work in plain text), messages that mention the bot, slash commands and the card's buttons.
//! Bot messages and message subtypes (edits, joins, bot posts) are ignored, so runroom never
//! answers itself. Pure functions: both transports (HTTP and Socket Mode) use them.

use chrono::{DateTime, Utc};
use slack_morphism::prelude::{
    SlackCommandEvent, SlackEventCallbackBody, SlackInteractionActionContainer,
    SlackInteractionBlockActionsEvent, SlackPushEventCallback,
};

use crate::engine::command::{self, button_command};
use crate::engine::room::{Author, Inbound, Input, Origin, Platform, RoomRef};

/// Slack escapes these three in message text; commands must see what the user typed.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// How a Slack user appears in incident text: a mention, which Slack renders with the current
/// name and other rooms show as `@name`.
pub fn mention(user_id: &str) -> String {
    format!("<@{user_id}>")
}

/// A Slack user in a channel (and thread) as the engine's origin of a message.
fn origin(user_id: &str, channel: String, thread: Option<String>, private: bool) -> Origin {
    Origin {
        room: RoomRef {
            platform: Platform::Slack,
            chat: channel,
            thread,
        },
        author: Author {
            handle: None,
            id: user_id.to_string(),
            name: mention(user_id),
        },
        private_replies: private,
    }
}

/// A message event or a mention of the bot. Both events of one message (Slack sends `message`
/// and `app_mention` for "inc ack @runroom") share the dedupe id `msg:{channel}:{ts}`, so the
/// command acts once; a redelivered event has the same id too.
pub fn from_event(callback: &SlackPushEventCallback, now: DateTime<Utc>) -> Option<Inbound> {
    match &callback.event {
        SlackEventCallbackBody::Message(message) => {
            if message.subtype.is_some() || message.sender.bot_id.is_some() {
                return None;
            }
            let user = message.sender.user.as_ref()?;
            let channel = message.origin.channel.as_ref()?;
            let text = message.content.as_ref()?.text.as_deref()?;
            Some(Inbound {
                event_id: format!("msg:{}:{}", channel.0, message.origin.ts.0),
                origin: origin(
                    &user.0,
                    channel.0.clone(),
                    message.origin.thread_ts.as_ref().map(|t| t.0.clone()),
                    false,
                ),
                input: Input::Text(unescape(text)),
                received_at: now,
            })
        }
        SlackEventCallbackBody::AppMention(event) => {
            let text = unescape(event.content.text.as_deref()?);
            Some(Inbound {
                event_id: format!("msg:{}:{}", event.channel.0, event.origin.ts.0),
                origin: origin(
                    &event.user.0,
                    event.channel.0.clone(),
                    event.origin.thread_ts.as_ref().map(|t| t.0.clone()),
                    false,
                ),
                input: Input::Mention {
                    parsed: command::parse_mention(without_mention(&text)),
                    text,
                },
                received_at: now,
            })
        }
        _ => None,
    }
}

/// "@runroom ack 7" means "/inc ack 7": the leading mention is dropped, and the rest is parsed
/// as a command with or without its prefix ([`command::parse_mention`]).
fn without_mention(text: &str) -> &str {
    let trimmed = text.trim_start();
    match trimmed.strip_prefix("<@").and_then(|r| r.split_once('>')) {
        Some((_, rest)) => rest.trim_start(),
        None => trimmed,
    }
}

/// A slash command, whatever its configured name: the text after it is an `/inc` command.
/// Answers that change nothing are private to the person who typed it, as Slack users expect.
pub fn from_command(event: &SlackCommandEvent, now: DateTime<Utc>) -> Inbound {
    let text = event.text.as_deref().map(unescape).unwrap_or_default();
    Inbound {
        event_id: format!("cmd:{}", event.trigger_id.0),
        origin: origin(&event.user_id.0, event.channel_id.0.clone(), None, true),
        input: Input::Text(format!("/inc {}", text.trim())),
        received_at: now,
    }
}

/// A press of one of the card's buttons: the command it stands for, as a value.
pub fn from_actions(
    event: &SlackInteractionBlockActionsEvent,
    now: DateTime<Utc>,
) -> Option<Inbound> {
    let user = event.user.as_ref()?;
    let channel =
        event
            .channel
            .as_ref()
            .map(|c| c.id.0.clone())
            .or_else(|| match &event.container {
                SlackInteractionActionContainer::Message(m) => {
                    m.channel_id.as_ref().map(|c| c.0.clone())
                }
                _ => None,
            })?;
    let action = event.actions.as_ref()?.first()?;
    let command = button_command(&action.action_id.0)?;
    Some(Inbound {
        event_id: format!("action:{}", event.trigger_id.0),
        origin: origin(&user.id.0, channel, None, true),
        input: Input::Command(command),
        received_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_of_the_bot_become_commands() {
        let typed = |text: &str| command::parse(text).expect("a command");
        let mention = |text: &str| command::parse_mention(without_mention(text));
        assert_eq!(mention("<@U0BOT> ack 7"), typed("/inc ack 7"));
        assert_eq!(mention("<@U0BOT> inc ack 7"), typed("inc ack 7"));
        assert_eq!(mention("inc ack <@U0BOT>"), typed("inc ack <@U0BOT>"));
        // Prose after the mention still gets an answer (what is wrong), never silence.
        assert_eq!(mention("<@U0BOT> incidente"), typed("/inc incidente"));
    }

    #[test]
    fn buttons_map_to_commands() {
        let typed = |text: &str| command::parse(text).and_then(Result::ok);
        assert_eq!(button_command("ack:7"), typed("/inc ack INC-7"));
        assert_eq!(button_command("resolve:12"), typed("/inc resolve INC-12"));
        assert_eq!(button_command("update:7"), typed("/inc help update"));
        assert_eq!(button_command("delete:7"), None);
        assert_eq!(button_command("ack:x"), None);
    }

    #[test]
    fn slack_escapes_are_undone() {
        assert_eq!(unescape("p99 &lt; 5s &amp;&amp; &gt;1%"), "p99 < 5s && >1%");
    }
}
