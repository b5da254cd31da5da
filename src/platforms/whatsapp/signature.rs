//! The checks on Meta's webhook: `X-Hub-Signature-256` is `sha256=` and the hex HMAC-SHA256 of
//! the raw body under the app secret, compared in constant time before anything reads the body
//! (401 otherwise); and the GET that verifies the URL echoes `hub.challenge` only for the right
//! `hub.verify_token` (403 otherwise).

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::platforms::signed::RequestVerifier;

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// Why a delivery was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not sha256=<hex>")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// The app secret and the verify token.
pub struct Verifier {
    app_secret: Vec<u8>,
    verify_token: Vec<u8>,
}

impl Verifier {
    pub fn new(app_secret: &str, verify_token: &str) -> Verifier {
        Verifier {
            app_secret: app_secret.as_bytes().to_vec(),
            verify_token: verify_token.as_bytes().to_vec(),
        }
    }

    /// `sha256=<hex>` for a body (what Meta sends; the tests sign with it too).
    pub fn sign(app_secret: &str, body: &[u8]) -> String {
        format!("sha256={}", hex(&mac(app_secret.as_bytes(), body)))
    }

    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
        let header = headers
            .get(SIGNATURE_HEADER)
            .ok_or(SignatureError::Missing)?
            .to_str()
            .map_err(|_| SignatureError::Malformed)?;
        let given = header
            .trim()
            .strip_prefix("sha256=")
            .and_then(unhex)
            .ok_or(SignatureError::Malformed)?;
        let expected = mac(&self.app_secret, body);
        if bool::from(expected.as_slice().ct_eq(given.as_slice())) {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }

    /// Whether the GET's `hub.verify_token` is ours (constant time: it is a secret).
    pub fn verify_token(&self, given: &str) -> bool {
        !self.verify_token.is_empty() && bool::from(self.verify_token.ct_eq(given.as_bytes()))
    }
}

fn mac(key: &[u8], body: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A delivery whose signature the app secret checked out.
pub type Signed = crate::platforms::signed::Signed<Verifier>;

impl RequestVerifier for Verifier {
    const PLATFORM: &'static str = "whatsapp";
    type Error = SignatureError;

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
        Verifier::verify(self, headers, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_checked_over_the_raw_body() {
        let verifier = Verifier::new("app-secret", "verify-me");
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let mut headers = HeaderMap::new();
        assert_eq!(
            verifier.verify(&headers, body),
            Err(SignatureError::Missing)
        );
        headers.insert(
            SIGNATURE_HEADER,
            Verifier::sign("app-secret", body).parse().unwrap(),
        );
        assert_eq!(verifier.verify(&headers, body), Ok(()));
        assert_eq!(
            verifier.verify(&headers, b"{\"object\":\"tampered\"}"),
            Err(SignatureError::Mismatch)
        );
        headers.insert(
            SIGNATURE_HEADER,
            Verifier::sign("other-secret", body).parse().unwrap(),
        );
        assert_eq!(
            verifier.verify(&headers, body),
            Err(SignatureError::Mismatch)
        );
        headers.insert(SIGNATURE_HEADER, "sha1=abc".parse().unwrap());
        assert_eq!(
            verifier.verify(&headers, body),
            Err(SignatureError::Malformed)
        );
        assert!(verifier.verify_token("verify-me"));
        assert!(!verifier.verify_token("verify-you"));
        assert!(!Verifier::new("s", "").verify_token(""));
    }
}
