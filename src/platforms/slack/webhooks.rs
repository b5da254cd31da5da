//! Slack's HTTP endpoints: `/webhooks/slack/events` (Events API), `/webhooks/slack/commands`
//! (slash commands) and `/webhooks/slack/interactions` (button presses). Each request is signed
//! ([`Signed`] answers 401 otherwise) and answered within Slack's 3 s whatever the database is
//! doing ([`Inbox`]); redeliveries are recognised by the engine from their ids.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use slack_morphism::prelude::{SlackCommandEvent, SlackInteractionEvent, SlackPushEvent};

use super::inbound;
use super::inbox::{self, Handed, Inbox};
use super::signature::{Signed, Verifier};
use crate::engine::clock::Clock;
use crate::engine::journal::Entrance;

#[derive(Clone)]
pub struct SlackHttp {
    pub verifier: Arc<Verifier>,
    pub inbox: Arc<Inbox>,
    pub clock: Arc<dyn Clock>,
}

impl FromRef<SlackHttp> for Arc<Verifier> {
    fn from_ref(state: &SlackHttp) -> Arc<Verifier> {
        state.verifier.clone()
    }
}

pub fn router(state: SlackHttp) -> Router {
    Router::new()
        .route("/webhooks/slack/events", post(events))
        .route("/webhooks/slack/commands", post(commands))
        .route("/webhooks/slack/interactions", post(interactions))
        .with_state(state)
}

fn unreadable(what: &str, error: impl std::fmt::Display) -> Response {
    tracing::warn!(%error, "unreadable Slack {what}");
    (StatusCode::BAD_REQUEST, format!("unreadable {what}")).into_response()
}

/// What Slack shows the person who typed a slash command or pressed a button: nothing (the
/// answer follows as a message), or "not recorded, try again" when the database failed.
fn direct_answer(http: &SlackHttp, handed: Handed, chat: &str) -> Response {
    match handed {
        Handed::Done | Handed::Later => StatusCode::OK.into_response(),
        Handed::Failed => Json(json!({
            "response_type": "ephemeral",
            "text": http.inbox.failure_text(chat),
        }))
        .into_response(),
    }
}

/// Events API: the URL check, then messages and mentions. A failure answers 500 so Slack
/// redelivers the event (nothing was stored for it).
async fn events(State(http): State<SlackHttp>, signed: Signed) -> Response {
    let event: SlackPushEvent = match serde_json::from_slice(&signed.body) {
        Ok(event) => event,
        Err(error) => return unreadable("event", error),
    };
    match event {
        SlackPushEvent::UrlVerification(check) => {
            Json(json!({ "challenge": check.challenge })).into_response()
        }
        SlackPushEvent::EventCallback(callback) => {
            if let Some(retry) = signed.retry_num() {
                tracing::debug!(retry, event = %callback.event_id.0, "Slack redelivered an event");
            }
            let now = http.clock.now();
            let Some(inbound) = inbound::from_event(&callback, now) else {
                return StatusCode::OK.into_response();
            };
            // A Slack Connect guest's message carries their own team as `event.user_team`.
            let team = user_team(&signed.body).unwrap_or_else(|| callback.team_id.0.clone());
            let handed = if http.inbox.foreign(&team) {
                http.inbox.refuse_foreign(inbound).await
            } else {
                let record = || inbox::record(Entrance::SlackEvent, &callback, now);
                http.inbox.hand(inbound, record).await
            };
            match handed {
                Handed::Failed => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                Handed::Done | Handed::Later => StatusCode::OK.into_response(),
            }
        }
        SlackPushEvent::AppRateLimited(_) => {
            tracing::warn!("Slack is rate limiting the events it sends to runroom");
            StatusCode::OK.into_response()
        }
    }
}

/// The team of the user who wrote an event's message, when Slack says (`event.user_team`: a
/// Slack Connect guest's own workspace).
fn user_team(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    Some(value.get("event")?.get("user_team")?.as_str()?.to_string())
}

/// A slash command: form-encoded, acknowledged at once with an empty body.
async fn commands(State(http): State<SlackHttp>, signed: Signed) -> Response {
    let command: SlackCommandEvent = match serde_urlencoded::from_bytes(&signed.body) {
        Ok(command) => command,
        Err(error) => return unreadable("slash command", error),
    };
    let chat = command.channel_id.0.clone();
    if http.inbox.foreign(&command.team_id.0) {
        tracing::warn!(
            platform = "slack",
            "refused a slash command from another Slack workspace"
        );
        return Json(json!({
            "response_type": "ephemeral",
            "text": http.inbox.foreign_text(&chat),
        }))
        .into_response();
    }
    let now = http.clock.now();
    let record = || inbox::record(Entrance::SlackCommand, &command, now);
    let handed = http
        .inbox
        .hand(inbound::from_command(&command, now), record)
        .await;
    direct_answer(&http, handed, &chat)
}

#[derive(Deserialize)]
struct InteractionForm {
    payload: String,
}

/// A button press: the form field `payload` holds the JSON.
async fn interactions(State(http): State<SlackHttp>, signed: Signed) -> Response {
    let event = serde_urlencoded::from_bytes::<InteractionForm>(&signed.body)
        .map_err(|e| e.to_string())
        .and_then(|form| {
            serde_json::from_str::<SlackInteractionEvent>(&form.payload).map_err(|e| e.to_string())
        });
    let event = match event {
        Ok(event) => event,
        Err(error) => return unreadable("interaction", error),
    };
    let SlackInteractionEvent::BlockActions(actions) = event else {
        return StatusCode::OK.into_response();
    };
    let now = http.clock.now();
    let Some(inbound) = inbound::from_actions(&actions, now) else {
        return StatusCode::OK.into_response();
    };
    let chat = inbound.origin.room.chat.clone();
    let team = actions
        .user
        .as_ref()
        .and_then(|u| u.team_id.as_ref())
        .unwrap_or(&actions.team.id);
    let handed = if http.inbox.foreign(&team.0) {
        http.inbox.refuse_foreign(inbound).await
    } else {
        let record = || inbox::record(Entrance::SlackActions, &actions, now);
        http.inbox.hand(inbound, record).await
    };
    direct_answer(&http, handed, &chat)
}
