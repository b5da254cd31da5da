//! A fake Slack: the Web API methods runroom calls (`chat.postMessage`, `chat.update`,
//! `chat.postEphemeral`, `pins.add`, `users.info`, `apps.connections.open`) under `/api`, with
//! a bearer token, Slack's `{"ok": …}` answers, 429s with `Retry-After`, and a Socket Mode
//! WebSocket that pushes envelopes and records their acks. It keeps the channel's messages, with
//! their `metadata`, so a test can read the card as a user would see it and runroom can look a
//! message up (`conversations.history`, `conversations.replies`); it can keep posting while
//! withholding its answers, as a Slack that accepted a message whose answer never arrived.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// `X-Slack-Signature` for a request body, as Slack signs it: `v0=` hex HMAC-SHA256 of
/// `v0:{timestamp}:{body}` under the app's signing secret.
pub fn signature(secret: &str, timestamp: &str, body: &str) -> String {
    let signed = format!("v0:{timestamp}:{body}");
    format!("v0={}", super::hmac_sha256_hex(secret, signed.as_bytes()))
}

/// `/inc {text}` from `user` in the war room, as Slack posts a slash command to
/// `{base}/webhooks/slack/commands`, signed with `secret` (each `trigger` its own command:
/// Slack's retries of one command share theirs).
pub fn signed_slash(
    client: &reqwest::Client,
    base: &str,
    secret: &str,
    (user, text, trigger): (&str, &str, &str),
) -> reqwest::RequestBuilder {
    let body = serde_urlencoded::to_string([
        ("team_id", "T0RUNROOM"),
        ("channel_id", crate::common::SLACK_WAR_ROOM),
        ("user_id", user),
        ("user_name", "ana"),
        ("command", "/inc"),
        ("text", text),
        (
            "response_url",
            "https://hooks.slack.com/commands/T0RUNROOM/1/xyz",
        ),
        ("trigger_id", trigger),
    ])
    .expect("form");
    let timestamp = chrono::Utc::now().timestamp().to_string();
    client
        .post(format!("{base}/webhooks/slack/commands"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", &timestamp)
        .header("x-slack-signature", signature(secret, &timestamp, &body))
        .body(body)
}

/// How the fake answers one Web API call.
#[derive(Debug, Clone)]
pub enum Reply {
    Ok,
    /// HTTP 429 with `Retry-After` in seconds.
    RateLimited {
        retry_after: u64,
    },
    /// HTTP 200 with `{"ok": false, "error": code}`.
    Error(&'static str),
    /// HTTP 503 without a JSON body.
    ServerError,
}

/// One Web API call the fake saw.
#[derive(Debug, Clone)]
pub struct Call {
    pub at: Instant,
    pub method: String,
    pub body: Value,
    pub status: u16,
    pub ok: bool,
}

/// A message as it stands in a channel now.
#[derive(Debug, Clone)]
pub struct Posted {
    pub ts: String,
    pub channel: String,
    pub thread_ts: Option<String>,
    pub text: String,
    pub blocks: Option<Value>,
    pub edits: usize,
    /// The `metadata` it was posted with.
    pub metadata: Option<Value>,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    /// Per method and channel: (capacity, refill per second, tokens, last refill).
    limits: HashMap<String, (f64, f64)>,
    buckets: HashMap<(String, String), (f64, Instant)>,
    calls: Vec<Call>,
    messages: Vec<Posted>,
    ephemeral: Vec<(String, String, String)>,
    pins: Vec<(String, String)>,
    users: HashMap<String, String>,
    next_ts: u64,
    /// Socket Mode: frames to push to the next connection, and acks received.
    socket_outbox: Vec<String>,
    socket_acks: Vec<Value>,
    socket_connections: usize,
    users_info_asked: usize,
    /// `chat.postMessage` calls answered; past `answer_posts`, posts are kept but not answered.
    posts_answered: usize,
    answer_posts: Option<usize>,
    /// The bodies of the posts kept but not answered (while withholding).
    withheld: Vec<Value>,
}

#[derive(Clone)]
pub struct FakeSlack {
    /// The Web API base (`http://127.0.0.1:PORT/api`), for `[slack] api_url`.
    pub api_url: String,
    pub bot_token: String,
    pub app_token: String,
    socket_url: String,
    inner: Arc<Mutex<Inner>>,
    /// While true, `users.info` requests wait unanswered.
    users_held: Arc<tokio::sync::watch::Sender<bool>>,
    /// Rung when posts are answered again.
    posts_released: Arc<tokio::sync::Notify>,
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let ws_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake slack socket mode");
        let socket_url = format!("ws://{}/link", ws_listener.local_addr().unwrap());
        let fake = crate::common::loopback::serve_with("fake slack", |url| {
            let fake = FakeSlack {
                api_url: format!("{url}/api"),
                bot_token: "xoxb-test-bot-token".into(),
                app_token: "xapp-test-app-token".into(),
                socket_url,
                users_held: Arc::new(tokio::sync::watch::Sender::new(false)),
                posts_released: Arc::new(tokio::sync::Notify::new()),
                // Slack's `ts` is the post's time: lookups filter on it (`oldest`).
                inner: Arc::new(Mutex::new(Inner {
                    next_ts: u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or(0),
                    ..Inner::default()
                })),
            };
            let app = Router::new()
                .route("/api/users.info", get(users_info))
                .route("/api/conversations.history", get(history))
                .route("/api/conversations.replies", get(history))
                .route("/api/{method}", post(method))
                .with_state(fake.clone());
            (fake, app)
        })
        .await;
        let socket = fake.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = ws_listener.accept().await {
                let fake = socket.clone();
                tokio::spawn(async move { fake.serve_socket(stream).await });
            }
        });
        fake
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        super::lock(&self.inner)
    }

    /// Answers the next calls with these replies, in order; then `Ok` again.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.lock().script.extend(replies);
    }

    /// Enforces a rate on one method per channel, as Slack does: a bucket of `capacity` calls
    /// refilled at `per_second`; past it, 429 with `Retry-After: 1`.
    pub fn limit(&self, method: &str, capacity: u32, per_second: f64) {
        self.lock()
            .limits
            .insert(method.to_string(), (f64::from(capacity), per_second));
    }

    /// A workspace member `users.info` knows.
    pub fn add_user(&self, id: &str, display_name: &str) {
        self.lock()
            .users
            .insert(id.to_string(), display_name.to_string());
    }

    /// Posts after the first `n` are still kept, but their answers never come (a Slack that
    /// accepted them while runroom's process died), until [`Self::answer_posts`].
    pub fn withhold_posts_after(&self, n: usize) {
        let mut inner = self.lock();
        inner.answer_posts = Some(inner.posts_answered + n);
    }

    /// The bodies of the posts accepted and not answered yet (see [`Self::withhold_posts_after`]).
    pub fn withheld_posts(&self) -> Vec<Value> {
        self.lock().withheld.clone()
    }

    pub fn answer_posts(&self) {
        let mut inner = self.lock();
        inner.answer_posts = None;
        inner.withheld.clear();
        drop(inner);
        self.posts_released.notify_waiters();
    }

    /// `n` messages people post in `channel` now, as in a busy war room: a lookup of an
    /// earlier post must page past them.
    pub fn chatter(&self, channel: &str, n: usize) {
        let mut inner = self.lock();
        for i in 0..n {
            let ts = inner.next_ts();
            inner.messages.push(Posted {
                ts,
                channel: channel.to_string(),
                thread_ts: None,
                text: format!("on it ({i})"),
                blocks: None,
                edits: 0,
                metadata: None,
            });
        }
    }

    /// Leaves `users.info` requests unanswered (a slow Slack) until [`Self::release_users_info`].
    pub fn hold_users_info(&self) {
        self.users_held.send_replace(true);
    }

    pub fn release_users_info(&self) {
        self.users_held.send_replace(false);
    }

    /// How many `users.info` requests arrived (answered or still held).
    pub fn users_info_asked(&self) -> usize {
        self.lock().users_info_asked
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// The successful calls of one method.
    pub fn ok_calls(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method && c.ok)
            .collect()
    }

    pub fn count_status(&self, status: u16) -> usize {
        self.calls().iter().filter(|c| c.status == status).count()
    }

    /// Every message in a channel (top-level and thread replies), oldest first.
    pub fn messages(&self, channel: &str) -> Vec<Posted> {
        self.lock()
            .messages
            .iter()
            .filter(|m| m.channel == channel)
            .cloned()
            .collect()
    }

    /// The top-level messages of a channel that carry Block Kit (incident cards).
    pub fn cards(&self, channel: &str) -> Vec<Posted> {
        self.messages(channel)
            .into_iter()
            .filter(|m| m.thread_ts.is_none() && m.blocks.is_some())
            .collect()
    }

    /// Replies in a message's thread.
    pub fn thread(&self, channel: &str, ts: &str) -> Vec<Posted> {
        self.messages(channel)
            .into_iter()
            .filter(|m| m.thread_ts.as_deref() == Some(ts))
            .collect()
    }

    /// (channel, user, text) of each ephemeral message.
    pub fn ephemeral(&self) -> Vec<(String, String, String)> {
        self.lock().ephemeral.clone()
    }

    /// (channel, ts) of each pin.
    pub fn pins(&self) -> Vec<(String, String)> {
        self.lock().pins.clone()
    }

    /// Polls until `check` holds, or panics at the deadline.
    pub async fn wait_until(
        &self,
        what: &str,
        within: Duration,
        check: impl Fn(&FakeSlack) -> bool,
    ) {
        crate::common::poll(&format!("fake slack: {what}"), within, || {
            check(self).then_some(())
        })
        .await
    }

    /// Pushes a Socket Mode envelope to every open connection (or the next one to open), with
    /// a fresh `envelope_id`, which is returned.
    pub fn push_envelope(&self, kind: &str, payload: Value) -> String {
        let mut inner = self.lock();
        let id = format!("env-{}", inner.socket_outbox.len() + 1);
        let frame = json!({
            "envelope_id": id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        });
        inner.socket_outbox.push(frame.to_string());
        id
    }

    /// The acks received over Socket Mode.
    pub fn socket_acks(&self) -> Vec<Value> {
        self.lock().socket_acks.clone()
    }

    pub fn socket_connections(&self) -> usize {
        self.lock().socket_connections
    }

    /// One Socket Mode connection: `hello`, then each pushed envelope once, recording acks.
    /// Only the first connection gets envelopes, as Slack delivers each to one connection.
    async fn serve_socket(&self, stream: tokio::net::TcpStream) {
        let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
            return;
        };
        let (mut tx, mut rx) = ws.split();
        let number = {
            let mut inner = self.lock();
            inner.socket_connections += 1;
            inner.socket_connections
        };
        let hello = json!({
            "type": "hello",
            "num_connections": number,
            "connection_info": { "app_id": "A0RUNROOM" },
            "debug_info": { "host": "fake-slack", "approximate_connection_time": 18060 }
        });
        if tx.send(Message::text(hello.to_string())).await.is_err() {
            return;
        }
        let mut sent = 0;
        loop {
            let frames: Vec<String> = if number == 1 {
                self.lock().socket_outbox[sent..].to_vec()
            } else {
                Vec::new()
            };
            for frame in frames {
                sent += 1;
                if tx.send(Message::text(frame)).await.is_err() {
                    return;
                }
            }
            match tokio::time::timeout(Duration::from_millis(20), rx.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    if let Ok(ack) = serde_json::from_str::<Value>(text.as_str()) {
                        self.lock().socket_acks.push(ack);
                    }
                }
                Ok(Some(Ok(Message::Ping(data)))) => {
                    let _ = tx.send(Message::Pong(data)).await;
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return,
                Ok(Some(Ok(_))) | Err(_) => {}
            }
        }
    }
}

