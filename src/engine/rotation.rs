//! On-call rotations, pure: who holds which role at an instant, and when the next handoff is,
//! computed in the rotation's own time zone (a handoff at 10:00 stays at 10:00 across DST).

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

/// The role a weekly rotation's person holds.
pub const ONCALL_ROLE: &str = "oncall";

/// How shifts follow each other.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// One person a week, in turn, handing off on `first`'s weekday at its time of day;
    /// `people[0]` holds the week starting at `first`.
    Weekly {
        first: NaiveDateTime,
        people: Vec<String>,
    },
    /// Weekdays (Monday `at` to Saturday `at`) and weekends, each with its own role holders
    /// (role, person), e.g. commander and comms.
    Split {
        at: NaiveTime,
        weekdays: Vec<(String, String)>,
        weekends: Vec<(String, String)>,
    },
}

/// A configured rotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Rotation {
    pub id: String,
    pub timezone: Tz,
    /// Room ids that get its handoff summaries.
    pub rooms: Vec<String>,
    pub pattern: Pattern,
}

/// One shift: from one handoff to the next, and who holds what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    /// (role, person id), the first role first.
    pub holders: Vec<(String, String)>,
}

impl Shift {
    /// The role an override or an `oncall` target means: commander, else on-call, else the
    /// first.
    pub fn primary_role(&self) -> Option<&str> {
        ["commander", ONCALL_ROLE]
            .into_iter()
            .find(|r| self.holders.iter().any(|(role, _)| role == r))
            .or_else(|| self.holders.first().map(|(role, _)| role.as_str()))
    }

    pub fn holder(&self, role: &str) -> Option<&str> {
        self.holders
            .iter()
            .find(|(r, _)| r == role)
            .map(|(_, p)| p.as_str())
    }
}

/// A local date and time as an instant; a time the clocks skip (DST gap) moves past the gap.
pub fn local_instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    for _ in 0..4 {
        if let Some(at) = tz.from_local_datetime(&probe).earliest() {
            return at.with_timezone(&Utc);
        }
        probe += Duration::minutes(30);
    }
    tz.from_utc_datetime(&local).with_timezone(&Utc)
}

impl Rotation {
    /// The handoff time on a local date, when that date has one.
    fn handoff_on(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        let time = match &self.pattern {
            Pattern::Weekly { first, .. } if date.weekday() == first.weekday() => first.time(),
            Pattern::Split { at, .. } if matches!(date.weekday(), Weekday::Mon | Weekday::Sat) => {
                *at
            }
            _ => return None,
        };
        Some(local_instant(self.timezone, date.and_time(time)))
    }

    fn holders_from(&self, start_date: NaiveDate) -> Vec<(String, String)> {
        match &self.pattern {
            Pattern::Weekly { first, people } => {
                let weeks = (start_date - first.date()).num_days().div_euclid(7);
                let n = i64::try_from(people.len()).unwrap_or(1).max(1);
                let index = usize::try_from(weeks.rem_euclid(n)).unwrap_or(0);
                people
                    .get(index)
                    .map(|p| vec![(ONCALL_ROLE.to_string(), p.clone())])
                    .unwrap_or_default()
            }
            Pattern::Split {
                weekdays, weekends, ..
            } => {
                if start_date.weekday() == Weekday::Sat {
                    weekends.clone()
                } else {
                    weekdays.clone()
                }
            }
        }
    }

    /// The shift running at `at`.
    pub fn shift_at(&self, at: DateTime<Utc>) -> Shift {
        let today = at.with_timezone(&self.timezone).date_naive();
        // Every pattern hands off at least once a week: eight days back and forth suffice.
        let start = (0..=8)
            .filter_map(|back| {
                let date = today - Duration::days(back);
                Some((date, self.handoff_on(date)?))
            })
            .find(|(_, instant)| *instant <= at);
        let (start_date, starts) = start.unwrap_or((today, at));
        let ends = (1..=8)
            .filter_map(|ahead| self.handoff_on(start_date + Duration::days(ahead)))
            .find(|instant| *instant > starts)
            .unwrap_or(starts + Duration::days(7));
        Shift {
            starts,
            ends,
            holders: self.holders_from(start_date),
        }
    }

