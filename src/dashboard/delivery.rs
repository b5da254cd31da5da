//! The delivery page: how many messages wait, were sent or died on each platform, the dead ones
//! with their reasons, and the sending mode. An admin can retry a dead message and switch the
//! mode (after ticking a confirmation); each is a form that must carry the session's CSRF token,
//! and a viewer who sends one is refused.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::pages::{self, Texts, html, unavailable};
use super::session::{Role, Session};
use super::{Dashboard, Viewer, language};
use crate::i18n::Msg;
use crate::outbox::SendingMode;
use crate::outbox::worker::MODE_KEY;
use crate::platforms::whatsapp::phone::redact_numbers;
use crate::postmortem::document::shown;
use crate::store::OutboxState;

/// Dead messages the page lists (the newest).
const DEAD_SHOWN: i64 = 100;
/// How much of a dead message's text and reason the page shows.
const EXCERPT: usize = 160;

pub struct StatRow {
    pub platform: String,
    pub state: String,
    pub count: i64,
}

pub struct DeadRow {
    pub id: i64,
    pub platform: String,
    pub room: String,
    pub queued: String,
    pub text: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "dashboard/delivery.html")]
struct DeliveryPage<'a> {
    t: &'a Texts,
    role: String,
    csrf: &'a str,
    admin: bool,
    mode: String,
    mode_word: String,
    notice: Option<String>,
    stats: Vec<StatRow>,
    dead: Vec<DeadRow>,
}

/// At most `EXCERPT` characters of `text`, phone numbers masked.
fn excerpt(text: &str) -> String {
    let shown = redact_numbers(&shown(text));
    match shown.char_indices().nth(EXCERPT) {
        Some((cut, _)) => format!("{}…", &shown[..cut]),
        None => shown,
    }
}

async fn mode_of(dash: &Dashboard) -> Result<SendingMode, crate::store::StoreError> {
    Ok(dash
        .engine
        .store()
        .setting(MODE_KEY)
        .await?
        .and_then(|m| SendingMode::parse(&m))
        .unwrap_or(dash.default_mode))
}

/// The page, with `notice` (what the last form did) above it.
async fn render(
    dash: &Dashboard,
    session: &Session,
    texts: &Texts,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let store = dash.engine.store();
    let read = async {
        Ok::<_, crate::store::StoreError>((
            mode_of(dash).await?,
            store.outbox_stats().await?,
            store.outbox_in_state(OutboxState::Dead, DEAD_SHOWN).await?,
        ))
    };
    let (mode, stats, dead) = match read.await {
        Ok(read) => read,
        Err(error) => return unavailable("the outbox", error),
    };
    let word = |id: &'static str, name: &'static str, value: &str| {
        texts.render(&Msg::new(id).text(name, value.to_string()))
    };
    let page = DeliveryPage {
        t: texts,
        role: texts.role(session.role),
        csrf: &session.csrf,
        admin: session.role == Role::Admin,
        mode: mode.as_str().to_string(),
        mode_word: word("dashboard-mode-name", "mode", mode.as_str()),
        notice,
        stats: stats
            .iter()
            .map(|s| StatRow {
                platform: s.platform.as_str().to_string(),
                state: word("dashboard-state-name", "state", s.state.as_str()),
                count: s.count,
            })
            .collect(),
        dead: dead
            .iter()
            .map(|row| DeadRow {
                id: row.id,
                platform: row.message.platform.as_str().to_string(),
                room: row.message.room_id.clone(),
                queued: texts.time(row.message.created_at),
                text: excerpt(&row.message.text),
                reason: excerpt(row.last_error.as_deref().unwrap_or("")),
            })
            .collect(),
    };
    html(status, page.render())
}

pub async fn page(State(dash): State<Dashboard>, viewer: Viewer) -> Response {
    render(&dash, &viewer.session, &viewer.texts, None, StatusCode::OK).await
}

/// The session of a form only an admin may send, and the words of the page it answers with:
/// `Err` is the answer when there is no session, the form's CSRF token is not the session's,
/// or the session is a viewer's.
fn admin_form(
    dash: &Dashboard,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<(Session, Texts), Box<Response>> {
    let Some(session) = dash.session(headers) else {
        return Err(Box::new(Redirect::to("/dashboard/sign-in").into_response()));
    };
    let texts = dash.texts(headers, language(headers, None));
    if !pages::csrf_matches(&session, csrf) || session.role != Role::Admin {
        return Err(Box::new(pages::refused(&texts, StatusCode::FORBIDDEN)));
    }
    Ok((session, texts))
}

#[derive(Deserialize)]
pub struct RetryForm {
    #[serde(default)]
    csrf: String,
    id: i64,
}

pub async fn retry(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Form(form): Form<RetryForm>,
) -> Response {
    let (session, texts) = match admin_form(&dash, &headers, &form.csrf) {
        Ok(admin) => admin,
        Err(answer) => return *answer,
    };
    let queued = match dash.engine.store().retry_dead(form.id, Utc::now()).await {
        Ok(queued) => queued,
        Err(error) => return unavailable("a dead message", error),
    };
    let (id, status) = if queued {
        tracing::info!(
            id = form.id,
            "a dead message was queued again from the dashboard"
        );
        ("dashboard-retried", StatusCode::OK)
    } else {
        ("dashboard-not-dead", StatusCode::CONFLICT)
    };
    let notice = texts.render(&Msg::new(id).number("id", form.id));
    render(&dash, &session, &texts, Some(notice), status).await
}

#[derive(Deserialize)]
pub struct ModeForm {
    #[serde(default)]
    csrf: String,
    mode: String,
    /// The confirmation box, ticked.
    confirm: Option<String>,
}

pub async fn mode(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Form(form): Form<ModeForm>,
) -> Response {
    let (session, texts) = match admin_form(&dash, &headers, &form.csrf) {
        Ok(admin) => admin,
        Err(answer) => return *answer,
    };
    // Refused before anything changes: not a mode, or not confirmed.
    let refusal = match SendingMode::parse(&form.mode) {
        None => Err("dashboard-mode-unknown"),
        Some(_) if form.confirm.is_none() => Err("dashboard-mode-unconfirmed"),
        Some(mode) => Ok(mode),
    };
    let mode = match refusal {
        Ok(mode) => mode,
        Err(why) => {
            let notice = Some(texts.get(why));
            return render(&dash, &session, &texts, notice, StatusCode::BAD_REQUEST).await;
        }
    };
    if let Err(error) = dash
        .engine
        .store()
        .set_setting(MODE_KEY, mode.as_str(), Utc::now())
        .await
    {
        return unavailable("the sending mode", error);
    }
    tracing::warn!(
        mode = mode.as_str(),
        "sending mode changed from the dashboard"
    );
    let notice = texts.render(&Msg::new("dashboard-mode-set").text("mode", mode.as_str()));
    render(&dash, &session, &texts, Some(notice), StatusCode::OK).await
}
