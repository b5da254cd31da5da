//! The postmortem draft as Markdown: an overview (severities, status, times, roles, rooms,
//! playbooks, alerts), the summary and every impact statement (latest first), the response
//! figures, the whole timeline in the document's zone (key events in bold), the action items
//! (open follow-ups and unticked checklist items), then the sections only people can write, each
//! with a one-line prompt. Every word comes from Fluent in the document's language.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::figures::Figures;
use crate::engine::incident::{Event, Incident, TimelineEntry};
use crate::engine::reply;
use crate::engine::text::rewrite_mentions;
use crate::i18n::{I18n, Lang, Msg};
use crate::platforms::whatsapp::phone::redact_numbers;

/// What the draft is written from.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    pub incident: &'a Incident,
    /// Its whole timeline, oldest first.
    pub timeline: &'a [TimelineEntry],
    pub figures: Figures,
    /// Each playbook's unticked first actions, as their texts in the document's language.
    pub unticked: Vec<String>,
    /// When the draft was written.
    pub written_at: DateTime<Utc>,
}

/// People as every room shows them (`@name`), and what people typed with phone numbers hidden.
pub fn shown(text: &str) -> String {
    let named = rewrite_mentions(text, |id, label| {
        let id = id.split_once(':').map_or(id, |(_, user)| user);
        format!("@{}", label.unwrap_or(id))
    });
    redact_numbers(&named)
}

/// Key events, shown in bold on the timeline.
fn is_key(event: &Event) -> bool {
    matches!(
        event,
        Event::Declared { .. }
            | Event::SeverityChanged { .. }
            | Event::StatusChanged { .. }
            | Event::Resolved { .. }
            | Event::Reopened { .. }
    )
}

