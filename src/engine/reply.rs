//! Every outgoing text as a Fluent id plus arguments, never a literal sentence. The constructors
//! here name each message the engine can send; `i18n` renders them per room language and zone.

use chrono::{DateTime, Utc};

use super::bounds;
use super::command::{ListFilter, Verb};
use super::incident::{
    BUILTIN_ROLES, Event, Incident, IncidentLine, Severity, Status, TimelineEntry, UpdateFields,
};
use crate::i18n::Msg;

/// `INC-7`: the human id, the same in every language.
pub fn incident_id(number: i64) -> String {
    format!("INC-{number}")
}

pub fn severity(sev: Severity) -> Msg {
    match sev {
        Severity::Sev1 => Msg::new("severity-1"),
        Severity::Sev2 => Msg::new("severity-2"),
        Severity::Sev3 => Msg::new("severity-3"),
        Severity::Sev4 => Msg::new("severity-4"),
    }
}

pub fn status(status: Status) -> Msg {
    match status {
        Status::Investigating => Msg::new("status-investigating"),
        Status::Identified => Msg::new("status-identified"),
        Status::Monitoring => Msg::new("status-monitoring"),
        Status::Resolved => Msg::new("status-resolved"),
    }
}

/// Built-in roles are translated; configured ones keep the team's own word.
pub fn role(name: &str) -> Msg {
    match name {
        "commander" => Msg::new("role-commander"),
        "comms" => Msg::new("role-comms"),
        "scribe" => Msg::new("role-scribe"),
        "oncall" => Msg::new("role-oncall"),
        other => Msg::new("role-custom").text("role", other),
    }
}

/// A duration such as `1h 5min`, from whole minutes.
pub fn duration(minutes: i64) -> Msg {
    let minutes = minutes.max(0);
    if minutes < 60 {
        Msg::new("duration-minutes").number("minutes", minutes)
    } else if minutes < 24 * 60 {
        Msg::new("duration-hours")
            .number("hours", minutes / 60)
            .number("minutes", minutes % 60)
    } else {
        Msg::new("duration-days")
            .number("days", minutes / (24 * 60))
            .number("hours", minutes % (24 * 60) / 60)
    }
}

fn age(from: DateTime<Utc>, to: DateTime<Utc>) -> Msg {
    duration((to - from).num_minutes())
}

/// The message announcing a change: broadcast to every linked room, or only answered to the sender
/// for notes and follow-ups (see [`is_broadcast`]).
pub fn change(incident: &Incident, event: &Event, actor: &str, now: DateTime<Utc>) -> Msg {
    let id = incident_id(incident.number);
    match event {
        Event::Declared {
            title,
            severity: sev,
            ..
        } => {
            let mut details = vec![
                Msg::new("incident-declared-status")
                    .msg("status", status(incident.status))
                    .text("actor", actor)
                    .time("time", now),
            ];
            if let Some(impact) = &incident.impact {
                details.push(Msg::new("incident-impact").text("impact", impact.clone()));
            }
            details.push(Msg::new("incident-declared-next").text("id", id.clone()));
            Msg::new("incident-declared")
                .text("id", id)
                .msg("severity", severity(*sev))
                .text("title", title.clone())
                .lines("details", details)
        }
        Event::SeverityChanged { from, to } => Msg::new("incident-severity-changed")
            .text("id", id)
            .msg("from", severity(*from))
            .msg("to", severity(*to))
            .text("actor", actor)
            .text("title", incident.title.clone()),
        Event::StatusChanged { from, to } => Msg::new("incident-status-changed")
            .text("id", id)
            .msg("from", status(*from))
            .msg("to", status(*to))
            .text("actor", actor)
            .text("title", incident.title.clone()),
        Event::RoleAssigned {
            role: r, person, ..
        } => Msg::new("incident-role-assigned")
            .text("id", id)
            .text("person", person.clone())
            .msg("role", role(r))
            .text("actor", actor),
        Event::Acknowledged => Msg::new("incident-acknowledged")
            .text("id", id)
            .text("actor", actor)
            .time("time", now),
        Event::Updated(fields) => Msg::new("incident-update")
            .clock("time", now)
            .text("id", id)
            .text("actor", actor)
            .msg("severity", severity(incident.severity))
            .msg("status", status(incident.status))
            .lines("details", update_lines(fields, now)),
        Event::Note { .. } => Msg::new("incident-note-added").text("id", id),
        Event::FollowUpAdded { number, text } => Msg::new("incident-follow-up-added")
            .text("id", id)
            .number("number", i64::from(*number))
            .text("text", text.clone()),
        Event::Resolved { summary } => {
            let mut details = Vec::new();
            if let Some(summary) = summary {
                details.push(Msg::new("incident-summary").text("summary", summary.clone()));
            }
            let open = incident.follow_ups.iter().filter(|f| !f.done).count();
            if open > 0 {
                details.push(
                    Msg::new("incident-open-follow-ups")
                        .number("count", open as i64)
                        .text("id", id.clone()),
                );
            }
            Msg::new("incident-resolved")
                .text("id", id)
                .text("title", incident.title.clone())
                .text("actor", actor)
                .msg("duration", age(incident.declared_at, now))
                .lines("details", details)
        }
        Event::Reopened { reason } => {
            let details = reason
                .iter()
                .map(|r| Msg::new("incident-reason").text("reason", r.clone()))
                .collect();
            Msg::new("incident-reopened")
                .text("id", id)
                .text("title", incident.title.clone())
                .text("actor", actor)
                .lines("details", details)
        }
        Event::Snoozed { minutes } => {
            let at = incident.update_due_at.unwrap_or(now);
            Msg::new("incident-snoozed")
                .text("id", id)
                .clock("time", at)
                .msg("in", duration(i64::from(*minutes)))
        }
        Event::AlertFired {
            source,
            alert,
            links,
            back,
        } => Msg::new(if *back {
            "incident-alert-back"
        } else {
            "incident-alert-fired"
        })
        .text("id", id)
        .text("title", incident.title.clone())
        .text("alert", alert.clone())
        .text("source", source.clone())
        .lines("links", link_lines(links)),
        Event::AlertResolved { source, alert } => Msg::new("incident-alert-resolved")
            .text("id", id)
            .text("alert", alert.clone())
            .text("source", source.clone()),
        Event::AlertsCleared { source, .. } => {
            let details = if incident.is_open() {
                vec![Msg::new("incident-alerts-cleared-hint").text("id", id.clone())]
            } else {
                Vec::new()
            };
            Msg::new("incident-alerts-cleared")
                .text("id", id)
                .text("title", incident.title.clone())
                .text("source", source.clone())
                .lines("details", details)
        }
        Event::PlaybookStarted { playbook, steps } => Msg::new("incident-playbook-started")
            .text("id", id)
            .text("playbook", playbook.clone())
            .number("steps", i64::from(*steps)),
        Event::StepsDone { items } => Msg::new("incident-steps-done")
            .text("id", id)
            .text("items", numbers(items)),
        Event::AlertFlapping {
            source,
            alert,
            fires,
            minutes,
        } => Msg::new("incident-alert-flapping")
            .text("id", id)
            .text("alert", alert.clone())
            .text("source", source.clone())
            .number("fires", i64::from(*fires))
            .msg("within", duration(i64::from(*minutes))),
        Event::Paged {
            step,
            of,
            who,
            manual,
            ..
        } => Msg::new(if *manual {
            "incident-escalated"
        } else {
            "incident-paged"
        })
        .text("id", id)
        .msg("severity", severity(incident.severity))
        .text("title", incident.title.clone())
        .msg("who", who_list(who))
        .number("step", i64::from(*step))
        .number("of", i64::from(*of))
        .text("actor", actor),
        Event::PostmortemDone { link } => Msg::new("incident-postmortem-done")
            .text("id", id)
            .text("link", link.clone())
            .text("actor", actor),
        Event::PostmortemSkipped { reason } => Msg::new("incident-postmortem-skipped")
            .text("id", id)
            .text("reason", reason.clone())
            .text("actor", actor),
        Event::Refused { verb, .. } => Msg::new("incident-refused")
            .text("id", id)
            .text("verb", verb.clone())
            .text("actor", actor),
    }
}

