//! A fake Telegram Bot API: `POST /bot<TOKEN>/<method>` with a JSON body, answering
//! `{"ok":true,"result":…}` like Telegram does (a whole `Message` for `sendMessage` and
//! `editMessageText`, a `ForumTopic` for `createForumTopic`), or Telegram's errors: 429 with
//! `parameters.retry_after` when a chat is scripted to be rate-limited or goes over its limit
//! of calls a minute, 400 with `parameters.migrate_to_chat_id` for a group that moved, "the
//! chat is not a forum", "message is not modified", "message is too long" past 4,096
//! characters once its HTML is parsed, 403 for a person who never started the bot. It records every call, and makes the updates Telegram would post to a webhook.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// What the fake answered (`result` holds a sent message's `message_id`).
    pub answer: Value,
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
    /// Forum supergroups: topics can be made there.
    forums: HashSet<i64>,
    next_topic: i64,
    /// Closed topics, by (chat, topic).
    closed: HashSet<(i64, i64)>,
    /// What each message shows now (text and keyboard), by (chat, message id).
    shown: HashMap<(i64, i64), Value>,
    /// Private chats of people who started the bot (others answer 403).
    started: HashSet<i64>,
    /// The most calls one chat takes in any `window`, then 429 (none when unset).
    per_chat: Option<(usize, Duration)>,
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

    /// `chat` is a forum supergroup: topics can be made there.
    pub fn forum(&self, chat: i64) {
        lock(&self.inner).forums.insert(chat);
    }

    /// The person `user` has started the bot: their private chat takes messages.
    pub fn start_chat(&self, user: i64) {
        lock(&self.inner).started.insert(user);
    }

    /// Telegram's limit on one chat: at most `calls` of anything (messages, edits, pins, topics)
    /// in any `window`; more answer 429.
    pub fn limit_per_chat(&self, calls: usize, window: Duration) {
        lock(&self.inner).per_chat = Some((calls, window));
    }

    /// Whether a topic is closed now.
    pub fn is_closed(&self, chat: i64, topic: i64) -> bool {
        lock(&self.inner).closed.contains(&(chat, topic))
    }

    /// What a message shows now: its text and its keyboard.
    pub fn shown(&self, chat: i64, message: i64) -> Option<Value> {
        lock(&self.inner).shown.get(&(chat, message)).cloned()
    }

    /// The calls of one method that Telegram accepted (200).
    pub fn accepted(&self, method: &str) -> Vec<Value> {
        self.accepted_calls(method)
            .into_iter()
            .map(|c| c.body)
            .collect()
    }

    /// [`FakeTelegram::accepted`], with the answers.
    pub fn accepted_calls(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method) && c.status == 200)
            .collect()
    }

    /// The calls to `chat` that were answered 429.
    pub fn refused_429(&self, chat: i64) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.status == 429 && chat_of(&c.body) == chat)
            .count()
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

    /// The messages `sendMessage` delivered (200) to `chat`, cards included.
    pub fn sent_to(&self, chat: i64) -> Vec<Value> {
        self.accepted("SendMessage")
            .into_iter()
            .filter(|body| body["chat_id"] == chat)
            .collect()
    }

    /// The messages delivered to `chat` that are not a card (no keyboard).
    pub fn said_to(&self, chat: i64) -> Vec<Value> {
        self.sent_to(chat)
            .into_iter()
            .filter(|body| body.get("reply_markup").is_none())
            .collect()
    }

    /// The cards posted to `chat` (messages with a keyboard).
    pub fn cards_to(&self, chat: i64) -> Vec<Value> {
        self.sent_to(chat)
            .into_iter()
            .filter(|body| body.get("reply_markup").is_some())
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
    let (status, answer) = if bot.starts_with("bot") {
        answer(&mut state, &method, &body, at)
    } else {
        refuse(404, "Not Found")
    };
    state.calls.push(Call {
        at,
        method: method.clone(),
        body,
        status,
        answer: answer.clone(),
    });
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(answer),
    )
        .into_response()
}

fn refuse(status: u16, description: &str) -> (u16, Value) {
    (
        status,
        json!({"ok": false, "error_code": status, "description": description}),
    )
}

