//! The web dashboard, served by `runroom serve` on its own port under `/dashboard`: signed-in
//! pages rendered on the server (askama templates, every string through Fluent in the viewer's
//! language and zone), a small stylesheet, and a few lines of JavaScript: the browser tells its
//! time zone, and an incident's page follows its Server-Sent Events. Mounted when
//! `RUNROOM_DASHBOARD_VIEWER_TOKEN` or `RUNROOM_ADMIN_TOKEN` is set.

mod delivery;
mod incident;
mod list;
mod oncall;
mod pages;
mod report;
pub mod session;
mod stream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Form, FromRequestParts, Request, State};
use axum::http::Uri;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono_tz::Tz;
use serde::Deserialize;

use self::pages::Texts;
use self::session::{Attempts, COOKIE, Keys, Session};
use crate::engine::Engine;
use crate::i18n::{I18n, Lang};

pub const VIEWER_TOKEN_ENV: &str = "RUNROOM_DASHBOARD_VIEWER_TOKEN";

/// Failed sign-ins a client may make in [`ATTEMPT_WINDOW`].
const ATTEMPTS: u32 = 5;
const ATTEMPT_WINDOW: Duration = Duration::from_secs(60);

/// What the dashboard's handlers share.
#[derive(Clone)]
pub struct Dashboard {
    engine: Arc<Engine>,
    i18n: Arc<I18n>,
    keys: Arc<Keys>,
    attempts: Arc<Attempts>,
    /// Cookies are marked `Secure` (the dashboard is reached over HTTPS, through a proxy).
    secure: bool,
    /// The sending mode when none was set (`[outbox] mode`).
    default_mode: crate::outbox::SendingMode,
    /// Wakes the live views for the changes they follow.
    hub: Arc<stream::Hub>,
}

/// How the dashboard is served.
pub struct Setup {
    pub viewer_token: Option<String>,
    pub admin_token: Option<String>,
    /// Cookies are marked `Secure` (`[server] https`).
    pub secure: bool,
    /// The sending mode when none was set (`[outbox] mode`).
    pub default_mode: crate::outbox::SendingMode,
}

/// The dashboard's routes, or `None` when no token signs in to it.
pub fn router(engine: Arc<Engine>, i18n: Arc<I18n>, setup: Setup) -> Option<Router> {
    let keys = Keys::new(setup.viewer_token, setup.admin_token)?;
    let state = Dashboard {
        hub: stream::Hub::new(engine.changes()),
        engine,
        i18n,
        keys: Arc::new(keys),
        attempts: Arc::new(Attempts::new(ATTEMPTS, ATTEMPT_WINDOW)),
        secure: setup.secure,
        default_mode: setup.default_mode,
    };
    Some(
        Router::new()
            .route("/dashboard", get(list::incidents))
            .route("/dashboard/live", get(list::live))
            .route("/dashboard/incidents/{number}", get(incident::page))
            .route("/dashboard/incidents/{number}/live", get(incident::live))
            .route(
                "/dashboard/incidents/{number}/postmortem.md",
                get(incident::postmortem),
            )
            .route("/dashboard/oncall", get(oncall::page))
            .route("/dashboard/report", get(report::page))
            .route("/dashboard/delivery", get(delivery::page))
            .route("/dashboard/delivery/retry", post(delivery::retry))
            .route("/dashboard/delivery/mode", post(delivery::mode))
            .route("/dashboard/sign-in", get(sign_in_form).post(sign_in))
            .route("/dashboard/sign-out", post(sign_out))
            .route("/dashboard/style.css", get(stylesheet))
            .layer(middleware::from_fn_with_state(
                state.clone(),
                remember_language,
            ))
            .with_state(state),
    )
}

/// `?lang=pt-BR` (the switch), else the `runroom_lang` cookie it set, else the browser's
/// `Accept-Language`, else English.
fn language(headers: &HeaderMap, asked: Option<&str>) -> Lang {
    if let Some(lang) = asked.and_then(Lang::parse) {
        return lang;
    }
    if let Some(lang) = cookie(headers, "runroom_lang").and_then(Lang::parse) {
        return lang;
    }
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accepted
        .split(',')
        .filter_map(|part| part.split(';').next())
        .find_map(|tag| Lang::parse(tag.trim()))
        .unwrap_or(Lang::En)
}

/// The viewer's time zone: the `runroom_tz` cookie the pages' script sets from the browser's
/// own zone, else UTC.
fn zone(headers: &HeaderMap) -> Tz {
    // The script stores the zone's name percent-encoded (`Asia%2FTokyo`).
    cookie(headers, "runroom_tz")
        .and_then(|value| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("tz={value}")).ok()
        })
        .and_then(|pairs| pairs.into_iter().next())
        .and_then(|(_, name)| name.parse::<Tz>().ok())
        .unwrap_or(chrono_tz::UTC)
}

