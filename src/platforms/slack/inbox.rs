//! Hands Slack's inbound messages to the engine within Slack's ack deadline. The names in a
//! message are learned and the engine decides in a task of its own; the request waits for it at
//! most the ack budget, so a slow or locked database never makes Slack give up on runroom (the
//! work goes on after the ack, and its answer comes as a message).

use std::sync::Arc;
use std::time::Duration;

use super::people::People;
use crate::engine::reply::Msg;
use crate::engine::room::{Inbound, RoomRef};
use crate::engine::{Engine, command};

/// How an inbound message stands when the request must be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handed {
    /// The engine committed (or recognised a redelivery, or it was not a command).
    Done,
    /// The engine failed: nothing was stored, so a redelivery would be handled afresh.
    Failed,
    /// Still working when the budget ran out; it carries on.
    Later,
}

pub struct Inbox {
    engine: Arc<Engine>,
    people: Arc<People>,
    budget: Duration,
}

impl Inbox {
    pub fn new(engine: Arc<Engine>, people: Arc<People>, budget: Duration) -> Inbox {
        Inbox {
            engine,
            people,
            budget,
        }
    }

    pub async fn hand(&self, inbound: Inbound) -> Handed {
        // Channel chatter is most of what arrives: no task, no name lookups for it.
        if command::parse(&inbound.text).is_none() {
            return Handed::Done;
        }
        let engine = self.engine.clone();
        let people = self.people.clone();
        let work = self.engine.in_flight().spawn(async move {
            people.learn(&inbound).await;
            let handled = engine.handle(&inbound).await;
            if let Err(error) = &handled {
                tracing::error!(%error, event = %inbound.event_id, "a Slack command was not recorded");
            }
            handled.is_ok()
        });
        match tokio::time::timeout(self.budget, work).await {
            Ok(Ok(true)) => Handed::Done,
            Ok(Ok(false)) | Ok(Err(_)) => Handed::Failed,
            Err(_) => {
                tracing::info!("acknowledged a Slack request before the engine finished");
                Handed::Later
            }
        }
    }

    /// "Not recorded, try again" in the language of the room the message came from, for the
    /// answers Slack shows the user directly (slash commands, button presses).
    pub fn failure_text(&self, chat: &str) -> String {
        let room = self.engine.room_for(&RoomRef {
            platform: crate::engine::room::Platform::Slack,
            chat: chat.to_string(),
            thread: None,
        });
        self.engine
            .i18n()
            .render(room.language, room.timezone, &Msg::new("error-internal"))
    }
}
