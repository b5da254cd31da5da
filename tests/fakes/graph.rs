//! A fake WhatsApp Cloud API (Meta Graph): `POST /{version}/{phone_number_id}/messages` with a
//! bearer token, answering like Meta does, including its error envelope, 429s and 131047 for a
//! free-form message outside the recipient's window. It also signs webhook deliveries the way
//! Meta does, for posting them to runroom.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// The business number the webhook deliveries are addressed to (`metadata.phone_number_id`), as
/// the WhatsApp tests configure `[whatsapp] phone_number_id`.
pub const PHONE_NUMBER_ID: &str = "106540352242922";

/// How the fake answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Ok,
    /// HTTP 429, Meta code 130429, with a `Retry-After` header in seconds.
    RateLimited {
        retry_after: u64,
    },
    /// HTTP 500 without a JSON body.
    ServerError,
    /// A Graph error envelope with this HTTP status and Meta error code.
    Error {
        status: u16,
        code: i64,
    },
    /// Never answers (the request is not accepted).
    Hang,
}

/// One request the fake saw.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub phone_number_id: String,
    pub to: String,
    /// The text a person reads: a text body, an interactive body, or a template's parameters
    /// joined with ` | `.
    pub body: String,
    /// `text`, `interactive` or `template`.
    pub kind: String,
    /// Sent with `recipient_type: group`.
    pub group: bool,
    /// The whole request body.
    pub json: Value,
    pub status: u16,
    pub wamid: Option<String>,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    /// After this many accepted messages, every request hangs.
    hang_after: Option<usize>,
    /// After this many accepted messages, messages are accepted (a wamid, recorded) but their
    /// answer never comes: Meta took them and the sender never learned it.
    withhold_after: Option<usize>,
    /// How long each answer takes (a slow Graph API): the message is accepted, then answered.
    answer_delay: Option<std::time::Duration>,
    /// A token bucket: (capacity, refill per second, tokens, last refill).
    bucket: Option<(f64, f64, f64, Instant)>,
    received: Vec<Received>,
    next_id: u64,
    /// Recipients (`to`) whose 24-hour window Meta considers closed: free-form messages to them
    /// get error 131047.
    closed_windows: Vec<String>,
}

