//! The check every Slack HTTP request passes before anything reads it: `X-Slack-Signature` is
//! `v0=` HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}` under the signing secret,
//! compared in constant time, with the timestamp within five minutes of now. A request that fails
//! gets 401 and nothing else happens.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use slack_morphism::prelude::SlackSigningSecret;
use slack_morphism::signature_verifier::SlackEventSignatureVerifier;

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

/// A request whose signature checked out: its headers and raw body.
pub struct Signed {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Signed {
    /// Slack's redelivery count (`X-Slack-Retry-Num`), for the logs; dedupe is by id.
    pub fn retry_num(&self) -> Option<&str> {
        self.headers
            .get("x-slack-retry-num")
            .and_then(|v| v.to_str().ok())
    }
}

impl<S> FromRequest<S> for Signed
where
    S: Send + Sync,
    Arc<Verifier>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Signed, Response> {
        let verifier = Arc::<Verifier>::from_ref(state);
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match verifier.verify(&headers, &body) {
            Ok(()) => Ok(Signed { headers, body }),
            Err(error) => {
                metrics::counter!("runroom_inbound_rejected_total", "platform" => "slack")
                    .increment(1);
                tracing::warn!(%error, "refused a Slack request");
                Err((StatusCode::UNAUTHORIZED, "invalid signature").into_response())
            }
        }
    }
}