/// The longest text Slack takes in a message, in characters as sent.
pub const TEXT_MAX: usize = 40_000;

/// Slack's refusals of a message too big: `msg_too_long` for the text, `invalid_blocks` for
/// Block Kit past its limits (50 blocks; a section's text 3,000 characters and at most 10
/// fields of 2,000; a header 150; a button's text 75).
fn within_limits(text: &str, blocks: &Value) -> Result<(), &'static str> {
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    if text.chars().count() > TEXT_MAX {
        return Err("msg_too_long");
    }
    let Some(blocks) = blocks.as_array() else {
        return Ok(());
    };
    let fits = blocks.len() <= 50
        && blocks.iter().all(|block| match block["type"].as_str() {
            Some("header") => len(&block["text"]["text"]) <= 150,
            Some("section") => {
                let fields = block["fields"].as_array().map_or(&[][..], Vec::as_slice);
                len(&block["text"]["text"]) <= 3000
                    && fields.len() <= 10
                    && fields.iter().all(|f| len(&f["text"]) <= 2000)
            }
            Some("actions") => block["elements"]
                .as_array()
                .is_some_and(|e| e.len() <= 25 && e.iter().all(|b| len(&b["text"]["text"]) <= 75)),
            _ => true,
        });
    if fits { Ok(()) } else { Err("invalid_blocks") }
}