#[derive(Clone)]
pub struct FakeGraph {
    pub url: String,
    pub token: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        crate::common::loopback::serve_with("fake graph", |url| {
            let fake = FakeGraph {
                url,
                token: "test-whatsapp-token".into(),
                inner: Arc::new(Mutex::new(Inner::default())),
            };
            let app = Router::new()
                .route("/{version}/{phone}/messages", post(messages))
                .with_state(fake.clone());
            (fake, app)
        })
        .await
    }

    /// `runroom.toml` for `runroom serve` sending to this fake: WhatsApp's outbox limits high
    /// enough never to bind, then `[whatsapp]` with this fake's URL and the business number id
    /// [`PHONE_NUMBER_ID`] (more `[whatsapp]` keys may follow).
    pub fn serve_config(&self) -> String {
        format!(
            r#"
[outbox.limits.whatsapp]
rate = 1000.0
burst = 1000
per_chat_rate = 1000.0
per_chat_burst = 1000

[whatsapp]
api_url = "{url}"
phone_number_id = "{PHONE_NUMBER_ID}"
"#,
            url = self.url
        )
    }

    /// runroom's WhatsApp sender pointed at this fake (business number id [`PHONE_NUMBER_ID`]), for
    /// direct chats.
    pub fn sender(
        &self,
        store: Arc<dyn runroom::store::Store>,
        clock: Arc<dyn runroom::engine::clock::Clock>,
        timeout_seconds: u64,
    ) -> runroom::platforms::whatsapp::outbound::WhatsappSender {
        use runroom::platforms::whatsapp::WhatsappConfig;
        use runroom::platforms::whatsapp::outbound::WhatsappSender;
        let config = WhatsappConfig {
            api_url: self.url.clone(),
            phone_number_id: PHONE_NUMBER_ID.into(),
            timeout_seconds,
            ..WhatsappConfig::default()
        };
        // The sender's engine: the store it reads windows from, the clock, and the unit of work
        // a refused message is queued again through.
        let engine = runroom::engine::Engine::new(
            store,
            std::sync::Arc::new(runroom::i18n::I18n::new().expect("locales load")),
            clock,
            Default::default(),
        );
        let graph = runroom::platforms::whatsapp::outbound::Graph::new(&config, self.token.clone())
            .expect("a WhatsApp client");
        WhatsappSender::new(&config, Default::default(), std::sync::Arc::new(engine)).with(graph)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        super::lock(&self.inner)
    }

    /// Answers the next requests with these replies, in order; then `Ok` again.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.lock().script.extend(replies);
    }

    /// Enforces a rate like Meta's: a bucket of `capacity` messages refilled at `per_second`;
    /// past it, 429 with code 130429 and `Retry-After: 1`.
    pub fn limit(&self, capacity: u32, per_second: f64) {
        self.lock().bucket = Some((
            f64::from(capacity),
            per_second,
            f64::from(capacity),
            Instant::now(),
        ));
    }

    /// Meta answers 131047 to free-form messages to this recipient (`to`, digits only).
    pub fn close_window(&self, to: &str) {
        self.lock().closed_windows.push(to.to_string());
    }

    /// The messages accepted for one recipient (`to`), in order.
    pub fn accepted_to(&self, to: &str) -> Vec<Received> {
        self.accepted().into_iter().filter(|r| r.to == to).collect()
    }

    pub fn hang_after(&self, accepted: usize) {
        self.lock().hang_after = Some(accepted);
    }

    /// Accepts messages past the first `accepted` without ever answering them.
    pub fn withhold_answers_after(&self, accepted: usize) {
        self.lock().withhold_after = Some(accepted);
    }

    /// Answers each request `delay` after it arrived (what it answers is decided on arrival).
    pub fn answer_after(&self, delay: std::time::Duration) {
        self.lock().answer_delay = Some(delay);
    }

    pub fn stop_withholding(&self) {
        self.lock().withhold_after = None;
    }

    pub fn stop_hanging(&self) {
        self.lock().hang_after = None;
    }

    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The messages the fake accepted (answered 200), in arrival order.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.status == 200)
            .collect()
    }

    pub fn count_status(&self, status: u16) -> usize {
        self.received()
            .iter()
            .filter(|r| r.status == status)
            .count()
    }

    /// Polls until `n` messages were accepted, or panics at the deadline.
    pub async fn wait_for_accepted(&self, n: usize, within: Duration) -> Vec<Received> {
        crate::common::poll("fake graph's accepted messages", within, || {
            Some(self.accepted()).filter(|a| a.len() >= n)
        })
        .await
    }
}

