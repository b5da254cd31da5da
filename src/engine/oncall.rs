//! Who is on call (rotations plus chat overrides), whom an escalation step pages, and the
//! handoff summary: pure functions over config, stored overrides and incidents.

use chrono::{DateTime, Duration, Utc};

use super::bounds;
use super::incident::Incident;
use super::policy::{Policies, Target};
use super::reach::Reaches;
use super::reply::{self, incident_id};
use super::rotation::{Rotation, Shift};
use crate::i18n::Msg;
use crate::store::{Bounded, HandoffIncidents, HandoffNote, OncallOverride};

/// One role holder of a shift, with the override that put them there, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub role: String,
    /// A person id from config, or the name an override gave.
    pub person: String,
    pub by_override: Option<OncallOverride>,
}

/// The holders of `rotation` at `at`: the rotation's, with its first role taken by the latest
/// override running then.
pub fn holders_at(
    rotation: &Rotation,
    overrides: &[OncallOverride],
    at: DateTime<Utc>,
) -> (Shift, Vec<Holder>) {
    let shift = rotation.shift_at(at);
    let primary = shift.primary_role().map(str::to_string);
    let running = overrides
        .iter()
        .filter(|o| o.rotation == rotation.id && o.starts_at <= at && at < o.ends_at)
        .max_by_key(|o| o.starts_at);
    let holders = shift
        .holders
        .iter()
        .map(|(role, person)| match running {
            Some(o) if primary.as_deref() == Some(role) => Holder {
                role: role.clone(),
                person: o.person.clone(),
                by_override: Some(o.clone()),
            },
            _ => Holder {
                role: role.clone(),
                person: person.clone(),
                by_override: None,
            },
        })
        .collect();
    (shift, holders)
}

/// A holder's name as people read it: the configured name, or as written.
pub fn display(policies: &Policies, person: &str) -> String {
    policies
        .person(person)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| person.to_string())
}

/// How a page names someone, as their platforms' adapters say (a Slack mention carrying the
/// name, which other rooms show as `@name`; a Telegram `@username`), or their name.
pub fn mention(policies: &Policies, reaches: &Reaches, person: &str) -> String {
    match policies.person(person) {
        Some(p) => reaches.person_mention(p),
        None => person.to_string(),
    }
}

/// The people an escalation step notifies now, as (person id, mention), each once.
pub fn targets(
    policies: &Policies,
    reaches: &Reaches,
    overrides: &[OncallOverride],
    notify: &[Target],
    at: DateTime<Utc>,
) -> Vec<(String, String)> {
    let mut people: Vec<String> = Vec::new();
    for target in notify {
        match target {
            Target::Person(id) => people.push(id.clone()),
            Target::OnCall { rotation, role } => {
                let rotation = match rotation {
                    Some(id) => policies.rotation(id),
                    None => policies.rotations.first(),
                };
                let Some(rotation) = rotation else { continue };
                let (shift, holders) = holders_at(rotation, overrides, at);
                let role = role.as_deref().or(shift.primary_role());
                people.extend(
                    holders
                        .into_iter()
                        .filter(|h| Some(h.role.as_str()) == role)
                        .map(|h| h.person),
                );
            }
        }
    }
    let mut seen = Vec::new();
    people
        .into_iter()
        .filter(|p| {
            let first = !seen.contains(p);
            seen.push(p.clone());
            first
        })
        .map(|p| {
            let who = mention(policies, reaches, &p);
            (p, who)
        })
        .collect()
}

fn holder_lines(policies: &Policies, holders: &[Holder]) -> Vec<Msg> {
    holders
        .iter()
        .map(|h| match &h.by_override {
            Some(o) => Msg::new("oncall-holder-override")
                .text("person", display(policies, &h.person))
                .msg("role", reply::role(&h.role))
                .time("until", o.ends_at)
                .text("actor", o.set_by.clone()),
            None => Msg::new("oncall-holder")
                .text("person", display(policies, &h.person))
                .msg("role", reply::role(&h.role)),
        })
        .collect()
}

