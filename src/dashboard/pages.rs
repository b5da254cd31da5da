//! The dashboard's pages: each handler reads what its page shows, and its askama template lays it
//! out with every word from Fluent ([`Texts`]) in the viewer's language.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::session::{Role, Session};
use super::{Dashboard, Viewer};
use crate::engine::incident::Incident;
use crate::engine::reply;
use crate::i18n::{I18n, Lang, Msg};
use crate::postmortem::document::shown;

/// Incidents on one page of the list.
const PAGE: i64 = 25;
/// Timeline entries an incident's page shows (the latest).
const TIMELINE: i64 = 200;

/// The words of a page, in its language.
pub struct Texts {
    i18n: Arc<I18n>,
    pub lang: Lang,
    /// The viewer's zone, for every time shown.
    tz: chrono_tz::Tz,
}

impl Texts {
    pub fn new(i18n: Arc<I18n>, lang: Lang, tz: chrono_tz::Tz) -> Texts {
        Texts { i18n, lang, tz }
    }

    pub(super) fn render(&self, msg: &Msg) -> String {
        self.i18n.render(self.lang, self.tz, msg)
    }

    /// A message without arguments.
    pub fn get(&self, id: &'static str) -> String {
        self.render(&Msg::new(id))
    }

    pub fn limited(&self, seconds: u64) -> String {
        self.render(&Msg::new("dashboard-sign-in-limited").number("seconds", seconds as i64))
    }

    fn page_of(&self, page: i64, pages: i64) -> String {
        self.render(
            &Msg::new("dashboard-page-of")
                .number("page", page)
                .number("pages", pages),
        )
    }

    pub(super) fn time(&self, at: DateTime<Utc>) -> String {
        self.render(&Msg::new("card-time").time("time", at))
    }

    pub(super) fn role(&self, role: Role) -> String {
        self.render(&Msg::new("dashboard-signed-in-as").text("role", role.as_str()))
    }
}

/// One incident as a row of the list.
pub struct Row {
    pub id: String,
    pub number: i64,
    pub severity: String,
    /// `sev1`…`sev4`, for the row's colour.
    pub severity_class: String,
    pub status: String,
    pub title: String,
    pub commander: String,
    pub age: String,
}

fn row(texts: &Texts, incident: &Incident, now: DateTime<Utc>) -> Row {
    let until = incident.resolved_at.unwrap_or(now);
    Row {
        id: reply::incident_id(incident.number),
        number: incident.number,
        severity: texts.render(&reply::severity(incident.severity)),
        severity_class: format!("sev{}", incident.severity.number()),
        status: texts.render(&reply::status(incident.status)),
        // People as the rooms show them, phone numbers masked as in the logs.
        title: shown(&incident.title),
        commander: incident
            .roles
            .get("commander")
            .map(|who| shown(who))
            .unwrap_or_else(|| "—".to_string()),
        age: texts.render(&reply::duration(
            (until - incident.declared_at).num_minutes(),
        )),
    }
}

#[derive(Template)]
#[template(path = "dashboard/sign_in.html")]
struct SignInPage<'a> {
    t: &'a Texts,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/incidents.html")]
struct IncidentsPage<'a> {
    t: &'a Texts,
    role: String,
    csrf: &'a str,
    open: Vec<Row>,
    open_total: i64,
    recent: Vec<Row>,
    page_label: String,
    previous: Option<i64>,
    next: Option<i64>,
}

/// One timeline entry as the incident's page shows it.
pub struct Entry {
    pub at: String,
    /// The same instant in RFC 3339, for `<time datetime>`.
    pub iso: String,
    pub actor: String,
    pub summary: String,
}

/// What of an incident's page changes: its card and timeline. The page starts with it and its
/// live stream sends it again, rendered afresh, after each change.
#[derive(Template)]
#[template(path = "dashboard/live.html")]
struct Live<'a> {
    t: &'a Texts,
    heading: String,
    severity_class: String,
    fields: Vec<(String, String)>,
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
    /// The card and timeline, rendered by [`Live`].
    live: String,
}

#[derive(Template)]
#[template(path = "dashboard/missing.html")]
struct MissingPage<'a> {
    t: &'a Texts,
}

#[derive(Template)]
#[template(path = "dashboard/refused.html")]
struct RefusedPage<'a> {
    t: &'a Texts,
}

