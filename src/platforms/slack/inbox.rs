//! Hands Slack's inbound messages to the engine within Slack's ack deadline. Each text is parsed
//! once, here (chatter ends here); a button press arrives as its command. The engine acts in a
//! task of its own; the request waits for it at most the ack budget ([`crate::platforms::ack`]),
//! so a slow or locked database never makes Slack give up on runroom (the work goes on after the
//! ack, and its answer comes as a message). The names in the message are looked up only after
//! the command committed, in the background ([`People::learn`]): no command waits on Slack.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument as _;

use std::future::Future;

use serde::Serialize;
use slack_morphism::prelude::{
    SlackCommandEvent, SlackInteractionBlockActionsEvent, SlackPushEventCallback,
};

use super::inbound;
use super::people::People;
use crate::engine::command::{Command, ParseError};
use crate::engine::journal::{Entrance, Record};
use crate::engine::room::{Inbound, Platform, RoomRef};
use crate::engine::{Engine, trace};
use crate::i18n::Msg;
use crate::platforms::ack;
pub use crate::platforms::ack::Handed;

pub struct Inbox {
    engine: Arc<Engine>,
    people: Arc<People>,
    budget: Duration,
    /// runroom's workspace, when configured: other teams' commands are refused.
    team: Option<String>,
}

impl Inbox {
    pub fn new(engine: Arc<Engine>, people: Arc<People>, budget: Duration) -> Inbox {
        Inbox {
            engine,
            people,
            budget,
            team: None,
        }
    }

    /// Refuses commands from any workspace but `team` (`[slack] team_id`).
    pub fn with_team(mut self, team: Option<String>) -> Inbox {
        self.team = team.filter(|t| !t.is_empty());
        self
    }

    /// Whether a payload from `team` comes from another workspace than runroom's.
    pub fn foreign(&self, team: &str) -> bool {
        self.team.as_deref().is_some_and(|ours| ours != team)
    }

    /// Answers a command from another workspace with a localized refusal, to its author alone,
    /// once per event; nothing else is done. Only commands are answered (chatter is ignored).
    pub async fn refuse_foreign(&self, inbound: Inbound) -> Handed {
        if inbound.command().is_none() {
            return Handed::Done;
        }
        tracing::warn!(
            platform = "slack",
            "refused a command from another Slack workspace"
        );
        let engine = self.engine.clone();
        let work = async move {
            let msg = Msg::new("error-foreign-workspace");
            engine
                .tell(&inbound.origin, &inbound.dedupe_key(), &msg, true)
                .await
                .is_ok()
        };
        ack::within_budget(&self.engine, Platform::Slack, self.budget, || None, work).await
    }

    /// The refusal Slack shows the person directly (a slash command from another workspace),
    /// in the language of the room it came from.
    pub fn foreign_text(&self, chat: &str) -> String {
        self.text_in(chat, &Msg::new("error-foreign-workspace"))
    }

    /// Hands an inbound message to the engine, waiting at most the ack budget. `record` is the
    /// event as the journal keeps it, made only if the answer goes out first.
    pub async fn hand(&self, inbound: Inbound, record: impl FnOnce() -> Option<Record>) -> Handed {
        // Channel chatter is most of what arrives: no task, no name lookups for it.
        let Some(parsed) = inbound.command() else {
            return Handed::Done;
        };
        let span = self.span(&inbound);
        let work = self.work(parsed, inbound);
        ack::within_budget(&self.engine, Platform::Slack, self.budget, record, work)
            .instrument(span)
            .await
    }

    /// Handles a journaled message again (after a restart, or a failure after the answer).
    pub async fn replay(&self, inbound: Inbound) -> bool {
        let Some(parsed) = inbound.command() else {
            return true;
        };
        let span = self.span(&inbound);
        self.work(parsed, inbound).instrument(span).await
    }

    fn span(&self, inbound: &Inbound) -> tracing::Span {
        tracing::info_span!(
            "inbound",
            platform = "slack",
            room = %self.engine.room_for(&inbound.origin.room).id,
            key = %trace::key(&inbound.dedupe_key()),
        )
    }

    /// The engine acts, then the names in the message are learned.
    fn work(
        &self,
        parsed: Result<Command, ParseError>,
        inbound: Inbound,
    ) -> impl Future<Output = bool> + Send + 'static {
        let engine = self.engine.clone();
        let people = self.people.clone();
        async move {
            let key = inbound.dedupe_key();
            let handled = engine.act(parsed, &inbound.origin, &key).await;
            if let Err(error) = &handled {
                tracing::error!(%error, event = %inbound.event_id, "a Slack command was not recorded");
            }
            people.learn(&inbound, engine.in_flight());
            handled.is_ok()
        }
    }

    /// "Not recorded, try again" in the language of the room the message came from, for the
    /// answers Slack shows the user directly (slash commands, button presses).
    pub fn failure_text(&self, chat: &str) -> String {
        self.text_in(chat, &Msg::new("error-internal"))
    }

    fn text_in(&self, chat: &str, msg: &Msg) -> String {
        let room = self.engine.room_for(&RoomRef {
            platform: Platform::Slack,
            chat: chat.to_string(),
            thread: None,
        });
        self.engine.i18n().render(room.language, room.timezone, msg)
    }
}

