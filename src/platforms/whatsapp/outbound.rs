//! Sending through the Cloud API: `POST {api}/{version}/{phone_number_id}/messages` with a bearer
//! token, and Meta's error codes sorted into "retry" and "never retry".

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::{WhatsappConfig, redact_numbers};
use crate::outbox::{Delivered, SendError, Sender};
use crate::store::OutboxRow;

/// The longest text body the Cloud API accepts.
const MAX_BODY_CHARS: usize = 4096;

pub struct WhatsappSender {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl WhatsappSender {
    pub fn new(config: &WhatsappConfig, token: String) -> Result<WhatsappSender, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_seconds.max(1)))
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        let url = format!(
            "{}/{}/{}/messages",
            config.api_url.trim_end_matches('/'),
            config.api_version,
            config.phone_number_id
        );
        Ok(WhatsappSender { http, url, token })
    }
}

#[derive(Deserialize)]
struct Accepted {
    messages: Vec<AcceptedMessage>,
}

#[derive(Deserialize)]
struct AcceptedMessage {
    id: String,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    code: i64,
    #[serde(default)]
    message: String,
}

/// Meta's codes worth retrying: throughput (130429), pair rate limit (131056), temporary and
/// unknown errors (1, 2), application rate limits (4, 80007).
fn is_retryable(code: i64) -> bool {
    matches!(code, 1 | 2 | 4 | 80007 | 130429 | 131056)
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[async_trait]
impl Sender for WhatsappSender {
    fn platform(&self) -> &'static str {
        "whatsapp"
    }

    async fn send(&self, row: &OutboxRow) -> Result<Delivered, SendError> {
        let body: String = row.message.text.chars().take(MAX_BODY_CHARS).collect();
        let payload = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": row.message.chat,
            "type": "text",
            "text": { "preview_url": false, "body": body },
        });
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&payload)
            .send()
            .await
            // reqwest's error text names the URL, never the body or the token.
            .map_err(|e| SendError::retryable(format!("whatsapp request failed: {e}")))?;
        let status = response.status();
        let after = retry_after(&response);
        let text = response
            .text()
            .await
            .map_err(|e| SendError::retryable(format!("whatsapp response unreadable: {e}")))?;
        if status.is_success() {
            let accepted: Accepted = serde_json::from_str(&text).map_err(|e| {
                SendError::retryable(format!(
                    "whatsapp answered 200 with an unexpected body: {e}"
                ))
            })?;
            return Ok(Delivered {
                platform_message_id: accepted.messages.into_iter().next().map(|m| m.id),
            });
        }
        let error = serde_json::from_str::<ErrorEnvelope>(&text)
            .ok()
            .map(|e| e.error);
        let reason = match &error {
            Some(e) => format!(
                "whatsapp error {} (HTTP {}): {}",
                e.code,
                status.as_u16(),
                redact_numbers(&e.message)
            ),
            None => format!("whatsapp HTTP {}", status.as_u16()),
        };
        let retry = status.as_u16() == 429
            || status.is_server_error()
            || error.as_ref().is_some_and(|e| is_retryable(e.code));
        if retry {
            Err(SendError::Retryable {
                reason,
                retry_after: after,
            })
        } else {
            Err(SendError::Permanent { reason })
        }
    }
}
