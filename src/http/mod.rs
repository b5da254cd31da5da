//! The HTTP server: operations endpoints (`/healthz`, `/readyz`, `/metrics`), the platforms'
//! webhooks (Slack's under `/webhooks/slack/`, `/webhooks/whatsapp`, `/webhooks/evolution`), and
//! the admin API under `/api/`. Shuts down gracefully on
//! SIGTERM or Ctrl-C.

pub mod admin;

use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::config::Config;
use crate::engine::Engine;
use crate::engine::clock::{Clock, SystemClock};
use crate::outbox::Worker;
use crate::platforms::console;
use crate::platforms::slack::{self, SlackApp, SlackMode};
use crate::store::OutboxState;

/// How long a stopping process waits for inbound work whose webhook was already answered.
const IN_FLIGHT_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

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

/// The database answers.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.engine.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
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

/// `runroom serve`: the server, the outbox workers and the console room on stdin, until SIGTERM
/// or Ctrl-C; then the workers finish the sends they started and stop.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let metrics = metrics_handle();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let output = console::shared_output(tokio::io::stdout());
    let engine = crate::app::build_engine(&config, clock.clone()).await?;
    let slack = SlackApp::from_env(config.slack.as_ref())?;
    let first = Worker::new(
        engine.store().clone(),
        crate::app::senders(
            &config,
            output.clone(),
            engine.store(),
            clock.clone(),
            slack.as_ref(),
        )?,
        clock.clone(),
        config.outbox.clone(),
        worker_id(0),
    );
    let engine = Arc::new(engine.with_wake(first.wake_handle()));
    let (stop_workers, stopped) = tokio::sync::watch::channel(false);
    let mut workers = tokio::task::JoinSet::new();
    let siblings: Vec<Worker> = (1..config.outbox.workers)
        .map(|n| first.sibling(worker_id(n)))
        .collect();
    for worker in std::iter::once(first).chain(siblings) {
        let stopped = stopped.clone();
        workers.spawn(async move { worker.run(stopped).await });
    }
    let scheduler = crate::scheduler::Scheduler::new(
        engine.clone(),
        config.scheduler.clone(),
        format!("scheduler-{}", worker_id(0)),
    );
    {
        let stopped = stopped.clone();
        workers.spawn(async move { scheduler.run(stopped).await });
    }
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| format!("binding {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = engine.store().backend(), "runroom listening");
    println!("runroom listening on http://{addr}");

    // The console room shares the process; when stdin ends (a service has none) the server goes on.
    let console_engine = engine.clone();
    tokio::spawn(async move {
        let input = tokio::io::BufReader::new(tokio::io::stdin());
        if let Err(error) = console::run(console_engine, None, input, output, false, None).await {
            tracing::warn!(%error, "console room stopped");
        }
    });

    let mut app = router(
        AppState {
            engine: engine.clone(),
            metrics,
            default_mode: config.outbox.mode,
        },
        std::env::var(admin::TOKEN_ENV).ok(),
    );
    app = app.merge(whatsapp_webhooks(&config, &engine));
    let mut socket_mode = None;
    if let Some(slack) = &slack {
        let inbox = slack.inbox(engine.clone());
        match slack.config.mode {
            SlackMode::Http => match slack::secret(slack::SIGNING_SECRET_ENV) {
                Some(secret) => {
                    app = app.merge(slack::webhooks::router(slack::webhooks::SlackHttp {
                        verifier: Arc::new(slack::signature::Verifier::new(&secret)),
                        inbox,
                        clock,
                    }));
                }
                None => tracing::warn!(
                    "{} is not set: Slack's requests cannot be verified, so /webhooks/slack/* are off",
                    slack::SIGNING_SECRET_ENV
                ),
            },
            SlackMode::Socket => match slack::secret(slack::APP_TOKEN_ENV) {
                Some(app_token) => {
                    let run = slack::socket::run(
                        slack.client.clone(),
                        slack::token(app_token),
                        inbox,
                        stopped.clone(),
                    );
                    socket_mode = Some(tokio::spawn(async move {
                        if let Err(error) = run.await {
                            tracing::error!("Slack Socket Mode stopped: {error:#}");
                        }
                    }));
                }
                None => tracing::warn!(
                    "[slack] mode = \"socket\" but {} is not set: no Slack events will arrive",
                    slack::APP_TOKEN_ENV
                ),
            },
        }
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?;
    // Events already answered (the engine was slower than the ack budget) would not be
    // delivered again: finish them before stopping.
    let in_flight = engine.in_flight();
    in_flight.close();
    if !in_flight.is_empty() {
        tracing::info!(
            tasks = in_flight.len(),
            "waiting for inbound work in flight"
        );
        if tokio::time::timeout(IN_FLIGHT_GRACE, in_flight.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                tasks = in_flight.len(),
                "stopped with inbound work unfinished"
            );
        }
    }
    let _ = stop_workers.send(true);
    if let Some(socket_mode) = socket_mode {
        let _ = socket_mode.await;
    }
    while workers.join_next().await.is_some() {}
    tracing::info!("runroom stopped");
    Ok(())
}

/// `/webhooks/whatsapp` when the app secret and verify token are set, `/webhooks/evolution` when
/// the Evolution API key or webhook token is; each is off otherwise (nothing unverified is read).
fn whatsapp_webhooks(config: &Config, engine: &Arc<Engine>) -> axum::Router {
    use crate::platforms::whatsapp::{self, evolution, inbox, signature, webhooks};
    let wa = config.whatsapp.clone().unwrap_or_default();
    let inbox = Arc::new(inbox::Inbox::new(engine.clone(), wa.ack_budget()));
    let mut router = axum::Router::new();
    match (
        whatsapp::secret(whatsapp::APP_SECRET_ENV),
        whatsapp::secret(whatsapp::VERIFY_TOKEN_ENV),
    ) {
        (Some(secret), Some(verify)) => {
            router = router.merge(webhooks::router(webhooks::WhatsappHttp {
                verifier: Arc::new(signature::Verifier::new(&secret, &verify)),
                inbox: inbox.clone(),
            }));
        }
        _ if config.whatsapp.is_some() => tracing::warn!(
            "{} and {} must both be set for /webhooks/whatsapp: it is off",
            whatsapp::APP_SECRET_ENV,
            whatsapp::VERIFY_TOKEN_ENV
        ),
        _ => {}
    }
    let auth = evolution::WebhookAuth {
        apikey: whatsapp::secret(whatsapp::EVOLUTION_APIKEY_ENV),
        token: whatsapp::secret(evolution::WEBHOOK_TOKEN_ENV),
    };
    if auth.apikey.is_some() || auth.token.is_some() {
        router = router.merge(webhooks::evolution_router(webhooks::EvolutionHttp {
            auth: Arc::new(auth),
            inbox,
        }));
    }
    router
}

/// Unique across processes and restarts, so a restarted process never mistakes an old claim
/// for its own.
fn worker_id(n: u32) -> String {
    format!(
        "{}-{}-{n}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    )
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
