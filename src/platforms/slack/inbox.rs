//! Hands Slack's inbound messages to the engine within Slack's ack deadline. Each text is parsed
//! once, here (chatter ends here); a button press arrives as its command. The engine acts in a
//! task of its own; the request waits for it at most the ack budget ([`crate::platforms::ack`]),
//! so a slow or locked database never makes Slack give up on runroom (the work goes on after the
//! ack, and its answer comes as a message). The names in the message are looked up only after
//! the command committed, in the background ([`People::learn`]): no command waits on Slack.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument as _;

use super::people::People;
use crate::engine::room::{Inbound, Platform, RoomRef};
use crate::engine::{Engine, trace};
use crate::i18n::Msg;
use crate::platforms::ack;
pub use crate::platforms::ack::Handed;

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
        let Some(parsed) = inbound.command() else {
            return Handed::Done;
        };
        let key = inbound.dedupe_key();
        let span = tracing::info_span!(
            "inbound",
            platform = "slack",
            room = %self.engine.room_for(&inbound.origin.room).id,
            key = %trace::key(&key),
        );
        let engine = self.engine.clone();
        let people = self.people.clone();
        let work = async move {
            let handled = engine.act(parsed, &inbound.origin, &key).await;
            if let Err(error) = &handled {
                tracing::error!(%error, event = %inbound.event_id, "a Slack command was not recorded");
            }
            people.learn(&inbound, engine.in_flight());
            handled.is_ok()
        };
        ack::within_budget(&self.engine, Platform::Slack, self.budget, work)
            .instrument(span)
            .await
    }

    /// "Not recorded, try again" in the language of the room the message came from, for the
    /// answers Slack shows the user directly (slash commands, button presses).
    pub fn failure_text(&self, chat: &str) -> String {
        let room = self.engine.room_for(&RoomRef {
            platform: Platform::Slack,
            chat: chat.to_string(),
            thread: None,
        });
        self.engine
            .i18n()
            .render(room.language, room.timezone, &Msg::new("error-internal"))
    }
}
