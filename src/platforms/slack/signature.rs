//! The check every Slack HTTP request passes before anything reads it: `X-Slack-Signature` is
//! `v0=` HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}` under the signing secret,
//! compared in constant time, with the timestamp within five minutes of now. A request that fails
//! gets 401 and nothing else happens.

use axum::http::HeaderMap;
use slack_morphism::prelude::SlackSigningSecret;
use slack_morphism::signature_verifier::SlackEventSignatureVerifier;

use crate::platforms::signed::RequestVerifier;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Slack-Signature or X-Slack-Request-Timestamp header is missing")]
    Missing,
    #[error("the body is not UTF-8")]
    NotUtf8,
    #[error("{0}")]
    Invalid(String),
}

/// Verifies requests against one signing secret.
pub struct Verifier(SlackEventSignatureVerifier);

impl Verifier {
    pub fn new(signing_secret: &str) -> Verifier {
        Verifier(SlackEventSignatureVerifier::new(&SlackSigningSecret::new(
            signing_secret.to_string(),
        )))
    }

    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let (Some(signature), Some(timestamp)) = (
            header(SlackEventSignatureVerifier::SLACK_SIGNED_HASH_HEADER),
            header(SlackEventSignatureVerifier::SLACK_SIGNED_TIMESTAMP),
        ) else {
            return Err(SignatureError::Missing);
        };
        let body = std::str::from_utf8(body).map_err(|_| SignatureError::NotUtf8)?;
        self.0
            .verify(signature, body, timestamp)
            .map_err(|e| SignatureError::Invalid(e.to_string()))
    }
}

/// A request whose signature Slack's secret checked out.
pub type Signed = crate::platforms::signed::Signed<Verifier>;

impl RequestVerifier for Verifier {
    const PLATFORM: &'static str = "slack";
    type Error = SignatureError;

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
        Verifier::verify(self, headers, body)
    }
}

impl Signed {
    /// Slack's redelivery count (`X-Slack-Retry-Num`), for the logs; dedupe is by id.
    pub fn retry_num(&self) -> Option<&str> {
        self.headers
            .get("x-slack-retry-num")
            .and_then(|v| v.to_str().ok())
    }
}