/// The draft in `lang`, its times in `tz`.
pub fn markdown(draft: &Draft<'_>, i18n: &I18n, lang: Lang, tz: Tz) -> String {
    let say = |msg: &Msg| i18n.render(lang, tz, msg);
    let incident = draft.incident;
    let f = &draft.figures;
    let mut out = Vec::new();
    let heading = |out: &mut Vec<String>, id: &'static str| {
        out.push(String::new());
        out.push(format!("## {}", say(&Msg::new(id))));
        out.push(String::new());
    };
    let field =
        |label: &'static str, value: String| format!("- **{}**: {value}", say(&Msg::new(label)));

    out.push(format!(
        "# {}",
        say(&Msg::new("pm-title")
            .text("id", reply::incident_id(incident.number))
            .text("title", shown(&incident.title)))
    ));
    out.push(String::new());
    out.push(format!(
        "_{}_",
        say(&Msg::new("pm-written").time("time", draft.written_at))
    ));

    heading(&mut out, "pm-heading-overview");
    let severities: Vec<String> = f
        .severities
        .iter()
        .enumerate()
        .map(|(i, (at, s))| {
            let name = say(&reply::severity(*s));
            if i == 0 {
                name
            } else {
                say(&Msg::new("pm-severity-since")
                    .text("severity", name)
                    .time("time", *at))
            }
        })
        .collect();
    out.push(field("pm-label-severity", severities.join(" → ")));
    out.push(field(
        "pm-label-status",
        say(&reply::status(incident.status)),
    ));
    out.push(field(
        "pm-label-declared",
        say(&Msg::new("pm-at-by")
            .time("time", f.declared_at)
            .text("actor", shown(&incident.declared_by))),
    ));
    let acknowledged = match (f.acknowledged_at, &incident.acked_by) {
        (Some(at), Some(by)) => say(&Msg::new("pm-at-by")
            .time("time", at)
            .text("actor", shown(by))),
        (Some(at), None) => say(&Msg::new("pm-at").time("time", at)),
        (None, _) => say(&Msg::new("pm-never")),
    };
    out.push(field("pm-label-acknowledged", acknowledged));
    out.push(field(
        "pm-label-resolved",
        match f.resolved_at {
            Some(at) => say(&Msg::new("pm-at").time("time", at)),
            None => say(&Msg::new("pm-not-yet")),
        },
    ));
    if let Some(took) = f.time_to_resolve() {
        out.push(field(
            "pm-label-duration",
            say(&reply::duration(took.num_minutes())),
        ));
    }
    let roles: Vec<String> = incident
        .roles
        .iter()
        .map(|(role, person)| format!("{}: {}", say(&reply::role(role)), shown(person)))
        .collect();
    out.push(field(
        "pm-label-roles",
        if roles.is_empty() {
            say(&Msg::new("pm-none"))
        } else {
            roles.join(", ")
        },
    ));
    let rooms: BTreeSet<&str> = draft.timeline.iter().map(|e| e.room.as_str()).collect();
    out.push(field(
        "pm-label-rooms",
        rooms.into_iter().collect::<Vec<_>>().join(", "),
    ));
    if !incident.playbooks.is_empty() {
        out.push(field("pm-label-playbooks", incident.playbooks.join(", ")));
    }
    let alerts: BTreeSet<String> = draft
        .timeline
        .iter()
        .filter_map(|e| match &e.event {
            Event::AlertFired { source, alert, .. } => Some(format!("{alert} ({source})")),
            _ => None,
        })
        .collect();
    if !alerts.is_empty() {
        out.push(field(
            "pm-label-alerts",
            alerts.into_iter().collect::<Vec<_>>().join(", "),
        ));
    }

    heading(&mut out, "pm-heading-summary");
    let summary = draft.timeline.iter().rev().find_map(|e| match &e.event {
        Event::Resolved { summary } => summary.clone(),
        _ => None,
    });
    out.push(match summary {
        Some(summary) => shown(&summary),
        None => format!("_{}_", say(&Msg::new("pm-no-summary"))),
    });

    heading(&mut out, "pm-heading-impact");
    let mut impacts: Vec<(DateTime<Utc>, String)> = draft
        .timeline
        .iter()
        .filter_map(|e| match &e.event {
            Event::Declared { impact, .. } => impact.clone().map(|i| (e.at, i)),
            Event::Updated(fields) => fields.impact.clone().map(|i| (e.at, i)),
            _ => None,
        })
        .collect();
    // A timeline written before declarations kept their impact: the incident's latest.
    if impacts.is_empty()
        && let Some(latest) = &incident.impact
    {
        impacts.push((incident.updated_at, latest.clone()));
    }
    impacts.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    if impacts.is_empty() {
        out.push(format!("_{}_", say(&Msg::new("pm-no-impact"))));
    }
    for (at, impact) in impacts {
        out.push(format!(
            "- {}",
            say(&Msg::new("pm-impact-line")
                .time("time", at)
                .text("impact", shown(&impact)))
        ));
    }

    heading(&mut out, "pm-heading-figures");
    let took = |d: Option<chrono::Duration>| match d {
        Some(d) => say(&reply::duration(d.num_minutes())),
        None => say(&Msg::new("pm-never")),
    };
    out.push(field("pm-label-time-to-ack", took(f.time_to_acknowledge())));
    out.push(field(
        "pm-label-time-to-first-update",
        took(f.time_to_first_update()),
    ));
    out.push(field(
        "pm-label-time-to-identify",
        took(f.time_to_identify()),
    ));
    out.push(field("pm-label-time-to-resolve", took(f.time_to_resolve())));
    out.push(field(
        "pm-label-updates",
        say(&Msg::new("pm-updates")
            .number("count", i64::from(f.updates))
            .number("late", i64::from(f.late_updates))),
    ));
    out.push(field(
        "pm-label-cadence",
        say(&Msg::new(if f.cadence_kept() {
            "pm-cadence-kept"
        } else {
            "pm-cadence-missed"
        })),
    ));
    if f.pages.is_empty() {
        out.push(field("pm-label-escalation", say(&Msg::new("pm-no-pages"))));
    }
    for page in &f.pages {
        let who: Vec<String> = page.who.iter().map(|w| shown(w)).collect();
        out.push(field(
            "pm-label-escalation",
            say(&Msg::new(if page.manual {
                "pm-page-manual"
            } else {
                "pm-page"
            })
            .number("step", i64::from(page.step))
            .number("of", i64::from(page.of))
            .time("time", page.at)
            .text("who", who.join(", "))),
        ));
    }
    if f.reopened > 0 {
        out.push(field(
            "pm-label-reopened",
            say(&Msg::new("pm-times").number("count", i64::from(f.reopened))),
        ));
    }

    heading(&mut out, "pm-heading-timeline");
    for entry in draft.timeline {
        let what = shown(&say(&reply::event_summary(&entry.event)));
        let what = if is_key(&entry.event) {
            format!("**{what}**")
        } else {
            what
        };
        out.push(format!(
            "- {}",
            say(&Msg::new("pm-timeline-entry")
                .time("time", entry.at)
                .text("what", what)
                .text("actor", shown(&entry.actor))
                .text("room", entry.room.clone()))
        ));
    }

    heading(&mut out, "pm-heading-actions");
    let open: Vec<String> = incident
        .follow_ups
        .iter()
        .filter(|f| !f.done)
        .map(|f| {
            format!(
                "- [ ] {}",
                say(&Msg::new("pm-follow-up")
                    .number("number", i64::from(f.number))
                    .text("text", shown(&f.text))
                    .text("by", shown(&f.added_by)))
            )
        })
        .chain(draft.unticked.iter().map(|step| {
            format!(
                "- [ ] {}",
                say(&Msg::new("pm-unticked").text("step", shown(step)))
            )
        }))
        .collect();
    if open.is_empty() {
        out.push(format!("_{}_", say(&Msg::new("pm-no-actions"))));
    }
    out.extend(open);

    for (heading_id, prompt) in [
        ("pm-heading-root-cause", "pm-prompt-root-cause"),
        ("pm-heading-trigger", "pm-prompt-trigger"),
        ("pm-heading-went-well", "pm-prompt-went-well"),
        ("pm-heading-went-wrong", "pm-prompt-went-wrong"),
        ("pm-heading-lucky", "pm-prompt-lucky"),
    ] {
        heading(&mut out, heading_id);
        out.push(format!("_{}_", say(&Msg::new(prompt))));
    }
    out.push(String::new());
    out.join("\n")
}

