//! The command line: `serve`, `console`, `migrate`, `config check`, `incidents list|show|postmortem`,
//! `outbox …`, `alerts`, `report` and `jobs`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "runroom", version, about = "A chat-native incident bot")]
pub struct Cli {
    /// Configuration file (TOML). Without one, runroom uses sqlite://runroom.db and the console room.
    #[arg(long, global = true, env = "RUNROOM_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot: the HTTP server (webhooks, /healthz, /readyz, /metrics) and the console room.
    Serve {
        /// Address to listen on, overriding `[server] listen`.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Talk to runroom on stdin/stdout as the local console room.
    Console {
        /// The console room's language: en, pt-BR or es.
        #[arg(long)]
        locale: Option<String>,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Copy the SQLite database, consistently, while runroom runs (`VACUUM INTO`) to a new
    /// file. Restore: stop runroom, put the copy in place of the database file (removing its
    /// `-wal` and `-shm` files), start runroom. For Postgres, use `pg_dump`.
    Backup {
        /// The new file to write (it must not exist).
        file: std::path::PathBuf,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Read incidents from the database.
    Incidents {
        #[command(subcommand)]
        command: IncidentsCommand,
    },
    /// Inspect and steer message delivery (the same as the admin API).
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Alerts the alert sources sent, the latest changed first.
    Alerts {
        /// Only the alerts still firing.
        #[arg(long)]
        firing: bool,
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
    /// Figures across incidents, per severity: time to acknowledge and to resolve (median and
    /// p90), updates per incident, postmortems on time, late, skipped or missing.
    Report {
        /// The period: incidents declared in the last `30d`, `12h`, …
        #[arg(long, default_value = "30d")]
        since: String,
        #[arg(long, default_value = "en")]
        locale: String,
        #[arg(long, value_enum, default_value_t = crate::postmortem::Format::Md)]
        format: crate::postmortem::Format,
    },
    /// Planned and fired jobs: reminders, escalation steps, schedules, handoffs.
    Jobs {
        /// pending, running, done, cancelled or dead.
        #[arg(long, default_value = "pending")]
        state: String,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Messages per platform and state, and the sending mode.
    Stats,
    /// Dead messages with the reason each failed.
    Dead {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Put a dead message back in the queue.
    Retry { id: i64 },
    /// Show the sending mode, or set it: live, dry-run or off.
    Mode { mode: Option<String> },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration file; a problem names the field.
    Check { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// Open incidents, most severe then oldest, 100 a page (or the 200 latest with --all).
    List {
        #[arg(long, conflicts_with = "page")]
        all: bool,
        /// Which page of open incidents, from 1.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i64).range(1..))]
        page: i64,
        #[arg(long, default_value = "en")]
        locale: String,
    },
    /// One incident with its timeline, e.g. `runroom incidents show INC-3`.
    Show {
        id: String,
        #[arg(long, default_value = "en")]
        locale: String,
    },
    /// The postmortem draft of an incident, written from its whole timeline, e.g.
    /// `runroom incidents postmortem INC-3 --locale pt-BR --timezone America/Sao_Paulo`.
    Postmortem {
        id: String,
        #[arg(long, default_value = "en")]
        locale: String,
        /// The zone its times are in (default: $TZ, else UTC).
        #[arg(long)]
        timezone: Option<String>,
        #[arg(long, value_enum, default_value_t = crate::postmortem::Format::Md)]
        format: crate::postmortem::Format,
    },
}
