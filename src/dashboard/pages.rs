//! The dashboard's pages: each handler reads what its page shows, and its askama template lays it
//! out with every word from Fluent ([`Texts`]) in the viewer's language.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::session::{Role, Session};
use super::{Dashboard, language};
use crate::engine::incident::Incident;
use crate::engine::reply;
use crate::i18n::{I18n, Lang, Msg};
use crate::postmortem::document::shown;

/// Incidents on one page of the list.
const PAGE: i64 = 25;

/// The words of a page, in its language.
pub struct Texts {
    i18n: Arc<I18n>,
    pub lang: Lang,
}

impl Texts {
    pub fn new(i18n: Arc<I18n>, lang: Lang) -> Texts {
        Texts { i18n, lang }
    }

    fn render(&self, msg: &Msg) -> String {
        self.i18n.render(self.lang, chrono_tz::UTC, msg)
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

    fn role(&self, role: Role) -> String {
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

#[derive(Template)]
#[template(path = "dashboard/refused.html")]
struct RefusedPage<'a> {
    t: &'a Texts,
}

fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
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
    lang: Option<String>,
    page: Option<i64>,
}

/// Open incidents (most severe, then oldest, a page at a time), then the latest resolved ones.
pub async fn incidents(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let Some(session) = dash.session(&headers) else {
        return Redirect::to("/dashboard/sign-in").into_response();
    };
    let lang = language(&headers, query.lang.as_deref());
    let texts = dash.texts(lang);
    let store = dash.engine.store();
    let page = query.page.unwrap_or(1).max(1);
    let open = match store.open_incidents_page((page - 1) * PAGE, PAGE).await {
        Ok(open) => open,
        Err(error) => {
            tracing::error!(%error, "dashboard: the open incidents could not be read");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let recent = match store.recent_incidents(PAGE).await {
        Ok(recent) => recent,
        Err(error) => {
            tracing::error!(%error, "dashboard: the recent incidents could not be read");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
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
    let mut response = html(StatusCode::OK, page_view.render());
    if let Some(asked) = query.lang.as_deref().and_then(Lang::parse) {
        // The switch is remembered for the next pages.
        response.headers_mut().append(
            header::SET_COOKIE,
            dash.set_cookie("runroom_lang", asked.as_str(), 365 * 24 * 3600),
        );
    }
    response
}
