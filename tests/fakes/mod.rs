//! Fake platform servers on loopback (port 0) that speak the platforms' wire formats and record
//! what the bot sent. They can be told to rate-limit, fail, or hang. They serve and poll with
//! `crate::common`'s helpers: a test or benchmark that includes `fakes` includes `common` too.
#![allow(dead_code)]

pub mod evolution;
pub mod graph;
pub mod slack;
pub mod telegram;

use std::convert::Infallible;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

/// A request as a fake reads it: its headers, its body as JSON (`Null` when it is not JSON),
/// and when it arrived (its body read).
pub struct Arrived {
    pub at: Instant,
    pub headers: HeaderMap,
    pub json: Value,
}

impl<S: Send + Sync> FromRequest<S> for Arrived {
    type Rejection = Infallible;

    async fn from_request(request: Request, _state: &S) -> Result<Arrived, Infallible> {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        Ok(Arrived {
            at: Instant::now(),
            headers: parts.headers,
            json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// Hex HMAC-SHA256 of `message` under `key`, as Slack and Meta sign their requests.
pub fn hmac_sha256_hex(key: &str, message: &[u8]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(message);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fake's state, even after a handler panicked while holding it.
fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// `response` with a `Retry-After` header of `seconds`.
fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    let value = seconds
        .to_string()
        .parse()
        .expect("digits are a header value");
    response.headers_mut().insert("retry-after", value);
    response
}

/// Answers `response`, or never answers when the request was scripted to hang.
async fn answer_unless_hung(response: Response, hang: bool) -> Response {
    if hang {
        std::future::pending::<()>().await;
    }
    response
}