fn slack_error(code: &str) -> Response {
    axum::Json(json!({ "ok": false, "error": code })).into_response()
}

fn rate_limited(retry_after: u64) -> Response {
    let response = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(json!({ "ok": false, "error": "ratelimited" })),
    )
        .into_response();
    super::with_retry_after(response, retry_after)
}

impl Inner {
    fn next_ts(&mut self) -> String {
        self.next_ts += 1;
        format!(
            "{}.{:06}",
            self.next_ts / 1_000_000,
            self.next_ts % 1_000_000
        )
    }

    /// Takes a token from the method's bucket for this channel; false when empty.
    fn admit(&mut self, method: &str, channel: &str, at: Instant) -> bool {
        let Some(&(capacity, rate)) = self.limits.get(method) else {
            return true;
        };
        let (tokens, last) = self
            .buckets
            .entry((method.to_string(), channel.to_string()))
            .or_insert((capacity, at));
        *tokens = (*tokens + at.duration_since(*last).as_secs_f64() * rate).min(capacity);
        *last = at;
        // Slots computed to the microsecond can land a hair early: allow that rounding.
        if *tokens >= 0.999 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Does what a successful call does and returns Slack's answer.
    fn apply(&mut self, method: &str, body: &Value) -> Result<Value, &'static str> {
        let channel = body["channel"].as_str().unwrap_or_default().to_string();
        let text = body["text"].as_str().unwrap_or_default().to_string();
        if method.starts_with("chat.") {
            within_limits(&text, &body["blocks"])?;
        }
        match method {
            "chat.postMessage" => {
                if channel.is_empty() {
                    return Err("channel_not_found");
                }
                if text.is_empty() && body["blocks"].is_null() {
                    return Err("no_text");
                }
                let ts = self.next_ts();
                self.messages.push(Posted {
                    ts: ts.clone(),
                    channel: channel.clone(),
                    thread_ts: body["thread_ts"].as_str().map(str::to_string),
                    text: text.clone(),
                    blocks: (!body["blocks"].is_null()).then(|| body["blocks"].clone()),
                    edits: 0,
                    metadata: (!body["metadata"].is_null()).then(|| body["metadata"].clone()),
                });
                Ok(json!({
                    "channel": channel,
                    "ts": ts,
                    "message": { "type": "message", "text": text, "ts": ts, "bot_id": "B0RUNROOM" }
                }))
            }
            "chat.update" => {
                let ts = body["ts"].as_str().unwrap_or_default();
                let Some(message) = self
                    .messages
                    .iter_mut()
                    .find(|m| m.channel == channel && m.ts == ts)
                else {
                    return Err("message_not_found");
                };
                message.text = text.clone();
                message.blocks = (!body["blocks"].is_null()).then(|| body["blocks"].clone());
                message.edits += 1;
                Ok(json!({
                    "channel": channel,
                    "ts": ts,
                    "text": text,
                    "message": { "type": "message", "text": text, "ts": ts, "bot_id": "B0RUNROOM" }
                }))
            }
            "chat.postEphemeral" => {
                let user = body["user"].as_str().unwrap_or_default().to_string();
                if user.is_empty() {
                    return Err("user_not_found");
                }
                self.ephemeral.push((channel, user, text));
                let ts = self.next_ts();
                Ok(json!({ "message_ts": ts }))
            }
            "pins.add" => {
                let ts = body["timestamp"].as_str().unwrap_or_default().to_string();
                if self.pins.iter().any(|(c, t)| *c == channel && *t == ts) {
                    return Err("already_pinned");
                }
                self.pins.push((channel, ts));
                Ok(json!({}))
            }
            _ => Err("unknown_method"),
        }
    }
}

