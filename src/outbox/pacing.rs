//! Pacing with the generic cell rate algorithm (GCRA): per platform and per destination, in
//! the injected clock's time. A reservation says *when* a message may go, so a worker can hold
//! a claimed message until its slot instead of asking again and again.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::config::PlatformLimits;

/// One rate with a burst, for any number of keys.
#[derive(Debug, Clone)]
struct Gcra {
    interval: chrono::Duration,
    tolerance: chrono::Duration,
    /// Theoretical arrival time of the next message per key.
    tat: HashMap<String, DateTime<Utc>>,
}

impl Gcra {
    /// One message of a burst above one is kept in hand: the platform counts arrivals, and a
    /// burst that reaches it late (a cold connection) would otherwise make the next message look
    /// early.
    fn new(rate: f64, burst: u32) -> Gcra {
        let interval = chrono::Duration::microseconds((1_000_000.0 / rate.max(1e-6)) as i64);
        let usable = burst.saturating_sub(1).max(1);
        Gcra {
            interval,
            tolerance: interval * (usable as i32 - 1),
            tat: HashMap::new(),
        }
    }

    /// The earliest instant a message for `key` conforms.
    fn earliest(&self, key: &str, now: DateTime<Utc>) -> DateTime<Utc> {
        let tat = self.tat.get(key).copied().unwrap_or(now).max(now);
        (tat - self.tolerance).max(now)
    }

    /// Takes the slot at `at` (which must be at or after [`Gcra::earliest`]).
    fn take(&mut self, key: &str, at: DateTime<Utc>) {
        let tat = self.tat.get(key).copied().unwrap_or(at).max(at);
        self.tat.insert(key.to_string(), tat + self.interval);
    }

    /// Nothing for `key` before `until`.
    fn block(&mut self, key: &str, until: DateTime<Utc>) {
        let floor = until + self.tolerance;
        let tat = self.tat.entry(key.to_string()).or_insert(floor);
        if *tat < floor {
            *tat = floor;
        }
    }
}

const PLATFORM_KEY: &str = "";

/// A platform's pacer: its account-wide rate and each destination's.
#[derive(Debug, Clone)]
pub struct Pacer {
    platform: Gcra,
    per_chat: Gcra,
    paused: Option<DateTime<Utc>>,
}

impl Pacer {
    pub fn new(limits: &PlatformLimits) -> Pacer {
        Pacer {
            platform: Gcra::new(limits.rate, limits.burst),
            per_chat: Gcra::new(limits.per_chat_rate, limits.per_chat_burst),
            paused: None,
        }
    }

    /// The earliest slot for a message to `chat`, without taking it.
    pub fn earliest(&self, chat: &str, now: DateTime<Utc>) -> DateTime<Utc> {
        self.platform
            .earliest(PLATFORM_KEY, now)
            .max(self.per_chat.earliest(chat, now))
    }

    /// Reserves the earliest slot for `chat` if it is within `max_wait`; `Err(slot)` otherwise,
    /// with nothing reserved.
    pub fn reserve(
        &mut self,
        chat: &str,
        now: DateTime<Utc>,
        max_wait: Duration,
    ) -> Result<DateTime<Utc>, DateTime<Utc>> {
        let slot = self.earliest(chat, now);
        let limit = now + chrono::Duration::from_std(max_wait).unwrap_or(chrono::Duration::zero());
        if slot > limit {
            return Err(slot);
        }
        self.platform.take(PLATFORM_KEY, slot);
        self.per_chat.take(chat, slot);
        Ok(slot)
    }

    /// The platform asked for a pause (Retry-After): nothing to it before `until`.
    pub fn pause(&mut self, until: DateTime<Utc>) {
        self.platform.block(PLATFORM_KEY, until);
        self.paused = Some(self.paused.map_or(until, |p| p.max(until)));
    }

    /// Whether a pause is in force at `now` (a message whose slot was reserved before the pause
    /// must wait for its end).
    pub fn paused_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.paused.filter(|until| *until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn limits(rate: f64, burst: u32, per_chat_rate: f64, per_chat_burst: u32) -> PlatformLimits {
        PlatformLimits {
            rate,
            burst,
            per_chat_rate,
            per_chat_burst,
            ..PlatformLimits::default()
        }
    }

    #[test]
    fn burst_then_steady_rate() {
        let mut p = Pacer::new(&limits(10.0, 4, 1000.0, 1000));
        let slots: Vec<_> = (0..6)
            .map(|i| {
                p.reserve(&format!("c{i}"), t0(), Duration::from_secs(10))
                    .unwrap()
            })
            .collect();
        assert_eq!(
            &slots[..3],
            &[t0(), t0(), t0()],
            "the burst, less one kept in hand, goes at once"
        );
        assert_eq!(slots[3], t0() + chrono::Duration::milliseconds(100));
        assert_eq!(slots[5], t0() + chrono::Duration::milliseconds(300));
    }

    #[test]
    fn a_slow_destination_does_not_slow_the_others() {
        let mut p = Pacer::new(&limits(100.0, 100, 1.0 / 6.0, 1));
        assert_eq!(p.reserve("alice", t0(), Duration::from_secs(1)), Ok(t0()));
        let next = p
            .reserve("alice", t0(), Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(
            next,
            t0() + chrono::Duration::seconds(6),
            "nothing reserved past max_wait"
        );
        assert_eq!(p.reserve("bob", t0(), Duration::from_secs(1)), Ok(t0()));
        assert_eq!(p.earliest("alice", t0()), next);
    }

    #[test]
    fn a_pause_holds_everything_until_it_ends() {
        let mut p = Pacer::new(&limits(100.0, 100, 100.0, 100));
        let until = t0() + chrono::Duration::seconds(2);
        p.pause(until);
        assert_eq!(p.paused_until(t0()), Some(until));
        assert_eq!(p.earliest("x", t0()), until);
        assert_eq!(p.paused_until(until), None);
    }
}
