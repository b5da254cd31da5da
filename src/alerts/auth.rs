//! Who may post to an alert source: a bearer token or basic auth (what Alertmanager 0.25 can
//! send, and Datadog's custom headers), or Grafana's HMAC signature of the body. Every secret is
//! compared in constant time; a request that fails is answered 401 before its body is read
//! as an alert.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Grafana's signature header unless the source names another.
pub const GRAFANA_SIGNATURE_HEADER: &str = "X-Grafana-Alerting-Signature";
/// How far a signed timestamp may be from now (a replayed delivery is older).
pub const TIMESTAMP_SKEW_SECONDS: i64 = 300;

/// How one source checks its requests.
#[derive(Clone)]
pub enum SourceAuth {
    /// `Authorization: Bearer <token>`.
    Bearer { token: String },
    /// `Authorization: Basic base64(username:password)`.
    Basic { username: String, password: String },
    /// A hex HMAC-SHA256 of the body (or of `timestamp:body`) in `header`.
    Hmac {
        secret: String,
        header: String,
        timestamp_header: Option<String>,
    },
}

/// Never prints a secret.
impl std::fmt::Debug for SourceAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.method())
    }
}

/// Why a request was refused (logged, never answered in detail).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AuthError {
    #[error("no credentials")]
    Missing,
    #[error("wrong credentials")]
    Wrong,
    #[error(
        "the signature's timestamp is missing, unreadable or more than {TIMESTAMP_SKEW_SECONDS} s away"
    )]
    Stale,
}

impl SourceAuth {
    /// The method's name, for errors and logs.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Bearer { .. } => "bearer",
            Self::Basic { .. } => "basic",
            Self::Hmac { .. } => "hmac",
        }
    }

    pub fn check(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        match self {
            Self::Bearer { token } => {
                let given = authorization(headers, "bearer").ok_or(AuthError::Missing)?;
                same(given.trim().as_bytes(), token.as_bytes())
            }
            Self::Basic { username, password } => {
                let given = authorization(headers, "basic").ok_or(AuthError::Missing)?;
                let expected = basic_credentials(username, password);
                same(given.trim().as_bytes(), expected.as_bytes())
            }
            Self::Hmac {
                secret,
                header,
                timestamp_header,
            } => {
                let signature = headers
                    .get(header.as_str())
                    .and_then(|v| v.to_str().ok())
                    .ok_or(AuthError::Missing)?;
                let signature = decode_hex(signature.trim()).ok_or(AuthError::Wrong)?;
                let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                    .map_err(|_| AuthError::Wrong)?;
                if let Some(name) = timestamp_header {
                    let stamp = headers
                        .get(name.as_str())
                        .and_then(|v| v.to_str().ok())
                        .ok_or(AuthError::Missing)?;
                    fresh(stamp, now)?;
                    mac.update(stamp.as_bytes());
                    mac.update(b":");
                }
                mac.update(body);
                mac.verify_slice(&signature).map_err(|_| AuthError::Wrong)
            }
        }
    }
}

/// The credentials of an `Authorization` header with this scheme (case-insensitive).
fn authorization<'h>(headers: &'h HeaderMap, scheme: &str) -> Option<&'h str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

/// Compares digests, so neither the content nor the length of the secret leaks through timing.
fn same(given: &[u8], expected: &[u8]) -> Result<(), AuthError> {
    let a = Sha256::digest(given);
    let b = Sha256::digest(expected);
    if bool::from(a.ct_eq(&b)) {
        Ok(())
    } else {
        Err(AuthError::Wrong)
    }
}

