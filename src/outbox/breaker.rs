//! A per-platform circuit breaker: after enough consecutive retryable failures the platform is
//! left alone for a cool-down, then one probe decides whether it is back.

use std::time::Duration;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    /// No sends until the instant given.
    Open {
        until: DateTime<Utc>,
    },
    /// The cool-down passed: the next send is a probe.
    HalfOpen,
}

#[derive(Debug, Clone)]
pub struct Breaker {
    threshold: u32,
    cool_down: Duration,
    failures: u32,
    state: BreakerState,
}

impl Breaker {
    pub fn new(threshold: u32, cool_down: Duration) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            cool_down,
            failures: 0,
            state: BreakerState::Closed,
        }
    }

    /// Whether sends may go out now (moving an expired open state to half-open).
    pub fn allows(&mut self, now: DateTime<Utc>) -> bool {
        match self.state {
            BreakerState::Closed | BreakerState::HalfOpen => true,
            BreakerState::Open { until } if now >= until => {
                self.state = BreakerState::HalfOpen;
                true
            }
            BreakerState::Open { .. } => false,
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// When an open breaker lets a probe through.
    pub fn open_until(&self) -> Option<DateTime<Utc>> {
        match self.state {
            BreakerState::Open { until } => Some(until),
            _ => None,
        }
    }

    pub fn record_success(&mut self) {
        self.failures = 0;
        self.state = BreakerState::Closed;
    }

    /// A retryable failure (the platform may be down). Permanent errors are about one message
    /// and do not count.
    pub fn record_failure(&mut self, now: DateTime<Utc>) {
        self.failures += 1;
        if self.state == BreakerState::HalfOpen || self.failures >= self.threshold {
            let until = now
                + chrono::Duration::from_std(self.cool_down)
                    .unwrap_or(chrono::Duration::seconds(30));
            self.state = BreakerState::Open { until };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn opens_cools_down_and_probes() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut b = Breaker::new(3, Duration::from_secs(30));
        b.record_failure(t0);
        b.record_failure(t0);
        assert!(b.allows(t0));
        b.record_failure(t0);
        assert!(!b.allows(t0 + chrono::Duration::seconds(29)));
        assert!(
            b.allows(t0 + chrono::Duration::seconds(30)),
            "half-open after the cool-down"
        );
        assert_eq!(b.state(), BreakerState::HalfOpen);
        b.record_failure(t0 + chrono::Duration::seconds(30));
        assert!(
            !b.allows(t0 + chrono::Duration::seconds(31)),
            "a failed probe opens again"
        );
        assert!(b.allows(t0 + chrono::Duration::seconds(60)));
        b.record_success();
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
