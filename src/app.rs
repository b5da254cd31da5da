//! Wiring: turns a configuration into a running engine and runs the commands of [`crate::cli`].

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use tokio::io::AsyncWriteExt;

use crate::cli::{Cli, Command, ConfigCommand, IncidentsCommand, OutboxCommand};
use crate::config::Config;
use crate::engine::clock::{Clock, SystemClock};
use crate::engine::command::parse_incident_ref;
use crate::engine::room::Platform;
use crate::engine::{Engine, EngineSettings, reply};
use crate::i18n::{I18n, Lang};
use crate::outbox::worker::MODE_KEY;
use crate::outbox::{Sender, SendingMode, Worker};
use crate::platforms::console::{self, SharedOutput};
use crate::platforms::slack::{self, SlackApp};
use crate::platforms::whatsapp;
use crate::store::{self, JobState, OutboxState};

/// Logs go to stderr, filtered by `RUNROOM_LOG` (e.g. `debug`, `runroom=trace`).
pub fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUNROOM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

fn environment() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("RUNROOM_"))
        .collect()
}

/// The file's configuration, or the defaults when there is none.
pub fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    let env = environment();
    Ok(match path {
        Some(path) => Config::load(path, &env)?,
        None => Config::defaults(&env)?,
    })
}

/// Connects the store (migrating it) and builds the engine for a configuration.
pub async fn build_engine(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Engine> {
    let store = store::connect(&config.database.url)
        .await
        .with_context(|| {
            format!(
                "opening the database {}",
                store::redact_url(&config.database.url)
            )
        })?;
    let i18n = Arc::new(I18n::new()?);
    let rooms = config.rooms()?;
    let settings = EngineSettings {
        policies: config.policies(&rooms)?,
        rooms,
        extra_roles: config.incidents.extra_roles.clone(),
    };
    Ok(Engine::new(store, i18n, clock, settings))
}

/// A sender for every platform this process can reach: the console always; Slack when
/// `RUNROOM_SLACK_BOT_TOKEN` is set; WhatsApp when the Cloud API (`[whatsapp] phone_number_id`
/// and `RUNROOM_WHATSAPP_TOKEN`) or an Evolution gateway (`[evolution]` and
/// `RUNROOM_EVOLUTION_APIKEY`) is configured. Messages for a platform without a sender wait in
/// the outbox (nothing is dropped).
pub fn senders(
    config: &Config,
    console: SharedOutput,
    store: &Arc<dyn store::Store>,
    clock: Arc<dyn Clock>,
    slack: Option<&SlackApp>,
) -> anyhow::Result<Vec<Arc<dyn Sender>>> {
    let mut senders: Vec<Arc<dyn Sender>> = vec![Arc::new(console::ConsoleSender::new(console))];
    match slack {
        Some(slack) => senders.push(Arc::new(slack.sender(store.clone()))),
        None if config.rooms.iter().any(|r| r.platform == Platform::Slack) => tracing::warn!(
            "a room is on Slack but {} is not set: Slack messages will wait",
            slack::BOT_TOKEN_ENV
        ),
        None => {}
    }
    if let Some(sender) = whatsapp_sender(config, store, clock)? {
        senders.push(Arc::new(sender));
    }
    Ok(senders)
}

fn parse_locale(raw: Option<&str>) -> anyhow::Result<Option<Lang>> {
    raw.map(|l| {
        Lang::parse(l).with_context(|| format!("{l:?} is not a supported locale (en, pt-BR, es)"))
    })
    .transpose()
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let quiet = matches!(
        cli.command,
        Command::Console { .. }
            | Command::Incidents { .. }
            | Command::Outbox { .. }
            | Command::Jobs { .. }
    );
    init_tracing(if quiet { "warn" } else { "info" });
    let tz = std::env::var("TZ").ok();
    match cli.command {
        Command::Serve { listen } => {
            let mut config =
                load_config(cli.config.as_deref())?.with_console_room(None, tz.as_deref());
            if let Some(listen) = listen {
                config.server.listen = listen;
            }
            config.rooms()?;
            crate::http::serve(config).await
        }
        Command::Console { locale } => {
            let locale = parse_locale(locale.as_deref())?;
            let config =
                load_config(cli.config.as_deref())?.with_console_room(locale, tz.as_deref());
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let engine = build_engine(&config, clock.clone()).await?;
            let interactive = std::io::stdin().is_terminal();
            let output = console::shared_output(tokio::io::stdout());
            // The console delivers only its own room; other platforms' messages wait for `serve`.
            let worker = Worker::new(
                engine.store().clone(),
                vec![Arc::new(console::ConsoleSender::new(output.clone()))],
                clock,
                config.outbox.clone(),
                format!("console-{}", std::process::id()),
            );
            let engine = Arc::new(engine.with_wake(worker.wake_handle()));
            // Reminders, pages, schedules and handoffs fire while the console is open. At a
            // terminal a second worker prints them as they come; from a script, the worker
            // that runs after each line does (so the output keeps the script's order).
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let scheduler = crate::scheduler::Scheduler::new(
                engine.clone(),
                config.scheduler.clone(),
                format!("console-scheduler-{}", std::process::id()),
            );
            let mut tasks = vec![tokio::spawn({
                let stopped = stopped.clone();
                async move { scheduler.run(stopped).await }
            })];
            if interactive {
                let background = worker.sibling(format!("console-bg-{}", std::process::id()));
                tasks.push(tokio::spawn(async move { background.run(stopped).await }));
            }
            let result = console::run(
                engine,
                locale,
                tokio::io::BufReader::new(tokio::io::stdin()),
                output,
                interactive,
                Some(&worker),
            )
            .await;
            let _ = stop.send(true);
            for task in tasks {
                let _ = task.await;
            }
            result
        }
        Command::Migrate => {
            let config = load_config(cli.config.as_deref())?;
            let store = store::connect(&config.database.url).await?;
            println!("migrations applied ({})", store.backend());
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check { file },
        } => {
            let config = Config::load(&file, &environment())?;
            println!(
                "{}: ok ({} rooms, database {})",
                file.display(),
                config.rooms.len(),
                store::redact_url(&config.database.url)
            );
            Ok(())
        }
        Command::Incidents { command } => incidents(cli.config.as_deref(), command).await,
        Command::Outbox { command } => outbox(cli.config.as_deref(), command).await,
        Command::Jobs { state, limit } => jobs(cli.config.as_deref(), &state, limit).await,
    }
}

/// `runroom jobs`: what the scheduler has planned (or fired), earliest first.
async fn jobs(config: Option<&Path>, raw: &str, limit: i64) -> anyhow::Result<()> {
    let Ok(state) = JobState::parse(raw) else {
        let states: Vec<&str> = JobState::ALL.iter().map(|s| s.as_str()).collect();
        bail!("{raw:?} is not a job state: use {}", states.join(", "));
    };
    let config = load_config(config)?;
    let store = store::connect(&config.database.url).await?;
    println!(
        "{:<25} {:<10} {:<9} {:>8}  key",
        "due (UTC)", "kind", "state", "attempts"
    );
    for job in store.jobs_in_state(state, limit).await? {
        println!(
            "{:<25} {:<10} {:<9} {:>8}  {}{}",
            job.due_at.format("%Y-%m-%d %H:%M:%S"),
            job.kind,
            job.state,
            job.attempts,
            job.key,
            job.last_error
                .map(|e| format!("  ({e})"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// `runroom outbox …`: operator output, in English like the logs.
async fn outbox(config: Option<&Path>, command: OutboxCommand) -> anyhow::Result<()> {
    let config = load_config(config)?;
    let store = store::connect(&config.database.url).await?;
    let mode = store
        .setting(MODE_KEY)
        .await?
        .and_then(|m| SendingMode::parse(&m))
        .unwrap_or(config.outbox.mode);
    match command {
        OutboxCommand::Stats => {
            println!("sending mode: {}", mode.as_str());
            println!("{:<10} {:<9} {:>7}  oldest", "platform", "state", "count");
            for s in store.outbox_stats().await? {
                let oldest = s
                    .oldest_created_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default();
                println!(
                    "{:<10} {:<9} {:>7}  {oldest}",
                    s.platform.as_str(),
                    s.state,
                    s.count
                );
            }
        }
        OutboxCommand::Dead { limit } => {
            for row in store.outbox_in_state(OutboxState::Dead, limit).await? {
                println!(
                    "{}\t{}\t{}\tattempts={}\t{}",
                    row.id,
                    row.message.platform.as_str(),
                    row.message.room_id,
                    row.attempts,
                    row.last_error.unwrap_or_default()
                );
            }
        }
        OutboxCommand::Retry { id } => {
            if !store.retry_dead(id, chrono::Utc::now()).await? {
                match store.outbox_row(id).await? {
                    None => bail!("there is no message {id}"),
                    Some(row) => bail!("message {id} is {}, not dead", row.state),
                }
            }
            println!("message {id} is queued again");
        }
        OutboxCommand::Mode { mode: None } => println!("{}", mode.as_str()),
        OutboxCommand::Mode { mode: Some(raw) } => {
            let Some(new) = SendingMode::parse(&raw) else {
                bail!("{raw:?} is not a mode: use live, dry-run or off");
            };
            store
                .set_setting(MODE_KEY, new.as_str(), chrono::Utc::now())
                .await?;
            println!("sending mode: {}", new.as_str());
        }
    }
    Ok(())
}

/// `runroom incidents list|show`: the same texts the chat commands answer with.
async fn incidents(config: Option<&Path>, command: IncidentsCommand) -> anyhow::Result<()> {
    let config = load_config(config)?;
    let store = store::connect(&config.database.url).await?;
    let i18n = I18n::new()?;
    let now = chrono::Utc::now();
    let (locale, msg) = match command {
        IncidentsCommand::List { all, locale } => {
            let incidents = if all {
                store.recent_incidents(200).await?
            } else {
                store.open_incidents().await?
            };
            (locale, reply::list(&incidents, now))
        }
        IncidentsCommand::Show { id, locale } => {
            let Some(number) = parse_incident_ref(&id).or_else(|| id.parse().ok()) else {
                bail!("{id:?} is not an incident id such as INC-3");
            };
            let Some(incident) = store.incident(number).await? else {
                bail!("there is no incident INC-{number}");
            };
            let timeline = store.timeline(number, 1000).await?;
            (locale, reply::show(&incident, &timeline, now))
        }
    };
    let lang = parse_locale(Some(&locale))?.unwrap_or_default();
    let tz = std::env::var("TZ")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let mut out = tokio::io::stdout();
    out.write_all(i18n.render(lang, tz, &msg).as_bytes())
        .await?;
    out.write_all(b"\n").await?;
    Ok(())
}

/// The WhatsApp sender, when either transport is configured; a warning names what is missing
/// for the rooms that need it.
fn whatsapp_sender(
    config: &Config,
    store: &Arc<dyn store::Store>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Option<whatsapp::outbound::WhatsappSender>> {
    let rooms = config.whatsapp_rooms();
    let needs = |kind: whatsapp::RoomKind| rooms.values().any(|k| *k == kind);
    let wa = config.whatsapp.clone().unwrap_or_default();
    let token = whatsapp::secret(whatsapp::TOKEN_ENV).filter(|_| !wa.phone_number_id.is_empty());
    let evolution = match (
        &config.evolution,
        whatsapp::secret(whatsapp::EVOLUTION_APIKEY_ENV),
    ) {
        (Some(evo), Some(apikey)) => Some(
            whatsapp::evolution::EvolutionClient::new(evo, apikey)
                .context("building the Evolution API client")?,
        ),
        _ => None,
    };
    let cloud_rooms = needs(whatsapp::RoomKind::Roster) || needs(whatsapp::RoomKind::Group);
    // With neither transport, WhatsApp messages wait in the outbox. With one, the other's rooms'
    // messages are dead-lettered with the reason (`runroom outbox retry` once it is configured):
    // the worker sends a platform's rows through one sender.
    let fate = if token.is_none() && evolution.is_none() {
        "its messages will wait"
    } else {
        "its messages will be dead-lettered until it is configured (then `runroom outbox retry`)"
    };
    if cloud_rooms && token.is_none() {
        tracing::warn!(
            "a WhatsApp room needs the Cloud API but [whatsapp] phone_number_id or {} is not set: {fate}",
            whatsapp::TOKEN_ENV
        );
    }
    if needs(whatsapp::RoomKind::Evolution) && evolution.is_none() {
        tracing::warn!(
            "a WhatsApp room is on Evolution but [evolution] or {} is not set: {fate}",
            whatsapp::EVOLUTION_APIKEY_ENV
        );
    }
    if token.is_none() && evolution.is_none() {
        return Ok(None);
    }
    let mut sender = whatsapp::outbound::WhatsappSender::new(&wa, rooms, store.clone(), clock);
    if let Some(token) = token {
        sender = sender
            .with_graph(&wa, token)
            .context("building the WhatsApp client")?;
    }
    if let Some(evolution) = evolution {
        sender = sender.with_evolution(evolution);
    }
    Ok(Some(sender))
}
