//! Fake platform servers on loopback (port 0) that speak the platforms' wire formats and record
//! what the bot sent. They can be told to rate-limit, fail, or hang.
#![allow(dead_code)]

pub mod evolution;
pub mod graph;
pub mod slack;

use std::time::{Duration, Instant};

/// Polls `check` every 20 ms until it returns something, or panics naming `what` at the deadline.
pub async fn poll<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not there within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