/// The `inc oncall` answer: each rotation's holders now and in the next shift.
pub fn oncall_answer(policies: &Policies, overrides: &[OncallOverride], now: DateTime<Utc>) -> Msg {
    if policies.rotations.is_empty() {
        return Msg::new("oncall-none");
    }
    let rotations = policies
        .rotations
        .iter()
        .map(|rotation| {
            let (shift, holders) = holders_at(rotation, overrides, now);
            let (_, next) = holders_at(rotation, overrides, shift.ends);
            // An override that ends within the shift hands back before the next handoff.
            Msg::new("oncall-rotation")
                .text("rotation", rotation.id.clone())
                .time("until", shift.ends)
                .lines("now", holder_lines(policies, &holders))
                .lines("next", holder_lines(policies, &next))
        })
        .collect();
    Msg::new("oncall").lines("rotations", rotations)
}

/// What a handoff summary is made of.
pub struct HandoffInput<'a> {
    pub rotation: &'a Rotation,
    /// The handoff instant: the end of the outgoing shift, the start of the incoming one.
    pub at: DateTime<Utc>,
    pub now: DateTime<Utc>,
    /// Open incidents and those declared or resolved during the outgoing shift, each part
    /// bounded with its total.
    pub incidents: &'a HandoffIncidents,
    pub notes: &'a [HandoffNote],
    pub overrides: &'a [OncallOverride],
    pub preview: bool,
    /// Resolved incidents whose postmortem is overdue or falls due by the end of the incoming
    /// shift, and is not recorded: the soonest, and how many.
    pub postmortems: &'a Bounded<Incident>,
}

/// The seeds' handoff checklist: from/to, active incidents (severity, status, age), what was
/// declared and resolved in the shift, open follow-ups, what is scheduled next, and notes.
pub fn handoff_summary(policies: &Policies, input: &HandoffInput<'_>) -> Msg {
    let rotation = input.rotation;
    // The store already chose the shift's declared and resolved incidents.
    let (_, from) = holders_at(
        rotation,
        input.overrides,
        input.at - Duration::milliseconds(1),
    );
    let (incoming, to) = holders_at(rotation, input.overrides, input.at);
    let none = || vec![Msg::new("handoff-none")];
    let or_none = |lines: Vec<Msg>| if lines.is_empty() { none() } else { lines };

    let active = bounded_lines(&input.incidents.active, |i| {
        Msg::new("handoff-incident")
            .text("id", incident_id(i.number))
            .msg("severity", reply::severity(i.severity))
            .msg("status", reply::status(i.status))
            .text("title", i.title.clone())
            .msg(
                "age",
                reply::duration((input.now - i.declared_at).num_minutes()),
            )
    });
    let declared = bounded_lines(&input.incidents.declared, |i| {
        Msg::new("handoff-declared")
            .text("id", incident_id(i.number))
            .msg("severity", reply::severity(i.severity))
            .text("title", i.title.clone())
            .time("time", i.declared_at)
    });
    let resolved = bounded_lines(&input.incidents.resolved, |i| {
        let took = i.resolved_at.unwrap_or(input.now) - i.declared_at;
        Msg::new("handoff-resolved")
            .text("id", incident_id(i.number))
            .text("title", i.title.clone())
            .msg("duration", reply::duration(took.num_minutes()))
    });
    // Open follow-ups of the incidents this summary names (active and resolved), each once.
    let mut seen: Vec<i64> = Vec::new();
    let follow_ups: Vec<Msg> = input
        .incidents
        .active
        .items
        .iter()
        .chain(&input.incidents.resolved.items)
        .filter(|i| {
            let first = !seen.contains(&i.number);
            seen.push(i.number);
            first
        })
        .flat_map(|i| {
            i.follow_ups.iter().filter(|f| !f.done).map(|f| {
                Msg::new("handoff-follow-up")
                    .text("id", incident_id(i.number))
                    .number("number", i64::from(f.number))
                    .text("text", f.text.clone())
            })
        })
        .collect();
    let follow_ups = capped(follow_ups);
    let postmortems = bounded_lines(input.postmortems, |i| {
        let due = i.postmortem_due_at.unwrap_or(input.now);
        let id = if due <= input.now {
            "handoff-postmortem-overdue"
        } else {
            "handoff-postmortem"
        };
        Msg::new(id)
            .text("id", incident_id(i.number))
            .text("title", i.title.clone())
            .time("time", due)
    });
    let horizon = incoming.ends.min(input.at + Duration::days(1));
    let mut upcoming: Vec<(DateTime<Utc>, Msg)> = policies
        .schedules
        .iter()
        .filter_map(|s| {
            let next = s.next_after(input.at - Duration::milliseconds(1))?;
            (next < horizon).then(|| {
                (
                    next,
                    Msg::new("handoff-upcoming")
                        .time("time", next)
                        .text("title", s.title.clone()),
                )
            })
        })
        .collect();
    upcoming.push((
        incoming.ends,
        Msg::new("handoff-next")
            .time("time", incoming.ends)
            .text("rotation", rotation.id.clone()),
    ));
    upcoming.sort_by_key(|(at, _)| *at);
    let notes = capped(
        input
            .notes
            .iter()
            .map(|n| {
                Msg::new("handoff-note")
                    .text("actor", n.author.clone())
                    .text("text", n.text.clone())
                    .time("time", n.at)
            })
            .collect(),
    );
    let heading = if input.preview {
        "handoff-preview-heading"
    } else {
        "handoff-heading"
    };
    Msg::new("handoff-summary")
        .msg(
            "heading",
            Msg::new(heading)
                .text("rotation", rotation.id.clone())
                .time("time", input.at),
        )
        .lines("from", or_none(holder_lines(policies, &from)))
        .lines("to", or_none(holder_lines(policies, &to)))
        .lines("active", or_none(active))
        .lines("declared", or_none(declared))
        .lines("resolved", or_none(resolved))
        .lines("follow_ups", or_none(follow_ups))
        .lines("postmortems", or_none(postmortems))
        .lines("upcoming", upcoming.into_iter().map(|(_, m)| m).collect())
        .lines("notes", or_none(notes))
}