async fn method(
    State(fake): State<FakeSlack>,
    Path(method): Path<String>,
    request: super::Arrived,
) -> Response {
    let at = request.at;
    let token = super::bearer(&request.headers);
    let body = request.json;
    if method == "apps.connections.open" {
        let ok = token == Some(fake.app_token.as_str());
        fake.lock().calls.push(Call {
            at,
            method,
            body,
            status: 200,
            ok,
        });
        return if ok {
            axum::Json(json!({ "ok": true, "url": fake.socket_url })).into_response()
        } else {
            slack_error("invalid_auth")
        };
    }
    let (response, withheld) = {
        let mut inner = fake.lock();
        let channel = body["channel"].as_str().unwrap_or_default().to_string();
        let scripted = inner.script.pop_front().unwrap_or(Reply::Ok);
        let (response, ok) = if token != Some(fake.bot_token.as_str()) {
            (slack_error("invalid_auth"), false)
        } else if !inner.admit(&method, &channel, at) {
            (rate_limited(1), false)
        } else {
            match scripted {
                Reply::RateLimited { retry_after } => (rate_limited(retry_after), false),
                Reply::Error(code) => (slack_error(code), false),
                Reply::ServerError => (StatusCode::SERVICE_UNAVAILABLE.into_response(), false),
                Reply::Ok => match inner.apply(&method, &body) {
                    Ok(mut answer) => {
                        answer["ok"] = json!(true);
                        (axum::Json(answer).into_response(), true)
                    }
                    Err(code) => (slack_error(code), false),
                },
            }
        };
        let status = response.status().as_u16();
        let withheld = ok && method == "chat.postMessage" && {
            inner.posts_answered += 1;
            inner.answer_posts.is_some_and(|n| inner.posts_answered > n)
        };
        if withheld {
            inner.withheld.push(body.clone());
        }
        inner.calls.push(Call {
            at,
            method,
            body,
            status,
            ok,
        });
        (response, withheld)
    };
    if withheld {
        loop {
            let released = fake.posts_released.notified();
            let answered = fake.lock().answer_posts.is_none();
            if answered {
                break;
            }
            released.await;
        }
    }
    response
}

