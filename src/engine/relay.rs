//! A roster room behaves like a group: what one member writes is relayed to the other members
//! with their name, and, while an incident is open, mirrored into the incident's thread in the
//! war rooms whose platform threads under an incident card (see [`super::reach`]), so the
//! engineers hear the field. Relayed like every other message: through the outbox, in one unit
//! of work with the dedupe key, so a redelivered webhook relays nothing twice and a crash loses
//! nothing.

use super::room::{Inbound, Room, RoomRole};
use super::unit::{Guard, Unit};
use super::{Engine, EngineError};
use crate::i18n::Msg;
use crate::store::{MessageKind, NewOutbound};

/// Relayed chatter goes after replies (someone waits for those) and before broadcasts.
const RELAY_PRIORITY: i64 = 1;

impl Engine {
    /// Relays a roster member's message; `is_command`: whether it is a command (whose effect is
    /// broadcast, so it is not mirrored). Returns how many messages were queued (0 when the room
    /// is not a roster or the message was relayed before).
    pub async fn relay(&self, inbound: &Inbound, is_command: bool) -> Result<usize, EngineError> {
        let origin = self.room_for(&inbound.origin.room);
        let Some(text) = inbound.text().filter(|t| !t.trim().is_empty()) else {
            return Ok(0);
        };
        if origin.members.is_empty() {
            return Ok(0);
        }
        let key = format!("relay:{}", inbound.dedupe_key());
        let done = self
            .unit(Guard::Inbound(&key), |unit| {
                Box::pin(self.relay_in(unit, inbound, &origin, text, is_command))
            })
            .await?;
        let queued = done.map_or(0, |done| done.messages.len());
        metrics::counter!("runroom_relayed_total").increment(queued as u64);
        Ok(queued)
    }

    /// The relay's work in its unit: the members' copies, and the mirrors while an incident
    /// is open.
    async fn relay_in(
        &self,
        unit: &mut Unit<'_>,
        inbound: &Inbound,
        origin: &Room,
        text: &str,
        is_command: bool,
    ) -> Result<(), EngineError> {
        let now = unit.out.now();
        let author = &inbound.origin.author;
        let row =
            |room: &Room, chat: &str, kind: MessageKind, text: String, incident: Option<i64>| {
                NewOutbound {
                    idempotency_key: String::new(),
                    room_id: room.id.clone(),
                    platform: room.platform,
                    chat: chat.to_string(),
                    thread: None,
                    kind,
                    language: unit.out.language_of(room),
                    text,
                    rich: None,
                    incident,
                    priority: RELAY_PRIORITY,
                    created_at: now,
                    recipient: None,
                    topic: None,
                }
            };

        let relayed = unit.out.render(
            origin,
            &Msg::new("relay-message")
                .text("name", author.name.clone())
                .text("text", text),
        );
        let mut rows: Vec<NewOutbound> = origin
            .members
            .iter()
            .filter(|m| **m != author.id)
            .map(|member| row(origin, member, MessageKind::Relay, relayed.clone(), None))
            .collect();

        // Commands are heard through their effects (the engine broadcasts those); chatter is
        // mirrored only while an incident is open, into the newest one's thread.
        let newest_open = if is_command {
            None
        } else {
            unit.tx.newest_open().await?
        };
        if let Some(incident) = newest_open {
            let mirror = Msg::new("relay-mirror")
                .text("name", author.name.clone())
                .text("room", origin.id.clone())
                .text("text", text);
            rows.extend(
                self.rooms
                    .iter()
                    .filter(|r| {
                        r.role == RoomRole::WarRoom
                            && r.id != origin.id
                            && self.reaches.takes_mirrors(r.platform)
                    })
                    .map(|room| {
                        let text = unit.out.render(room, &mirror);
                        row(room, &room.chat, MessageKind::Mirror, text, Some(incident))
                    }),
            );
        }
        for m in rows {
            unit.out.queue_verbatim(m);
        }
        Ok(())
    }
}