/// What a person would read, and whether the message is one Meta accepts: text (≤ 4096),
/// reply buttons (≤ 3, titles ≤ 20, body ≤ 1024) or a template (a name, a language code with
/// Meta's underscore, text parameters on one line).
fn check_message(m: &Value) -> (String, bool) {
    if m["messaging_product"] != "whatsapp" {
        return (String::new(), false);
    }
    match m["type"].as_str() {
        Some("text") => {
            let body = m["text"]["body"].as_str().unwrap_or_default().to_string();
            let ok = !body.is_empty() && body.chars().count() <= 4096;
            (body, ok)
        }
        Some("interactive") => {
            let i = &m["interactive"];
            let body = i["body"]["text"].as_str().unwrap_or_default().to_string();
            let buttons = i["action"]["buttons"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let ok = i["type"] == "button"
                && m["recipient_type"] != "group"
                && !body.is_empty()
                && body.chars().count() <= 1024
                && (1..=3).contains(&buttons.len())
                && buttons.iter().all(|b| {
                    b["type"] == "reply"
                        && b["reply"]["id"].as_str().is_some_and(|id| !id.is_empty())
                        && b["reply"]["title"]
                            .as_str()
                            .is_some_and(|t| !t.is_empty() && t.chars().count() <= 20)
                });
            (body, ok)
        }
        Some("template") => {
            let t = &m["template"];
            let code = t["language"]["code"].as_str().unwrap_or_default();
            let params: Vec<String> = t["components"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["type"] == "body")
                .flat_map(|c| c["parameters"].as_array().cloned().unwrap_or_default())
                .map(|p| p["text"].as_str().unwrap_or_default().to_string())
                .collect();
            let ok = t["name"].as_str().is_some_and(|n| !n.is_empty())
                && ["pt_BR", "en_US", "es"].contains(&code)
                && !params.is_empty()
                && params
                    .iter()
                    .all(|p| !p.is_empty() && !p.contains(['\n', '\t']) && !p.contains("     "));
            (params.join(" | "), ok)
        }
        _ => (String::new(), false),
    }
}

/// A template whose body, once its parameters are filled in, passes the 1,024 characters Meta
/// allows (the fake counts the parameters alone, so it is lenient by the template's own words).
fn template_too_long(m: &Value) -> bool {
    m["type"] == "template"
        && m["template"]["components"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["type"] == "body")
            .flat_map(|c| c["parameters"].as_array().cloned().unwrap_or_default())
            .map(|p| p["text"].as_str().map_or(0, |t| t.chars().count()))
            .sum::<usize>()
            > 1024
}

fn graph_error(status: u16, code: i64, message: &str) -> Response {
    let body = json!({
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": { "messaging_product": "whatsapp", "details": message },
            "fbtrace_id": "AbCdEfGh123"
        }
    });
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        axum::Json(body),
    )
        .into_response()
}

fn rate_limited(retry_after: u64) -> Response {
    let response = graph_error(429, 130429, "(#130429) Rate limit hit");
    super::with_retry_after(response, retry_after)
}

async fn messages(
    State(fake): State<FakeGraph>,
    Path((_version, phone)): Path<(String, String)>,
    request: super::Arrived,
) -> Response {
    let at = request.at;
    let authorized = super::bearer(&request.headers) == Some(fake.token.as_str());
    let parsed = request.json;
    let to = parsed["to"].as_str().unwrap_or_default().to_string();
    let (text, well_formed) = check_message(&parsed);
    let well_formed = well_formed && !to.is_empty();
    let group = parsed["recipient_type"] == "group";
    let window_closed =
        !group && parsed["type"] != "template" && fake.lock().closed_windows.contains(&to);

    let (status, response, hang, wamid) = {
        let mut inner = fake.lock();
        let accepted_so_far = inner.received.iter().filter(|r| r.status == 200).count();
        let scripted = inner.script.pop_front().unwrap_or(Reply::Ok);
        let hang = matches!(scripted, Reply::Hang)
            || inner.hang_after.is_some_and(|n| accepted_so_far >= n);
        let withhold = !hang && inner.withhold_after.is_some_and(|n| accepted_so_far >= n);
        let over_limit = authorized
            && well_formed
            && !hang
            && match &mut inner.bucket {
                Some((capacity, rate, tokens, last)) => {
                    *tokens =
                        (*tokens + at.duration_since(*last).as_secs_f64() * *rate).min(*capacity);
                    *last = at;
                    // Slots computed to the microsecond can land a hair early: allow that rounding.
                    if *tokens >= 0.999 {
                        *tokens -= 1.0;
                        false
                    } else {
                        true
                    }
                }
                None => false,
            };
        let mut wamid = None;
        let response = if !authorized {
            graph_error(401, 190, "Invalid OAuth access token.")
        } else if !well_formed {
            graph_error(400, 100, "Invalid parameter")
        } else if template_too_long(&parsed) {
            graph_error(400, 132005, "(#132005) Translated text too long")
        } else if over_limit {
            rate_limited(1)
        } else if window_closed {
            graph_error(
                400,
                131047,
                "(#131047) Re-engagement message: more than 24 hours have passed since the recipient last replied",
            )
        } else {
            match scripted {
                Reply::RateLimited { retry_after } => rate_limited(retry_after),
                Reply::ServerError => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                Reply::Error { status, code } => {
                    graph_error(status, code, &format!("(#{code}) Message failed"))
                }
                Reply::Ok | Reply::Hang => {
                    inner.next_id += 1;
                    let id = format!("wamid.HBgL{:08}", inner.next_id);
                    wamid = Some(id.clone());
                    axum::Json(json!({
                        "messaging_product": "whatsapp",
                        "contacts": [{ "input": to, "wa_id": to }],
                        "messages": [{ "id": id }]
                    }))
                    .into_response()
                }
            }
        };
        // A hung request was never answered, so it was not accepted (status 0).
        let status = if hang { 0 } else { response.status().as_u16() };
        (
            status,
            response,
            hang || withhold,
            if hang { None } else { wamid },
        )
    };
    fake.lock().received.push(Received {
        at,
        phone_number_id: phone,
        to,
        body: text,
        kind: parsed["type"].as_str().unwrap_or_default().to_string(),
        group,
        json: parsed,
        status,
        wamid,
    });
    let delay = fake.lock().answer_delay;
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    super::answer_unless_hung(response, hang).await
}

