//! A roster room behaves like a group: what one member writes is relayed to the other members
//! with their name, and, while an incident is open, mirrored into the incident's thread in the
//! Slack war rooms, so the engineers hear the field. Relayed like every other message: through
//! the outbox, in one transaction with the dedupe key, so a redelivered webhook relays nothing
//! twice and a crash loses nothing.

use std::collections::HashMap;

use super::reply::Msg;
use super::room::{Inbound, Platform, RoomRole};
use super::{Engine, EngineError, command};
use crate::i18n::Lang;
use crate::store::NewOutbound;

/// Relayed chatter goes after replies (someone waits for those) and before broadcasts.
const RELAY_PRIORITY: i64 = 1;

impl Engine {
    /// Relays a roster member's message; returns how many messages were queued (0 when the room
    /// is not a roster or the message was relayed before).
    pub async fn relay(&self, inbound: &Inbound) -> Result<usize, EngineError> {
        let origin = self.room_for(&inbound.room);
        if origin.members.is_empty() || inbound.text.trim().is_empty() {
            return Ok(0);
        }
        let now = self.clock.now();
        let key = format!("relay:{}", inbound.dedupe_key());
        let mut tx = self.store.begin().await?;
        if !tx.record_inbound(&key, now).await? {
            return Ok(0);
        }
        let languages: HashMap<String, Lang> = tx.room_languages().await?.into_iter().collect();
        let language_of = |id: &str, default: Lang| languages.get(id).copied().unwrap_or(default);
        let mut messages: Vec<NewOutbound> = Vec::new();
        let mut push = |room_id: &str,
                        platform: Platform,
                        chat: &str,
                        kind: &str,
                        lang: Lang,
                        text: String,
                        incident: Option<i64>| {
            messages.push(NewOutbound {
                idempotency_key: format!("{key}#{}", messages.len()),
                room_id: room_id.to_string(),
                platform: platform.as_str().to_string(),
                chat: chat.to_string(),
                thread: None,
                kind: kind.to_string(),
                language: lang,
                text,
                rich: None,
                incident,
                priority: RELAY_PRIORITY,
                created_at: now,
                recipient: None,
                topic: None,
            });
        };

        let lang = language_of(&origin.id, origin.language);
        let relayed = self.i18n.render(
            lang,
            origin.timezone,
            &Msg::new("relay-message")
                .text("name", inbound.author.name.clone())
                .text("text", inbound.text.clone()),
        );
        for member in origin.members.iter().filter(|m| **m != inbound.author.id) {
            push(
                &origin.id,
                origin.platform,
                member,
                "relay",
                lang,
                relayed.clone(),
                None,
            );
        }

        // Commands are heard through their effects (the engine broadcasts those); chatter is
        // mirrored only while an incident is open, into the newest one's thread.
        let is_command = command::parse(&inbound.text).is_some();
        let newest_open = if is_command {
            None
        } else {
            tx.open_incidents()
                .await?
                .into_iter()
                .map(|i| i.number)
                .max()
        };
        if let Some(incident) = newest_open {
            for room in self.rooms.iter().filter(|r| {
                r.platform == Platform::Slack && r.role == RoomRole::WarRoom && r.id != origin.id
            }) {
                let lang = language_of(&room.id, room.language);
                let text = self.i18n.render(
                    lang,
                    room.timezone,
                    &Msg::new("relay-mirror")
                        .text("name", inbound.author.name.clone())
                        .text("room", origin.id.clone())
                        .text("text", inbound.text.clone()),
                );
                push(
                    &room.id,
                    room.platform,
                    &room.chat,
                    "mirror",
                    lang,
                    text,
                    Some(incident),
                );
            }
        }
        let queued = messages.len();
        tx.enqueue(&messages).await?;
        tx.commit().await?;
        self.wake_outbox();
        metrics::counter!("runroom_relayed_total").increment(queued as u64);
        Ok(queued)
    }
}