fn ok(result: Value) -> (u16, Value) {
    (200, json!({"ok": true, "result": result}))
}

/// The chat a call is for, as Telegram reads `chat_id` (a number, or its text).
fn chat_of(body: &Value) -> i64 {
    body["chat_id"]
        .as_i64()
        .or_else(|| body["chat_id"].as_str().and_then(|c| c.parse().ok()))
        .unwrap_or_default()
}

/// Calls about one chat: scripted 429s, the limit a minute, a moved group, a private chat of
/// someone who never started the bot.
fn chat_trouble(state: &mut Inner, method: &str, chat: i64, at: Instant) -> Option<(u16, Value)> {
    if let Some(to) = state.migrated.get(&chat).copied() {
        return Some((
            400,
            json!({"ok": false, "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": {"migrate_to_chat_id": to}}),
        ));
    }
    let too_many = || {
        (
            429,
            json!({"ok": false, "error_code": 429,
                   "description": "Too Many Requests: retry after 1",
                   "parameters": {"retry_after": 1}}),
        )
    };
    if let Some(left) = state.limited.get_mut(&chat).filter(|left| **left > 0) {
        *left -= 1;
        return Some(too_many());
    }
    if let Some((calls, window)) = state.per_chat {
        let recent = state
            .calls
            .iter()
            // Every call counts, whatever Telegram answered it, except those it refused for
            // the limit itself.
            .filter(|c| c.status != 429 && chat_of(&c.body) == chat && !c.method.starts_with("Get"))
            .filter(|c| at.duration_since(c.at) < window)
            .count();
        if recent >= calls {
            return Some(too_many());
        }
    }
    if chat > 0 && !state.started.contains(&chat) && method.eq_ignore_ascii_case("SendMessage") {
        return Some(refuse(
            403,
            "Forbidden: bot can't initiate conversation with a user",
        ));
    }
    None
}

fn answer(state: &mut Inner, method: &str, body: &Value, at: Instant) -> (u16, Value) {
    let chat = chat_of(body);
    let about_a_chat = !matches!(
        method,
        "SetWebhook" | "SetMyCommands" | "GetWebhookInfo" | "GetUpdates" | "AnswerCallbackQuery"
    );
    if about_a_chat && let Some(trouble) = chat_trouble(state, method, chat, at) {
        return trouble;
    }
    let text_method = matches!(method, "SendMessage" | "EditMessageText");
    if text_method && let Some(problem) = body["text"].as_str().and_then(text_problem) {
        return refuse(400, problem);
    }
    match method {
        "SendMessage" => {
            state.next_message += 1;
            let id = state.next_message;
            state.shown.insert(
                (chat, id),
                json!({"text": body["text"], "reply_markup": body["reply_markup"]}),
            );
            let mut message = json!({
                "message_id": id,
                "date": 1_764_417_600,
                "chat": {"id": chat, "type": if chat > 0 { "private" } else { "supergroup" }, "title": "War room"},
                "from": {"id": 123_456, "is_bot": true, "first_name": "runroom", "username": "RunroomBot"},
                "text": body["text"].clone(),
            });
            if let Some(topic) = body["message_thread_id"].as_i64() {
                message["message_thread_id"] = topic.into();
                message["is_topic_message"] = true.into();
            }
            ok(message)
        }
        "EditMessageText" => {
            let id = body["message_id"].as_i64().unwrap_or_default();
            let now = json!({"text": body["text"], "reply_markup": body["reply_markup"]});
            match state.shown.get(&(chat, id)) {
                None => refuse(400, "Bad Request: message to edit not found"),
                Some(before) if *before == now => refuse(
                    400,
                    "Bad Request: message is not modified: specified new message content and \
                     reply markup are exactly the same as a current content and reply markup of \
                     the message",
                ),
                Some(_) => {
                    state.shown.insert((chat, id), now);
                    ok(json!({
                        "message_id": id,
                        "date": 1_764_417_600,
                        "edit_date": 1_764_417_700,
                        "chat": {"id": chat, "type": "supergroup", "title": "War room"},
                        "text": body["text"].clone(),
                    }))
                }
            }
        }
        "CreateForumTopic" if state.forums.contains(&chat) => {
            state.next_topic += 1;
            ok(json!({
                "message_thread_id": 1000 + state.next_topic,
                "name": body["name"],
                "icon_color": body["icon_color"].as_i64().unwrap_or(7_322_096),
            }))
        }
        "CreateForumTopic" => refuse(400, "Bad Request: the chat is not a forum"),
        "CloseForumTopic" | "ReopenForumTopic" => {
            let topic = body["message_thread_id"].as_i64().unwrap_or_default();
            let closing = method == "CloseForumTopic";
            if state.closed.contains(&(chat, topic)) == closing {
                refuse(400, "Bad Request: TOPIC_NOT_MODIFIED")
            } else {
                if closing {
                    state.closed.insert((chat, topic));
                } else {
                    state.closed.remove(&(chat, topic));
                }
                ok(json!(true))
            }
        }
        "PinChatMessage" | "SetWebhook" | "SetMyCommands" | "AnswerCallbackQuery" => {
            ok(json!(true))
        }
        "GetWebhookInfo" => ok(
            json!({"url": state.webhook, "has_custom_certificate": false, "pending_update_count": 0}),
        ),
        // Updates from `offset` on, as Telegram forgets those before it.
        "GetUpdates" => {
            let offset = body["offset"].as_i64().unwrap_or(0);
            state
                .updates
                .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            ok(json!(state.updates.clone()))
        }
        _ => refuse(400, "Bad Request: method not faked"),
    }
}

