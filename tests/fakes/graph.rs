//! A fake WhatsApp Cloud API (Meta Graph): `POST /{version}/{phone_number_id}/messages` with a
//! bearer token, answering like Meta does, including its error envelope and 429s.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

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
    pub body: String,
    pub status: u16,
    pub wamid: Option<String>,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    /// After this many accepted messages, every request hangs.
    hang_after: Option<usize>,
    /// A token bucket: (capacity, refill per second, tokens, last refill).
    bucket: Option<(f64, f64, f64, Instant)>,
    received: Vec<Received>,
    next_id: u64,
}

#[derive(Clone)]
pub struct FakeGraph {
    pub url: String,
    pub token: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake graph");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeGraph {
            url,
            token: "test-whatsapp-token".into(),
            inner: Arc::new(Mutex::new(Inner::default())),
        };
        let app = Router::new()
            .route("/{version}/{phone}/messages", post(messages))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        fake
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
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

    pub fn hang_after(&self, accepted: usize) {
        self.lock().hang_after = Some(accepted);
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
        let deadline = Instant::now() + within;
        loop {
            let accepted = self.accepted();
            if accepted.len() >= n {
                return accepted;
            }
            assert!(
                Instant::now() < deadline,
                "fake graph accepted {} of {n} messages within {within:?}",
                accepted.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
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
    let mut response = graph_error(429, 130429, "(#130429) Rate limit hit");
    response.headers_mut().insert(
        "retry-after",
        retry_after
            .to_string()
            .parse()
            .expect("digits are a header value"),
    );
    response
}

async fn messages(
    State(fake): State<FakeGraph>,
    Path((_version, phone)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let at = Instant::now();
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {}", fake.token));
    let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let to = parsed["to"].as_str().unwrap_or_default().to_string();
    let text = parsed["text"]["body"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let well_formed = parsed["messaging_product"] == "whatsapp"
        && parsed["type"] == "text"
        && !to.is_empty()
        && !text.is_empty()
        && text.chars().count() <= 4096;

    let (status, response, hang, wamid) = {
        let mut inner = fake.lock();
        let accepted_so_far = inner.received.iter().filter(|r| r.status == 200).count();
        let scripted = inner.script.pop_front().unwrap_or(Reply::Ok);
        let hang = matches!(scripted, Reply::Hang)
            || inner.hang_after.is_some_and(|n| accepted_so_far >= n);
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
        } else if over_limit {
            rate_limited(1)
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
        (status, response, hang, if hang { None } else { wamid })
    };
    fake.lock().received.push(Received {
        at,
        phone_number_id: phone,
        to,
        body: text,
        status,
        wamid,
    });
    if hang {
        std::future::pending::<()>().await;
    }
    response
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