/// The postmortem of a resolved incident is due (or overdue): the commander (or whoever holds
/// the war room) is asked to write it, or to say why not.
pub fn postmortem_due(incident: &Incident, due: DateTime<Utc>, reminder: u32) -> Msg {
    let who = match incident.roles.get("commander") {
        Some(person) => Msg::new("card-person").text("person", person.clone()),
        None => Msg::new("reminder-no-commander"),
    };
    Msg::new("postmortem-due")
        .text("id", incident_id(incident.number))
        .msg("severity", severity(incident.severity))
        .text("title", incident.title.clone())
        .time("due", due)
        .msg("who", who)
        .number("reminder", i64::from(reminder))
}

/// An alert a route posts as a notice (no incident): firing or resolved, with its links.
pub fn alert_notice(source: &str, alert: &crate::store::StoredAlert) -> Msg {
    let id = match alert.status {
        crate::alerts::model::AlertStatus::Firing => "alert-notice-firing",
        crate::alerts::model::AlertStatus::Resolved => "alert-notice-resolved",
    };
    Msg::new(id)
        .text("alert", alert.title.clone())
        .text("source", source)
        .msg("severity", severity(alert.severity))
        .lines("links", link_lines(&alert.links))
}

/// A playbook's customer message as an announce room gets it.
pub fn customer_message(incident: &Incident, text: &str) -> Msg {
    Msg::new("announce-playbook")
        .text("id", incident_id(incident.number))
        .text("text", text)
}

/// The lines of an incident's checklist in `lang` (the playbooks' own words), at most
/// [`bounds::CHECKLIST_ITEMS`] with the rest counted.
fn step_lines(
    incident: &Incident,
    policies: &super::policy::Policies,
    lang: crate::i18n::Lang,
) -> Vec<Msg> {
    checklist_lines(incident.steps.iter().map(|step| {
        let text = policies
            .playbook(&step.playbook)
            .and_then(|p| p.first_actions.get(step.item as usize))
            .map(|t| t.get(lang).to_string())
            .unwrap_or_else(|| format!("{} #{}", step.playbook, step.item + 1));
        (text, step.done_by.as_deref(), step.done_at)
    }))
}

/// A playbook starting on an incident, in `lang`: its title, the checklist (its steps after
/// any already there), its links, and how to tick.
pub fn playbook_started(
    incident: &Incident,
    playbook: &super::playbook::Playbook,
    lang: crate::i18n::Lang,
) -> Msg {
    let id = incident_id(incident.number);
    let first = incident
        .steps
        .iter()
        .position(|s| s.playbook == playbook.id)
        .map_or(1, |i| i + 1);
    let lines: Vec<Msg> = incident
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.playbook == playbook.id)
        .take(bounds::CHECKLIST_ITEMS)
        .map(|(i, s)| {
            let text = playbook
                .first_actions
                .get(s.item as usize)
                .map(|t| t.get(lang).to_string())
                .unwrap_or_default();
            Msg::new("checklist-item-open")
                .number("number", i64::try_from(i + 1).unwrap_or(i64::MAX))
                .text("text", text)
        })
        .chain(more_line(hidden_items(
            incident
                .steps
                .iter()
                .filter(|s| s.playbook == playbook.id)
                .count(),
        )))
        .chain(
            playbook
                .links
                .iter()
                .take(5)
                .map(|url| Msg::new("alert-link").text("url", url.clone())),
        )
        .collect();
    Msg::new("playbook-started")
        .text("id", id)
        .text("playbook", playbook.title.get(lang))
        .lines("items", lines)
        .number("first", i64::try_from(first).unwrap_or(1))
}

