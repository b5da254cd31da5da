//! Wiring: [`build`] turns a configuration, a clock and the secrets into an [`App`] — store,
//! engine, every platform's sender and entrances, the HTTP router, the outbox workers and the
//! scheduler — and [`App::serve`] runs it. `runroom serve`, `runroom console` and the tests all
//! build the same way; [`commands`] runs the command line.

pub mod commands;

use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::watch;

pub use self::commands::{init_tracing, load_config, run};
use crate::config::Config;
pub use crate::config::Secrets;
use crate::engine::clock::Clock;
use crate::engine::reach::Reaches;
use crate::engine::{Engine, EngineSettings};
use crate::http::{AppState, admin};
use crate::i18n::I18n;
use crate::outbox::Worker;
use crate::platforms::{self, Listener, Setup, console};
use crate::scheduler::Scheduler;
use crate::store::{self, Store};

/// How long a stopping process waits for inbound work whose webhook was already answered.
const IN_FLIGHT_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// A runroom process, assembled and not yet running.
pub struct App {
    pub config: Config,
    pub engine: Arc<Engine>,
    /// Every HTTP route: operations, the admin API (with a token) and each platform's webhooks.
    pub router: axum::Router,
    /// The first outbox worker; [`App::serve`] adds `[outbox] workers - 1` siblings.
    pub worker: Worker,
    pub scheduler: Scheduler,
    /// Where the console room prints.
    pub console: console::SharedOutput,
    /// What is configured but cannot run (a missing secret), said by [`App::serve`].
    pub warnings: Vec<String>,
    listeners: Vec<Listener>,
}

/// Connects the store (migrating it), wires every platform and assembles the process.
pub async fn build(config: Config, clock: Arc<dyn Clock>, secrets: Secrets) -> anyhow::Result<App> {
    let store = store::connect(&config.database.url)
        .await
        .with_context(|| {
            format!(
                "opening the database {}",
                store::redact_url(&config.database.url)
            )
        })?;
    assemble(config, store, clock, secrets)
}

/// [`build`] on a store that is already open.
pub fn assemble(
    config: Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    secrets: Secrets,
) -> anyhow::Result<App> {
    let rooms = config.rooms()?;
    // A source or heartbeat without its secret stops the start: a webhook is never left open.
    let alert_sources =
        crate::alerts::sources(&config.alert_sources, &config.alert_routes()?, &secrets)?;
    let heartbeats = config.heartbeats()?;
    let heartbeat_tokens = crate::alerts::heartbeat::tokens(&heartbeats, &secrets)?;
    // Every series at zero from the first scrape.
    let metrics = crate::http::metrics_handle();
    crate::http::series::register(
        &config
            .alert_sources
            .iter()
            .map(|s| s.id.clone())
            .collect::<Vec<_>>(),
        &heartbeats.iter().map(|h| h.id.clone()).collect::<Vec<_>>(),
    );
    let policies = config.policies(&rooms)?;
    let settings = EngineSettings {
        access: config.access(&rooms, &policies.people)?,
        policies,
        heartbeats,
        rooms,
        extra_roles: config.incidents.extra_roles.clone(),
        reaches: Reaches::default(),
    };
    let output = console::shared_output(tokio::io::stdout());
    let wired = platforms::wire_all(&Setup {
        config: &config,
        secrets: &secrets,
        console: &output,
    })?;
    let settings = EngineSettings {
        reaches: Reaches::new(wired.iter().map(|w| w.reach.clone())),
        ..settings
    };
    let i18n = Arc::new(I18n::new()?);
    let outbox_wake = Arc::new(tokio::sync::Notify::new());
    let engine = Arc::new(
        Engine::new(store.clone(), i18n.clone(), clock.clone(), settings)
            .with_wake(outbox_wake.clone())
            .with_writers(config.database.writer()),
    );
    let mut router = crate::http::router(
        AppState {
            engine: engine.clone(),
            metrics,
            default_mode: config.outbox.mode,
        },
        secrets.get(admin::TOKEN_ENV),
    );
    if let Some(dashboard) = crate::dashboard::router(
        engine.clone(),
        i18n,
        crate::dashboard::Setup {
            viewer_token: secrets.get(crate::dashboard::VIEWER_TOKEN_ENV),
            admin_token: secrets.get(admin::TOKEN_ENV),
            secure: config.server.https,
            default_mode: config.outbox.mode,
        },
    ) {
        router = router.merge(dashboard);
    }
    router = router
        .merge(crate::alerts::webhook::router(
            engine.clone(),
            alert_sources,
        ))
        .merge(crate::alerts::webhook::heartbeat_router(
            engine.clone(),
            heartbeat_tokens,
        ));
    let mut senders = Vec::new();
    let mut listeners = Vec::new();
    let mut warnings = Vec::new();
    for platform in wired {
        warnings.extend(platform.warnings.iter().cloned());
        let name = platform.platform().as_str();
        if let Some(connect) = platform.connect {
            let connected = connect(&engine).with_context(|| format!("connecting {name}"))?;
            senders.extend(connected.sender);
            router = router.merge(connected.router);
            listeners.extend(connected.listeners);
        }
    }
    let worker = Worker::new(store, senders, clock, config.outbox.clone(), worker_id())
        .with_wake(outbox_wake);
    let scheduler = scheduler(&engine, &config);
    // Each entrance's body limit and the body-read deadline, for every route.
    let router = crate::http::server::bounded(router, crate::http::server::Limits::default());
    Ok(App {
        config,
        engine,
        router,
        worker,
        scheduler,
        console: output,
        warnings,
        listeners,
    })
}

