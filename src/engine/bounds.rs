//! How many items a generated message holds at most, so an answer is one readable message
//! however many incidents are open or however long an incident's history is. What is left out
//! is counted ("…and 2,980 more") and the message says where to see it.

/// Incidents on one page of `inc list`.
pub const LIST_PAGE: i64 = 20;
/// Open incident ids an "which incident?" answer names.
pub const AMBIGUOUS_SHOWN: i64 = 5;
/// Latest timeline entries in `inc show`.
pub const SHOW_LATEST: i64 = 5;
/// Open follow-ups in `inc show`.
pub const SHOW_FOLLOW_UPS: usize = 5;
/// Entries in `inc timeline` (the latest; the command line prints them all).
pub const TIMELINE_MAX: i64 = 25;
/// Timeline entries `inc postmortem` reads for its figures (the command line and the admin API
/// read them all).
pub const POSTMORTEM_ENTRIES: i64 = 10_000;
/// Incidents in each part of a handoff summary (active, declared, resolved), and its
/// follow-ups and notes.
pub const HANDOFF_ITEMS: i64 = 10;
/// Items of a checklist as posted or shown.
pub const CHECKLIST_ITEMS: usize = 30;

/// How many pages `total` items fill, at least one.
pub fn pages(total: i64, per_page: i64) -> i64 {
    ((total + per_page - 1) / per_page).max(1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn pages_round_up_and_never_go_below_one() {
        assert_eq!(super::pages(0, 20), 1);
        assert_eq!(super::pages(20, 20), 1);
        assert_eq!(super::pages(21, 20), 2);
        assert_eq!(super::pages(3000, 20), 150);
    }
}
