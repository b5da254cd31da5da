//! Slack: slash commands, channel messages and the card's buttons come in over signed HTTP
//! ([`webhooks`]) or Socket Mode ([`socket`]); [`inbound`] turns them into the engine's messages
//! and [`inbox`] hands those over within Slack's ack deadline. The incident card and every other
//! message go out through the Web API ([`outbound`], rendered by [`blocks`]); [`people`] learns
//! the names behind user ids so mentions read well in other rooms.

pub mod blocks;
pub mod inbound;
pub mod inbox;
pub mod outbound;
pub mod people;
mod reconcile;
pub mod signature;
pub mod socket;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;
use slack_morphism::prelude::{
    SlackApiToken, SlackApiTokenValue, SlackClient, SlackClientHyperConnector,
    SlackClientHyperHttpsConnector,
};

use super::{Connected, Platform, Setup, Wired};
use crate::engine::policy::Person;
use crate::engine::reach::{Limits, Reach};

/// The bot token (`xoxb-…`) for the Web API, read from the environment only.
pub const BOT_TOKEN_ENV: &str = "RUNROOM_SLACK_BOT_TOKEN";
/// The signing secret that proves an HTTP request came from Slack.
pub const SIGNING_SECRET_ENV: &str = "RUNROOM_SLACK_SIGNING_SECRET";
/// The app-level token (`xapp-…`, scope `connections:write`) for Socket Mode.
pub const APP_TOKEN_ENV: &str = "RUNROOM_SLACK_APP_TOKEN";

/// How Slack's events reach runroom.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SlackMode {
    /// Slack posts to `/webhooks/slack/*` (needs a public HTTPS URL).
    #[default]
    Http,
    /// runroom opens a WebSocket to Slack (no public URL needed).
    Socket,
}

/// `[slack]` in the config file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SlackConfig {
    /// The Web API's base URL (a fake on loopback in tests and staging).
    pub api_url: String,
    pub mode: SlackMode,
    /// How long an inbound request may wait for the engine before it is acknowledged anyway
    /// (Slack gives up after 3 s); the work goes on after the ack.
    pub ack_budget_ms: u64,
    /// Seconds before a Web API call without an answer counts as failed (and is retried).
    pub timeout_seconds: u64,
    /// runroom's workspace (`T0…`): a command from another one (a Slack Connect guest, an
    /// event for another team) is refused. Unset: not checked.
    pub team_id: Option<String>,
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            api_url: "https://slack.com/api".into(),
            mode: SlackMode::Http,
            ack_budget_ms: 2000,
            timeout_seconds: 10,
            team_id: None,
        }
    }
}

impl SlackConfig {
    pub fn ack_budget(&self) -> Duration {
        Duration::from_millis(self.ack_budget_ms.clamp(1, 2800))
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.max(1))
    }
}

pub type SlackHttpClient = SlackClient<SlackClientHyperHttpsConnector>;

/// A Web API client for `config.api_url`. It speaks http as well as https, so tests and staging
/// can point it at a fake on loopback; no rate control of its own: the outbox paces.
pub fn client(config: &SlackConfig) -> anyhow::Result<Arc<SlackHttpClient>> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .context("loading the system's TLS root certificates for Slack")?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build();
    let connector = SlackClientHyperConnector::with_connector(connector)
        .with_slack_api_url(config.api_url.trim_end_matches('/'));
    Ok(Arc::new(SlackClient::new(connector)))
}

/// A Web API token from its secret value.
pub fn token(value: String) -> SlackApiToken {
    SlackApiToken::new(SlackApiTokenValue(value))
}

/// What a process needs to speak to Slack: its config, a Web API client and the bot token.
pub struct SlackApp {
    pub config: SlackConfig,
    pub client: Arc<SlackHttpClient>,
    pub bot_token: SlackApiToken,
}

impl SlackApp {
    pub fn sender(&self, store: Arc<dyn crate::store::Store>) -> outbound::SlackSender {
        outbound::SlackSender::new(
            self.client.clone(),
            self.bot_token.clone(),
            store,
            self.config.timeout(),
        )
    }