impl App {
    /// Runs the outbox workers, the scheduler and the platforms' listeners until `stop` turns
    /// true; returns their tasks, which end after that.
    pub fn start(&mut self, stop: &watch::Receiver<bool>) -> tokio::task::JoinSet<()> {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..self.config.outbox.workers.max(1) {
            let worker = self.worker.sibling(worker_id());
            let stopped = stop.clone();
            tasks.spawn(async move { worker.run(stopped).await });
        }
        // Ids of their own: a claim is fenced by its holder's id, so the workers and the
        // scheduler a test drives by hand (`worker`, `scheduler`) never pass for these.
        let scheduler = scheduler(&self.engine, &self.config);
        let stopped = stop.clone();
        tasks.spawn(async move { scheduler.run(stopped).await });
        // Journaled inbound work: what a crash left undone, then each retry as it falls due.
        let journal = self.engine.journal().clone();
        let tracker = self.engine.in_flight().clone();
        tasks.spawn(journal.run(tracker, stop.clone()));
        for listener in self.listeners.drain(..) {
            tasks.spawn(listener(stop.clone()));
        }
        tasks
    }

    /// `runroom serve`: the HTTP server on `listener`, the workers, the scheduler, the
    /// platforms' listeners and the console room on stdin (when one is configured), until `shutdown` completes; then
    /// inbound work already answered is finished and the workers end the sends they started.
    pub async fn serve(
        mut self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        for warning in &self.warnings {
            tracing::warn!("{warning}");
        }
        if let Some(path) = self.config.journal_path() {
            let pending = self.engine.journal().open(&path)?;
            if pending > 0 {
                tracing::info!(
                    events = pending,
                    "inbound work answered before a stop and not done: replaying it"
                );
            }
        }
        let (stop, stopped) = watch::channel(false);
        let mut tasks = self.start(&stopped);
        let addr = listener.local_addr()?;
        tracing::info!(%addr, backend = self.engine.store().backend(), "runroom listening");
        println!("runroom listening on http://{addr}");

        // The console room, when there is one, shares the process; when stdin ends (a service
        // has none) the server goes on.
        if self.config.has_console_room() {
            let console_engine = self.engine.clone();
            let output = self.console.clone();
            tokio::spawn(async move {
                let input = tokio::io::BufReader::new(tokio::io::stdin());
                if let Err(error) =
                    console::run(console_engine, None, input, output, false, None).await
                {
                    tracing::warn!(%error, "console room stopped");
                }
            });
        }

        let limits = crate::http::server::Limits {
            max_connections: self.config.server.max_connections.max(1),
            header_timeout: std::time::Duration::from_secs(
                self.config.server.header_timeout_seconds.max(1),
            ),
            ..Default::default()
        };
        crate::http::server::serve(listener, self.router.clone(), limits, shutdown)
            .await
            .context("serving HTTP")?;
        // Events already answered (the engine was slower than the ack budget) would not be
        // delivered again: finish them before stopping.
        let in_flight = self.engine.in_flight();
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
        let _ = stop.send(true);
        while tasks.join_next().await.is_some() {}
        tracing::info!("runroom stopped");
        Ok(())
    }
}

/// A scheduler with an id of its own.
fn scheduler(engine: &Arc<Engine>, config: &Config) -> Scheduler {
    Scheduler::new(
        engine.clone(),
        config.scheduler.clone(),
        format!("scheduler-{}", worker_id()),
    )
}

/// Unique across processes and restarts (the process id and its start time), so a restarted
/// process never mistakes an old claim for its own, and within the process (a sequence).
fn worker_id() -> String {
    static STARTED: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let started = STARTED.get_or_init(|| chrono::Utc::now().timestamp_micros());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{started}-{n}", std::process::id())
}

/// Completes on SIGTERM or Ctrl-C. SIGTERM is caught from this call on, not from the first
/// poll: a stop asked for the moment `serve` says it listens must not kill it unfinished.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        let ctrl_c = async {
            if let Err(error) = tokio::signal::ctrl_c().await {
                tracing::warn!(%error, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let terminate = async {
            match terminate {
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
}
