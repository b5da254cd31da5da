//! The HTTP routes runroom itself serves: operations endpoints (`/healthz`, `/readyz`,
//! `/metrics`) and the admin API under `/api/`. The platforms add their webhooks
//! ([`crate::platforms::Connected`]) and [`crate::app::App::serve`] runs the server.

pub mod admin;
pub mod series;
pub mod server;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::engine::Engine;
use crate::store::OutboxState;

/// The characters of what a client sent that an error answer may quote.
pub const EXCERPT_CHARS: usize = 40;

/// At most `max` characters of `text` for an error answer (or a log line): control characters
/// shown as `�`, and `…` where it was cut. An answer never echoes a whole bad value back.
pub fn excerpt(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { '�' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub metrics: PrometheusHandle,
    /// The sending mode when none was set through the API or the CLI.
    pub default_mode: crate::outbox::SendingMode,
}

/// The process-wide Prometheus recorder (installed once, however many servers a test starts).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // Send latency as a real histogram (buckets in seconds), so replicas can be aggregated.
            let buckets = [
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("runroom_outbox_send_seconds".into()),
                    &buckets,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("runroom_job_lateness_seconds".into()),
                        &buckets,
                    )
                })
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
            }
            handle
        })
        .clone()
}

/// The operations endpoints, plus the admin API when `admin_token` is set.
pub fn router(state: AppState, admin_token: Option<String>) -> Router {
    let ops = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(render_metrics))
        .with_state(state.clone());
    match admin::router(state, admin_token) {
        Some(api) => ops.merge(api),
        None => ops,
    }
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// How long readiness waits for the database: a probe gets its answer within a second, and a
/// database that does not answer in time is as good as gone.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_millis(800);

/// The database answers, within [`READY_WITHIN`].
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match tokio::time::timeout(READY_WITHIN, state.engine.store().ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
        Err(_) => {
            tracing::warn!("readiness check: the database did not answer in time");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

async fn render_metrics(State(state): State<AppState>) -> impl IntoResponse {
    // Queue depth and age are read at scrape time, so every replica reports the shared queue.
    match state.engine.store().outbox_stats().await {
        Ok(stats) => {
            let now = chrono::Utc::now();
            for s in &stats {
                let labels = [
                    ("platform", s.platform.as_str()),
                    ("state", s.state.as_str()),
                ];
                metrics::gauge!("runroom_outbox_messages", &labels).set(s.count as f64);
                if s.state == OutboxState::Pending {
                    let age = s
                        .oldest_created_at
                        .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
                    metrics::gauge!("runroom_outbox_oldest_pending_seconds", "platform" => s.platform.as_str()).set(age);
                }
            }
        }
        Err(error) => tracing::warn!(%error, "cannot read outbox stats for /metrics"),
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