pub(super) fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(body) => {
            let mut response = (status, Html(body)).into_response();
            // Pages hold incident details: never cached, never framed by another site.
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            response
        }
        Err(error) => {
            tracing::error!(%error, "a dashboard page did not render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub fn sign_in(texts: &Texts, error: Option<String>, status: StatusCode) -> Response {
    html(status, SignInPage { t: texts, error }.render())
}

pub fn refused(texts: &Texts, status: StatusCode) -> Response {
    html(status, RefusedPage { t: texts }.render())
}

/// Whether a form's CSRF token is its session's.
pub fn csrf_matches(session: &Session, presented: &str) -> bool {
    bool::from(presented.as_bytes().ct_eq(session.csrf.as_bytes()))
}

#[derive(Deserialize)]
pub struct ListQuery {
    page: Option<i64>,
}

/// Open incidents (most severe, then oldest, a page at a time), then the latest resolved ones.
pub async fn incidents(
    State(dash): State<Dashboard>,
    Viewer { session, texts }: Viewer,
    Query(query): Query<ListQuery>,
) -> Response {
    let store = dash.engine.store();
    let page = query.page.unwrap_or(1).max(1);
    let open = match store.open_incidents_page((page - 1) * PAGE, PAGE).await {
        Ok(open) => open,
        Err(error) => return unavailable("the open incidents", error),
    };
    let recent = match store.recent_incidents(PAGE).await {
        Ok(recent) => recent,
        Err(error) => return unavailable("the recent incidents", error),
    };
    let now = Utc::now();
    let pages = crate::engine::bounds::pages(open.total, PAGE).max(1);
    let page_view = IncidentsPage {
        t: &texts,
        role: texts.role(session.role),
        csrf: &session.csrf,
        open: open.items.iter().map(|i| row(&texts, i, now)).collect(),
        open_total: open.total,
        recent: recent
            .iter()
            .filter(|i| !i.is_open())
            .map(|i| row(&texts, i, now))
            .collect(),
        page_label: texts.page_of(page, pages),
        previous: (page > 1).then(|| page - 1),
        next: (page < pages).then(|| page + 1),
    };
    html(StatusCode::OK, page_view.render())
}

/// The data a page needs was not readable: the database is down or slow.
pub(super) fn unavailable(what: &str, error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "dashboard: {what} could not be read");
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

/// One incident: its card as the war rooms see it, then its timeline (the latest entries).
pub async fn incident(
    State(dash): State<Dashboard>,
    Viewer { session, texts }: Viewer,
    Path(number): Path<i64>,
) -> Response {
    let live = match read_live(&dash, &texts, number).await {
        Ok(Some(live)) => live,
        Ok(None) => return html(StatusCode::NOT_FOUND, MissingPage { t: &texts }.render()),
        Err(error) => return unavailable("an incident", error),
    };
    let live_html = match live.render() {
        Ok(rendered) => rendered,
        Err(error) => return html(StatusCode::OK, Err(error)),
    };
    let page = IncidentPage {
        t: &texts,
        role: texts.role(session.role),
        csrf: &session.csrf,
        heading: live.heading.clone(),
        number,
        live: live_html,
    };
    html(StatusCode::OK, page.render())
}

/// An incident's card and timeline as of one read transaction; `None`: no such incident.
async fn read_live<'t>(
    dash: &Dashboard,
    texts: &'t Texts,
    number: i64,
) -> Result<Option<Live<'t>>, crate::store::StoreError> {
    let mut tx = dash.engine.store().begin_read().await?;
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
    let card = reply::card(&visible(incident.clone()));
    Ok(Some(Live {
        t: texts,
        heading: texts.render(&card.title),
        severity_class: format!("sev{}", incident.severity.number()),
        fields: card
            .fields
            .iter()
            .map(|(label, value)| (texts.render(label), texts.render(value)))
            .collect(),
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
    }))
}

/// The incident with its people as the rooms show them and phone numbers masked in what people
/// typed, before anything is rendered (a rendered time must not be taken for a number).
fn visible(mut incident: Incident) -> Incident {
    incident.title = shown(&incident.title);
    for person in incident.roles.values_mut() {
        *person = shown(person);
    }
    incident.acked_by = incident.acked_by.as_deref().map(shown);
    incident.impact = incident.impact.as_deref().map(shown);
    incident
}

/// How often a live view reads its incident even when this process saw no change: changes made
/// by another process (a second replica, `runroom console` on the same file) show up then.
const LOOK_AGAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// An incident's page, live: Server-Sent Events, each `incident` event the card and timeline
/// rendered afresh after a change.
pub async fn live(
    State(dash): State<Dashboard>,
    viewer: Result<Viewer, Redirect>,
    Path(number): Path<i64>,
) -> Response {
    // A stream is not a page: without a session it is refused, not sent to the sign-in form.
    let Ok(Viewer { texts, .. }) = viewer else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let changes = dash.engine.changes();
    let mut tick = tokio::time::interval(LOOK_AGAIN);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = (dash, texts, changes, tick, None::<String>);
    let stream = futures_util::stream::unfold(state, move |state| async move {
        let (dash, texts, mut changes, mut tick, mut last) = state;
        loop {
            tokio::select! {
                change = changes.recv() => match change {
                    Ok(changed) if changed != number => continue,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                },
                _ = tick.tick() => {}
            }
            let rendered = match read_live(&dash, &texts, number).await {
                Ok(Some(live)) => live.render().ok(),
                Ok(None) => None,
                Err(error) => {
                    tracing::warn!(%error, number, "dashboard: a live incident could not be read");
                    None
                }
            };
            // Only what changed is sent (the periodic look usually finds nothing new).
            if let Some(rendered) = rendered
                && last.as_deref() != Some(rendered.as_str())
            {
                last = Some(rendered.clone());
                let event = axum::response::sse::Event::default()
                    .event("incident")
                    .data(rendered);
                return Some((
                    Ok::<_, std::convert::Infallible>(event),
                    (dash, texts, changes, tick, last),
                ));
            }
        }
    });
    axum::response::sse::Sse::new(stream)
        .keep_alive(axum::response::sse::KeepAlive::default())
        .into_response()
}
