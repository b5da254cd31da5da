//! A classic WhatsApp group through a self-hosted Evolution API gateway (common in Brazil): text
//! goes out with `POST {api}/message/sendText/{instance}` and the `apikey` header; group messages
//! come in as `messages.upsert` webhooks. Evolution does not sign its webhooks, so a delivery is
//! accepted when it carries the instance's API key or the URL's `token` matches the one runroom
//! was given.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::EvolutionConfig;
use super::phone::{self, redact_numbers};
use crate::outbox::{Delivered, SendError};

/// The token to append to the webhook URL (`/webhooks/evolution?token=…`) when the gateway
/// does not send its API key in the body.
pub const WEBHOOK_TOKEN_ENV: &str = "RUNROOM_EVOLUTION_WEBHOOK_TOKEN";

/// The longest text runroom sends in one message (WhatsApp's own limit is far larger).
const MAX_TEXT_CHARS: usize = 4096;

pub struct EvolutionClient {
    http: reqwest::Client,
    url: String,
    apikey: String,
}

#[derive(Deserialize)]
struct Sent {
    key: SentKey,
}

#[derive(Deserialize)]
struct SentKey {
    id: String,
}

impl EvolutionClient {
    pub fn new(
        config: &EvolutionConfig,
        apikey: String,
    ) -> Result<EvolutionClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(
                config.timeout_seconds.max(1),
            ))
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()?;
        Ok(EvolutionClient {
            http,
            url: format!(
                "{}/message/sendText/{}",
                config.api_url.trim_end_matches('/'),
                config.instance
            ),
            apikey,
        })
    }

    /// Sends text to a group JID (`…@g.us`) or a number.
    pub async fn send_text(&self, to: &str, text: &str) -> Result<Delivered, SendError> {
        let text: String = text.chars().take(MAX_TEXT_CHARS).collect();
        let response = self
            .http
            .post(&self.url)
            .header("apikey", &self.apikey)
            .json(&json!({ "number": to, "text": text }))
            .send()
            .await
            .map_err(|e| SendError::retryable(format!("evolution request failed: {e}")))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| SendError::retryable(format!("evolution response unreadable: {e}")))?;
        if status.is_success() {
            let id = serde_json::from_str::<Sent>(&body).ok().map(|s| s.key.id);
            return Ok(Delivered {
                platform_message_id: id,
            });
        }
        // The gateway's error bodies can echo the number: keep only a redacted excerpt.
        let excerpt: String = redact_numbers(&body).chars().take(200).collect();
        let reason = format!("evolution HTTP {}: {excerpt}", status.as_u16());
        if status.as_u16() == 429 || status.is_server_error() {
            Err(SendError::retryable(reason))
        } else {
            Err(SendError::permanent(reason))
        }
    }
}

/// A group message that reached the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMessage {
    pub id: String,
    /// The group JID (`…@g.us`), or the chat's JID for a one-to-one message.
    pub chat: String,
    /// The writer in E.164, when the gateway names them by number (not by a `@lid` alias).
    pub from: Option<String>,
    /// The writer's id as the gateway gives it, for when there is no number.
    pub author_id: String,
    pub name: Option<String>,
    pub text: String,
    pub at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Webhook {
    #[serde(default)]
    event: String,
    #[serde(default)]
    apikey: Option<String>,
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    key: Key,
    #[serde(rename = "pushName", default)]
    push_name: Option<String>,
    message: Option<Content>,
    #[serde(rename = "messageTimestamp", default)]
    timestamp: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Key {
    #[serde(rename = "remoteJid", default)]
    remote_jid: String,
    #[serde(rename = "fromMe", default)]
    from_me: bool,
    #[serde(default)]
    id: String,
    #[serde(default)]
    participant: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    conversation: Option<String>,
    #[serde(rename = "extendedTextMessage")]
    extended: Option<Extended>,
}

#[derive(Deserialize)]
struct Extended {
    text: Option<String>,
}

/// A parsed delivery: the API key it carried, and the message when it is one runroom reads.
pub struct Delivery {
    pub apikey: Option<String>,
    pub message: Option<GroupMessage>,
}

/// Reads a webhook; only incoming text messages (`messages.upsert`, not our own) come out.
pub fn parse(body: &[u8], now: DateTime<Utc>) -> Result<Delivery, serde_json::Error> {
    let hook: Webhook = serde_json::from_slice(body)?;
    let apikey = hook.apikey.filter(|k| !k.is_empty());
    let event = hook.event.to_ascii_lowercase().replace('_', ".");
    let message = match hook.data {
        // Without an id a message could not be told from its redelivery: skipped.
        Some(data)
            if event == "messages.upsert" && !data.key.from_me && !data.key.id.is_empty() =>
        {
            let text = data.message.and_then(|m| {
                m.conversation
                    .filter(|c| !c.is_empty())
                    .or_else(|| m.extended.and_then(|e| e.text))
            });
            text.map(|text| {
                // In a group the writer is the participant; one-to-one, the chat itself.
                let author_jid = data
                    .key
                    .participant
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| data.key.remote_jid.clone());
                let from = author_jid
                    .strip_suffix("@s.whatsapp.net")
                    .and_then(phone::normalize);
                let stamped = match data.timestamp {
                    Some(serde_json::Value::Number(n)) => n.as_i64(),
                    Some(serde_json::Value::String(s)) => s.parse().ok(),
                    _ => None,
                }
                .and_then(|s| DateTime::from_timestamp(s, 0));
                let at = crate::platforms::stamp::clamp(stamped, now);
                GroupMessage {
                    id: data.key.id,
                    chat: data.key.remote_jid,
                    from,
                    author_id: author_jid,
                    name: data
                        .push_name
                        .map(|n| n.trim().to_string())
                        .filter(|n| !n.is_empty()),
                    text,
                    at,
                }
            })
        }
        _ => None,
    };
    Ok(Delivery { apikey, message })
}