/// A signed timestamp in Unix seconds (or milliseconds), within the allowed skew of now.
fn fresh(stamp: &str, now: DateTime<Utc>) -> Result<(), AuthError> {
    let n: i64 = stamp.trim().parse().map_err(|_| AuthError::Stale)?;
    let seconds = if n > 100_000_000_000 { n / 1000 } else { n };
    if (now.timestamp() - seconds).abs() > TIMESTAMP_SKEW_SECONDS {
        return Err(AuthError::Stale);
    }
    Ok(())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.strip_prefix("sha256=").unwrap_or(text);
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `base64(username:password)`, as a client sends it.
pub fn basic_credentials(username: &str, password: &str) -> String {
    base64(format!("{username}:{password}").as_bytes())
}

/// Standard base64 with padding (the one encoding basic auth needs; not worth a crate).
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The hex HMAC-SHA256 Grafana would send (for tests and the README's curl example).
pub fn grafana_signature(secret: &str, timestamp: Option<&str>, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    if let Some(stamp) = timestamp {
        mac.update(stamp.as_bytes());
        mac.update(b":");
    }
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_417_600, 0).expect("time")
    }

    #[test]
    fn base64_matches_the_rfc_examples() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn bearer_and_basic() {
        let bearer = SourceAuth::Bearer {
            token: "t0k".into(),
        };
        assert_eq!(
            bearer.check(
                &headers(&[("authorization", "Bearer t0k".into())]),
                b"",
                now()
            ),
            Ok(())
        );
        assert_eq!(
            bearer.check(
                &headers(&[("authorization", "bearer t0k".into())]),
                b"",
                now()
            ),
            Ok(())
        );
        assert_eq!(
            bearer.check(
                &headers(&[("authorization", "Bearer t0kX".into())]),
                b"",
                now()
            ),
            Err(AuthError::Wrong)
        );
        assert_eq!(
            bearer.check(&headers(&[]), b"", now()),
            Err(AuthError::Missing)
        );
        let basic = SourceAuth::Basic {
            username: "am".into(),
            password: "pw".into(),
        };
        let good = format!("Basic {}", basic_credentials("am", "pw"));
        assert_eq!(
            basic.check(&headers(&[("authorization", good)]), b"", now()),
            Ok(())
        );
        let bad = format!("Basic {}", basic_credentials("am", "pW"));
        assert_eq!(
            basic.check(&headers(&[("authorization", bad)]), b"", now()),
            Err(AuthError::Wrong)
        );
        assert_eq!(
            basic.check(
                &headers(&[("authorization", "Bearer pw".into())]),
                b"",
                now()
            ),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn grafana_hmac_with_and_without_a_timestamp() {
        let body = br#"{"alerts":[]}"#;
        let plain = SourceAuth::Hmac {
            secret: "s".into(),
            header: GRAFANA_SIGNATURE_HEADER.into(),
            timestamp_header: None,
        };
        let sig = grafana_signature("s", None, body);
        assert_eq!(
            plain.check(
                &headers(&[("x-grafana-alerting-signature", sig.clone())]),
                body,
                now()
            ),
            Ok(())
        );
        assert_eq!(
            plain.check(
                &headers(&[("x-grafana-alerting-signature", sig)]),
                b"{}",
                now()
            ),
            Err(AuthError::Wrong)
        );
        assert_eq!(
            plain.check(
                &headers(&[("x-grafana-alerting-signature", "zz".into())]),
                body,
                now()
            ),
            Err(AuthError::Wrong)
        );

        let stamped = SourceAuth::Hmac {
            secret: "s".into(),
            header: GRAFANA_SIGNATURE_HEADER.into(),
            timestamp_header: Some("X-Grafana-Alerting-Signature-Timestamp".into()),
        };
        let stamp = now().timestamp().to_string();
        let sig = grafana_signature("s", Some(&stamp), body);
        let good = headers(&[
            ("x-grafana-alerting-signature", sig.clone()),
            ("x-grafana-alerting-signature-timestamp", stamp),
        ]);
        assert_eq!(stamped.check(&good, body, now()), Ok(()));
        let old = (now().timestamp() - 3600).to_string();
        let replayed = headers(&[
            (
                "x-grafana-alerting-signature",
                grafana_signature("s", Some(&old), body),
            ),
            ("x-grafana-alerting-signature-timestamp", old),
        ]);
        assert_eq!(stamped.check(&replayed, body, now()), Err(AuthError::Stale));
        assert_eq!(
            stamped.check(
                &headers(&[("x-grafana-alerting-signature", sig)]),
                body,
                now()
            ),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let auth = SourceAuth::Bearer {
            token: "sekrit".into(),
        };
        assert!(!format!("{auth:?}").contains("sekrit"));
    }
}
