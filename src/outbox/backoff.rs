//! Retry delays: exponential backoff with full jitter, capped, unless the platform said when.

use std::time::Duration;

/// The delay before attempt `attempts + 1`, after `attempts` failed ones: a random point in
/// `[base, min(cap, base · 2^(attempts-1))]`, so a burst of failures does not retry in lockstep.
pub fn delay(
    attempts: u32,
    base: Duration,
    cap: Duration,
    retry_after: Option<Duration>,
) -> Duration {
    if let Some(after) = retry_after {
        // The platform's instruction wins, with a little jitter on top so replicas spread out.
        return after + Duration::from_millis(fastrand::u64(0..=250));
    }
    let exponent = attempts.saturating_sub(1).min(20);
    let ceiling = base.saturating_mul(1u32 << exponent).min(cap).max(base);
    let span = (ceiling - base).as_millis() as u64;
    base + Duration::from_millis(fastrand::u64(0..=span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_is_capped() {
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(60);
        for attempts in 1..30 {
            let d = delay(attempts, base, cap, None);
            let ceiling = base.saturating_mul(1 << (attempts - 1).min(20)).min(cap);
            assert!(d >= base && d <= ceiling, "attempt {attempts}: {d:?}");
        }
        assert_eq!(
            delay(1, base, cap, None),
            base,
            "the first retry waits the base delay"
        );
    }

    #[test]
    fn retry_after_wins() {
        let d = delay(
            9,
            Duration::from_secs(1),
            Duration::from_secs(60),
            Some(Duration::from_secs(7)),
        );
        assert!(
            d >= Duration::from_secs(7) && d <= Duration::from_millis(7250),
            "{d:?}"
        );
    }
}