/// An incident's checklist, ticked or not (`inc check`), in `lang`.
pub fn incident_checklist(
    incident: &Incident,
    policies: &super::policy::Policies,
    lang: crate::i18n::Lang,
) -> Msg {
    let (done, total) = super::playbook::progress(&incident.steps);
    Msg::new("playbook-checklist")
        .text("id", incident_id(incident.number))
        .number("done", i64::try_from(done).unwrap_or(0))
        .number("total", i64::try_from(total).unwrap_or(0))
        .lines("items", step_lines(incident, policies, lang))
}

/// `inc playbook list`, in `lang`.
pub fn playbook_list(policies: &super::policy::Policies, lang: crate::i18n::Lang) -> Msg {
    if policies.playbooks.is_empty() {
        return Msg::new("playbook-list-none");
    }
    let lines = policies
        .playbooks
        .iter()
        .map(|p| {
            Msg::new("playbook-list-item")
                .text("playbook", p.id.clone())
                .text("title", p.title.get(lang))
                .number("steps", i64::try_from(p.first_actions.len()).unwrap_or(0))
        })
        .collect();
    Msg::new("playbook-list").lines("items", lines)
}

/// `inc playbook show ID`, in `lang`.
pub fn playbook_show(playbook: &super::playbook::Playbook, lang: crate::i18n::Lang) -> Msg {
    let mut details: Vec<Msg> = Vec::new();
    if let Some(sev) = playbook.severity {
        details.push(Msg::new("playbook-severity").msg("severity", severity(sev)));
    }
    if let Some(minutes) = playbook.update_every {
        details.push(Msg::new("playbook-cadence").msg("every", duration(minutes)));
    }
    if let Some(policy) = &playbook.escalation {
        details.push(Msg::new("playbook-escalation").text("policy", policy.clone()));
    }
    details.extend(
        playbook
            .first_actions
            .iter()
            .take(bounds::CHECKLIST_ITEMS)
            .enumerate()
            .map(|(i, t)| {
                Msg::new("checklist-item-open")
                    .number("number", i64::try_from(i + 1).unwrap_or(i64::MAX))
                    .text("text", t.get(lang))
            }),
    );
    details.extend(more_line(hidden_items(playbook.first_actions.len())));
    details.extend(
        playbook
            .links
            .iter()
            .take(5)
            .map(|url| Msg::new("alert-link").text("url", url.clone())),
    );
    Msg::new("playbook-show")
        .text("playbook", playbook.id.clone())
        .text("title", playbook.title.get(lang))
        .lines("details", details)
}

