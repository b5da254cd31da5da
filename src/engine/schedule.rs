//! Cron schedules in IANA time zones: the next occurrence after an instant, with croner's OCPS
//! rules across DST (a time in the spring-forward gap runs once, right after it; a time in the
//! fall-back overlap runs once, at its first pass).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// A configured schedule: when, where, and what it posts.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub id: String,
    /// The pattern as written (`0 10 * * 1-5`).
    pub pattern: String,
    pub cron: croner::Cron,
    pub timezone: Tz,
    /// Room ids it posts to.
    pub rooms: Vec<String>,
    /// The team's own words: the heading of what is posted.
    pub title: String,
    /// Checklist items, ticked from chat with `inc check N`; none: a plain message.
    pub items: Vec<String>,
}

impl Schedule {
    /// Parses a five-field (or six, with seconds) cron pattern.
    pub fn parse_cron(pattern: &str) -> Result<croner::Cron, String> {
        pattern
            .parse::<croner::Cron>()
            .map_err(|e| format!("{pattern:?} is not a cron pattern: {e}"))
    }

    /// The first occurrence strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.timezone);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|at| at.with_timezone(&Utc))
    }

    /// What identifies the timing: a planned occurrence of another timing is re-planned.
    pub fn spec(&self) -> String {
        format!("{} {}", self.pattern, self.timezone.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn schedule(pattern: &str, tz: Tz) -> Schedule {
        Schedule {
            id: "s".into(),
            pattern: pattern.into(),
            cron: Schedule::parse_cron(pattern).unwrap(),
            timezone: tz,
            rooms: vec![],
            title: "t".into(),
            items: vec![],
        }
    }

    #[test]
    fn kolkata_has_no_dst_and_a_half_hour_offset() {
        let s = schedule("50 5 * * *", chrono_tz::Asia::Kolkata);
        let from = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        // 05:50 IST is 00:20 UTC, every day of the year.
        assert_eq!(
            s.next_after(from),
            Some(Utc.with_ymd_and_hms(2026, 3, 1, 0, 20, 0).unwrap())
        );
        assert!(Schedule::parse_cron("61 * * * *").is_err());
    }
}
