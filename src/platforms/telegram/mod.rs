//! Telegram: updates come in through the Bot API webhook ([`webhooks`], its secret token checked
//! in constant time) or `getUpdates` ([`polling`]), and are handled the same way ([`updates`]:
//! commands, button presses with their toasts, `/start`), each placed by [`inbound`]. Messages
//! go out as HTML ([`outbound`]): each incident gets a forum topic and a pinned live card with
//! buttons ([`card`]), and pages reach a person's private chat ([`people`]). A group that
//! becomes a supergroup is followed ([`moves`]). At start, the command menu is published in the
//! three languages ([`menu`]).

pub mod card;
pub mod inbound;
pub mod menu;
pub mod moves;
pub mod outbound;
pub mod people;
pub mod polling;
pub mod press;
pub mod updates;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;

use super::{Connected, Setup, Wired};
use crate::engine::policy::Person;
use crate::engine::reach::{Limits, Reach};
use crate::engine::room::Platform;

/// The bot's token from BotFather, read from the environment only.
pub const TOKEN_ENV: &str = "RUNROOM_TELEGRAM_TOKEN";
/// The secret Telegram sends back in `X-Telegram-Bot-Api-Secret-Token` with every update.
pub const WEBHOOK_SECRET_ENV: &str = "RUNROOM_TELEGRAM_WEBHOOK_SECRET";

/// How updates reach runroom.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// Telegram posts to `/webhooks/telegram` (runroom calls `setWebhook` when `public_url` is
    /// set).
    #[default]
    Webhook,
    /// runroom asks with `getUpdates` (no public URL needed; one process only).
    Polling,
}

/// `[telegram]` in the config file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TelegramConfig {
    pub mode: TelegramMode,
    /// The Bot API's base URL (a fake on loopback in tests).
    pub api_url: String,
    /// runroom's public HTTPS base URL; when set, `serve` registers
    /// `<public_url>/webhooks/telegram` with `setWebhook` at start.
    pub public_url: Option<String>,
    /// The bot's username (without `@`): `/inc@<it>` is for runroom, `/inc@OtherBot` is not.
    pub bot_username: Option<String>,
    /// How long a webhook request waits for the engine before Telegram is answered anyway.
    pub ack_budget_ms: u64,
    /// Seconds before a Bot API call without an answer counts as failed (and is retried).
    pub timeout_seconds: u64,
}

impl Default for TelegramConfig {
    fn default() -> Self {
        TelegramConfig {
            mode: TelegramMode::Webhook,
            api_url: "https://api.telegram.org".into(),
            public_url: None,
            bot_username: None,
            ack_budget_ms: 2000,
            timeout_seconds: 10,
        }
    }
}

impl TelegramConfig {
    pub fn ack_budget(&self) -> Duration {
        Duration::from_millis(self.ack_budget_ms.clamp(1, 10_000))
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.max(1))
    }

    /// A Bot API client for `api_url` with `token`.
    pub fn bot(&self, token: &str) -> anyhow::Result<teloxide_core::Bot> {
        let url = reqwest::Url::parse(self.api_url.trim_end_matches('/'))
            .with_context(|| format!("telegram.api_url {:?} is not a URL", self.api_url))?;
        let client = reqwest::Client::builder()
            .timeout(self.timeout())
            .build()
            .context("building the Telegram HTTP client")?;
        Ok(teloxide_core::Bot::with_client(token, client).set_api_url(url))
    }
}

/// Telegram mentions a person by username.
pub struct TelegramReach;

