//! The incident list: open incidents first (most severe, then oldest), then the latest resolved,
//! filtered by status, severity and text, a page at a time, and live: the list is rendered again
//! after any incident changes.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::pages::{Texts, html, unavailable};
use super::{Dashboard, Viewer, stream};
use crate::engine::incident::{Incident, Severity, Status};
use crate::engine::{playbook, reply};
use crate::i18n::Msg;
use crate::postmortem::document::shown;
use crate::store::{IncidentSearch, StatusFilter};

/// Incidents on one page of the list.
const PAGE: i64 = 25;
/// Resolved incidents shown under the open ones when nothing is filtered.
const RECENT: i64 = 10;
/// The longest search text taken (the rest is ignored).
const TEXT_MAX: usize = 100;

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
    /// When its next update is due (open incidents with a cadence), in the viewer's zone.
    pub due: Option<String>,
    /// That time has passed without an update.
    pub overdue: bool,
    /// `2/5` checklist items ticked, or `—`.
    pub checklist: String,
    /// Its playbooks, or `—`.
    pub playbooks: String,
}

pub(super) fn row(texts: &Texts, incident: &Incident, now: DateTime<Utc>) -> Row {
    let until = incident.resolved_at.unwrap_or(now);
    let due = incident.update_due_at.filter(|_| incident.is_open());
    let (done, total) = playbook::progress(&incident.steps);
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
        due: due.map(|at| texts.time(at)),
        overdue: due.is_some_and(|at| at < now),
        checklist: if total == 0 {
            "—".to_string()
        } else {
            format!("{done}/{total}")
        },
        playbooks: if incident.playbooks.is_empty() {
            "—".to_string()
        } else {
            incident.playbooks.join(", ")
        },
    }
}

/// The columns' headings (and their labels on a phone, where each row is a block), rendered
/// once per list rather than once per row.
pub struct Columns {
    pub incident: String,
    pub severity: String,
    pub status: String,
    pub title: String,
    pub commander: String,
    pub age: String,
    pub next_update: String,
    pub checklist: String,
    pub playbook: String,
    /// The word that marks an update overdue.
    pub overdue: String,
}

impl Columns {
    pub(super) fn new(t: &Texts) -> Columns {
        Columns {
            incident: t.get("dashboard-col-incident"),
            severity: t.get("dashboard-col-severity"),
            status: t.get("dashboard-col-status"),
            title: t.get("dashboard-col-title"),
            commander: t.get("dashboard-col-commander"),
            age: t.get("dashboard-col-age"),
            next_update: t.get("dashboard-col-next-update"),
            checklist: t.get("dashboard-col-checklist"),
            playbook: t.get("dashboard-col-playbook"),
            overdue: t.get("dashboard-overdue"),
        }
    }
}

/// The list's query string, as typed: anything unreadable is ignored, never refused.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    page: Option<String>,
    status: Option<String>,
    severity: Option<String>,
    q: Option<String>,
}

/// What the list shows: the search and the page.
struct Shown {
    search: IncidentSearch,
    page: i64,
    /// The status filter as the form names it (`open`, `all`, `resolved`, …).
    status: &'static str,
    severity: &'static str,
    text: String,
}

impl Shown {
    fn of(query: &ListQuery) -> Shown {
        let status_word = query.status.as_deref().unwrap_or("open").trim();
        let (status, word) = match status_word {
            "all" => (StatusFilter::Any, "all"),
            other => match Status::parse(other) {
                Some(s) => (StatusFilter::Only(s), s.as_str()),
                None => (StatusFilter::Open, "open"),
            },
        };
        let severity = query.severity.as_deref().and_then(Severity::parse);
        let text: String = query
            .q
            .as_deref()
            .unwrap_or("")
            .trim()
            .chars()
            .take(TEXT_MAX)
            .collect();
        Shown {
            search: IncidentSearch {
                status,
                severity,
                text: (!text.is_empty()).then(|| text.clone()),
            },
            page: query
                .page
                .as_deref()
                .and_then(|p| p.trim().parse::<i64>().ok())
                .unwrap_or(1)
                .clamp(1, 1_000_000),
            status: word,
            severity: match severity {
                Some(Severity::Sev1) => "1",
                Some(Severity::Sev2) => "2",
                Some(Severity::Sev3) => "3",
                Some(Severity::Sev4) => "4",
                None => "",
            },
            text,
        }
    }

    /// Nothing filtered: the open incidents, with the latest resolved under them.
    fn is_default(&self) -> bool {
        self.search == IncidentSearch::default()
    }

