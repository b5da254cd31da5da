//! A fake Evolution API v2 (a self-hosted WhatsApp gateway): `POST /message/sendText/{instance}`
//! with an `apikey` header, answering like Evolution does, including its error envelope; plus the
//! `messages.upsert` webhook it posts for an incoming group message.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// The `instanceId` the fake reports for its one instance.
const INSTANCE_ID: &str = "b1f9c1de-0000-4000-8000-000000000001";

/// How the fake answers one `sendText` request.
#[derive(Debug, Clone)]
pub enum Reply {
    Ok,
    /// HTTP 500 with Evolution's error envelope.
    ServerError,
    /// Evolution's error envelope with this HTTP status (the 4xx shape: a list of messages).
    Error {
        status: u16,
    },
    /// Never answers (the request is not accepted).
    Hang,
}

/// One `sendText` request the fake saw.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub instance: String,
    pub number: String,
    pub text: String,
    pub status: u16,
    /// The message id (`key.id`) the fake answered with, when it accepted the message.
    pub id: Option<String>,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    received: Vec<Received>,
    next_id: u64,
}

#[derive(Clone)]
pub struct FakeEvolution {
    pub url: String,
    pub apikey: String,
    pub instance: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeEvolution {
    pub async fn start(apikey: &str) -> FakeEvolution {
        crate::common::loopback::serve_with("fake evolution", |url| {
            let fake = FakeEvolution {
                url,
                apikey: apikey.to_string(),
                instance: "runroom".into(),
                inner: Arc::new(Mutex::new(Inner::default())),
            };
            let app = Router::new()
                .route("/message/sendText/{instance}", post(send_text))
                .with_state(fake.clone());
            (fake, app)
        })
        .await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        super::lock(&self.inner)
    }

    /// Answers the next `sendText` requests with these replies, in order; then `Ok` again.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.lock().script.extend(replies);
    }

    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The messages the fake accepted (answered 201), in arrival order.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.status == 201)
            .collect()
    }

    /// Polls until `n` messages were accepted, or panics at the deadline.
    pub async fn wait_for_accepted(&self, n: usize, within: Duration) -> Vec<Received> {
        crate::common::poll("fake evolution's accepted messages", within, || {
            Some(self.accepted()).filter(|a| a.len() >= n)
        })
        .await
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        headers
            .get("apikey")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == self.apikey)
    }
}

/// Evolution's error envelope: `{"status", "error", "response": {"message"}}`.
fn evolution_error(status: u16, message: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({
        "status": status.as_u16(),
        "error": status.canonical_reason().unwrap_or("Error"),
        "response": { "message": message }
    });
    (status, axum::Json(body)).into_response()
}

fn unauthorized() -> Response {
    evolution_error(401, json!("Unauthorized"))
}

fn no_instance(instance: &str) -> Response {
    evolution_error(
        404,
        json!([format!("The \"{instance}\" instance does not exist")]),
    )
}

async fn send_text(
    State(fake): State<FakeEvolution>,
    Path(instance): Path<String>,
    request: super::Arrived,
) -> Response {
    let at = request.at;
    let authorized = fake.authorized(&request.headers);
    let known = instance == fake.instance;
    let parsed = request.json;
    let number = parsed["number"].as_str().unwrap_or_default().to_string();
    let text = parsed["text"].as_str().unwrap_or_default().to_string();
    let mut problems = Vec::new();
    if number.is_empty() {
        problems.push("instance requires property \"number\"");
    }
    if text.is_empty() {
        problems.push("instance requires property \"text\"");
    }

    let (status, response, hang, id) = {
        let mut inner = fake.lock();
        let scripted = inner.script.pop_front().unwrap_or(Reply::Ok);
        let hang = matches!(scripted, Reply::Hang);
        let mut id = None;
        let response = if !authorized {
            unauthorized()
        } else if !known {
            no_instance(&instance)
        } else if !problems.is_empty() {
            evolution_error(400, json!(problems))
        } else {
            match scripted {
                Reply::ServerError => evolution_error(500, json!("Internal server error")),
                Reply::Error { status } => evolution_error(
                    status,
                    json!([format!("Request failed with status {status}")]),
                ),
                Reply::Ok | Reply::Hang => {
                    inner.next_id += 1;
                    let message_id =
                        format!("BAE5{:016X}", 0x3EB0_C0DE_0000_0000_u64 + inner.next_id);
                    id = Some(message_id.clone());
                    (
                        StatusCode::CREATED,
                        axum::Json(json!({
                            "key": {
                                "remoteJid": number,
                                "fromMe": true,
                                "id": message_id
                            },
                            "pushName": "",
                            "status": "PENDING",
                            "message": { "conversation": text },
                            "messageType": "conversation",
                            "messageTimestamp": chrono::Utc::now().timestamp(),
                            "instanceId": INSTANCE_ID,
                            "source": "unknown"
                        })),
                    )
                        .into_response()
                }
            }
        };
        // A hung request was never answered, so it was not accepted (status 0).
        let status = if hang { 0 } else { response.status().as_u16() };
        (status, response, hang, if hang { None } else { id })
    };
    fake.lock().received.push(Received {
        at,
        instance,
        number,
        text,
        status,
        id,
    });
    super::answer_unless_hung(response, hang).await
}

/// The webhook Evolution POSTs for an incoming group message (`messages.upsert`).
pub fn messages_upsert(
    apikey: &str,
    instance: &str,
    group: &str,
    participant: &str,
    push_name: &str,
    id: &str,
    text: &str,
) -> Value {
    let now = chrono::Utc::now();
    json!({
        "event": "messages.upsert",
        "instance": instance,
        "data": {
            "key": {
                "remoteJid": group,
                "fromMe": false,
                "id": id,
                "participant": participant
            },
            "pushName": push_name,
            "status": "DELIVERY_ACK",
            "message": { "conversation": text },
            "messageType": "conversation",
            "messageTimestamp": now.timestamp(),
            "instanceId": INSTANCE_ID,
            "source": "android"
        },
        "destination": "http://127.0.0.1/webhooks/evolution",
        "date_time": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "sender": "5511999990000@s.whatsapp.net",
        "server_url": "http://127.0.0.1:8080",
        "apikey": apikey
    })
}
