//! A fake Telegram Bot API: `POST /bot<TOKEN>/<method>` with a JSON body, answering
//! `{"ok":true,"result":…}` like Telegram does (a whole `Message` for `sendMessage`), or 429
//! with `parameters.retry_after` when a chat is scripted to be rate-limited. It records every
//! call, and makes the updates Telegram would post to a webhook.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use axum::body::Bytes;
use axum::http::HeaderMap;

use super::lock;

/// One Bot API call the fake saw.
#[derive(Debug, Clone)]
pub struct Call {
    pub at: Instant,
    pub method: String,
    pub body: Value,
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    next_message: i64,
    /// Chat id → how many more sends to it answer 429.
    limited: HashMap<i64, u32>,
    /// Updates `getUpdates` has not handed out yet.
    updates: Vec<Value>,
    /// The URL `getWebhookInfo` reports ("" for none).
    webhook: String,
    /// Chat id → the supergroup it became (sends to it are refused with its new id).
    migrated: HashMap<i64, i64>,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub url: String,
    pub token: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let token = "123456:TEST-token".to_string();
        let state = inner.clone();
        let url = crate::common::loopback::serve(
            "the fake Telegram",
            Router::new()
                .route("/{bot}/{method}", post(call))
                .with_state(state),
        )
        .await;
        FakeTelegram { url, token, inner }
    }

    /// The next `times` sends to `chat` answer 429 with `retry_after` 1.
    pub fn limit(&self, chat: i64, times: u32) {
        lock(&self.inner).limited.insert(chat, times);
    }

    /// `from` became the supergroup `to`: sends to `from` answer 400 with `migrate_to_chat_id`.
    pub fn migrate(&self, from: i64, to: i64) {
        lock(&self.inner).migrated.insert(from, to);
    }

    /// Queues an update for `getUpdates`.
    pub fn push_update(&self, update: Value) {
        lock(&self.inner).updates.push(update);
    }

    /// Reports a webhook as set (long polling must refuse it).
    pub fn set_webhook(&self, url: &str) {
        lock(&self.inner).webhook = url.to_string();
    }

    pub fn calls(&self) -> Vec<Call> {
        lock(&self.inner).calls.clone()
    }

    /// The texts `sendMessage` delivered (200) to `chat`.
    pub fn sent_to(&self, chat: i64) -> Vec<Value> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == "SendMessage" && c.status == 200 && c.body["chat_id"] == chat)
            .map(|c| c.body)
            .collect()
    }
}

/// A request's fields: its JSON body, or its multipart form's fields as strings (teloxide sends
/// `setWebhook` as a form, since it may carry a certificate).
fn fields(headers: &HeaderMap, body: &[u8]) -> Value {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = content_type.split("boundary=").nth(1) else {
        return serde_json::from_slice(body).unwrap_or(Value::Null);
    };
    let text = String::from_utf8_lossy(body);
    let mut form = serde_json::Map::new();
    for part in text.split(&format!("--{}", boundary.trim_matches('"'))) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        form.insert(
            name.to_string(),
            Value::String(value.trim_end_matches("\r\n").to_string()),
        );
    }
    Value::Object(form)
}

async fn call(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let at = Instant::now();
    let body = fields(&headers, &raw);
    let mut state = lock(&inner);
    let (status, answer) = if !bot.starts_with("bot") {
        (
            404,
            json!({"ok": false, "error_code": 404, "description": "Not Found"}),
        )
    } else {
        match method.as_str() {
            "SendMessage" | "sendMessage" => {
                let chat = body["chat_id"].as_i64().unwrap_or_default();
                if let Some(to) = state.migrated.get(&chat).copied() {
                    let refused = json!({"ok": false, "error_code": 400,
                        "description": "Bad Request: group chat was upgraded to a supergroup chat",
                        "parameters": {"migrate_to_chat_id": to}});
                    state.calls.push(Call {
                        at,
                        method: method.clone(),
                        body,
                        status: 400,
                    });
                    return (StatusCode::BAD_REQUEST, axum::Json(refused)).into_response();
                }
                match state.limited.get_mut(&chat) {
                    Some(left) if *left > 0 => {
                        *left -= 1;
                        (
                            429,
                            json!({"ok": false, "error_code": 429,
                                   "description": "Too Many Requests: retry after 1",
                                   "parameters": {"retry_after": 1}}),
                        )
                    }
                    _ => {
                        state.next_message += 1;
                        (
                            200,
                            json!({"ok": true, "result": {
                                "message_id": state.next_message,
                                "date": 1_764_417_600,
                                "chat": {"id": chat, "type": "supergroup", "title": "War room"},
                                "from": {"id": 123_456, "is_bot": true, "first_name": "runroom", "username": "RunroomBot"},
                                "text": body["text"].clone(),
                            }}),
                        )
                    }
                }
            }
            "SetWebhook" | "SetMyCommands" => (200, json!({"ok": true, "result": true})),
            "GetWebhookInfo" => (
                200,
                json!({"ok": true, "result": {"url": state.webhook, "has_custom_certificate": false, "pending_update_count": 0}}),
            ),
            // Updates from `offset` on, as Telegram forgets those before it.
            "GetUpdates" => {
                let offset = body["offset"].as_i64().unwrap_or(0);
                state
                    .updates
                    .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
                (200, json!({"ok": true, "result": state.updates.clone()}))
            }
            _ => (
                400,
                json!({"ok": false, "error_code": 400, "description": "Bad Request: method not faked"}),
            ),
        }
    };
    state.calls.push(Call {
        at,
        method: method.clone(),
        body,
        status,
    });
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(answer),
    )
        .into_response()
}

/// A text message update as Telegram posts it to a webhook.
pub fn text_update(update_id: i64, chat: i64, user: (i64, &str), text: &str) -> Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_764_417_600,
            "chat": {"id": chat, "type": "supergroup", "title": "Guardia"},
            "from": {"id": user.0, "is_bot": false, "first_name": user.1, "username": user.1, "language_code": "es"},
            "text": text,
        }
    })
}

/// [`text_update`] written in a forum topic (`message_thread_id`), or in a reply thread of a plain
/// group when `topic` is false (Telegram sets the thread id there too).
pub fn threaded_update(
    update_id: i64,
    chat: i64,
    user: (i64, &str),
    text: &str,
    thread: i64,
    topic: bool,
) -> Value {
    let mut update = text_update(update_id, chat, user, text);
    update["message"]["message_thread_id"] = thread.into();
    update["message"]["is_topic_message"] = topic.into();
    update
}

/// The service message Telegram posts in a group that became the supergroup `to`.
pub fn migration_update(update_id: i64, chat: i64, to: i64) -> Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_764_417_600,
            "chat": {"id": chat, "type": "group", "title": "Old group"},
            "from": {"id": 42, "is_bot": false, "first_name": "ana_ops", "username": "ana_ops"},
            "migrate_to_chat_id": to,
        }
    })
}