    /// This list's query string for another page.
    fn link(&self, page: i64) -> String {
        let mut pairs = vec![("status", self.status.to_string())];
        if !self.severity.is_empty() {
            pairs.push(("severity", self.severity.to_string()));
        }
        if !self.text.is_empty() {
            pairs.push(("q", self.text.clone()));
        }
        pairs.push(("page", page.to_string()));
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// A choice in one of the filter's menus.
pub struct Choice {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

/// The part of the list that changes, sent again by its live stream.
#[derive(Template)]
#[template(path = "dashboard/list_body.html")]
struct ListBody<'a> {
    t: &'a Texts,
    cols: Columns,
    /// The heading of the first table: "Open", or "Matching" when filtered.
    heading: String,
    rows: Vec<Row>,
    total: i64,
    empty: String,
    page_label: String,
    previous: Option<String>,
    next: Option<String>,
    /// The latest resolved, when nothing is filtered.
    recent: Option<Vec<Row>>,
}

#[derive(Template)]
#[template(path = "dashboard/incidents.html")]
struct IncidentsPage<'a> {
    t: &'a Texts,
    role: String,
    csrf: &'a str,
    statuses: Vec<Choice>,
    severities: Vec<Choice>,
    text: &'a str,
    /// The rendered [`ListBody`].
    body: String,
}

/// The incident list page.
pub async fn incidents(
    State(dash): State<Dashboard>,
    Viewer { session, texts }: Viewer,
    Query(query): Query<ListQuery>,
) -> Response {
    let shown = Shown::of(&query);
    let body = match read_body(&dash, &texts, &shown).await {
        Ok(body) => body,
        Err(error) => return unavailable("the incident list", error),
    };
    let body = match body.render() {
        Ok(body) => body,
        Err(error) => return html(StatusCode::OK, Err(error)),
    };
    let page = IncidentsPage {
        t: &texts,
        role: texts.role(session.role),
        csrf: &session.csrf,
        statuses: status_choices(&texts, shown.status),
        severities: severity_choices(&texts, shown.severity),
        text: &shown.text,
        body,
    };
    html(StatusCode::OK, page.render())
}

/// The list, live: a `list` event with the list rendered again after any incident changes.
pub async fn live(
    State(dash): State<Dashboard>,
    viewer: Result<Viewer, Redirect>,
    Query(query): Query<ListQuery>,
) -> Response {
    let Ok(Viewer { texts, .. }) = viewer else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let shown = std::sync::Arc::new(Shown::of(&query));
    let texts = std::sync::Arc::new(texts);
    let reader = dash.clone();
    stream::follow(&dash, "list", stream::Topic::All, move || {
        let (dash, texts, shown) = (reader.clone(), texts.clone(), shown.clone());
        async move {
            match read_body(&dash, &texts, &shown).await {
                Ok(body) => body.render().ok(),
                Err(error) => {
                    tracing::warn!(%error, "dashboard: the live list could not be read");
                    None
                }
            }
        }
    })
}

async fn read_body<'t>(
    dash: &Dashboard,
    texts: &'t Texts,
    shown: &Shown,
) -> Result<ListBody<'t>, crate::store::StoreError> {
    let store = dash.engine.store();
    let found = store
        .search_incidents(&shown.search, (shown.page - 1) * PAGE, PAGE)
        .await?;
    let recent = if shown.is_default() {
        let resolved = IncidentSearch {
            status: StatusFilter::Only(Status::Resolved),
            ..IncidentSearch::default()
        };
        Some(store.search_incidents(&resolved, 0, RECENT).await?.items)
    } else {
        None
    };
    let now = dash.engine.clock().now();
    let pages = crate::engine::bounds::pages(found.total, PAGE).max(1);
    let page = shown.page;
    Ok(ListBody {
        t: texts,
        cols: Columns::new(texts),
        heading: texts.get(if shown.is_default() {
            "dashboard-open-heading"
        } else {
            "dashboard-matching-heading"
        }),
        rows: found.items.iter().map(|i| row(texts, i, now)).collect(),
        total: found.total,
        empty: texts.get(if shown.is_default() {
            "dashboard-none-open"
        } else {
            "dashboard-none-matching"
        }),
        page_label: texts.render(
            &Msg::new("dashboard-page-of")
                .number("page", page.min(pages))
                .number("pages", pages),
        ),
        previous: (page > 1).then(|| shown.link((page - 1).min(pages))),
        next: (page < pages).then(|| shown.link(page + 1)),
        recent: recent.map(|items| items.iter().map(|i| row(texts, i, now)).collect()),
    })
}

fn status_choices(texts: &Texts, selected: &str) -> Vec<Choice> {
    let mut choices = vec![Choice {
        value: "open",
        label: texts.get("dashboard-filter-open"),
        selected: selected == "open",
    }];
    choices.extend(Status::ALL.iter().map(|status| Choice {
        value: status.as_str(),
        label: texts.render(&reply::status(*status)),
        selected: selected == status.as_str(),
    }));
    choices.push(Choice {
        value: "all",
        label: texts.get("dashboard-filter-all"),
        selected: selected == "all",
    });
    choices
}

fn severity_choices(texts: &Texts, selected: &str) -> Vec<Choice> {
    let mut choices = vec![Choice {
        value: "",
        label: texts.get("dashboard-filter-any"),
        selected: selected.is_empty(),
    }];
    for (value, severity) in [
        ("1", Severity::Sev1),
        ("2", Severity::Sev2),
        ("3", Severity::Sev3),
        ("4", Severity::Sev4),
    ] {
        choices.push(Choice {
            value,
            label: texts.render(&reply::severity(severity)),
            selected: selected == value,
        });
    }
    choices
}