    /// The shift that ends when the one at `at` begins.
    pub fn previous_shift(&self, at: DateTime<Utc>) -> Shift {
        self.shift_at(self.shift_at(at).starts - Duration::milliseconds(1))
    }

    /// What identifies the timing and people: a planned handoff of another spec is re-planned.
    pub fn spec(&self) -> String {
        format!("{:?} {}", self.pattern, self.timezone.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split() -> Rotation {
        Rotation {
            id: "field".into(),
            timezone: chrono_tz::America::Sao_Paulo,
            rooms: vec![],
            pattern: Pattern::Split {
                at: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                weekdays: vec![
                    ("commander".into(), "joana".into()),
                    ("comms".into(), "felipe".into()),
                ],
                weekends: vec![
                    ("commander".into(), "marcos".into()),
                    ("comms".into(), "ana".into()),
                ],
            },
        }
    }

    #[test]
    fn weekday_and_weekend_shifts_hand_off_at_local_nine() {
        let r = split();
        // Friday 2026-03-06 15:00 UTC = 12:00 in São Paulo: the weekday shift.
        let friday = Utc.with_ymd_and_hms(2026, 3, 6, 15, 0, 0).unwrap();
        let shift = r.shift_at(friday);
        assert_eq!(shift.holder("commander"), Some("joana"));
        assert_eq!(shift.holder("comms"), Some("felipe"));
        assert_eq!(
            shift.ends,
            Utc.with_ymd_and_hms(2026, 3, 7, 12, 0, 0).unwrap(),
            "Saturday 09:00 in São Paulo (UTC-3)"
        );
        let weekend = r.shift_at(shift.ends);
        assert_eq!(weekend.holder("commander"), Some("marcos"));
        assert_eq!(
            weekend.ends,
            Utc.with_ymd_and_hms(2026, 3, 9, 12, 0, 0).unwrap()
        );
        assert_eq!(r.previous_shift(weekend.ends).holder("comms"), Some("ana"));
    }

    #[test]
    fn a_weekly_rotation_keeps_local_time_across_dst() {
        let r = Rotation {
            id: "ops".into(),
            timezone: chrono_tz::America::New_York,
            rooms: vec![],
            pattern: Pattern::Weekly {
                first: NaiveDate::from_ymd_opt(2026, 3, 2)
                    .unwrap()
                    .and_hms_opt(10, 0, 0)
                    .unwrap(),
                people: vec!["ana".into(), "bo".into(), "cy".into()],
            },
        };
        let before = Utc.with_ymd_and_hms(2026, 3, 5, 12, 0, 0).unwrap();
        let shift = r.shift_at(before);
        assert_eq!(shift.holder(ONCALL_ROLE), Some("ana"));
        // Monday 10:00 EST is 15:00 UTC; after the 8 March change, 10:00 EDT is 14:00 UTC.
        assert_eq!(
            shift.starts,
            Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap()
        );
        assert_eq!(
            shift.ends,
            Utc.with_ymd_and_hms(2026, 3, 9, 14, 0, 0).unwrap()
        );
        assert_eq!(r.shift_at(shift.ends).holder(ONCALL_ROLE), Some("bo"));
        let fourth = Utc.with_ymd_and_hms(2026, 3, 24, 12, 0, 0).unwrap();
        assert_eq!(
            r.shift_at(fourth).holder(ONCALL_ROLE),
            Some("ana"),
            "wraps around"
        );
        let earlier = Utc.with_ymd_and_hms(2026, 2, 24, 12, 0, 0).unwrap();
        assert_eq!(
            r.shift_at(earlier).holder(ONCALL_ROLE),
            Some("cy"),
            "before the first week"
        );
    }

    #[test]
    fn a_handoff_in_the_spring_gap_happens_right_after_it() {
        let local = NaiveDate::from_ymd_opt(2026, 3, 8)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(
            local_instant(chrono_tz::America::New_York, local),
            Utc.with_ymd_and_hms(2026, 3, 8, 7, 0, 0).unwrap(),
            "02:30 does not exist; 03:00 EDT does"
        );
    }
}
