//! Who is signed in to the dashboard: a session is a signed cookie (`role.expiry.nonce.mac`),
//! its MAC keyed by the role's own token, so nothing is kept in memory, every replica that has
//! the tokens accepts it, and changing a token signs that role out everywhere. Each session has
//! a CSRF token derived from it, which every form that changes something must carry. Failed
//! sign-ins are limited per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "runroom_session";
/// How long a sign-in lasts.
pub const LIFETIME: chrono::Duration = chrono::Duration::hours(12);

/// What a signed-in person may do: look, or also retry messages and switch the sending mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Viewer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Admin => "admin",
        }
    }

    fn parse(raw: &str) -> Option<Role> {
        match raw {
            "viewer" => Some(Role::Viewer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A valid session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub role: Role,
    pub expires: DateTime<Utc>,
    /// The token forms carry to prove they come from this session's pages.
    pub csrf: String,
}

/// The tokens that sign in, and so sign the sessions.
pub struct Keys {
    viewer: Option<String>,
    admin: Option<String>,
}

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &str, parts: &[&str]) -> String {
    // HMAC accepts a key of any length.
    let mut mac = HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part.as_bytes());
        mac.update(b"\n");
    }
    hex(&mac.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Keys {
    /// `None` when neither token is set: then there is no dashboard.
    pub fn new(viewer: Option<String>, admin: Option<String>) -> Option<Keys> {
        let viewer = viewer.filter(|t| !t.is_empty());
        let admin = admin.filter(|t| !t.is_empty());
        (viewer.is_some() || admin.is_some()).then_some(Keys { viewer, admin })
    }

    fn key(&self, role: Role) -> Option<&str> {
        match role {
            Role::Viewer => self.viewer.as_deref(),
            Role::Admin => self.admin.as_deref(),
        }
    }

    /// The role a presented token signs in as (compared in constant time with each token).
    pub fn role_of(&self, presented: &str) -> Option<Role> {
        let matches = |token: Option<&str>| {
            token.is_some_and(|t| bool::from(presented.as_bytes().ct_eq(t.as_bytes())))
        };
        // Both are compared whatever the first gives, so the time says nothing of which matched.
        let admin = matches(self.admin.as_deref());
        let viewer = matches(self.viewer.as_deref());
        if admin {
            Some(Role::Admin)
        } else if viewer {
            Some(Role::Viewer)
        } else {
            None
        }
    }

    /// A new session's cookie value for `role`, valid until `now + LIFETIME`.
    pub fn issue(&self, role: Role, now: DateTime<Utc>) -> Option<String> {
        let key = self.key(role)?;
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).ok()?;
        let nonce = hex(&nonce);
        let expires = (now + LIFETIME).timestamp().to_string();
        let signature = mac(key, &["session", role.as_str(), &expires, &nonce]);
        Some(format!("{}.{expires}.{nonce}.{signature}", role.as_str()))
    }

    /// The session a cookie value holds, if it is signed by its role's token and not expired.
    pub fn open(&self, cookie: &str, now: DateTime<Utc>) -> Option<Session> {
        let mut parts = cookie.split('.');
        let (role, expires, nonce, signature) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let role = Role::parse(role)?;
        let key = self.key(role)?;
        let expected = mac(key, &["session", role.as_str(), expires, nonce]);
        if !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
            return None;
        }
        let expires = DateTime::from_timestamp(expires.parse().ok()?, 0)?;
        if expires <= now {
            return None;
        }
        Some(Session {
            role,
            expires,
            csrf: mac(key, &["csrf", cookie]),
        })
    }
}

/// Failed sign-ins per client address: after `limit` in `window`, more are refused until the
/// window has passed.
pub struct Attempts {
    limit: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Attempts {
    pub fn new(limit: u32, window: Duration) -> Attempts {
        Attempts {
            limit,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(wait)` when `client` must wait before trying again.
    pub fn blocked(&self, client: IpAddr, now: Instant) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (count, since) = failures.get(&client)?;
        let passed = now.saturating_duration_since(*since);
        (*count >= self.limit && passed < self.window).then(|| self.window - passed)
    }

    pub fn failed(&self, client: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Old windows go, so the map holds only clients that failed lately.
        let window = self.window;
        failures.retain(|_, (_, since)| now.saturating_duration_since(*since) < window);
        let entry = failures.entry(client).or_insert((0, now));
        entry.0 += 1;
    }

    pub fn succeeded(&self, client: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::new(Some("view-token".into()), Some("admin-token".into())).expect("keys")
    }

    #[test]
    fn a_session_opens_only_as_issued_and_until_it_expires() {
        let keys = keys();
        let now = Utc::now();
        let cookie = keys.issue(Role::Viewer, now).expect("issued");
        let session = keys.open(&cookie, now).expect("opens");
        assert_eq!(session.role, Role::Viewer);
        assert!(keys.open(&cookie, now + LIFETIME).is_none(), "expired");
        let forged = cookie.replacen("viewer", "admin", 1);
        assert!(
            keys.open(&forged, now).is_none(),
            "a role cannot be changed"
        );
        let other = Keys::new(Some("another".into()), None).expect("keys");
        assert!(
            other.open(&cookie, now).is_none(),
            "a new token signs the role out"
        );
        let second = keys.issue(Role::Viewer, now).expect("issued");
        assert_ne!(
            keys.open(&second, now).expect("opens").csrf,
            session.csrf,
            "each session has its own CSRF token"
        );
    }

    #[test]
    fn tokens_sign_in_as_their_role() {
        let keys = keys();
        assert_eq!(keys.role_of("admin-token"), Some(Role::Admin));
        assert_eq!(keys.role_of("view-token"), Some(Role::Viewer));
        assert_eq!(keys.role_of("view-token "), None);
        assert_eq!(keys.role_of(""), None);
    }

    #[test]
    fn failures_are_limited_per_client_for_a_window() {
        let attempts = Attempts::new(3, Duration::from_secs(60));
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "::1".parse().unwrap());
        let start = Instant::now();
        for _ in 0..3 {
            assert!(attempts.blocked(a, start).is_none());
            attempts.failed(a, start);
        }
        assert!(attempts.blocked(a, start).is_some());
        assert!(
            attempts.blocked(b, start).is_none(),
            "another client is not held"
        );
        assert!(
            attempts
                .blocked(a, start + Duration::from_secs(61))
                .is_none()
        );
        attempts.succeeded(a);
        assert!(attempts.blocked(a, start).is_none());
    }
}
