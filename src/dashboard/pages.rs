//! What the dashboard's pages share: their words in the viewer's language and zone ([`Texts`]),
//! the answer every page is sent in, the sign-in and refusal pages, and masking before rendering.

use std::sync::Arc;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

use super::session::{Role, Session};
use crate::engine::incident::Incident;
use crate::i18n::{I18n, Lang, Msg};
use crate::postmortem::document::shown;

/// The words of a page, in its language.
pub struct Texts {
    i18n: Arc<I18n>,
    pub lang: Lang,
    /// The viewer's zone, for every time shown.
    pub(super) tz: chrono_tz::Tz,
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

    pub(super) fn time(&self, at: DateTime<Utc>) -> String {
        self.render(&Msg::new("card-time").time("time", at))
    }

    pub(super) fn role(&self, role: Role) -> String {
        self.render(&Msg::new("dashboard-signed-in-as").text("role", role.as_str()))
    }
}

#[derive(Template)]
#[template(path = "dashboard/sign_in.html")]
struct SignInPage<'a> {
    t: &'a Texts,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/missing.html")]
pub(super) struct MissingPage<'a> {
    pub t: &'a Texts,
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

/// The data a page needs was not readable: the database is down or slow.
pub(super) fn unavailable(what: &str, error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "dashboard: {what} could not be read");
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

/// The incident with its people as the rooms show them and phone numbers masked in what people
/// typed, before anything is rendered (a rendered time must not be taken for a number).
pub(super) fn visible(mut incident: Incident) -> Incident {
    incident.title = shown(&incident.title);
    for person in incident.roles.values_mut() {
        *person = shown(person);
    }
    incident.acked_by = incident.acked_by.as_deref().map(shown);
    incident.impact = incident.impact.as_deref().map(shown);
    incident
}