/// A cookie's value from the request.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

impl Dashboard {
    /// The request's session, if it carries a valid one.
    fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let value = cookie(headers, COOKIE)?;
        self.keys.open(value, chrono::Utc::now())
    }

    fn texts(&self, headers: &HeaderMap, lang: Lang) -> Texts {
        Texts::new(self.i18n.clone(), lang, zone(headers))
    }

    /// `Set-Cookie` for `name=value` on the dashboard's paths.
    fn set_cookie(&self, name: &str, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie = format!(
            "{name}={value}; Path=/dashboard; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
        );
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// The language asked for with the switch (`?lang=pt-BR`), if the request's query has one.
fn asked_language(uri: &Uri) -> Option<String> {
    #[derive(Deserialize)]
    struct Asked {
        lang: Option<String>,
    }
    serde_urlencoded::from_str::<Asked>(uri.query()?).ok()?.lang
}

/// A signed-in person looking at a page: their session, and the page's words in their language
/// and zone. Without a valid session the request goes to the sign-in form.
pub struct Viewer {
    pub session: Session,
    pub texts: Texts,
}

impl FromRequestParts<Dashboard> for Viewer {
    type Rejection = Redirect;

    async fn from_request_parts(parts: &mut Parts, dash: &Dashboard) -> Result<Viewer, Redirect> {
        let session = dash
            .session(&parts.headers)
            .ok_or_else(|| Redirect::to("/dashboard/sign-in"))?;
        let lang = language(&parts.headers, asked_language(&parts.uri).as_deref());
        Ok(Viewer {
            session,
            texts: dash.texts(&parts.headers, lang),
        })
    }
}

/// A language chosen with the switch is remembered for the next pages, whichever page it was
/// chosen on.
async fn remember_language(
    State(dash): State<Dashboard>,
    request: Request,
    next: Next,
) -> Response {
    let asked = asked_language(request.uri()).and_then(|tag| Lang::parse(&tag));
    let mut response = next.run(request).await;
    if let Some(lang) = asked {
        response.headers_mut().append(
            header::SET_COOKIE,
            dash.set_cookie("runroom_lang", lang.as_str(), 365 * 24 * 3600),
        );
    }
    response
}

async fn sign_in_form(State(dash): State<Dashboard>, headers: HeaderMap, uri: Uri) -> Response {
    let lang = language(&headers, asked_language(&uri).as_deref());
    pages::sign_in(&dash.texts(&headers, lang), None, StatusCode::OK)
}

#[derive(Deserialize)]
struct SignInForm {
    token: String,
}

async fn sign_in(
    State(dash): State<Dashboard>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let texts = dash.texts(&headers, language(&headers, None));
    let now = Instant::now();
    if let Some(wait) = dash.attempts.blocked(client.ip(), now) {
        let seconds = wait.as_secs().max(1);
        let mut page = pages::sign_in(
            &texts,
            Some(texts.limited(seconds)),
            StatusCode::TOO_MANY_REQUESTS,
        );
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            page.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return page;
    }
    let issued = dash
        .keys
        .role_of(&form.token)
        .and_then(|role| dash.keys.issue(role, chrono::Utc::now()));
    let Some(cookie) = issued else {
        dash.attempts.failed(client.ip(), now);
        tracing::info!(client = %client.ip(), "a dashboard sign-in failed");
        return pages::sign_in(
            &texts,
            Some(texts.get("dashboard-sign-in-failed")),
            StatusCode::UNAUTHORIZED,
        );
    };
    dash.attempts.succeeded(client.ip());
    let mut response = Redirect::to("/dashboard").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        dash.set_cookie(COOKIE, &cookie, session::LIFETIME.num_seconds()),
    );
    response
}

#[derive(Deserialize)]
struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// Ends the session in this browser. It must carry the session's CSRF token: another site
/// cannot sign a person out.
async fn sign_out(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Response {
    let Some(session) = dash.session(&headers) else {
        return Redirect::to("/dashboard/sign-in").into_response();
    };
    if !pages::csrf_matches(&session, &form.csrf) {
        let texts = dash.texts(&headers, language(&headers, None));
        return pages::refused(&texts, StatusCode::FORBIDDEN);
    }
    let mut response = Redirect::to("/dashboard/sign-in").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, dash.set_cookie(COOKIE, "", 0));
    response
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../templates/dashboard/style.css"),
    )
}
