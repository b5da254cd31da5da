//! `POST /webhooks/alerts/<source>`: the source's secret is checked, the body read in its
//! format, and the alerts taken in one unit of work before the answer. The answer follows the
//! senders' retry rules (Alertmanager and Datadog retry only a 5xx and drop a notification on
//! any 4xx): 200 once the delivery is stored; 503 when it could not be (nothing was, and the
//! retry is handled afresh); 4xx only for what can never succeed (401 credentials, 400 a body
//! that is not the format, 413 a body over the limit, 404 an unknown source). There is no 429:
//! past a source's limit, new groups join its storm incident instead.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::AlertSource;
use super::auth::SourceAuth;
use crate::engine::Engine;

/// The largest delivery taken: Alertmanager sends a whole group in one request, and a group of
/// thousands of alerts with their labels stays well under this.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

#[derive(Clone)]
struct Sources {
    engine: Arc<Engine>,
    by_id: Arc<HashMap<String, AlertSource>>,
}

/// The alert webhooks of these sources (none: no route).
pub fn router(engine: Arc<Engine>, sources: Vec<AlertSource>) -> Router {
    if sources.is_empty() {
        return Router::new();
    }
    let by_id = sources.into_iter().map(|s| (s.id.clone(), s)).collect();
    Router::new()
        .route("/webhooks/alerts/{source}", post(receive))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(Sources {
            engine,
            by_id: Arc::new(by_id),
        })
}

async fn receive(
    State(state): State<Sources>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(source) = state.by_id.get(&id).cloned() else {
        return (StatusCode::NOT_FOUND, "no such alert source").into_response();
    };
    let span =
        tracing::info_span!("alert_webhook", source = %source.id, format = source.format.as_str());
    let _entered = span.enter();
    if let Err(error) = source
        .auth
        .check(&headers, &body, state.engine.clock().now())
    {
        metrics::counter!("runroom_inbound_rejected_total", "platform" => "alerts").increment(1);
        tracing::warn!(%error, method = source.auth.method(), "refused an alert delivery");
        return (StatusCode::UNAUTHORIZED, "invalid credentials").into_response();
    }
    let alerts = match source.format.parse(&body) {
        Ok(alerts) => alerts,
        Err(error) => {
            metrics::counter!("runroom_alerts_malformed_total", "source" => source.id.clone())
                .increment(1);
            tracing::warn!(%error, bytes = body.len(), "an alert delivery could not be read");
            // The parser's words may quote the payload: a short excerpt of them.
            let said = crate::http::excerpt(&error.to_string(), 200);
            return (StatusCode::BAD_REQUEST, said).into_response();
        }
    };
    for alert in &alerts {
        let status = if alert.acknowledge {
            "acknowledge"
        } else {
            alert.status.as_str()
        };
        metrics::counter!("runroom_alerts_received_total", "source" => source.id.clone(), "status" => status)
            .increment(1);
    }
    let dedup_key = alerts.first().map(|a| a.key.clone());
    drop(_entered);
    // The work runs in a task of its own: a sender that hangs up must not drop a unit of work
    // halfway, and a stopping server waits for it.
    let engine = state.engine.clone();
    let rules = source.rules.clone();
    let task = state
        .engine
        .in_flight()
        .spawn(tracing::Instrument::instrument(
            async move { engine.take_alerts(&rules, &alerts).await },
            span,
        ));
    match task.await {
        Ok(Ok(done)) => {
            let intake = done.value;
            metrics::counter!("runroom_alerts_deduplicated_total", "source" => source.id.clone())
                .increment(intake.duplicates as u64);
            metrics::counter!("runroom_alert_storm_total", "source" => source.id.clone())
                .increment(intake.stormed as u64);
            tracing::info!(
                received = intake.received,
                changed = intake.changed,
                duplicates = intake.duplicates,
                opened = ?intake.opened,
                "alerts stored"
            );
            let mut answer = json!({
                "status": "success",
                "received": intake.received,
                "changed": intake.changed,
                "duplicates": intake.duplicates,
                "opened": intake.opened,
                "touched": intake.touched,
                "stormed": intake.stormed,
            });
            if source.format == super::Format::Events {
                answer["dedup_key"] = json!(dedup_key);
            }
            (StatusCode::OK, axum::Json(answer)).into_response()
        }
        Ok(Err(error)) => unavailable(&error.to_string()),
        Err(error) => unavailable(&error.to_string()),
    }
}

#[derive(Clone)]
struct Heartbeats {
    engine: Arc<Engine>,
    tokens: Arc<HashMap<String, SourceAuth>>,
}

/// `POST /webhooks/heartbeat/<id>` for these heartbeats (none: no route): 200 once the ping is
/// stored (with `"resumed": true` when the heartbeat had been missed), 401, 404, or 503.
pub fn heartbeat_router(engine: Arc<Engine>, tokens: Vec<(String, SourceAuth)>) -> Router {
    if tokens.is_empty() {
        return Router::new();
    }
    Router::new()
        .route("/webhooks/heartbeat/{id}", post(ping))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(Heartbeats {
            engine,
            tokens: Arc::new(tokens.into_iter().collect()),
        })
}

async fn ping(
    State(state): State<Heartbeats>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (Some(auth), Some(heartbeat)) = (state.tokens.get(&id), state.engine.heartbeat(&id)) else {
        return (StatusCode::NOT_FOUND, "no such heartbeat").into_response();
    };
    if let Err(error) = auth.check(&headers, b"", state.engine.clock().now()) {
        metrics::counter!("runroom_inbound_rejected_total", "platform" => "heartbeat").increment(1);
        tracing::warn!(%error, heartbeat = %id, "refused a heartbeat ping");
        return (StatusCode::UNAUTHORIZED, "invalid credentials").into_response();
    }
    let heartbeat = heartbeat.clone();
    let engine = state.engine.clone();
    let task = state
        .engine
        .in_flight()
        .spawn(async move { engine.ping(&heartbeat).await });
    match task.await {
        Ok(Ok(done)) => {
            metrics::counter!("runroom_heartbeat_pings_total", "heartbeat" => id).increment(1);
            (
                StatusCode::OK,
                axum::Json(json!({ "status": "ok", "resumed": done.value })),
            )
                .into_response()
        }
        Ok(Err(error)) => unavailable(&error.to_string()),
        Err(error) => unavailable(&error.to_string()),
    }
}

/// Nothing was stored: the sender retries a 5xx.
fn unavailable(error: &str) -> Response {
    tracing::error!(%error, "alerts not stored; the sender will retry");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5")],
        "alerts not stored, retry",
    )
        .into_response()
}
