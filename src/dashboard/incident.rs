//! An incident's page: its card as the war rooms see it, its checklist, follow-ups and alerts,
//! how its messages stand in each room, and its timeline, all following it live; for a resolved
//! incident, the postmortem draft, with the Markdown to download.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::pages::{MissingPage, Texts, html, unavailable, visible};
use super::{Dashboard, Viewer, stream};
use crate::alerts::model::AlertStatus;
use crate::engine::incident::Incident;
use crate::engine::{playbook, reply};
use crate::i18n::Msg;
use crate::postmortem::document::shown;
use crate::store::{OutboxState, RoomDelivery, StoreError};

/// Timeline entries an incident's page shows (the latest).
const TIMELINE: i64 = 200;
/// Alerts an incident's page shows (the latest changed).
const ALERTS: i64 = 50;
/// The longest draft shown on the page, as HTML: a page stays light (under 100 KB with its
/// timeline); a longer draft is there to download.
const DRAFT_SHOWN: usize = 30 * 1024;
/// Past this many timeline entries the draft is not written for the page at all (it reads
/// every entry, only to be too long to show): it is there to download.
const DRAFT_ENTRIES: i64 = 300;

/// One timeline entry as the incident's page shows it.
pub struct Entry {
    pub at: String,
    /// The same instant in RFC 3339, for `<time datetime>`.
    pub iso: String,
    pub actor: String,
    pub summary: String,
}

/// A checklist item of the incident's playbooks.
pub struct Item {
    pub text: String,
    /// "done by @ana at 14:02", when ticked.
    pub done: Option<String>,
}

/// A follow-up recorded on the incident.
pub struct FollowUp {
    pub number: u32,
    pub text: String,
    pub done: bool,
}

/// An alert that joined the incident.
pub struct Alert {
    pub title: String,
    pub source: String,
    pub status: String,
    pub firing: bool,
    pub changed: String,
}

/// How the incident's messages stand in one room.
#[derive(Default)]
pub struct RoomRow {
    pub room: String,
    pub delivered: i64,
    pub waiting: i64,
    pub dead: i64,
}

/// What of an incident's page changes. The page starts with it and its live stream sends it
/// again, rendered afresh, after each change.
#[derive(Template)]
#[template(path = "dashboard/live.html")]
struct Live<'a> {
    t: &'a Texts,
    heading: String,
    severity_class: String,
    fields: Vec<(String, String)>,
    /// "2 of 5 done", when its playbooks have a checklist.
    progress: Option<String>,
    checklist: Vec<Item>,
    follow_ups: Vec<FollowUp>,
    alerts: Vec<Alert>,
    rooms: Vec<RoomRow>,
    timeline: Vec<Entry>,
    /// "The latest 200 of 340 entries", when the timeline is longer than the page shows.
    cut: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/incident.html")]
struct IncidentPage<'a> {
    t: &'a Texts,
    role: String,
    csrf: &'a str,
    heading: String,
    number: i64,
    /// The card and the rest, rendered by [`Live`].
    live: String,
    /// The postmortem draft as HTML, once the incident is resolved.
    postmortem: Option<String>,
    /// The draft is too long to show here.
    draft_too_long: bool,
}

/// One incident's page.
pub async fn page(
    State(dash): State<Dashboard>,
    Viewer { session, texts }: Viewer,
    Path(number): Path<i64>,
) -> Response {
    let (live, incident, entries) = match read_live(&dash, &texts, number).await {
        Ok(Some(read)) => read,
        Ok(None) => return html(StatusCode::NOT_FOUND, MissingPage { t: &texts }.render()),
        Err(error) => return unavailable("an incident", error),
    };
    let live_html = match live.render() {
        Ok(rendered) => rendered,
        Err(error) => return html(StatusCode::OK, Err(error)),
    };
    let long = entries > DRAFT_ENTRIES;
    let postmortem = if incident.is_open() || long {
        None
    } else {
        match draft(&dash, &texts, number).await {
            Ok(markdown) => markdown.map(|m| to_html(&m)),
            Err(error) => return unavailable("a postmortem draft", error),
        }
    };
    let draft_too_long =
        !incident.is_open() && (long || postmortem.as_ref().is_some_and(|d| d.len() > DRAFT_SHOWN));
    let page = IncidentPage {
        t: &texts,
        role: texts.role(session.role),
        csrf: &session.csrf,
        heading: live.heading.clone(),
        number,
        live: live_html,
        postmortem: postmortem.filter(|_| !draft_too_long),
        draft_too_long,
    };
    html(StatusCode::OK, page.render())
}

