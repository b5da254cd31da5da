//! Delivery settings: the sending mode, worker counts and leases, and each platform's limits
//! (defaults from the platforms' published limits).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `live` sends; `dry-run` records what would be sent without sending; `off` holds everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SendingMode {
    #[default]
    Live,
    DryRun,
    Off,
}

impl SendingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SendingMode::Live => "live",
            SendingMode::DryRun => "dry-run",
            SendingMode::Off => "off",
        }
    }

    pub fn parse(raw: &str) -> Option<SendingMode> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "live" => Some(SendingMode::Live),
            "dry-run" | "dry_run" | "dryrun" => Some(SendingMode::DryRun),
            "off" => Some(SendingMode::Off),
            _ => None,
        }
    }
}

/// One platform's pacing and safety limits. Rates are messages per second; a burst is how many
/// may go at once after a quiet spell. `0` for a limit means none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformLimits {
    /// Across the whole platform account (a WhatsApp business number, a Slack workspace, a bot).
    pub rate: f64,
    pub burst: u32,
    /// Per destination (a channel, a chat, a recipient).
    pub per_chat_rate: f64,
    pub per_chat_burst: u32,
    /// Hard caps: messages beyond them wait (counted as held), never dropped.
    pub daily_limit: u32,
    pub minute_limit: u32,
}

impl Default for PlatformLimits {
    fn default() -> Self {
        PlatformLimits {
            rate: 30.0,
            burst: 30,
            per_chat_rate: 1.0,
            per_chat_burst: 3,
            daily_limit: 0,
            minute_limit: 0,
        }
    }
}

impl PlatformLimits {
    /// No pacing worth the name: the console, and tests about what is sent rather than when.
    pub fn unlimited() -> PlatformLimits {
        PlatformLimits {
            rate: 10_000.0,
            burst: 10_000,
            per_chat_rate: 10_000.0,
            per_chat_burst: 10_000,
            daily_limit: 0,
            minute_limit: 0,
        }
    }

    /// The published limits each platform enforces (see the platforms' documentation).
    pub fn default_for(platform: &str) -> PlatformLimits {
        let base = PlatformLimits::default();
        match platform {
            // chat.postMessage ≈ 1/s per channel, short bursts tolerated.
            "slack" => PlatformLimits {
                rate: 20.0,
                burst: 20,
                per_chat_rate: 1.0,
                per_chat_burst: 3,
                ..base
            },
            // 80/s per business number; about 1 per 6 s to one recipient over time, bursts borrow.
            "whatsapp" => PlatformLimits {
                rate: 80.0,
                burst: 80,
                per_chat_rate: 1.0 / 6.0,
                per_chat_burst: 5,
                ..base
            },
            // 30/s overall; 20/min in a group, which also covers 1/s per chat. Telegram counts
            // any 20 in a minute, so no burst, and a little under the rate: a chat's calls
            // (messages, edits, pins, topics) go about 3.1 s apart, and a late answer never
            // lets a 21st into one minute.
            "telegram" => PlatformLimits {
                rate: 30.0,
                burst: 30,
                per_chat_rate: 19.5 / 60.0,
                per_chat_burst: 1,
                ..base
            },
            // The terminal has no limits worth pacing.
            "console" => PlatformLimits::unlimited(),
            _ => base,
        }
    }
}

/// `[outbox]` in the config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// The mode a fresh database starts in; the admin API and `runroom outbox mode` change it.
    pub mode: SendingMode,
    /// Worker tasks per process.
    pub workers: u32,
    /// How long a claimed row stays claimed; a crashed worker's rows are reclaimed after it.
    pub lease_seconds: u64,
    /// How many rows one claim takes.
    pub batch: u32,
    /// Concurrent sends per worker.
    pub in_flight: u32,
    /// Attempts before a retryable failure is given up as dead.
    pub max_attempts: u32,
    pub backoff_base_ms: u64,
    pub backoff_cap_seconds: u64,
    /// Consecutive retryable failures that open a platform's circuit breaker, and for how long.
    pub breaker_threshold: u32,
    pub breaker_cool_down_seconds: u64,
    /// How often an idle worker looks for due rows (new rows from this process wake it at once).
    pub poll_ms: u64,
    /// How often a process records that it sends on a platform and recounts the processes
    /// sharing that platform's limits (each paces to its share; one silent for three
    /// heartbeats no longer counts).
    pub heartbeat_ms: u64,
    /// Per-platform overrides of [`PlatformLimits::default_for`].
    pub limits: BTreeMap<String, PlatformLimits>,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            mode: SendingMode::Live,
            workers: 2,
            lease_seconds: 30,
            batch: 200,
            in_flight: 16,
            max_attempts: 10,
            backoff_base_ms: 1000,
            backoff_cap_seconds: 300,
            breaker_threshold: 5,
            breaker_cool_down_seconds: 30,
            poll_ms: 500,
            heartbeat_ms: 2000,
            limits: BTreeMap::new(),
        }
    }
}

impl OutboxConfig {
    pub fn limits_for(&self, platform: &str) -> PlatformLimits {
        self.limits
            .get(platform)
            .copied()
            .unwrap_or_else(|| PlatformLimits::default_for(platform))
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms.max(10))
    }

    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_seconds.max(1))
    }

    /// Problems, named by field, for `config check`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.workers == 0 {
            return Err(("outbox.workers".into(), "must be at least 1".into()));
        }
        if self.batch == 0 || self.in_flight == 0 {
            return Err((
                "outbox.batch".into(),
                "batch and in_flight must be at least 1".into(),
            ));
        }
        for (platform, l) in &self.limits {
            if !(l.rate > 0.0 && l.per_chat_rate > 0.0) || l.burst == 0 || l.per_chat_burst == 0 {
                return Err((
                    format!("outbox.limits.{platform}"),
                    "rates must be above 0 and bursts at least 1".into(),
                ));
            }
        }
        Ok(())
    }
}
