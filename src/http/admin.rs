//! The admin API under `/api/`, behind `Authorization: Bearer $RUNROOM_ADMIN_TOKEN` (compared in
//! constant time). Without the variable the API is not mounted at all.

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::AppState;
use crate::outbox::SendingMode;
use crate::outbox::worker::MODE_KEY;
use crate::store::{OutboxState, StoreError};

pub const TOKEN_ENV: &str = "RUNROOM_ADMIN_TOKEN";

/// What an admin request can come to, besides success.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a client sent, as an error answer may quote it: a short excerpt.
fn quoted(raw: &str) -> String {
    super::excerpt(raw, super::EXCERPT_CHARS)
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = match &self {
            AdminError::NotFound => StatusCode::NOT_FOUND,
            AdminError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AdminError::Conflict(_) => StatusCode::CONFLICT,
            AdminError::Store(error) => {
                tracing::error!(%error, "admin API: database error");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({ "error": "database error" })),
                )
                    .into_response();
            }
        };
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

/// The admin routes, or `None` when no token is configured.
pub fn router(state: AppState, token: Option<String>) -> Option<Router> {
    let token: Arc<str> = Arc::from(token.filter(|t| !t.is_empty())?);
    Some(
        Router::new()
            .route("/api/incidents", get(list_incidents))
            .route("/api/incidents/{number}", get(show_incident))
            .route("/api/incidents/{number}/postmortem", get(postmortem))
            .route("/api/alerts", get(list_alerts))
            .route("/api/report", get(report))
            .route("/api/outbox/stats", get(outbox_stats))
            .route("/api/outbox/dead", get(dead_letters))
            .route("/api/outbox/{id}/retry", post(retry))
            .route("/api/sending-mode", get(get_mode).put(set_mode))
            .layer(middleware::from_fn_with_state(token, require_token))
            .with_state(state),
    )
}

async fn require_token(State(token): State<Arc<str>>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(presented.as_bytes().ct_eq(token.as_bytes())) {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(json!({ "error": "a valid admin bearer token is required" })),
        )
            .into_response()
    }
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    all: bool,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Open incidents per page when none is asked for, and the most a page may hold.
const PER_PAGE: i64 = 100;
const MAX_PER_PAGE: i64 = 500;

/// Open incidents in rank order (most severe, then oldest), a page at a time: the body is the
/// page's incidents; `X-Total-Count` says how many are open and `Link` names the next page
/// while there is one. `?all=true`: the 500 latest incidents, open or not.
async fn list_incidents(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AdminError> {
    let store = state.engine.store();
    if q.all {
        return Ok(Json(store.recent_incidents(500).await?).into_response());
    }
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(PER_PAGE);
    if page < 1 || !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(AdminError::BadRequest(format!(
            "page starts at 1 and per_page is 1 to {MAX_PER_PAGE}"
        )));
    }
    let offset = (page - 1).saturating_mul(per_page);
    let listed = store.open_incidents_page(offset, per_page).await?;
    let mut response = Json(&listed.items).into_response();
    let headers = response.headers_mut();
    headers.insert("x-total-count", listed.total.into());
    if offset.saturating_add(per_page) < listed.total {
        let next = format!(
            "</api/incidents?page={}&per_page={per_page}>; rel=\"next\"",
            page + 1
        );
        if let Ok(value) = header::HeaderValue::from_str(&next) {
            headers.insert(header::LINK, value);
        }
    }
    Ok(response)
}

#[derive(Deserialize)]
struct AlertsQuery {
    /// Only the alerts still firing.
    #[serde(default)]
    firing: bool,
    limit: Option<i64>,
}

/// The latest changed alerts first (`?firing=true`: only those firing), at most `limit` (100,
/// up to 500); `X-Total-Count` says how many there are.
async fn list_alerts(
    State(state): State<AppState>,
    Query(q): Query<AlertsQuery>,
) -> Result<Response, AdminError> {
    let limit = q.limit.unwrap_or(PER_PAGE);
    if !(1..=MAX_PER_PAGE).contains(&limit) {
        return Err(AdminError::BadRequest(format!(
            "limit is 1 to {MAX_PER_PAGE}"
        )));
    }
    let listed = state.engine.store().recent_alerts(q.firing, limit).await?;
    let mut response = Json(&listed.items).into_response();
    response
        .headers_mut()
        .insert("x-total-count", listed.total.into());
    Ok(response)
}

async fn show_incident(
    State(state): State<AppState>,
    Path(number): Path<i64>,
) -> Result<Response, AdminError> {
    let store = state.engine.store();
    let incident = store.incident(number).await?.ok_or(AdminError::NotFound)?;
    let timeline = store.timeline(number, 1000).await?;
    Ok(Json(json!({ "incident": incident, "timeline": timeline })).into_response())
}

#[derive(Deserialize)]
struct PostmortemQuery {
    #[serde(default)]
    format: crate::postmortem::Format,
    locale: Option<String>,
    timezone: Option<String>,
}