/// The draft's data as JSON: the incident, its figures, its timeline and the open items, with
/// people shown as `@name` and numbers hidden as in the document.
pub fn json(draft: &Draft<'_>) -> String {
    let timeline: Vec<serde_json::Value> = draft
        .timeline
        .iter()
        .map(|e| {
            serde_json::json!({
                "at": e.at,
                "kind": e.event.kind(),
                "actor": shown(&e.actor),
                "room": e.room,
                "key": is_key(&e.event),
            })
        })
        .collect();
    let incident = draft.incident;
    let value = serde_json::json!({
        "id": reply::incident_id(incident.number),
        "title": shown(&incident.title),
        "severity": incident.severity.to_string(),
        "status": incident.status.as_str(),
        "roles": incident.roles.iter().map(|(r, p)| (r.clone(), shown(p))).collect::<std::collections::BTreeMap<_, _>>(),
        "figures": {
            "declared_at": draft.figures.declared_at,
            "acknowledged_at": draft.figures.acknowledged_at,
            "first_update_at": draft.figures.first_update_at,
            "identified_at": draft.figures.identified_at,
            "resolved_at": draft.figures.resolved_at,
            "time_to_acknowledge_seconds": draft.figures.time_to_acknowledge().map(|d| d.num_seconds()),
            "time_to_first_update_seconds": draft.figures.time_to_first_update().map(|d| d.num_seconds()),
            "time_to_identify_seconds": draft.figures.time_to_identify().map(|d| d.num_seconds()),
            "time_to_resolve_seconds": draft.figures.time_to_resolve().map(|d| d.num_seconds()),
            "updates": draft.figures.updates,
            "late_updates": draft.figures.late_updates,
            "cadence_kept": draft.figures.cadence_kept(),
            "escalation_steps": draft.figures.pages.len(),
            "paged": draft.figures.pages.iter().flat_map(|p| p.who.iter().map(|w| shown(w))).collect::<Vec<_>>(),
            "reopened": draft.figures.reopened,
        },
        "follow_ups": incident.follow_ups.iter().filter(|f| !f.done).map(|f| shown(&f.text)).collect::<Vec<_>>(),
        "unticked": draft.unticked.iter().map(|s| shown(s)).collect::<Vec<_>>(),
        "timeline": timeline,
        "written_at": draft.written_at,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn people_are_named_and_numbers_hidden() {
        assert_eq!(
            shown("<@U01ANA|ana> called <@whatsapp:5511987654321|Bruno> on +55 11 98765-4321"),
            "@ana called @Bruno on ***"
        );
    }
}