/// Every accepted message is a different one, and there are `expected` of them.
pub fn assert_each_once(accepted: &[Received], expected: usize) {
    let mut bodies: Vec<&str> = accepted.iter().map(|r| r.body.as_str()).collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(
        (accepted.len(), bodies.len()),
        (expected, expected),
        "each message exactly once"
    );
}

/// `sha256=<hex HMAC-SHA256(app_secret, body)>`, as Meta signs a webhook delivery.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    format!("sha256={}", super::hmac_sha256_hex(app_secret, body))
}

/// A webhook delivery shaped like Meta's: `value` holds `messages`, `statuses` and `contacts`.
pub fn delivery(value: Value) -> Value {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({
        "display_phone_number": "15550783881",
        "phone_number_id": PHONE_NUMBER_ID
    });
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "102290129340398", "changes": [{ "field": "messages", "value": value }] }]
    })
}

/// An inbound text from `wa_id` (digits) named `name`, sent at `timestamp` (unix seconds).
pub fn text_message(wa_id: &str, name: &str, wamid: &str, timestamp: i64, body: &str) -> Value {
    delivery(json!({
        "contacts": [{ "profile": { "name": name }, "wa_id": wa_id }],
        "messages": [{
            "from": wa_id, "id": wamid, "timestamp": timestamp.to_string(),
            "type": "text", "text": { "body": body }
        }]
    }))
}

/// A tap on a reply button (`id` as runroom set it, e.g. `ack:1`).
pub fn button_reply(wa_id: &str, name: &str, wamid: &str, timestamp: i64, id: &str) -> Value {
    delivery(json!({
        "contacts": [{ "profile": { "name": name }, "wa_id": wa_id }],
        "messages": [{
            "context": { "from": "15550783881", "id": "wamid.HBgLcard" },
            "from": wa_id, "id": wamid, "timestamp": timestamp.to_string(),
            "type": "interactive",
            "interactive": { "type": "button_reply", "button_reply": { "id": id, "title": "Ack" } }
        }]
    }))
}

/// A status of a message runroom sent; `failed` with Meta's error code.
pub fn status(
    wamid: &str,
    status: &str,
    timestamp: i64,
    recipient: &str,
    code: Option<i64>,
) -> Value {
    let mut s = json!({
        "id": wamid, "status": status, "timestamp": timestamp.to_string(), "recipient_id": recipient
    });
    if let Some(code) = code {
        s["errors"] = json!([{
            "code": code,
            "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": { "details": format!("Message to {recipient} failed to send because more than 24 hours have passed since the customer last replied to this number.") }
        }]);
    }
    delivery(json!({ "statuses": [s] }))
}