/// `conversations.history` (a channel's top-level messages, newest first) and
/// `conversations.replies` (a thread's parent, then its replies), from `oldest` on, with each
/// message's `metadata`, `limit` at a time with a `next_cursor` to the rest.
async fn history(
    State(fake): State<FakeSlack>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| query.get(name).cloned().unwrap_or_default();
    let (channel, thread, oldest) = (field("channel"), query.get("ts").cloned(), field("oldest"));
    let after = |ts: &str| oldest.is_empty() || ts_value(ts) >= ts_value(&oldest);
    let mut inner = fake.lock();
    let authorized = super::bearer(&headers) == Some(fake.bot_token.as_str());
    if let Some(Reply::RateLimited { retry_after }) = inner.script.front().cloned() {
        inner.script.pop_front();
        inner.calls.push(Call {
            at: Instant::now(),
            method: "conversations.history".into(),
            body: json!(query),
            status: 429,
            ok: false,
        });
        return rate_limited(retry_after);
    }
    let mut found: Vec<&Posted> = inner
        .messages
        .iter()
        .filter(|m| m.channel == channel)
        .filter(|m| match &thread {
            Some(root) => &m.ts == root || m.thread_ts.as_ref() == Some(root),
            None => m.thread_ts.is_none(),
        })
        .filter(|m| thread.as_ref() == Some(&m.ts) || after(&m.ts))
        .collect();
    if thread.is_none() {
        found.reverse();
    }
    // Slack pages: at most `limit` messages (default 100), and a cursor to the rest.
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 999);
    let start = query
        .get("cursor")
        .and_then(|c| c.strip_prefix("next:"))
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0)
        .min(found.len());
    let end = (start + limit).min(found.len());
    let next_cursor = if end < found.len() {
        format!("next:{end}")
    } else {
        String::new()
    };
    let messages: Vec<Value> = found[start..end]
        .iter()
        .map(|m| {
            let mut message = json!({
                "type": "message", "ts": m.ts, "text": m.text, "bot_id": "B0RUNROOM",
            });
            if let Some(thread) = &m.thread_ts {
                message["thread_ts"] = json!(thread);
            }
            if let Some(metadata) = &m.metadata {
                message["metadata"] = metadata.clone();
            }
            message
        })
        .collect();
    let name = if thread.is_some() {
        "conversations.replies"
    } else {
        "conversations.history"
    };
    inner.calls.push(Call {
        at: Instant::now(),
        method: name.into(),
        body: json!(query),
        status: 200,
        ok: authorized,
    });
    if !authorized {
        return slack_error("invalid_auth");
    }
    axum::Json(json!({
        "ok": true,
        "messages": messages,
        "has_more": !next_cursor.is_empty(),
        "response_metadata": { "next_cursor": next_cursor },
    }))
    .into_response()
}

/// A `ts` as a number, to compare.
fn ts_value(ts: &str) -> f64 {
    ts.parse().unwrap_or(0.0)
}

async fn users_info(
    State(fake): State<FakeSlack>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let user = query.get("user").cloned().unwrap_or_default();
    fake.lock().users_info_asked += 1;
    let mut held = fake.users_held.subscribe();
    let _ = held.wait_for(|held| !*held).await;
    let mut inner = fake.lock();
    let authorized = super::bearer(&headers) == Some(fake.bot_token.as_str());
    let known = inner.users.get(&user).cloned();
    let (response, ok) = match (authorized, known) {
        (false, _) => (slack_error("invalid_auth"), false),
        (true, None) => (slack_error("user_not_found"), false),
        (true, Some(name)) => (
            axum::Json(json!({
                "ok": true,
                "user": {
                    "id": user,
                    "team_id": "T0RUNROOM",
                    "name": name.to_lowercase(),
                    "real_name": name,
                    "profile": { "display_name": name, "real_name": name }
                }
            }))
            .into_response(),
            true,
        ),
    };
    inner.calls.push(Call {
        at: Instant::now(),
        method: "users.info".into(),
        body: json!({ "user": user }),
        status: 200,
        ok,
    });
    response
}
