//! The command line's commands: `serve` and `console` build the app ([`super::build`]); the
//! operator commands (`incidents`, `outbox`, `jobs`, `migrate`, `config check`) read the store.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use tokio::io::AsyncWriteExt;

use super::Secrets;
use crate::cli::{Cli, Command, ConfigCommand, IncidentsCommand, OutboxCommand};
use crate::config::Config;
use crate::engine::clock::SystemClock;
use crate::engine::command::parse_incident_ref;
use crate::engine::{bounds, reply};
use crate::i18n::{I18n, Lang};
use crate::outbox::SendingMode;
use crate::outbox::worker::MODE_KEY;
use crate::platforms::console;
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
            | Command::Alerts { .. }
            | Command::Report { .. }
    );
    init_tracing(if quiet { "warn" } else { "info" });
    let tz = std::env::var("TZ").ok();
    match cli.command {
        Command::Serve { listen } => {
            let mut config = load_config(cli.config.as_deref())?.for_serve(tz.as_deref());
            if let Some(listen) = listen {
                config.server.listen = listen;
            }
            // The database first (migrated), then the port: nothing listens before it can answer.
            let app = super::build(config, Arc::new(SystemClock), Secrets::from_env()).await?;
            let listener = tokio::net::TcpListener::bind(&app.config.server.listen)
                .await
                .with_context(|| format!("binding {}", app.config.server.listen))?;
            app.serve(listener, super::shutdown_signal()).await
        }
        Command::Console { locale } => {
            let locale = parse_locale(locale.as_deref())?;
            let config =
                load_config(cli.config.as_deref())?.with_console_room(locale, tz.as_deref());
            // No platform secrets: the console delivers only its own room, and other
            // platforms' messages wait for `serve`.
            let mut app = super::build(config, Arc::new(SystemClock), Secrets::none()).await?;
            let interactive = std::io::stdin().is_terminal();
            // Reminders, pages, schedules and handoffs fire while the console is open. At a
            // terminal the workers print them as they come; from a script, the worker that runs
            // after each line does (so the output keeps the script's order).
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let mut tasks = tokio::task::JoinSet::new();
            if interactive {
                tasks = app.start(&stopped);
            } else {
                let scheduler = app.scheduler;
                tasks.spawn(async move { scheduler.run(stopped).await });
            }
            let result = console::run(
                app.engine.clone(),
                locale,
                tokio::io::BufReader::new(tokio::io::stdin()),
                app.console.clone(),
                interactive,
                Some(&app.worker),
            )
            .await;
            let _ = stop.send(true);
            while tasks.join_next().await.is_some() {}
            result
        }
        Command::Migrate => {
            let config = load_config(cli.config.as_deref())?;
            let store = store::connect(&config.database.url).await?;
            println!("migrations applied ({})", store.backend());
            Ok(())
        }
        Command::Backup { file } => {
            let config = load_config(cli.config.as_deref())?;
            let url = &config.database.url;
            anyhow::ensure!(
                url.starts_with("sqlite:"),
                "runroom backup copies an SQLite database; for Postgres ({}), use pg_dump",
                store::redact_url(url)
            );
            anyhow::ensure!(
                !file.exists(),
                "{} exists already: name a new file, so no backup is overwritten",
                file.display()
            );
            let to = file
                .to_str()
                .with_context(|| format!("{} is not a UTF-8 path", file.display()))?;
            let db = store::sqlite::SqliteStore::connect(url).await?;
            db.backup_into(to)
                .await
                .with_context(|| format!("backing up to {}", file.display()))?;
            println!("backed up {} to {}", store::redact_url(url), file.display());
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check { file },
        } => {
            let config = Config::load(&file, &environment())?;
            let access = match &config.access {
                None => "access open to everyone in a linked room".to_string(),
                Some(a) => format!(
                    "access: responders {}, admins {}, responder rooms {}, admin rooms {}",
                    a.responders.len(),
                    a.admins.len(),
                    a.responder_rooms.len(),
                    a.admin_rooms.len()
                ),
            };
            println!(
                "{}: ok ({} rooms, {} alert sources, {} alert routes, {} heartbeats, {} playbooks, {access}, database {})",
                file.display(),
                config.rooms.len(),
                config.alert_sources.len(),
                config.alert_routes.len(),
                config.heartbeats.len(),
                config.playbooks.len(),
                store::redact_url(&config.database.url)
            );
            Ok(())
        }
        Command::Incidents { command } => incidents(cli.config.as_deref(), command).await,
        Command::Outbox { command } => outbox(cli.config.as_deref(), command).await,
        Command::Jobs { state, limit } => jobs(cli.config.as_deref(), &state, limit).await,
        Command::Alerts { firing, limit } => alerts(cli.config.as_deref(), firing, limit).await,
        Command::Report {
            since,
            locale,
            format,
        } => report(cli.config.as_deref(), &since, &locale, format).await,
    }
}