/// The postmortem draft: `?format=md` (the default, `text/markdown`) or `json`, in `?locale=`
/// (en, pt-BR, es) and `?timezone=` (an IANA zone; UTC by default).
async fn postmortem(
    State(state): State<AppState>,
    Path(number): Path<i64>,
    Query(q): Query<PostmortemQuery>,
) -> Result<Response, AdminError> {
    let lang = match q.locale.as_deref() {
        None => crate::i18n::Lang::En,
        Some(raw) => crate::i18n::Lang::parse(raw).ok_or_else(|| {
            AdminError::BadRequest(format!("{:?} is not en, pt-BR or es", quoted(raw)))
        })?,
    };
    let tz: chrono_tz::Tz = match q.timezone.as_deref() {
        None => chrono_tz::UTC,
        Some(raw) => raw
            .parse()
            .map_err(|_| AdminError::BadRequest(format!("{:?} is not a time zone", quoted(raw))))?,
    };
    let engine = &state.engine;
    let (incident, timeline) = crate::postmortem::load(engine.store().as_ref(), number)
        .await?
        .ok_or(AdminError::NotFound)?;
    let text = crate::postmortem::write(
        (&incident, &timeline),
        engine.policies(),
        engine.i18n(),
        (q.format, lang, tz),
        engine.clock().now(),
    );
    let content_type = match q.format {
        crate::postmortem::Format::Md => "text/markdown; charset=utf-8",
        crate::postmortem::Format::Json => "application/json",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], text).into_response())
}

#[derive(Deserialize)]
struct ReportQuery {
    since: Option<String>,
}

/// Figures across the incidents declared in `?since=` (`30d` by default), per severity.
async fn report(
    State(state): State<AppState>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AdminError> {
    use crate::postmortem::report;
    let raw = q.since.as_deref().unwrap_or("30d");
    let period = report::period(raw).ok_or_else(|| {
        AdminError::BadRequest(format!("{:?} is not a period such as 30d", quoted(raw)))
    })?;
    let now = state.engine.clock().now();
    let incidents = state
        .engine
        .store()
        .declared_since(now - period, report::MAX_INCIDENTS)
        .await?;
    Ok(Json(report::report(&incidents, now - period, now)).into_response())
}

async fn outbox_stats(State(state): State<AppState>) -> Result<Response, AdminError> {
    let store = state.engine.store();
    let mode = current_mode(&state).await?;
    let stats = store.outbox_stats().await?;
    Ok(Json(json!({ "mode": mode.as_str(), "stats": stats })).into_response())
}

async fn dead_letters(State(state): State<AppState>) -> Result<Response, AdminError> {
    let dead = state
        .engine
        .store()
        .outbox_in_state(OutboxState::Dead, 500)
        .await?;
    Ok(Json(dead.into_iter().map(masked).collect::<Vec<_>>()).into_response())
}

/// An outbox row with its phone numbers masked as in the logs: the chat and recipient (a
/// WhatsApp chat is a number), and any number in its text, card, or error.
fn masked(mut row: crate::store::OutboxRow) -> crate::store::OutboxRow {
    use crate::platforms::whatsapp::phone::{mask, redact_numbers};
    let hide = |text: &str| redact_numbers(&crate::postmortem::document::shown(text));
    let number = |chat: &str| {
        if crate::platforms::whatsapp::phone::normalize(chat).is_some() {
            mask(chat)
        } else {
            redact_numbers(chat)
        }
    };
    let message = &mut row.message;
    message.chat = number(&message.chat);
    message.recipient = message.recipient.as_deref().map(number);
    message.text = hide(&message.text);
    if let Some(rich) = message.rich.as_mut() {
        rich.title = hide(&rich.title);
        for field in &mut rich.fields {
            field.label = hide(&field.label);
            field.value = hide(&field.value);
        }
    }
    row.last_error = row.last_error.as_deref().map(redact_numbers);
    row.delivery_error = row.delivery_error.as_deref().map(redact_numbers);
    row
}

async fn retry(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, AdminError> {
    let store = state.engine.store();
    if store.retry_dead(id, chrono::Utc::now()).await? {
        return Ok(Json(json!({ "id": id, "state": OutboxState::Pending })).into_response());
    }
    match store.outbox_row(id).await? {
        None => Err(AdminError::NotFound),
        Some(row) => Err(AdminError::Conflict(format!(
            "message {id} is {}, not dead",
            row.state
        ))),
    }
}

async fn current_mode(state: &AppState) -> Result<SendingMode, AdminError> {
    Ok(state
        .engine
        .store()
        .setting(MODE_KEY)
        .await?
        .and_then(|m| SendingMode::parse(&m))
        .unwrap_or(state.default_mode))
}

async fn get_mode(State(state): State<AppState>) -> Result<Response, AdminError> {
    Ok(Json(json!({ "mode": current_mode(&state).await?.as_str() })).into_response())
}

#[derive(Deserialize)]
struct ModeBody {
    mode: String,
}

async fn set_mode(
    State(state): State<AppState>,
    Json(body): Json<ModeBody>,
) -> Result<Response, AdminError> {
    let mode = SendingMode::parse(&body.mode).ok_or_else(|| {
        AdminError::BadRequest(format!(
            "{:?} is not a mode: use live, dry-run or off",
            quoted(&body.mode)
        ))
    })?;
    state
        .engine
        .store()
        .set_setting(MODE_KEY, mode.as_str(), chrono::Utc::now())
        .await?;
    tracing::warn!(
        mode = mode.as_str(),
        "sending mode changed through the admin API"
    );
    Ok(Json(json!({ "mode": mode.as_str() })).into_response())
}
