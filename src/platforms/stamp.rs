//! A platform's timestamp on an inbound message, kept between what is possible: never after it
//! was received, never older than a platform redelivers (Meta: up to 7 days). A message stamped
//! in the future, or decades ago, never moves a 24-hour window or a due time.

use chrono::{DateTime, Duration, Utc};

/// The oldest a delivery can truthfully be: Meta redelivers for up to 7 days.
pub const OLDEST: Duration = Duration::days(7);

/// `stamped` within [`received` − [`OLDEST`], `received`]; `received` when there is none.
pub fn clamp(stamped: Option<DateTime<Utc>>, received: DateTime<Utc>) -> DateTime<Utc> {
    match stamped {
        Some(at) => at.clamp(received - OLDEST, received),
        None => received,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_is_kept_between_a_week_ago_and_its_receipt() {
        let now = DateTime::from_timestamp(1_772_000_000, 0).unwrap_or_default();
        let minute_ago = now - Duration::minutes(1);
        assert_eq!(clamp(Some(minute_ago), now), minute_ago);
        assert_eq!(clamp(Some(now + Duration::days(3650)), now), now, "future");
        assert_eq!(
            clamp(Some(now - Duration::days(3650)), now),
            now - OLDEST,
            "ancient"
        );
        assert_eq!(clamp(None, now), now);
    }
}
