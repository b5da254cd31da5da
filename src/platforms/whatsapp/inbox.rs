//! What runroom does with a verified delivery: each message is placed in its room (a Cloud API
//! group by its id, a roster by its member's number, an Evolution group by its JID), opens the
//! writer's 24-hour window, is relayed to the rest of a roster, and goes to the engine as a
//! command; each status goes to [`super::delivery`]. The work runs in a task of its own and the request waits at most
//! the ack budget, so Meta gets its 200 fast even when the database is slow.

use std::sync::Arc;
use std::time::Duration;

use super::inbound::{Event, Message};
use super::phone;
use crate::engine::room::{Author, Inbound, Platform, Room, RoomRef};
use crate::engine::{Engine, EngineError, command};
use crate::store::{DeliveryReport, StoreError};

/// How a delivery stands when the request must be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handed {
    /// Everything in it was recorded (or recognised as seen before).
    Done,
    /// Something failed and nothing of that part was stored: Meta should redeliver.
    Failed,
    /// Still working when the budget ran out; it carries on.
    Later,
}

/// A message from any WhatsApp transport, placed in its room.
#[derive(Debug, Clone)]
pub struct Placed {
    pub inbound: Inbound,
    /// The window this message opens: the contact's address and how WhatsApp knows them.
    pub contact: Option<(String, String)>,
    /// Typed words are relayed to the rest of a roster; a button tap is not (its effect is).
    pub relay: bool,
}

pub struct Inbox {
    engine: Arc<Engine>,
    budget: Duration,
}

/// The name other people see: the profile name, or a masked number (a number is shown only to
/// its own room, never in logs or other rooms).
fn display_name(name: Option<&str>, number: &str) -> String {
    name.map(str::to_string)
        .unwrap_or_else(|| phone::mask(number))
}

impl Inbox {
    pub fn new(engine: Arc<Engine>, budget: Duration) -> Inbox {
        Inbox { engine, budget }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The roster room a number belongs to.
    fn roster_of(&self, number: &str) -> Option<(&Room, &String)> {
        self.engine.rooms().iter().find_map(|room| {
            let member = room
                .members
                .iter()
                .find(|m| room.platform == Platform::Whatsapp && phone::same_number(m, number))?;
            Some((room, member))
        })
    }

    /// The configured number of a person escalations page on WhatsApp.
    fn paged_person(&self, number: &str) -> Option<&String> {
        self.engine
            .policies()
            .people
            .iter()
            .filter_map(|p| p.whatsapp.as_ref())
            .find(|n| phone::same_number(n, number))
    }

    /// Whether a group is one of the configured WhatsApp rooms. Anyone can add the business
    /// number or the linked phone to a group: only the configured ones are war rooms.
    pub fn is_war_room(&self, chat: &str) -> bool {
        let known =
            self.engine.rooms().iter().any(|r| {
                r.platform == Platform::Whatsapp && r.members.is_empty() && r.chat == chat
            });
        if !known {
            // A group id is not personal data.
            tracing::info!(
                group = chat,
                "ignored a message from a WhatsApp group that is no room"
            );
        }
        known
    }

    /// Places a Cloud API message in its room; `None` for a message from a group that is not
    /// configured or, one-to-one, from a number on no roster (runroom takes no commands from
    /// strangers who find the business number).
    pub fn place_cloud(&self, m: &Message) -> Option<Placed> {
        let name = display_name(m.name.as_deref(), &m.from);
        let (chat, author_id, contact) = match &m.group_id {
            Some(group) if !self.is_war_room(group) => return None,
            Some(group) => (
                group.clone(),
                m.from.clone(),
                (group.clone(), group.clone()),
            ),
            None => match (self.roster_of(&m.from), self.paged_person(&m.from)) {
                (Some((room, member)), _) => (
                    room.chat.clone(),
                    member.clone(),
                    (member.clone(), m.from.clone()),
                ),
                // Someone escalations page on their own number answers in that chat (an Ack).
                (None, Some(number)) => (
                    number.clone(),
                    number.clone(),
                    (number.clone(), m.from.clone()),
                ),
                (None, None) => {
                    tracing::info!(
                        from = %phone::mask(&m.from),
                        "ignored a WhatsApp message from a number on no roster"
                    );
                    return None;
                }
            },
        };
        Some(Placed {
            inbound: Inbound {
                event_id: m.wamid.clone(),
                room: RoomRef {
                    platform: Platform::Whatsapp,
                    chat,
                    thread: None,
                },
                author: Author {
                    id: author_id,
                    name,
                },
                text: m.text.clone(),
                received_at: m.at,
                private_replies: false,
            },
            contact: Some(contact),
            relay: !m.tapped,
        })
    }

    /// Records the window, relays a roster message, and lets the engine act on a command.
    pub async fn receive(&self, placed: &Placed) -> Result<(), EngineError> {
        if let Some((address, seen_as)) = &placed.contact {
            self.engine
                .store()
                .record_contact(
                    Platform::Whatsapp,
                    address,
                    seen_as,
                    placed.inbound.received_at,
                )
                .await?;
        }
        if placed.relay {
            self.engine.relay(&placed.inbound).await?;
        }
        if command::parse(&placed.inbound.text).is_some() {
            self.engine.handle(&placed.inbound).await?;
        }
        Ok(())
    }

    /// Applies a status to the row it is about (see [`super::delivery`]).
    pub async fn status(&self, report: &DeliveryReport) -> Result<(), StoreError> {
        if super::delivery::apply(self.engine.store().as_ref(), report).await? {
            self.engine.wake_outbox();
        }
        Ok(())
    }

    async fn process(&self, events: Vec<Event>) -> bool {
        let mut ok = true;
        for event in events {
            let result = match &event {
                Event::Message(m) => match self.place_cloud(m) {
                    Some(placed) => self.receive(&placed).await.map_err(|e| e.to_string()),
                    None => Ok(()),
                },
                Event::Status(s) => self.status(s).await.map_err(|e| e.to_string()),
            };
            if let Err(error) = result {
                // A database error can quote the values it failed on.
                let error = phone::redact_numbers(&error);
                tracing::error!(%error, "a WhatsApp event was not recorded");
                ok = false;
            }
        }
        ok
    }

    /// Processes a delivery's events in a task, waiting at most the ack budget.
    pub async fn hand(self: &Arc<Self>, events: Vec<Event>) -> Handed {
        if events.is_empty() {
            return Handed::Done;
        }
        let inbox = self.clone();
        self.within_budget(
            self.engine
                .in_flight()
                .spawn(async move { inbox.process(events).await }),
        )
        .await
    }

    /// Hands one placed message (from the Evolution gateway) over the same way.
    pub async fn hand_placed(self: &Arc<Self>, placed: Placed) -> Handed {
        let inbox = self.clone();
        self.within_budget(self.engine.in_flight().spawn(async move {
            let result = inbox.receive(&placed).await;
            if let Err(error) = &result {
                let error = phone::redact_numbers(&error.to_string());
                tracing::error!(%error, "an Evolution message was not recorded");
            }
            result.is_ok()
        }))
        .await
    }

    /// How the work stands when the ack budget runs out (it carries on after that).
    async fn within_budget(&self, work: tokio::task::JoinHandle<bool>) -> Handed {
        match tokio::time::timeout(self.budget, work).await {
            Ok(Ok(true)) => Handed::Done,
            Ok(Ok(false)) | Ok(Err(_)) => Handed::Failed,
            Err(_) => {
                tracing::info!("answered a WhatsApp delivery before the engine finished");
                Handed::Later
            }
        }
    }
}
