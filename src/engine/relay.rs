//! A roster room behaves like a group: what one member writes is relayed to the other members
//! with their name, and, while an incident is open, mirrored into the incident's thread in the
//! Slack war rooms, so the engineers hear the field. Relayed like every other message: through
//! the outbox, in one transaction with the dedupe key, so a redelivered webhook relays nothing
//! twice and a crash loses nothing.

use std::collections::HashMap;

use super::reply::Msg;
use super::room::{Inbound, Platform, Room, RoomRole};
use super::{Engine, EngineError, command};
use crate::i18n::Lang;
use crate::store::{MessageKind, NewOutbound};

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
        let language_of = |room: &Room| languages.get(&room.id).copied().unwrap_or(room.language);
        let render =
            |room: &Room, msg: &Msg| self.i18n.render(language_of(room), room.timezone, msg);
        let row =
            |room: &Room, chat: &str, kind, text: String, incident: Option<i64>| NewOutbound {
                idempotency_key: String::new(),
                room_id: room.id.clone(),
                platform: room.platform,
                chat: chat.to_string(),
                thread: None,
                kind,
                language: language_of(room),
                text,
                rich: None,
                incident,
                priority: RELAY_PRIORITY,
                created_at: now,
                recipient: None,
                topic: None,
            };

        let relayed = render(
            &origin,
            &Msg::new("relay-message")
                .text("name", inbound.author.name.clone())
                .text("text", inbound.text.clone()),
        );
        let mut messages: Vec<NewOutbound> = origin
            .members
            .iter()
            .filter(|m| **m != inbound.author.id)
            .map(|member| row(&origin, member, MessageKind::Relay, relayed.clone(), None))
            .collect();

        // Commands are heard through their effects (the engine broadcasts those); chatter is
        // mirrored only while an incident is open, into the newest one's thread.
        let newest_open = if command::parse(&inbound.text).is_some() {
            None
        } else {
            tx.open_incidents()
                .await?
                .into_iter()
                .map(|i| i.number)
                .max()
        };
        if let Some(incident) = newest_open {
            let mirror = Msg::new("relay-mirror")
                .text("name", inbound.author.name.clone())
                .text("room", origin.id.clone())
                .text("text", inbound.text.clone());
            messages.extend(
                self.rooms
                    .iter()
                    .filter(|r| {
                        r.platform == Platform::Slack
                            && r.role == RoomRole::WarRoom
                            && r.id != origin.id
                    })
                    .map(|room| {
                        row(
                            room,
                            &room.chat,
                            MessageKind::Mirror,
                            render(room, &mirror),
                            Some(incident),
                        )
                    }),
            );
        }
        for (i, m) in messages.iter_mut().enumerate() {
            m.idempotency_key = format!("{key}#{i}");
        }
        let queued = messages.len();
        tx.enqueue(&messages).await?;
        tx.commit().await?;
        self.wake_outbox();
        metrics::counter!("runroom_relayed_total").increment(queued as u64);
        Ok(queued)
    }
}