    /// The inbound side: the engine decides, then the names it did not know are looked up
    /// with the bot token.
    pub fn inbox(&self, engine: Arc<crate::engine::Engine>) -> Arc<inbox::Inbox> {
        let people = people::People::new(
            self.client.clone(),
            self.bot_token.clone(),
            engine.store().clone(),
            self.config.timeout(),
            engine.clock().clone(),
        );
        let inbox = Arc::new(
            inbox::Inbox::new(engine, Arc::new(people), self.config.ack_budget())
                .with_team(self.config.team_id.clone()),
        );
        inbox::register_replays(&inbox);
        inbox
    }
}

/// Slack mentions its own users natively (`<@U0123>`, the engine's token is Slack's own form) and
/// takes a roster's chatter into the incident card's thread.
pub struct SlackReach;

impl Reach for SlackReach {
    fn platform(&self) -> Platform {
        Platform::Slack
    }

    /// A Slack mention carrying the name: Slack rooms show the person's current name, other
    /// rooms `@name`.
    fn person_mention(&self, person: &Person) -> Option<String> {
        let id = person.identity(Platform::Slack)?;
        Some(format!("<@{id}|{}>", person.name))
    }

    fn takes_mirrors(&self) -> bool {
        true
    }

    /// Slack refuses a text past 40,000 characters (`msg_too_long`), counted as sent (escaped);
    /// the card is Block Kit: a header of 150 characters, fields of 2,000.
    fn limits(&self) -> Limits {
        Limits {
            text: Some(blocks::TEXT_MAX),
            measure: blocks::escaped_len,
            card_title: Some(blocks::HEADER_MAX),
            card_field: Some(blocks::FIELD_MAX),
        }
    }
}

pub fn reach() -> Arc<dyn Reach> {
    Arc::new(SlackReach)
}

/// Slack, when `RUNROOM_SLACK_BOT_TOKEN` is set: the sender, and the entrances of `[slack] mode`
/// (signed webhooks with the signing secret, or Socket Mode with the app-level token).
pub fn wire(setup: &Setup<'_>) -> anyhow::Result<Wired> {
    let mut wired = Wired::new(reach());
    let Some(bot_token) = setup.secrets.get(BOT_TOKEN_ENV) else {
        if setup
            .config
            .rooms
            .iter()
            .any(|r| r.platform == Platform::Slack)
        {
            wired.warnings.push(format!(
                "a room is on Slack but {BOT_TOKEN_ENV} is not set: Slack messages will wait"
            ));
        }
        return Ok(wired);
    };
    let config = setup.config.slack.clone().unwrap_or_default();
    let app = SlackApp {
        client: client(&config).context("building the Slack client")?,
        bot_token: token(bot_token),
        config,
    };
    let signing = setup.secrets.get(SIGNING_SECRET_ENV);
    let app_token = setup.secrets.get(APP_TOKEN_ENV);
    match (app.config.mode, &signing, &app_token) {
        (SlackMode::Http, None, _) => wired.warnings.push(format!(
            "{SIGNING_SECRET_ENV} is not set: Slack's requests cannot be verified, so /webhooks/slack/* are off"
        )),
        (SlackMode::Socket, _, None) => wired.warnings.push(format!(
            "[slack] mode = \"socket\" but {APP_TOKEN_ENV} is not set: no Slack events will arrive"
        )),
        _ => {}
    }
    wired.connect = Some(Box::new(move |engine| {
        let clock = engine.clock().clone();
        let mut connected = Connected {
            sender: Some(Arc::new(app.sender(engine.store().clone()))),
            ..Default::default()
        };
        match (app.config.mode, signing, app_token) {
            (SlackMode::Http, Some(secret), _) => {
                connected.router = webhooks::router(webhooks::SlackHttp {
                    verifier: Arc::new(signature::Verifier::new(&secret)),
                    inbox: app.inbox(engine.clone()),
                    clock,
                });
            }
            (SlackMode::Socket, _, Some(app_token)) => {
                let inbox = app.inbox(engine.clone());
                let client = app.client.clone();
                connected.listeners.push(Box::new(move |stop| {
                    Box::pin(async move {
                        let run = socket::run(client, token(app_token), inbox, clock, stop);
                        if let Err(error) = run.await {
                            tracing::error!("Slack Socket Mode stopped: {error:#}");
                        }
                    })
                }));
            }
            _ => {}
        }
        Ok(connected)
    }));
    Ok(wired)
}