/// `runroom report`: figures across the incidents declared in a period.
async fn report(
    config: Option<&Path>,
    since: &str,
    locale: &str,
    format: crate::postmortem::Format,
) -> anyhow::Result<()> {
    use crate::postmortem::report;
    let config = load_config(config)?;
    let Some(period) = report::period(since) else {
        bail!("{since:?} is not a period such as 30d or 12h");
    };
    let lang = parse_locale(Some(locale))?.unwrap_or_default();
    let store = store::connect(&config.database.url).await?;
    let now = chrono::Utc::now();
    let incidents = store
        .declared_since(now - period, report::MAX_INCIDENTS)
        .await?;
    let figures = report::report(&incidents, now - period, now);
    let text = match format {
        crate::postmortem::Format::Json => serde_json::to_string_pretty(&figures)?,
        crate::postmortem::Format::Md => {
            let tz = std::env::var("TZ")
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(chrono_tz::UTC);
            I18n::new()?.render(lang, tz, &report::message(&figures))
        }
    };
    let mut out = tokio::io::stdout();
    out.write_all(text.as_bytes()).await?;
    out.write_all(b"\n").await?;
    Ok(())
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

/// `runroom alerts`: what the alert sources sent, the latest changed first (operator output, in
/// English like the logs).
async fn alerts(config: Option<&Path>, firing: bool, limit: i64) -> anyhow::Result<()> {
    let config = load_config(config)?;
    let store = store::connect(&config.database.url).await?;
    let listed = store.recent_alerts(firing, limit).await?;
    println!(
        "{:<20} {:<14} {:<9} {:<9} {:<5}  title",
        "changed (UTC)", "source", "status", "incident", "sev"
    );
    for alert in &listed.items {
        println!(
            "{:<20} {:<14} {:<9} {:<9} {:<5}  {}",
            alert.changed_at.format("%Y-%m-%d %H:%M:%S"),
            alert.source,
            alert.status.as_str(),
            alert
                .incident
                .map(|n| format!("INC-{n}"))
                .unwrap_or_else(|| "-".into()),
            alert.severity.to_string(),
            alert.title
        );
    }
    let shown = listed.items.len() as i64;
    if shown < listed.total {
        println!("({shown} of {}; --limit shows more)", listed.total);
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

/// What `runroom incidents postmortem` asks for.
struct Draft<'a> {
    id: &'a str,
    locale: &'a str,
    timezone: Option<&'a str>,
    format: crate::postmortem::Format,
}

/// `runroom incidents postmortem INC-n`: the draft, from the whole timeline.
async fn postmortem(
    config: &Config,
    store: &dyn store::Store,
    i18n: &I18n,
    ask: Draft<'_>,
) -> anyhow::Result<()> {
    let policies = config.policies(&config.rooms()?)?;
    let id = ask.id;
    let Some(number) = parse_incident_ref(id).or_else(|| id.parse().ok()) else {
        bail!("{id:?} is not an incident id such as INC-3");
    };
    let lang = parse_locale(Some(ask.locale))?.unwrap_or_default();
    let zone = ask
        .timezone
        .map(str::to_string)
        .or_else(|| std::env::var("TZ").ok());
    let tz: chrono_tz::Tz = match zone {
        Some(zone) => zone.parse().map_err(|_| {
            anyhow::anyhow!("{zone:?} is not a time zone such as America/Sao_Paulo")
        })?,
        None => chrono_tz::UTC,
    };
    let Some((incident, timeline)) = crate::postmortem::load(store, number).await? else {
        bail!("there is no incident INC-{number}");
    };
    let text = crate::postmortem::write(
        (&incident, &timeline),
        &policies,
        i18n,
        (ask.format, lang, tz),
        chrono::Utc::now(),
    );
    let mut out = tokio::io::stdout();
    out.write_all(text.as_bytes()).await?;
    out.write_all(b"\n").await?;
    Ok(())
}

/// Open incidents a page of `runroom incidents list` shows.
const CLI_PAGE: i64 = 100;

/// `runroom incidents list|show`: the same texts the chat commands answer with; `postmortem`:
/// the draft.
async fn incidents(config: Option<&Path>, command: IncidentsCommand) -> anyhow::Result<()> {
    let config = load_config(config)?;
    let store = store::connect(&config.database.url).await?;
    let i18n = I18n::new()?;
    let now = chrono::Utc::now();
    let (locale, msg) = match command {
        IncidentsCommand::List { all, page, locale } => {
            if all {
                let incidents = store.recent_incidents(200).await?;
                let shown = incidents.len() as i64;
                (locale, reply::list_all(&incidents, shown, None, now))
            } else {
                let offset = (page - 1).saturating_mul(CLI_PAGE);
                let listed = store.open_incidents_page(offset, CLI_PAGE).await?;
                if listed.items.is_empty() && page > 1 {
                    bail!(
                        "there is no page {page}: {} open incidents fill {} pages",
                        listed.total,
                        bounds::pages(listed.total, CLI_PAGE)
                    );
                }
                let shown = offset + listed.items.len() as i64;
                let next = (shown < listed.total).then_some(reply::NextPage {
                    page: page + 1,
                    more: listed.total - shown,
                });
                (
                    locale,
                    reply::list_all(&listed.items, listed.total, next, now),
                )
            }
        }
        IncidentsCommand::Postmortem {
            id,
            locale,
            timezone,
            format,
        } => {
            let draft = Draft {
                id: &id,
                locale: &locale,
                timezone: timezone.as_deref(),
                format,
            };
            return postmortem(&config, store.as_ref(), &i18n, draft).await;
        }
        IncidentsCommand::Show { id, locale } => {
            let Some(number) = parse_incident_ref(&id).or_else(|| id.parse().ok()) else {
                bail!("{id:?} is not an incident id such as INC-3");
            };
            let Some(incident) = store.incident(number).await? else {
                bail!("there is no incident INC-{number}");
            };
            // The operator's full view: every entry (chat answers show the latest only).
            let timeline = store.timeline(number, i64::MAX).await?;
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