/// The longest message text, counted after its entities are parsed.
const TEXT_MAX: usize = 4096;

/// Why Telegram refuses a message's text, if it does: empty, or longer than [`TEXT_MAX`] once
/// parsed.
fn text_problem(html: &str) -> Option<&'static str> {
    match parsed_len(html) {
        0 => Some("Bad Request: message text is empty"),
        n if n > TEXT_MAX => Some("Bad Request: message is too long"),
        _ => None,
    }
}

/// A text's length as Telegram counts it in HTML parse mode: tags are not text and an entity
/// (`&lt;`) is one character; in UTF-16 units, as Telegram counts its entities.
pub fn parsed_len(html: &str) -> usize {
    let mut len = 0;
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        let skip = match c {
            '<' => rest.find('>').map_or(rest.len(), |end| end + 1),
            '&' => match rest.find(';').filter(|end| *end <= 6) {
                Some(end) => {
                    len += 1;
                    end + 1
                }
                None => {
                    len += 1;
                    1
                }
            },
            _ => {
                len += c.len_utf16();
                c.len_utf8()
            }
        };
        rest = &rest[skip..];
    }
    len
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

/// A press of a card's button (`data`) under message `message` in `chat` (in forum `topic`).
pub fn press_update(
    update_id: i64,
    chat: i64,
    user: (i64, &str),
    (message, topic): (i64, Option<i64>),
    data: &str,
) -> Value {
    let mut under = json!({
        "message_id": message,
        "date": 1_764_417_600,
        "chat": if chat > 0 {
            json!({"id": chat, "type": "private", "first_name": user.1})
        } else {
            json!({"id": chat, "type": "supergroup", "title": "Guardia", "is_forum": topic.is_some()})
        },
        "from": {"id": 123_456, "is_bot": true, "first_name": "runroom", "username": "RunroomBot"},
        "text": "INC",
    });
    if let Some(topic) = topic {
        under["message_thread_id"] = topic.into();
        under["is_topic_message"] = true.into();
    }
    json!({
        "update_id": update_id,
        "callback_query": {
            "id": format!("cbq-{update_id}"),
            "from": {"id": user.0, "is_bot": false, "first_name": user.1, "username": user.1},
            "message": under,
            "chat_instance": "-4242",
            "data": data,
        }
    })
}

/// A message in a person's private chat with the bot (`/start`, say).
pub fn private_update(update_id: i64, user: (i64, Option<&str>), text: &str) -> Value {
    let mut from = json!({"id": user.0, "is_bot": false, "first_name": "Ana"});
    if let Some(username) = user.1 {
        from["username"] = username.into();
    }
    json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_764_417_600,
            "chat": {"id": user.0, "type": "private", "first_name": "Ana"},
            "from": from,
            "text": text,
        }
    })
}
