//! `POST /webhooks/telegram`: the update's `X-Telegram-Bot-Api-Secret-Token` is compared with
//! `RUNROOM_TELEGRAM_WEBHOOK_SECRET` in constant time (401 and nothing read otherwise), then the
//! command is handed to the engine within the ack budget. Telegram redelivers an update until it
//! gets a 2xx, so a failure to record answers 500 and the `update_id` dedupes the redelivery.
//! With `public_url` set, `serve` registers the webhook (with the secret) at start.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use teloxide_core::payloads::SetWebhookSetters as _;
use teloxide_core::prelude::Requester as _;
use tracing::Instrument as _;

use super::TelegramConfig;
use super::inbound::Asked;
use super::updates::Updates;
use crate::engine::room::Platform;
use crate::engine::trace;
use crate::platforms::Listener;
use crate::platforms::ack::{self, Handed};

const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

#[derive(Clone)]
struct Webhook {
    updates: Arc<Updates>,
    secret: Arc<[u8; 32]>,
    budget: std::time::Duration,
}

pub fn router(updates: Arc<Updates>, config: &TelegramConfig, secret: String) -> Router {
    Router::new()
        .route("/webhooks/telegram", post(receive))
        .with_state(Webhook {
            updates,
            secret: Arc::new(Sha256::digest(secret.as_bytes()).into()),
            budget: config.ack_budget(),
        })
}

async fn receive(State(hook): State<Webhook>, headers: HeaderMap, body: Bytes) -> Response {
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| Sha256::digest(v.as_bytes()))
        .unwrap_or_default();
    if !bool::from(given.as_slice().ct_eq(hook.secret.as_slice())) {
        metrics::counter!("runroom_inbound_rejected_total", "platform" => "telegram").increment(1);
        tracing::warn!(
            platform = "telegram",
            "refused an update with a wrong secret token"
        );
        return (StatusCode::UNAUTHORIZED, "invalid secret token").into_response();
    }
    let update: teloxide_core::types::Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(error) => {
            // Redelivering it would not help.
            tracing::warn!(%error, "an update runroom cannot read; ignored");
            return StatusCode::OK.into_response();
        }
    };
    let asked = match hook.updates.place(&update).await {
        Ok(Some(asked)) => asked,
        Ok(None) => return StatusCode::OK.into_response(),
        Err(error) => {
            tracing::error!(%error, "a Telegram update could not be placed; Telegram will retry");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let inbound = match &asked {
        Asked::Command { inbound, .. }
        | Asked::Press { inbound, .. }
        | Asked::Start { inbound, .. } => inbound,
    };
    let engine = hook.updates.engine().clone();
    let span = tracing::info_span!(
        "inbound",
        platform = "telegram",
        room = %engine.room_for(&inbound.origin.room).id,
        key = %trace::key(&inbound.dedupe_key()),
    );
    let updates = hook.updates.clone();
    let work = async move {
        let handled = updates.act(asked).await;
        if let Err(error) = &handled {
            tracing::error!(%error, "a Telegram update was not recorded");
        }
        handled.is_ok()
    };
    match ack::within_budget(&engine, Platform::Telegram, hook.budget, work)
        .instrument(span)
        .await
    {
        Handed::Done | Handed::Later => StatusCode::OK.into_response(),
        Handed::Failed => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Registers `<public_url>/webhooks/telegram` with its secret, once, when `serve` starts.
pub fn register(bot: teloxide_core::Bot, public_url: String, secret: String) -> Listener {
    Box::new(move |_stop| {
        Box::pin(async move {
            let url = format!("{}/webhooks/telegram", public_url.trim_end_matches('/'));
            let Ok(url) = reqwest::Url::parse(&url) else {
                tracing::error!(%url, "telegram.public_url does not make a URL; no webhook set");
                return;
            };
            match bot.set_webhook(url.clone()).secret_token(secret).await {
                Ok(_) => tracing::info!(%url, "Telegram webhook set"),
                Err(error) => tracing::error!(%error, "could not set the Telegram webhook"),
            }
        })
    })
}