/// An incident's page, live: an `incident` event with what changes on it rendered again after
/// the incident changes (and every few seconds, for its messages' delivery).
pub async fn live(
    State(dash): State<Dashboard>,
    viewer: Result<Viewer, Redirect>,
    Path(number): Path<i64>,
) -> Response {
    // A stream is not a page: without a session it is refused, not sent to the sign-in form.
    let Ok(Viewer { texts, .. }) = viewer else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let texts = Arc::new(texts);
    let reader = dash.clone();
    stream::follow(
        &dash,
        "incident",
        stream::Topic::Incident(number),
        move || {
            let (dash, texts) = (reader.clone(), texts.clone());
            async move {
                match read_live(&dash, &texts, number).await {
                    Ok(Some((live, _, _))) => live.render().ok(),
                    Ok(None) => None,
                    Err(error) => {
                        tracing::warn!(%error, number, "dashboard: a live incident could not be read");
                        None
                    }
                }
            }
        },
    )
}

/// The postmortem draft's Markdown, to download.
pub async fn postmortem(
    State(dash): State<Dashboard>,
    Viewer { texts, .. }: Viewer,
    Path(number): Path<i64>,
) -> Response {
    let markdown = match draft(&dash, &texts, number).await {
        Ok(Some(markdown)) => markdown,
        Ok(None) => return html(StatusCode::NOT_FOUND, MissingPage { t: &texts }.render()),
        Err(error) => return unavailable("a postmortem draft", error),
    };
    let disposition = format!(
        "attachment; filename=\"{}-postmortem.md\"",
        reply::incident_id(number)
    );
    let mut response = markdown.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/markdown; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The draft in the viewer's language and zone, written now; `None`: no such incident.
async fn draft(dash: &Dashboard, texts: &Texts, number: i64) -> Result<Option<String>, StoreError> {
    let engine = &dash.engine;
    let Some((incident, timeline)) =
        crate::postmortem::load(engine.store().as_ref(), number).await?
    else {
        return Ok(None);
    };
    Ok(Some(crate::postmortem::write(
        (&incident, &timeline),
        engine.policies(),
        engine.i18n(),
        (crate::postmortem::Format::Md, texts.lang, texts.tz),
        engine.clock().now(),
    )))
}

/// Markdown as HTML for the page: any HTML in it is shown as text, images as their words, and
/// only web and mail links are kept.
fn to_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let events =
        Parser::new_ext(markdown, Options::ENABLE_TABLES).filter_map(|event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let safe = ["https://", "http://", "mailto:"]
                    .iter()
                    .any(|scheme| dest_url.starts_with(scheme));
                Some(Event::Start(Tag::Link {
                    link_type,
                    dest_url: if safe { dest_url } else { "#".into() },
                    title,
                    id,
                }))
            }
            other => Some(other),
        });
    let mut out = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// The incident's changing part as of one read transaction (its delivery and alerts read just