/// Item numbers as one list (`1, 3`).
fn numbers(items: &[u32]) -> String {
    items
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// An alert's links, one a line.
fn link_lines(links: &[crate::alerts::model::AlertLink]) -> Vec<Msg> {
    links
        .iter()
        .map(|l| Msg::new("alert-link").text("url", l.url.clone()))
        .collect()
}

/// People as one line; nobody (a rotation with no holder) says so.
fn who_list(who: &[String]) -> Msg {
    if who.is_empty() {
        Msg::new("page-nobody")
    } else {
        Msg::new("card-person").text("person", who.join(", "))
    }
}

/// The direct page to one person's own chat (WhatsApp), with an Ack button.
pub fn page_direct(incident: &Incident, step: u32, of: u32) -> Msg {
    Msg::new("page-direct")
        .text("id", incident_id(incident.number))
        .msg("severity", severity(incident.severity))
        .text("title", incident.title.clone())
        .number("step", i64::from(step))
        .number("of", i64::from(of))
}

/// The buttons of a direct page: only Ack.
pub fn page_card(incident: &Incident) -> Card {
    Card {
        title: card_title(incident),
        fields: Vec::new(),
        buttons: vec![(format!("ack:{}", incident.number), Msg::new("button-ack"))],
        name: card_name(incident),
        closed: !incident.is_open(),
    }
}

/// The update reminder to the war rooms: who should post, and the seeds' update template
/// (impact, actions, next check, blockers) ready to fill in.
pub fn update_reminder(incident: &Incident, due: DateTime<Utc>, now: DateTime<Utc>) -> Msg {
    let id = incident_id(incident.number);
    let who = match incident.roles.get("commander") {
        Some(person) => Msg::new("card-person").text("person", person.clone()),
        None => Msg::new("reminder-no-commander"),
    };
    let since = incident.last_update_at.unwrap_or(incident.declared_at);
    Msg::new("reminder-update-due")
        .clock("time", now)
        .text("id", id.clone())
        .msg("severity", severity(incident.severity))
        .text("title", incident.title.clone())
        .msg("who", who)
        .msg("since", age(since, now))
        .clock("due", due)
        .lines(
            "template",
            vec![
                Msg::new("reminder-template").text("id", id.clone()),
                Msg::new("reminder-snooze-hint").text("id", id),
            ],
        )
}

/// A line added to a job's message when it fires well after its time.
pub fn late(due: DateTime<Utc>) -> Msg {
    Msg::new("job-late").time("due", due)
}

/// Which part of a message split to fit its platform this is (`(2/3)`).
pub fn part_marker(part: usize, parts: usize) -> Msg {
    let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
    Msg::new("fit-part")
        .number("part", n(part))
        .number("parts", n(parts))
}

/// Ends a card field trimmed to fit its platform: where the whole text is.
pub fn trimmed(incident: i64) -> Msg {
    Msg::new("fit-trimmed").number("number", incident)
}

/// The answer to a declaration from a chat that is no linked room: the linked rooms have the
/// incident and its card; this chat does not.
pub fn unlinked_answer(incident: &Incident) -> Msg {
    Msg::new("unlinked-declared")
        .text("id", incident_id(incident.number))
        .msg("severity", severity(incident.severity))
        .text("title", incident.title.clone())
}

/// A role by the name the timeline keeps.
fn role_named(name: &str) -> super::access::Role {
    use super::access::Role;
    [Role::Admin, Role::Responder]
        .into_iter()
        .find(|r| r.as_str() == name)
        .unwrap_or(Role::Member)
}

/// Whether the other linked rooms hear about this change. Notes and follow-ups stay in the room
/// that wrote them; everything that changes the picture of the incident is broadcast.
pub fn is_broadcast(event: &Event) -> bool {
    !matches!(
        event,
        Event::Note { .. }
            | Event::FollowUpAdded { .. }
            | Event::Snoozed { .. }
            | Event::AlertFired { back: false, .. }
            | Event::AlertResolved { .. }
            | Event::AlertsCleared { quiet: true, .. }
            | Event::StepsDone { .. }
            | Event::Refused { .. }
    )
}

/// Changes whose message the engine writes itself (per room language, from config) or that
/// the command's own answer already shows: nothing generic is queued for them.
pub fn is_own_message(event: &Event) -> bool {
    matches!(
        event,
        Event::PlaybookStarted { .. } | Event::StepsDone { .. }
    )
}

fn update_lines(fields: &UpdateFields, now: DateTime<Utc>) -> Vec<Msg> {
    let mut lines = Vec::new();
    if let Some(text) = &fields.text {
        lines.push(Msg::new("update-text").text("text", text.clone()));
    }
    if let Some(impact) = &fields.impact {
        lines.push(Msg::new("update-impact").text("impact", impact.clone()));
    }
    if let Some(actions) = &fields.actions {
        lines.push(Msg::new("update-actions").text("actions", actions.clone()));
    }
    if let Some(minutes) = fields.next_check_minutes {
        let at = now + chrono::Duration::minutes(i64::from(minutes));
        lines.push(
            Msg::new("update-next-check")
                .clock("time", at)
                .msg("in", duration(i64::from(minutes))),
        );
    }
    if let Some(blockers) = &fields.blockers {
        lines.push(Msg::new("update-blockers").text("blockers", blockers.clone()));
    }
    lines
}

/// One line of the `list` answer.
pub fn list_item(incident: &IncidentLine, now: DateTime<Utc>) -> Msg {
    Msg::new("incident-list-item")
        .text("id", incident_id(incident.number))
        .msg("severity", severity(incident.severity))
        .msg("status", status(incident.status))
        .text("title", incident.title.clone())
        .msg("age", age(incident.declared_at, now))
}

/// The operator's view (`runroom incidents list`): how many there are, the incidents given, one
/// line each, and, when a page follows, how many are left and the command that shows them;
/// never a chat answer.
pub fn list_all(shown: &[Incident], total: i64, next: Option<NextPage>, now: DateTime<Utc>) -> Msg {
    if total == 0 {
        return Msg::new("incident-list-empty");
    }
    let mut items: Vec<Msg> = shown.iter().map(|i| list_item(&i.into(), now)).collect();
    if let Some(next) = next {
        items.push(
            Msg::new("incidents-list-next")
                .number("more", next.more)
                .number("page", next.page),
        );
    }
    Msg::new("incident-list-all")
        .number("count", total)
        .lines("items", items)
}

/// The page after the one shown, and how many incidents are on it and after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextPage {
    pub page: i64,
    pub more: i64,
}

/// A page of `inc list`: how many match, the page's incidents, and how many follow with the
/// command that shows the next page.
pub fn list(filter: &ListFilter, items: &[IncidentLine], total: i64, now: DateTime<Utc>) -> Msg {
    let described = list_filter(filter);
    if total == 0 {
        return if *filter == ListFilter::default() {
            Msg::new("incident-list-empty")
        } else {
            Msg::new("incident-list-empty-filtered").msg("filter", described)
        };
    }
    let pages = bounds::pages(total, bounds::LIST_PAGE);
    let page = Msg::new(if pages > 1 {
        "list-page-of"
    } else {
        "list-page-only"
    })
    .number("page", i64::from(filter.page))
    .number("pages", pages);
    let heading = Msg::new("incident-list-heading")
        .msg("count", Msg::new("list-count").number("count", total))
        .msg("filter", described)
        .msg("page", page);
    let shown_through = i64::from(filter.page - 1) * bounds::LIST_PAGE + items.len() as i64;
    let more = total - shown_through;
    let footer = if more > 0 {
        let next = Msg::new("list-next")
            .text(
                "severity",
                filter
                    .severity
                    .map(|s| format!("sev{} ", s.number()))
                    .unwrap_or_default(),
            )
            .text("mine", if filter.mine { "yes" } else { "no" })
            .number("page", i64::from(filter.page) + 1);
        vec![
            Msg::new("incident-list-more")
                .number("more", more)
                .msg("next", next),
        ]
    } else {
        Vec::new()
    };
    Msg::new("incident-list")
        .msg("heading", heading)
        .lines("items", items.iter().map(|i| list_item(i, now)).collect())
        .lines("footer", footer)
}

/// What a list's filter keeps, as words after "open incidents".
fn list_filter(filter: &ListFilter) -> Msg {
    match (filter.severity, filter.mine) {
        (None, false) => Msg::new("list-filter-all"),
        (Some(sev), false) => Msg::new("list-filter-severity").msg("severity", severity(sev)),
        (None, true) => Msg::new("list-filter-mine"),
        (Some(sev), true) => Msg::new("list-filter-severity-mine").msg("severity", severity(sev)),
    }
}

/// How many of a checklist's `items` are past [`bounds::CHECKLIST_ITEMS`].
fn hidden_items(items: usize) -> i64 {
    i64::try_from(items.saturating_sub(bounds::CHECKLIST_ITEMS)).unwrap_or(i64::MAX)
}

