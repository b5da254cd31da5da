//! The extractor every signed webhook passes before anything reads it: the platform's
//! [`RequestVerifier`] checks the headers against the raw body, and a request that fails gets 401,
//! is counted and logged (without its content), and goes no further.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// Checks one platform's request signatures.
pub trait RequestVerifier: Send + Sync + 'static {
    /// The platform's name, for the rejection counter and the log.
    const PLATFORM: &'static str;
    type Error: std::fmt::Display;
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Self::Error>;
}

/// A request whose signature checked out under `V`: its headers and raw body.
pub struct Signed<V> {
    pub headers: HeaderMap,
    pub body: Bytes,
    verified_by: PhantomData<V>,
}

impl<S, V> FromRequest<S> for Signed<V>
where
    S: Send + Sync,
    V: RequestVerifier,
    Arc<V>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Signed<V>, Response> {
        let verifier = Arc::<V>::from_ref(state);
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match verifier.verify(&headers, &body) {
            Ok(()) => Ok(Signed {
                headers,
                body,
                verified_by: PhantomData,
            }),
            Err(error) => {
                metrics::counter!("runroom_inbound_rejected_total", "platform" => V::PLATFORM)
                    .increment(1);
                tracing::warn!(%error, platform = V::PLATFORM, "refused a request with a bad signature");
                Err((StatusCode::UNAUTHORIZED, "invalid signature").into_response())
            }
        }
    }
}