/// after), with the incident and how long its timeline is; `None`: no such incident.
async fn read_live<'t>(
    dash: &Dashboard,
    texts: &'t Texts,
    number: i64,
) -> Result<Option<(Live<'t>, Incident, i64)>, StoreError> {
    let store = dash.engine.store();
    let mut tx = store.begin_read().await?;
    let Some(incident) = tx.incident(number).await? else {
        return Ok(None);
    };
    let entries = tx.timeline(number, TIMELINE).await?;
    let total = if entries.len() as i64 >= TIMELINE {
        tx.timeline_len(number).await?
    } else {
        entries.len() as i64
    };
    drop(tx);
    let alerts = store.incident_alerts(number, ALERTS).await?;
    let delivery = store.incident_delivery(number).await?;
    let card = reply::card(&visible(incident.clone()));
    let (done, steps) = playbook::progress(&incident.steps);
    let live = Live {
        t: texts,
        heading: texts.render(&card.title),
        severity_class: format!("sev{}", incident.severity.number()),
        fields: card
            .fields
            .iter()
            .map(|(label, value)| (texts.render(label), texts.render(value)))
            .collect(),
        progress: (steps > 0).then(|| {
            texts.render(
                &Msg::new("dashboard-checklist-progress")
                    .number("done", done as i64)
                    .number("total", steps as i64),
            )
        }),
        checklist: checklist(dash, texts, &incident),
        follow_ups: incident
            .follow_ups
            .iter()
            .map(|f| FollowUp {
                number: f.number,
                text: shown(&f.text),
                done: f.done,
            })
            .collect(),
        alerts: alerts
            .iter()
            .map(|a| Alert {
                title: shown(&a.title),
                source: a.source.clone(),
                status: texts
                    .render(&Msg::new("dashboard-alert-status").text("status", a.status.as_str())),
                firing: a.status == AlertStatus::Firing,
                changed: texts.time(a.changed_at),
            })
            .collect(),
        rooms: rooms(&delivery),
        timeline: entries
            .iter()
            .map(|entry| Entry {
                at: texts.time(entry.at),
                iso: entry.at.to_rfc3339(),
                actor: shown(&entry.actor),
                summary: shown(&texts.render(&reply::event_summary(&entry.event))),
            })
            .collect(),
        cut: (total > entries.len() as i64).then(|| {
            texts.render(
                &Msg::new("dashboard-timeline-cut")
                    .number("shown", entries.len() as i64)
                    .number("total", total),
            )
        }),
    };
    Ok(Some((live, incident, total)))
}

/// Its playbooks' first actions in the viewer's language, with who ticked them and when.
fn checklist(dash: &Dashboard, texts: &Texts, incident: &Incident) -> Vec<Item> {
    let policies = dash.engine.policies();
    incident
        .steps
        .iter()
        .map(|step| {
            let text = policies
                .playbook(&step.playbook)
                .and_then(|p| p.first_actions.get(step.item as usize))
                .map(|t| t.get(texts.lang).to_string())
                // A playbook since removed from the config: its id and item number.
                .unwrap_or_else(|| format!("{} #{}", step.playbook, step.item + 1));
            let done = match (&step.done_by, step.done_at) {
                (Some(by), Some(at)) => Some(
                    texts.render(
                        &Msg::new("dashboard-checklist-done")
                            .text("person", shown(by))
                            .time("time", at),
                    ),
                ),
                _ => None,
            };
            Item { text, done }
        })
        .collect()
}

/// Per room: delivered (or recorded in a dry run), waiting (pending, being sent, to retry), dead.
fn rooms(delivery: &[RoomDelivery]) -> Vec<RoomRow> {
    let mut rows: Vec<RoomRow> = Vec::new();
    for d in delivery {
        let at = match rows.iter().position(|r| r.room == d.room_id) {
            Some(at) => at,
            None => {
                rows.push(RoomRow {
                    room: d.room_id.clone(),
                    ..RoomRow::default()
                });
                rows.len() - 1
            }
        };
        let row = &mut rows[at];
        match d.state {
            OutboxState::Sent | OutboxState::DryRun => row.delivered += d.count,
            OutboxState::Pending | OutboxState::Sending | OutboxState::Failed => {
                row.waiting += d.count
            }
            OutboxState::Dead => row.dead += d.count,
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn markdown_keeps_no_html_and_no_script_links() {
        let html = to_html(
            "# INC-1\n\n<script>alert(1)</script>\n\n[safe](https://example.com) [bad](javascript:alert(1)) ![x](https://e/i.png)",
        );
        assert!(html.contains("<h1>INC-1</h1>"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("href=\"https://example.com\""), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<img"), "{html}");
    }
}