/// "…and 12 more", after a list cut at its bound; nothing when nothing was cut.
pub fn more_line(more: i64) -> Option<Msg> {
    (more > 0).then(|| Msg::new("more-items").number("count", more))
}

/// What a timeline entry says happened.
pub fn event_summary(event: &Event) -> Msg {
    match event {
        Event::Declared {
            title, severity: s, ..
        } => Msg::new("event-declared")
            .msg("severity", severity(*s))
            .text("title", title.clone()),
        Event::SeverityChanged { from, to } => Msg::new("event-severity-changed")
            .msg("from", severity(*from))
            .msg("to", severity(*to)),
        Event::StatusChanged { from, to } => Msg::new("event-status-changed")
            .msg("from", status(*from))
            .msg("to", status(*to)),
        Event::RoleAssigned {
            role: r, person, ..
        } => Msg::new("event-role-assigned")
            .msg("role", role(r))
            .text("person", person.clone()),
        Event::Acknowledged => Msg::new("event-acknowledged"),
        Event::Updated(fields) => {
            let parts: Vec<&str> = [
                &fields.text,
                &fields.impact,
                &fields.actions,
                &fields.blockers,
            ]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
            Msg::new("event-updated").text("summary", parts.join(" · "))
        }
        Event::Note { text } => Msg::new("event-note").text("text", text.clone()),
        Event::FollowUpAdded { number, text } => Msg::new("event-follow-up-added")
            .number("number", i64::from(*number))
            .text("text", text.clone()),
        Event::Resolved { summary: None } => Msg::new("event-resolved"),
        Event::Resolved { summary: Some(s) } => {
            Msg::new("event-resolved-with").text("summary", s.clone())
        }
        Event::Reopened { reason: None } => Msg::new("event-reopened"),
        Event::Reopened { reason: Some(r) } => {
            Msg::new("event-reopened-with").text("reason", r.clone())
        }
        Event::Snoozed { minutes } => {
            Msg::new("event-snoozed").msg("in", duration(i64::from(*minutes)))
        }
        Event::AlertFired {
            source,
            alert,
            links,
            back,
        } => Msg::new(if *back {
            "event-alert-back"
        } else {
            "event-alert-fired"
        })
        .text("alert", alert.clone())
        .text("source", source.clone())
        .text(
            "links",
            links
                .iter()
                .map(|l| l.url.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Event::AlertResolved { source, alert } => Msg::new("event-alert-resolved")
            .text("alert", alert.clone())
            .text("source", source.clone()),
        Event::AlertsCleared { source, .. } => {
            Msg::new("event-alerts-cleared").text("source", source.clone())
        }
        Event::PlaybookStarted { playbook, steps } => Msg::new("event-playbook-started")
            .text("playbook", playbook.clone())
            .number("steps", i64::from(*steps)),
        Event::StepsDone { items } => Msg::new("event-steps-done").text("items", numbers(items)),
        Event::AlertFlapping {
            alert,
            fires,
            minutes,
            ..
        } => Msg::new("event-alert-flapping")
            .text("alert", alert.clone())
            .number("fires", i64::from(*fires))
            .msg("within", duration(i64::from(*minutes))),
        Event::Paged {
            step,
            of,
            who,
            manual,
            ..
        } => Msg::new(if *manual {
            "event-escalated"
        } else {
            "event-paged"
        })
        .msg("who", who_list(who))
        .number("step", i64::from(*step))
        .number("of", i64::from(*of)),
        Event::PostmortemDone { link } => {
            Msg::new("event-postmortem-done").text("link", link.clone())
        }
        Event::PostmortemSkipped { reason } => {
            Msg::new("event-postmortem-skipped").text("reason", reason.clone())
        }
        Event::Refused { verb, needs } => Msg::new("event-refused")
            .text("verb", verb.clone())
            .msg("role", super::errors::role(role_named(needs))),
    }
}

pub fn timeline_entry(entry: &TimelineEntry) -> Msg {
    Msg::new("timeline-entry")
        .time("time", entry.at)
        .text("actor", entry.actor.clone())
        .text("room", entry.room.clone())
        .msg("what", event_summary(&entry.event))
}

/// The latest `entries` of a timeline that has `total`; when some are left out, a last line
/// says how many and where the whole timeline is (the command line).
pub fn timeline(incident: &Incident, entries: &[TimelineEntry], total: i64) -> Msg {
    let id = incident_id(incident.number);
    let earlier = total - entries.len() as i64;
    let footer = if earlier > 0 {
        vec![
            Msg::new("timeline-earlier")
                .number("count", earlier)
                .text("id", id.clone()),
        ]
    } else {
        Vec::new()
    };
    Msg::new("timeline")
        .text("id", id)
        .text("title", incident.title.clone())
        .lines("entries", entries.iter().map(timeline_entry).collect())
        .lines("footer", footer)
}

/// The `show` answer: the incident's whole state and its latest timeline entries.
pub fn show(incident: &Incident, latest: &[TimelineEntry], now: DateTime<Utc>) -> Msg {
    let mut lines = vec![
        Msg::new("show-state")
            .msg("severity", severity(incident.severity))
            .msg("status", status(incident.status))
            .time("time", incident.declared_at)
            .text("actor", incident.declared_by.clone())
            .msg(
                "age",
                age(incident.declared_at, incident.resolved_at.unwrap_or(now)),
            ),
    ];
    if let Some(impact) = &incident.impact {
        lines.push(Msg::new("incident-impact").text("impact", impact.clone()));
    }
    if incident.roles.is_empty() {
        lines.push(Msg::new("show-no-roles"));
    }
    // Built-in roles first, in their usual order, then the team's own.
    let mut roles: Vec<(&String, &String)> = incident.roles.iter().collect();
    roles.sort_by_key(|(name, _)| {
        BUILTIN_ROLES
            .iter()
            .position(|b| b == name)
            .unwrap_or(BUILTIN_ROLES.len())
    });
    for (name, person) in roles {
        lines.push(
            Msg::new("show-role")
                .msg("role", role(name))
                .text("person", person.clone()),
        );
    }
    match (&incident.acked_by, incident.acked_at) {
        (Some(by), Some(at)) => lines.push(
            Msg::new("show-acked")
                .text("actor", by.clone())
                .time("time", at),
        ),
        _ => lines.push(Msg::new("show-not-acked")),
    }
    if let Some(at) = incident.update_due_at.or(incident.next_check_at) {
        lines.push(Msg::new("show-next-check").time("time", at));
    }
    if let Some(at) = incident.resolved_at {
        lines.push(Msg::new("show-resolved").time("time", at));
    }
    for f in incident.follow_ups.iter().take(bounds::SHOW_FOLLOW_UPS) {
        lines.push(
            Msg::new("show-follow-up")
                .number("number", i64::from(f.number))
                .text("text", f.text.clone()),
        );
    }
    let hidden = incident
        .follow_ups
        .len()
        .saturating_sub(bounds::SHOW_FOLLOW_UPS);
    lines.extend(more_line(hidden as i64));
    if !latest.is_empty() {
        lines.push(Msg::new("show-latest"));
        lines.extend(latest.iter().map(timeline_entry));
    }
    Msg::new("show")
        .text("id", incident_id(incident.number))
        .text("title", incident.title.clone())
        .lines("lines", lines)
}

/// `inc postmortem`: the draft's figures, and how to get the whole draft in the room's language.
pub fn postmortem(
    incident: &Incident,
    figures: &crate::postmortem::Figures,
    lang: crate::i18n::Lang,
) -> Msg {
    let took = |d: Option<chrono::Duration>| match d {
        Some(d) => duration(d.num_minutes()),
        None => Msg::new("pm-never"),
    };
    Msg::new("pm-chat")
        .text("id", incident_id(incident.number))
        .number("number", incident.number)
        .msg("severity", severity(incident.severity))
        .msg("status", status(incident.status))
        .msg("ack", took(figures.time_to_acknowledge()))
        .msg("update", took(figures.time_to_first_update()))
        .msg("resolve", took(figures.time_to_resolve()))
        .number("updates", i64::from(figures.updates))
        .number("late", i64::from(figures.late_updates))
        .number("pages", figures.pages.len() as i64)
        .text("locale", lang.as_str())
}

/// `help` alone: every verb's one-line usage. `help VERB`: that verb's usage and description.
pub fn help(verb: Option<Verb>) -> Msg {
    match verb {
        Some(v) => Msg::new("help-verb")
            .msg("usage", usage(v))
            .msg("about", about(v)),
        None => Msg::new("help").lines(
            "verbs",
            super::command::VERBS
                .iter()
                .map(|(v, _)| usage(*v))
                .collect(),
        ),
    }
}

/// The one-line usage of a verb, in the room's language (`usage-declare` …).
pub fn usage(verb: Verb) -> Msg {
    match verb {
        Verb::Declare => Msg::new("usage-declare"),
        Verb::Sev => Msg::new("usage-sev"),
        Verb::Status => Msg::new("usage-status"),
        Verb::Assign => Msg::new("usage-assign"),
        Verb::Ack => Msg::new("usage-ack"),
        Verb::Update => Msg::new("usage-update"),
        Verb::Note => Msg::new("usage-note"),
        Verb::FollowUp => Msg::new("usage-follow-up"),
        Verb::Resolve => Msg::new("usage-resolve"),
        Verb::Reopen => Msg::new("usage-reopen"),
        Verb::List => Msg::new("usage-list"),
        Verb::Show => Msg::new("usage-show"),
        Verb::Timeline => Msg::new("usage-timeline"),
        Verb::Help => Msg::new("usage-help"),
        Verb::Lang => Msg::new("usage-lang"),
        Verb::Handoff => Msg::new("usage-handoff"),
        Verb::Oncall => Msg::new("usage-oncall"),
        Verb::Check => Msg::new("usage-check"),
        Verb::Escalate => Msg::new("usage-escalate"),
        Verb::Snooze => Msg::new("usage-snooze"),
        Verb::Heartbeats => Msg::new("usage-heartbeats"),
        Verb::Postmortem => Msg::new("usage-postmortem"),
        Verb::Playbook => Msg::new("usage-playbook"),
    }
}

fn about(verb: Verb) -> Msg {
    match verb {
        Verb::Declare => Msg::new("about-declare"),
        Verb::Sev => Msg::new("about-sev"),
        Verb::Status => Msg::new("about-status"),
        Verb::Assign => Msg::new("about-assign"),
        Verb::Ack => Msg::new("about-ack"),
        Verb::Update => Msg::new("about-update"),
        Verb::Note => Msg::new("about-note"),
        Verb::FollowUp => Msg::new("about-follow-up"),
        Verb::Resolve => Msg::new("about-resolve"),
        Verb::Reopen => Msg::new("about-reopen"),
        Verb::List => Msg::new("about-list"),
        Verb::Show => Msg::new("about-show"),
        Verb::Timeline => Msg::new("about-timeline"),
        Verb::Help => Msg::new("about-help"),
        Verb::Lang => Msg::new("about-lang"),
        Verb::Handoff => Msg::new("about-handoff"),
        Verb::Oncall => Msg::new("about-oncall"),
        Verb::Check => Msg::new("about-check"),
        Verb::Escalate => Msg::new("about-escalate"),
        Verb::Snooze => Msg::new("about-snooze"),
        Verb::Heartbeats => Msg::new("about-heartbeats"),
        Verb::Postmortem => Msg::new("about-postmortem"),
        Verb::Playbook => Msg::new("about-playbook"),
    }
}

/// One heartbeat as `inc heartbeats` shows it.
pub struct HeartbeatLine<'a> {
    pub id: &'a str,
    pub every_minutes: i64,
    pub last_ping: Option<DateTime<Utc>>,
    pub missed: bool,
}

/// `inc heartbeats`: each heartbeat, its last ping and whether it is missed.
pub fn heartbeats(lines: &[HeartbeatLine<'_>], now: DateTime<Utc>) -> Msg {
    if lines.is_empty() {
        return Msg::new("heartbeats-none");
    }
    let lines = lines
        .iter()
        .map(|h| {
            let every = duration(h.every_minutes);
            match h.last_ping {
                None => Msg::new("heartbeat-never")
                    .text("id", h.id)
                    .msg("every", every),
                Some(at) => Msg::new(if h.missed {
                    "heartbeat-missed"
                } else {
                    "heartbeat-ok"
                })
                .text("id", h.id)
                .time("time", at)
                .msg("ago", age(at, now))
                .msg("every", every),
            }
        })
        .collect();
    Msg::new("heartbeats").lines("lines", lines)
}

pub fn language_set(lang: crate::i18n::Lang) -> Msg {
    Msg::new("lang-set").text("lang", lang.as_str())
}

/// The incident card: a title, labelled fields and buttons, rendered per room into the
/// platform-neutral rich form each platform draws natively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub title: Msg,
    pub fields: Vec<(Msg, Msg)>,
    /// Button id (`ack:7`) and label.
    pub buttons: Vec<(String, Msg)>,
    /// `INC-7 · Checkout down`: what a platform names the incident's own place (a Telegram
    /// forum topic).
    pub name: String,
    /// The incident is over: its place may be closed.
    pub closed: bool,
}

/// `INC-7 · Checkout down`.
fn card_name(incident: &Incident) -> String {
    format!("{} · {}", incident_id(incident.number), incident.title)
}

pub fn card(incident: &Incident) -> Card {
    let nobody = || Msg::new("card-nobody");
    let person = |p: Option<&String>| {
        p.map_or_else(nobody, |p| {
            Msg::new("card-person").text("person", p.clone())
        })
    };
    let mut fields = vec![
        (Msg::new("card-status"), status(incident.status)),
        (
            Msg::new("card-commander"),
            person(incident.roles.get("commander")),
        ),
        (
            Msg::new("card-acknowledged"),
            person(incident.acked_by.as_ref()),
        ),
    ];
    if let Some(impact) = &incident.impact {
        fields.push((
            Msg::new("card-impact"),
            Msg::new("card-person").text("person", impact.clone()),
        ));
    }
    if !incident.steps.is_empty() {
        let (done, total) = super::playbook::progress(&incident.steps);
        fields.push((
            Msg::new("card-checklist"),
            Msg::new("card-progress")
                .number("done", i64::try_from(done).unwrap_or(0))
                .number("total", i64::try_from(total).unwrap_or(0)),
        ));
    }
    if let Some(at) = incident.update_due_at.or(incident.next_check_at) {
        fields.push((
            Msg::new("card-next-update"),
            Msg::new("card-time").time("time", at),
        ));
    }
    let n = incident.number;
    let mut buttons = Vec::new();
    if incident.is_open() {
        if incident.acked_by.is_none() {
            buttons.push((format!("ack:{n}"), Msg::new("button-ack")));
        }
        buttons.push((format!("update:{n}"), Msg::new("button-update")));
        buttons.push((format!("escalate:{n}"), Msg::new("button-escalate")));
        buttons.push((format!("resolve:{n}"), Msg::new("button-resolve")));
    }
    Card {
        title: card_title(incident),
        fields,
        buttons,
        name: card_name(incident),
        closed: !incident.is_open(),
    }
}

/// `INC-7 · SEV1 (critical) · Checkout down`.
fn card_title(incident: &Incident) -> Msg {
    Msg::new("card-title")
        .text("id", incident_id(incident.number))
        .msg("severity", severity(incident.severity))
        .text("title", incident.title.clone())
}

/// The customer-safe form of a change for `announce` rooms (the seeds' external updates): what
/// is affected and whether it is fixed, never who did what or the internal actions and blockers.
/// `None`: announce rooms do not hear about this change.
pub fn announcement(incident: &Incident, event: &Event, now: DateTime<Utc>) -> Option<Msg> {
    let what = incident
        .impact
        .clone()
        .unwrap_or_else(|| incident.title.clone());
    let id = incident_id(incident.number);
    match event {
        Event::Declared { .. } => Some(
            Msg::new("announce-declared")
                .text("id", id)
                .text("what", what),
        ),
        Event::SeverityChanged { to, .. } => Some(
            Msg::new("announce-severity")
                .text("id", id)
                .text("what", what)
                .msg("severity", severity(*to)),
        ),
        Event::Updated(fields) => {
            let mut lines = Vec::new();
            if let Some(text) = &fields.text {
                lines.push(Msg::new("update-text").text("text", text.clone()));
            }
            if let Some(minutes) = fields.next_check_minutes {
                let at = now + chrono::Duration::minutes(i64::from(minutes));
                lines.push(Msg::new("announce-next").clock("time", at));
            }
            Some(
                Msg::new("announce-update")
                    .text("id", id)
                    .text("what", what)
                    .lines("details", lines),
            )
        }
        Event::Resolved { .. } => Some(
            Msg::new("announce-resolved")
                .text("id", id)
                .text("what", what),
        ),
        _ => None,
    }
}

/// A checklist's items: open ones to tick, done ones with who and when.
fn checklist_items(list: &crate::store::Checklist) -> Vec<Msg> {
    checklist_lines(
        list.items
            .iter()
            .map(|item| (item.text.clone(), item.done_by.as_deref(), item.done_at)),
    )
}

/// Checklist lines from (text, who did it, when), numbered from 1: at most
/// [`bounds::CHECKLIST_ITEMS`], the rest counted.
fn checklist_lines<'a>(
    items: impl ExactSizeIterator<Item = (String, Option<&'a str>, Option<DateTime<Utc>>)>,
) -> Vec<Msg> {
    let hidden = hidden_items(items.len());
    let mut lines: Vec<Msg> = items
        .take(bounds::CHECKLIST_ITEMS)
        .enumerate()
        .map(|(i, (text, by, at))| {
            let n = i64::try_from(i + 1).unwrap_or(i64::MAX);
            match (by, at) {
                (Some(by), Some(at)) => Msg::new("checklist-item-done")
                    .number("number", n)
                    .text("text", text)
                    .text("actor", by)
                    .clock("time", at),
                _ => Msg::new("checklist-item-open")
                    .number("number", n)
                    .text("text", text),
            }
        })
        .collect();
    lines.extend(more_line(hidden));
    lines
}

/// A schedule's checklist as posted, with how to tick it.
pub fn checklist_posted(list: &crate::store::Checklist) -> Msg {
    Msg::new("checklist-posted")
        .text("title", list.title.clone())
        .time("time", list.posted_at)
        .lines("items", checklist_items(list))
}

/// The answer to `check`: how far the checklist is.
pub fn checklist_state(list: &crate::store::Checklist) -> Msg {
    let done = list.items.iter().filter(|i| i.done_by.is_some()).count();
    Msg::new("checklist-state")
        .text("title", list.title.clone())
        .number("done", i64::try_from(done).unwrap_or(0))
        .number("total", i64::try_from(list.items.len()).unwrap_or(0))
        .lines("items", checklist_items(list))
}

/// A schedule without items: its message.
pub fn scheduled_message(title: &str, now: DateTime<Utc>) -> Msg {
    Msg::new("schedule-posted")
        .text("title", title)
        .time("time", now)
}

pub fn override_set(person: &str, rotation: &str, until: DateTime<Utc>, actor: &str) -> Msg {
    Msg::new("oncall-override-set")
        .text("person", person)
        .text("rotation", rotation)
        .time("until", until)
        .text("actor", actor)
}

pub fn handoff_note_added(rotation: &str) -> Msg {
    Msg::new("handoff-note-added").text("rotation", rotation)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;

    use super::*;
    use crate::engine::incident::{Actor, Incident, Severity};
    use crate::engine::playbook::{Playbook, Step, Texts};
    use crate::engine::policy::Policies;
    use crate::i18n::{I18n, Lang};
    use crate::store::{Checklist, ChecklistItem};

    /// 45 items: 15 past the bound.
    const ITEMS: usize = bounds::CHECKLIST_ITEMS + 15;

    fn rendered(msg: &Msg) -> String {
        let i18n = I18n::new().expect("locales");
        i18n.render(Lang::En, chrono_tz::UTC, msg)
    }

    /// The item lines of a rendered checklist (`☐ 7. …` or `☑ 7. …`).
    fn item_lines(text: &str) -> Vec<&str> {
        text.lines()
            .filter(|l| l.starts_with('☐') || l.starts_with('☑'))
            .collect()
    }

    fn assert_bounded(what: &str, text: &str) {
        let items = item_lines(text);
        assert_eq!(items.len(), bounds::CHECKLIST_ITEMS, "{what}: {text}");
        assert!(items[0].contains("1. step 1"), "{what}: {}", items[0]);
        assert!(text.contains("…and 15 more"), "{what}: {text}");
        assert!(!text.contains("step 31"), "{what}: {text}");
    }

    fn playbook() -> Playbook {
        let text = |s: String| Texts(BTreeMap::from([(Lang::En, s)]));
        Playbook {
            id: "long".into(),
            title: text("A long runbook".into()),
            severity: None,
            matchers: Vec::new(),
            first_actions: (1..=ITEMS).map(|i| text(format!("step {i}"))).collect(),
            escalation: None,
            roles: BTreeMap::new(),
            update_every: None,
            customer: BTreeMap::new(),
            links: Vec::new(),
        }
    }

    #[test]
    fn every_checklist_shows_thirty_items_and_counts_the_rest() {
        let at = Utc.with_ymd_and_hms(2026, 3, 9, 13, 0, 0).unwrap();
        let posted = Checklist {
            id: 1,
            schedule: "morning".into(),
            title: "Morning checklist".into(),
            rooms: vec!["console".into()],
            posted_at: at,
            items: (1..=ITEMS)
                .map(|i| ChecklistItem {
                    text: format!("step {i}"),
                    done_by: None,
                    done_at: None,
                })
                .collect(),
        };
        assert_bounded("a schedule's", &rendered(&checklist_posted(&posted)));

        let playbook = playbook();
        let actor = Actor {
            name: "ana".into(),
            room: "console".into(),
        };
        let (mut incident, _) =
            Incident::declare("Checkout down".into(), Severity::Sev1, None, &actor, at);
        incident.number = 7;
        incident.steps = (0..ITEMS)
            .map(|item| Step {
                playbook: playbook.id.clone(),
                item: u32::try_from(item).unwrap(),
                done_by: None,
                done_at: None,
            })
            .collect();
        let policies = Policies {
            playbooks: vec![playbook.clone()],
            ..Policies::default()
        };
        assert_bounded(
            "a started playbook's",
            &rendered(&playbook_started(&incident, &playbook, Lang::En)),
        );
        assert_bounded(
            "an incident's",
            &rendered(&incident_checklist(&incident, &policies, Lang::En)),
        );
        assert_bounded(
            "a playbook's own",
            &rendered(&playbook_show(&playbook, Lang::En)),
        );
    }
}
