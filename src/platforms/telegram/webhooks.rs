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
use super::updates::{Unrecorded, Updates};
use crate::engine::journal::{Entrance, Record};
use crate::engine::room::Platform;
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
    let replay = updates.clone();
    updates.engine().journal().register(
        Entrance::Telegram,
        Arc::new(move |record: Record| {
            let updates = replay.clone();
            Box::pin(async move {
                match serde_json::from_str::<teloxide_core::types::Update>(&record.body) {
                    Ok(update) => handle(&updates, &update).await.is_ok(),
                    Err(error) => {
                        tracing::error!(%error, "a journaled Telegram update cannot be read; dropped");
                        true
                    }
                }
            })
        }),
    );
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
    let engine = hook.updates.engine().clone();
    // Placing an update may write (a group's move, a person's name): it runs within the budget
    // with the rest, so a locked database never holds the answer.
    let span = tracing::info_span!("inbound", platform = "telegram", update = update.id.0);
    let updates = hook.updates.clone();
    let work = async move { handle(&updates, &update).await.is_ok() };
    let received_at = engine.clock().now();
    let record = || {
        Some(Record {
            entrance: Entrance::Telegram,
            received_at,
            // It parsed as JSON: it is UTF-8.
            body: String::from_utf8(body.to_vec()).ok()?,
        })
    };
    match ack::within_budget(&engine, Platform::Telegram, hook.budget, record, work)
        .instrument(span)
        .await
    {
        Handed::Done | Handed::Later => StatusCode::OK.into_response(),
        Handed::Failed => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// An update placed (in its room, its person remembered) and acted on: by the webhook, and
/// again by the journal.
async fn handle(
    updates: &Updates,
    update: &teloxide_core::types::Update,
) -> Result<(), Unrecorded> {
    match updates.place(update).await {
        Ok(Some(asked)) => updates.act(asked).await,
        Ok(None) => Ok(()),
        Err(error) => Err(error),
    }
    .inspect_err(|error| tracing::error!(%error, "a Telegram update was not recorded"))
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