impl Reach for TelegramReach {
    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    /// A person is configured by numeric user id or by username (`ana_ops` or `@ana_ops`,
    /// which Telegram compares without case).
    fn is_author(&self, identity: &str, author: &crate::engine::room::Author) -> bool {
        let identity = identity.trim_start_matches('@');
        identity == author.id
            || author
                .handle
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(identity))
    }

    /// A username is public and readable: every room shows it as it is.
    /// (A person configured by numeric id has no handle to show.)
    fn person_mention(&self, person: &Person) -> Option<String> {
        let who = person.identity(Platform::Telegram)?;
        (who.parse::<i64>().is_err()).then(|| format!("@{who}"))
    }

    /// A page reaches the person's private chat with the bot: by the username they are
    /// configured with (the sender finds the chat once they have written to the bot) or by
    /// their numeric id.
    fn direct_chat(&self, person: &Person) -> Option<String> {
        let who = person
            .identity(Platform::Telegram)?
            .trim()
            .trim_start_matches('@');
        if who.is_empty() {
            return None;
        }
        Some(if who.parse::<i64>().is_ok() {
            who.to_string()
        } else {
            format!("@{who}")
        })
    }

    /// A roster's chatter reaches Telegram war rooms too, into the incident's topic (or as a
    /// reply to its card).
    fn takes_mirrors(&self) -> bool {
        true
    }

    /// A Telegram user as their token's label (their username when they have one, which
    /// Telegram reads as a mention), else their id.
    fn mention_user(&self, user_id: &str, label: Option<&str>) -> Option<String> {
        Some(format!("@{}", label.unwrap_or(user_id)))
    }

    /// 4,096 characters a message (`sendMessage`, `editMessageText`), counted after entity
    /// parsing; counted here in UTF-16 units, as Telegram counts its entities, to be safe.
    fn limits(&self) -> Limits {
        Limits {
            text: Some(TEXT_MAX),
            measure: utf16_len,
            ..Limits::UNBOUNDED
        }
    }
}

/// The longest text of one Telegram message.
pub const TEXT_MAX: usize = 4096;

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

pub fn reach() -> Arc<dyn Reach> {
    Arc::new(TelegramReach)
}

pub fn wire(setup: &Setup<'_>) -> anyhow::Result<Wired> {
    let mut wired = Wired::new(reach());
    let has_rooms = setup
        .config
        .rooms
        .iter()
        .any(|r| r.platform == Platform::Telegram);
    let config = setup.config.telegram.clone().unwrap_or_default();
    let Some(token) = setup.secrets.get(TOKEN_ENV) else {
        if has_rooms {
            wired.warnings.push(format!(
                "a room is on Telegram but {TOKEN_ENV} is not set: its messages will wait"
            ));
        }
        return Ok(wired);
    };
    let bot = config.bot(&token)?;
    let secret = match config.mode {
        TelegramMode::Polling => None,
        TelegramMode::Webhook => Some(setup.secrets.get(WEBHOOK_SECRET_ENV).with_context(|| {
            format!("{TOKEN_ENV} is set but {WEBHOOK_SECRET_ENV} is not: the Telegram webhook is never left open")
        })?),
    };
    wired.connect = Some(Box::new(move |engine| {
        let store = engine.store().clone();
        let moves = Arc::new(moves::Moves::new(store.clone()));
        let people = Arc::new(people::People::new(store.clone()));
        let sender = Arc::new(outbound::TelegramSender::new(
            bot.clone(),
            moves.clone(),
            people.clone(),
            store,
        ));
        let updates = Arc::new(updates::Updates::new(
            engine.clone(),
            (moves, people),
            bot.clone(),
            config.bot_username.clone(),
        ));
        let mut listeners: Vec<super::Listener> = vec![menu::listener(engine.clone(), bot.clone())];
        let router = match secret {
            Some(secret) => {
                if let Some(public) = config.public_url.clone() {
                    listeners.push(webhooks::register(bot.clone(), public, secret.clone()));
                }
                webhooks::router(updates, &config, secret)
            }
            None => {
                listeners.push(polling::listener(updates, bot, config.timeout()));
                axum::Router::new()
            }
        };
        Ok(Connected {
            sender: Some(sender),
            router,
            listeners,
        })
    }));
    Ok(wired)
}
