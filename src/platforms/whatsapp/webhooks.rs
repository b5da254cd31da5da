//! WhatsApp's HTTP endpoints. `/webhooks/whatsapp`: Meta's GET verification and its signed POST
//! deliveries (401 for a bad signature, before anything is read or stored). `/webhooks/evolution`:
//! the Evolution gateway's `messages.upsert` deliveries. Both answer 200 within the ack budget;
//! a delivery whose events could not be recorded answers 500, so it is redelivered (dedupe on
//! the message id makes that safe).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRef, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use super::evolution::{self, WebhookAuth};
use super::inbox::{Handed, Inbox, Placed};
use super::signature::{Signed, Verifier};
use super::{inbound, phone};
use crate::engine::journal::{Entrance, Record};
use crate::engine::room::{Author, Inbound, Input, Origin, Platform, RoomRef};

/// Meta's deliveries can be up to 3 MB (axum's default limit is 2 MB).
const MAX_DELIVERY_BYTES: usize = 3 * 1024 * 1024;

#[derive(Clone)]
pub struct WhatsappHttp {
    pub verifier: Arc<Verifier>,
    pub inbox: Arc<Inbox>,
    /// runroom's business number (`[whatsapp] phone_number_id`): what Meta delivers for
    /// another number of the same app is not runroom's to act on. Empty: not checked.
    pub phone_number_id: String,
}

impl FromRef<WhatsappHttp> for Arc<Verifier> {
    fn from_ref(state: &WhatsappHttp) -> Arc<Verifier> {
        state.verifier.clone()
    }
}

/// `GET` and `POST /webhooks/whatsapp`; the journal replays a delivery the same way.
pub fn router(state: WhatsappHttp) -> Router {
    let replay = state.clone();
    state.inbox.engine().journal().register(
        Entrance::Whatsapp,
        Arc::new(move |record: Record| {
            let http = replay.clone();
            Box::pin(async move {
                match inbound::parse(record.body.as_bytes(), record.received_at, &http.phone_number_id) {
                    Ok(events) => http.inbox.process(events).await,
                    Err(error) => {
                        tracing::error!(%error, "a journaled WhatsApp delivery cannot be read; dropped");
                        true
                    }
                }
            })
        }),
    );
    Router::new()
        .route("/webhooks/whatsapp", get(verify).post(deliver))
        .layer(DefaultBodyLimit::max(MAX_DELIVERY_BYTES))
        .with_state(state)
}

fn answer(handed: Handed) -> Response {
    match handed {
        Handed::Done | Handed::Later => StatusCode::OK.into_response(),
        Handed::Failed => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Meta checks the URL once: echo `hub.challenge` when `hub.verify_token` is ours.
async fn verify(
    State(http): State<WhatsappHttp>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    if field("hub.mode") == "subscribe" && http.verifier.verify_token(field("hub.verify_token")) {
        tracing::info!("Meta verified the WhatsApp webhook URL");
        field("hub.challenge").to_string().into_response()
    } else {
        tracing::warn!("refused a WhatsApp webhook verification with a wrong token");
        StatusCode::FORBIDDEN.into_response()
    }
}

async fn deliver(State(http): State<WhatsappHttp>, signed: Signed) -> Response {
    let now = http.inbox.engine().clock().now();
    let events = match inbound::parse(&signed.body, now, &http.phone_number_id) {
        Ok(events) => events,
        Err(error) => {
            // Signed by Meta but unreadable: redelivering would not help.
            tracing::warn!(%error, "unreadable WhatsApp delivery");
            return StatusCode::OK.into_response();
        }
    };
    let record = || kept(Entrance::Whatsapp, &signed.body, now);
    answer(http.inbox.hand(events, record).await)
}

/// A delivery as the journal keeps it. A body that parsed as JSON is UTF-8.
fn kept(entrance: Entrance, body: &[u8], received_at: DateTime<Utc>) -> Option<Record> {
    Some(Record {
        entrance,
        received_at,
        body: String::from_utf8(body.to_vec()).ok()?,
    })
}

#[derive(Clone)]
pub struct EvolutionHttp {
    pub auth: Arc<WebhookAuth>,
    pub inbox: Arc<Inbox>,
}

/// `POST /webhooks/evolution`; the journal replays a delivery the same way (its key was
/// checked when it arrived).
pub fn evolution_router(state: EvolutionHttp) -> Router {
    let inbox = state.inbox.clone();
    state.inbox.engine().journal().register(
        Entrance::Evolution,
        Arc::new(move |record: Record| {
            let inbox = inbox.clone();
            Box::pin(async move {
                match evolution::parse(record.body.as_bytes(), record.received_at) {
                    Ok(delivery) => match delivery.message.and_then(|m| placed(&inbox, &m)) {
                        Some(placed) => inbox.process_placed(placed).await,
                        None => true,
                    },
                    Err(error) => {
                        tracing::error!(%error, "a journaled Evolution delivery cannot be read; dropped");
                        true
                    }
                }
            })
        }),
    );
    Router::new()
        .route("/webhooks/evolution", post(evolution_deliver))
        .layer(DefaultBodyLimit::max(MAX_DELIVERY_BYTES))
        .with_state(state)
}

async fn evolution_deliver(
    State(http): State<EvolutionHttp>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let now = http.inbox.engine().clock().now();
    let delivery = match evolution::parse(&body, now) {
        Ok(delivery) => delivery,
        Err(error) => {
            tracing::warn!(%error, "unreadable Evolution delivery");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    if !http.auth.accepts(
        delivery.apikey.as_deref(),
        query.get("token").map(String::as_str),
    ) {
        metrics::counter!("runroom_inbound_rejected_total", "platform" => "evolution").increment(1);
        tracing::warn!("refused an Evolution delivery without the API key or token");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(placed) = delivery.message.and_then(|m| placed(&http.inbox, &m)) else {
        return StatusCode::OK.into_response();
    };
    let record = || kept(Entrance::Evolution, &body, now);
    answer(http.inbox.hand_placed(placed, record).await)
}

/// An Evolution message placed in its war room; `None` when it is not from one.
fn placed(inbox: &Inbox, m: &evolution::GroupMessage) -> Option<Placed> {
    // The linked phone is someone's WhatsApp: only the groups configured as rooms are war
    // rooms, not its chats or the other groups it is in.
    if !m.chat.ends_with("@g.us") || !inbox.is_war_room(&m.chat) {
        return None;
    }
    let name = m.name.clone().unwrap_or_else(|| {
        m.from
            .as_deref()
            .map_or_else(|| "WhatsApp".to_string(), phone::mask)
    });
    Some(Placed {
        inbound: Inbound {
            event_id: format!("evolution:{}", m.id),
            origin: Origin {
                room: RoomRef {
                    platform: Platform::Whatsapp,
                    chat: m.chat.clone(),
                    thread: None,
                },
                author: Author {
                    handle: None,
                    id: m.from.clone().unwrap_or(m.author_id.clone()),
                    name,
                },
                private_replies: false,
            },
            input: Input::Text(m.text.clone()),
            received_at: m.at,
        },
        // A linked phone has no 24-hour window to open.
        contact: None,
    })
}