/// A Slack event as the journal keeps it: its payload as JSON (Socket Mode gives no raw body),
/// with the time it was received.
pub fn record(
    entrance: Entrance,
    payload: &impl Serialize,
    received_at: chrono::DateTime<chrono::Utc>,
) -> Option<Record> {
    Some(Record {
        entrance,
        received_at,
        body: serde_json::to_string(payload).ok()?,
    })
}

/// Lets the journal replay Slack's events through this inbox.
pub fn register_replays(inbox: &Arc<Inbox>) {
    for entrance in [
        Entrance::SlackEvent,
        Entrance::SlackCommand,
        Entrance::SlackActions,
    ] {
        let inbox = inbox.clone();
        inbox.engine.clone().journal().register(
            entrance,
            Arc::new(move |record: Record| {
                let inbox = inbox.clone();
                Box::pin(async move {
                    match replayed(&record) {
                        Ok(Some(inbound)) => inbox.replay(inbound).await,
                        Ok(None) => true,
                        Err(error) => {
                            // It was read once: a body that no longer reads never will.
                            tracing::error!(%error, "a journaled Slack event cannot be read; dropped");
                            true
                        }
                    }
                })
            }),
        );
    }
}

/// The inbound message a journaled Slack event carries.
fn replayed(record: &Record) -> Result<Option<Inbound>, serde_json::Error> {
    let at = record.received_at;
    Ok(match record.entrance {
        Entrance::SlackEvent => inbound::from_event(
            &serde_json::from_str::<SlackPushEventCallback>(&record.body)?,
            at,
        ),
        Entrance::SlackCommand => Some(inbound::from_command(
            &serde_json::from_str::<SlackCommandEvent>(&record.body)?,
            at,
        )),
        Entrance::SlackActions => inbound::from_actions(
            &serde_json::from_str::<SlackInteractionBlockActionsEvent>(&record.body)?,
            at,
        ),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use slack_morphism::prelude::{SlackInteractionEvent, SlackPushEvent};

    use super::*;

    fn at() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(1_772_000_000, 0).unwrap_or_default()
    }

    /// What the journal keeps of each kind of Slack event reads back as the same message.
    #[test]
    fn a_journaled_event_reads_back_as_the_message_it_was() {
        let command: SlackCommandEvent = serde_urlencoded::from_str(
            "team_id=T0&channel_id=C0RUNROOM&user_id=U0ANA&command=%2Finc\
             &text=declare+sev1+Checkout+%26+pay+down&api_app_id=A0&response_url=https%3A%2F%2Fh.example%2F1\
             &trigger_id=1.2.3",
        )
        .expect("a slash command");
        let kept = record(Entrance::SlackCommand, &command, at()).expect("recorded");
        assert_eq!(
            replayed(&kept).expect("reads"),
            Some(inbound::from_command(&command, at()))
        );

        let event = r#"{"token":"t","team_id":"T0","api_app_id":"A0","event":{"type":"app_mention",
            "channel":"C0RUNROOM","user":"U0ANA","text":"<@U0BOT> ack INC-3","ts":"1772000000.000200",
            "thread_ts":"1772000000.000100"},"type":"event_callback","event_id":"Ev0002","event_time":1772000001}"#;
        let SlackPushEvent::EventCallback(callback) =
            serde_json::from_str::<SlackPushEvent>(event).expect("an event")
        else {
            panic!("an event callback");
        };
        let original = inbound::from_event(&callback, at());
        assert!(original.is_some());
        let kept = record(Entrance::SlackEvent, &callback, at()).expect("recorded");
        assert_eq!(replayed(&kept).expect("reads"), original);

        let press = r#"{"type":"block_actions","team":{"id":"T0","domain":"acme"},
            "user":{"id":"U0BEN","username":"ben","name":"ben","team_id":"T0"},"api_app_id":"A0",
            "token":"t","container":{"type":"message","message_ts":"1772000000.000100",
            "channel_id":"C0RUNROOM","is_ephemeral":false},"trigger_id":"9.9.9",
            "channel":{"id":"C0RUNROOM","name":"runroom"},"response_url":"https://h.example/2",
            "actions":[{"type":"button","action_id":"ack:3","block_id":"b1",
            "text":{"type":"plain_text","text":"Ack"},"value":"ack:3","action_ts":"1772000001.000200"}]}"#;
        let SlackInteractionEvent::BlockActions(actions) =
            serde_json::from_str::<SlackInteractionEvent>(press).expect("a press")
        else {
            panic!("block actions");
        };
        let original = inbound::from_actions(&actions, at());
        assert!(original.is_some());
        let kept = record(Entrance::SlackActions, &actions, at()).expect("recorded");
        assert_eq!(replayed(&kept).expect("reads"), original);
    }
}