/// What the evolution webhook endpoint needs to know a delivery is genuine.
pub struct WebhookAuth {
    pub apikey: Option<String>,
    pub token: Option<String>,
}

impl WebhookAuth {
    /// The body's `apikey` is the instance's, or the URL's token is ours (constant time).
    pub fn accepts(&self, body_apikey: Option<&str>, url_token: Option<&str>) -> bool {
        use subtle::ConstantTimeEq;
        let same = |ours: &Option<String>, given: Option<&str>| match (ours, given) {
            (Some(ours), Some(given)) => bool::from(ours.as_bytes().ct_eq(given.as_bytes())),
            _ => false,
        };
        same(&self.apikey, body_apikey) || same(&self.token, url_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_group_message_and_skips_our_own() {
        let body = br#"{"event":"messages.upsert","instance":"runroom","data":{"key":{"remoteJid":"120363025246125486@g.us","fromMe":false,"id":"3EB0A1","participant":"5511987654321@s.whatsapp.net"},"pushName":"Ana","message":{"conversation":"incidente ciente"},"messageType":"conversation","messageTimestamp":1772000000},"apikey":"k"}"#;
        let received = DateTime::from_timestamp(1_772_000_030, 0).unwrap();
        let delivery = parse(body, received).unwrap();
        assert_eq!(delivery.apikey.as_deref(), Some("k"));
        let m = delivery.message.unwrap();
        assert_eq!(m.chat, "120363025246125486@g.us");
        assert_eq!(m.from.as_deref(), Some("+5511987654321"));
        assert_eq!(m.name.as_deref(), Some("Ana"));
        assert_eq!(m.text, "incidente ciente");
        assert_eq!(m.at.timestamp(), 1_772_000_000);

        let own = br#"{"event":"messages.upsert","data":{"key":{"remoteJid":"1203@g.us","fromMe":true,"id":"X"},"message":{"conversation":"hi"}}}"#;
        assert!(parse(own, Utc::now()).unwrap().message.is_none());
        let lid = br#"{"event":"MESSAGES_UPSERT","data":{"key":{"remoteJid":"1203@g.us","fromMe":false,"id":"Y","participant":"99887766@lid"},"message":{"extendedTextMessage":{"text":"oi"}}}}"#;
        let m = parse(lid, Utc::now()).unwrap().message.unwrap();
        assert_eq!((m.from, m.text.as_str()), (None, "oi"));
    }

    #[test]
    fn a_delivery_needs_the_apikey_or_the_token() {
        let auth = WebhookAuth {
            apikey: Some("instance-key".into()),
            token: Some("url-token".into()),
        };
        assert!(auth.accepts(Some("instance-key"), None));
        assert!(auth.accepts(None, Some("url-token")));
        assert!(!auth.accepts(Some("other"), Some("other")));
        assert!(!auth.accepts(None, None));
        let none = WebhookAuth {
            apikey: None,
            token: None,
        };
        assert!(!none.accepts(None, None));
    }
}
