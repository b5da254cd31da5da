//! What runroom does with a verified delivery: each message is placed in its room (a Cloud API
//! group by its id, a roster by its member's number, an Evolution group by its JID), opens the
//! writer's 24-hour window, is relayed to the rest of a roster, and goes to the engine as a
//! command (parsed once; a button tap arrives as the command itself); each status goes to
//! [`super::delivery`]. Every write is a unit of work of the engine's. The work runs in a task
//! of its own and the request waits at most the ack budget ([`crate::platforms::ack`]), so Meta
//! gets its 200 fast even when the database is slow.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument as _;

use super::inbound::{Event, Message};
use super::phone;
use crate::engine::journal::Record;
use crate::engine::room::{Author, Inbound, Origin, Platform, Room, RoomRef};
use crate::engine::{Engine, EngineError, trace};
use crate::platforms::ack;
pub use crate::platforms::ack::Handed;
use crate::store::DeliveryReport;

/// A message from any WhatsApp transport, placed in its room.
#[derive(Debug, Clone)]
pub struct Placed {
    pub inbound: Inbound,
    /// The window this message opens: the contact's address and how WhatsApp knows them.
    pub contact: Option<(String, String)>,
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
    fn paged_person(&self, number: &str) -> Option<&str> {
        self.engine
            .policies()
            .people
            .iter()
            .filter_map(|p| p.identity(Platform::Whatsapp))
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
                    number.to_string(),
                    number.to_string(),
                    (number.to_string(), m.from.clone()),
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
                origin: Origin {
                    room: RoomRef {
                        platform: Platform::Whatsapp,
                        chat,
                        thread: None,
                    },
                    author: Author {
                        handle: None,
                        id: author_id,
                        name,
                    },
                    private_replies: false,
                },
                input: m.input.clone(),
                received_at: m.at,
            },
            contact: Some(contact),
        })
    }

    /// Records the window, relays a roster message, and lets the engine act on a command.
    pub async fn receive(&self, placed: &Placed) -> Result<(), EngineError> {
        let inbound = &placed.inbound;
        let span = tracing::info_span!(
            "inbound",
            platform = "whatsapp",
            room = %self.engine.room_for(&inbound.origin.room).id,
            key = %trace::key(&inbound.dedupe_key()),
        );
        async {
            if let Some((address, seen_as)) = &placed.contact {
                self.engine
                    .unguarded(|unit| {
                        Box::pin(async move {
                            unit.tx
                                .record_contact(
                                    Platform::Whatsapp,
                                    address,
                                    seen_as,
                                    inbound.received_at,
                                )
                                .await?;
                            Ok(())
                        })
                    })
                    .await?;
            }
            // Parsed once: whether it is a command decides what is mirrored, and what to act on.
            let parsed = inbound.command();
            // Typed words are relayed to the rest of a roster; a button tap is not (its effect is).
            if inbound.text().is_some() {
                self.engine.relay(inbound, parsed.is_some()).await?;
            }
            if let Some(parsed) = parsed {
                self.engine
                    .act(parsed, &inbound.origin, &inbound.dedupe_key())
                    .await?;
            }
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// Applies a status to the row it is about (see [`super::delivery`]); a message queued
    /// again as a template wakes the workers when its unit of work commits.
    pub async fn status(&self, report: &DeliveryReport) -> Result<(), EngineError> {
        let span = tracing::info_span!(
            "status",
            platform = "whatsapp",
            status = report.status.as_str(),
            message = %trace::key(&report.platform_message_id),
        );
        super::delivery::apply(&self.engine, report)
            .instrument(span)
            .await?;
        Ok(())
    }

    /// Records a delivery's events; `true` when every one was recorded (or was before).
    pub async fn process(&self, events: Vec<Event>) -> bool {
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

    /// Records one placed message (from the Evolution gateway); `true` once recorded.
    pub async fn process_placed(&self, placed: Placed) -> bool {
        let result = self.receive(&placed).await;
        if let Err(error) = &result {
            let error = phone::redact_numbers(&error.to_string());
            tracing::error!(%error, "an Evolution message was not recorded");
        }
        result.is_ok()
    }

    /// Processes a delivery's events in a task, waiting at most the ack budget; `record` makes
    /// what the journal keeps, only if the answer goes out first.
    pub async fn hand(
        self: &Arc<Self>,
        events: Vec<Event>,
        record: impl FnOnce() -> Option<Record>,
    ) -> Handed {
        if events.is_empty() {
            return Handed::Done;
        }
        let inbox = self.clone();
        self.within_budget(record, async move { inbox.process(events).await })
            .await
    }

    /// Hands one placed message (from the Evolution gateway) over the same way.
    pub async fn hand_placed(
        self: &Arc<Self>,
        placed: Placed,
        record: impl FnOnce() -> Option<Record>,
    ) -> Handed {
        let inbox = self.clone();
        self.within_budget(record, async move { inbox.process_placed(placed).await })
            .await
    }

    async fn within_budget(
        &self,
        record: impl FnOnce() -> Option<Record>,
        work: impl std::future::Future<Output = bool> + Send + 'static,
    ) -> Handed {
        ack::within_budget(&self.engine, Platform::Whatsapp, self.budget, record, work).await
    }
}