/// A bounded part's lines, and "…and N more" when its total is larger.
fn bounded_lines(part: &Bounded<Incident>, line: impl Fn(&Incident) -> Msg) -> Vec<Msg> {
    let mut lines: Vec<Msg> = part.items.iter().map(line).collect();
    lines.extend(reply::more_line(part.more()));
    lines
}

/// At most [`bounds::HANDOFF_ITEMS`] lines, and "…and N more" for the rest.
fn capped(mut lines: Vec<Msg>) -> Vec<Msg> {
    let limit = usize::try_from(bounds::HANDOFF_ITEMS).unwrap_or(usize::MAX);
    let hidden = lines.len().saturating_sub(limit);
    lines.truncate(limit);
    lines.extend(reply::more_line(hidden as i64));
    lines
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::{Bounded, Incident, bounded_lines, capped};
    use crate::engine::incident::{Actor, Severity};
    use crate::i18n::Msg;

    fn incident(n: i64) -> Incident {
        let actor = Actor {
            name: "ana".into(),
            room: "console".into(),
        };
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 13, 0, 0).unwrap();
        let (mut i, _) = Incident::declare(format!("t{n}"), Severity::Sev2, None, &actor, at);
        i.number = n;
        i
    }

    #[test]
    fn a_handoff_part_shows_its_items_and_counts_the_rest() {
        let part = Bounded {
            items: (1..=10).map(incident).collect(),
            total: 2_990,
        };
        let lines = bounded_lines(&part, |i| Msg::new("handoff-none").number("n", i.number));
        assert_eq!(lines.len(), 11);
        assert_eq!(lines[10], Msg::new("more-items").number("count", 2_980));
        let whole = Bounded {
            items: vec![incident(1)],
            total: 1,
        };
        assert_eq!(bounded_lines(&whole, |_| Msg::new("handoff-none")).len(), 1);
    }

    #[test]
    fn follow_ups_and_notes_are_capped() {
        let lines = capped(
            (0..25)
                .map(|n| Msg::new("handoff-none").number("n", n))
                .collect(),
        );
        assert_eq!(lines.len(), 11);
        assert_eq!(lines[10], Msg::new("more-items").number("count", 15));
        assert_eq!(capped(vec![Msg::new("handoff-none")]).len(), 1);
    }
}
