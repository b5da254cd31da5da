//! Chat platforms. Each adapter turns its platform's wire format into [`Inbound`] messages and
//! delivers outbox rows back through an [`crate::outbox::Sender`]. Here now: the console room,
//! Slack, WhatsApp (the Cloud API and the Evolution gateway), and Telegram (the Bot API: webhook
//! or long polling in, forum topics, a live card with buttons, pages to private chats).
//!
//! A platform is a folder here plus one entry in [`REGISTERED`]: its `wire` function reads the
//! config and the secrets and returns its rules for reaching people ([`Reach`]) and a
//! [`Connector`] that, once the engine exists, gives its sender and its ways in (webhook routes,
//! listeners). [`crate::app::build`] does the rest.

pub mod ack;
pub mod console;
pub mod signed;
pub mod slack;
pub mod stamp;
pub mod telegram;
pub mod whatsapp;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::watch;

use crate::config::{Config, Secrets};
use crate::engine::Engine;
use crate::engine::reach::{Reach, Reaches};
pub use crate::engine::room::{Author, Inbound, Platform, Room, RoomRef};
use crate::outbox::Sender;

/// What a platform may use to wire itself.
pub struct Setup<'a> {
    pub config: &'a Config,
    pub secrets: &'a Secrets,
    /// Where the console room prints.
    pub console: &'a console::SharedOutput,
}

/// A long-running inbound connection (Slack's Socket Mode), run until the flag turns true.
pub type Listener = Box<dyn FnOnce(watch::Receiver<bool>) -> BoxFuture<'static, ()> + Send>;

/// A platform connected to the engine: its sender and its ways in.
#[derive(Default)]
pub struct Connected {
    /// Delivers its outbox rows; `None` when it is not configured (its rows wait).
    pub sender: Option<Arc<dyn Sender>>,
    /// Webhook routes, merged into the one HTTP server.
    pub router: axum::Router,
    pub listeners: Vec<Listener>,
}

/// Connects a platform once the engine exists.
pub type Connector = Box<dyn FnOnce(&Arc<Engine>) -> anyhow::Result<Connected> + Send>;

/// One platform, wired from config and secrets.
pub struct Wired {
    /// Its rules for mentions, direct pages and mirrors, which the engine is built with.
    pub reach: Arc<dyn Reach>,
    /// Its sender and entrances; `None` when nothing of it is configured.
    pub connect: Option<Connector>,
    /// What is configured but cannot run, said once by `serve`.
    pub warnings: Vec<String>,
}

impl Wired {
    pub fn new(reach: Arc<dyn Reach>) -> Wired {
        Wired {
            reach,
            connect: None,
            warnings: Vec::new(),
        }
    }

    pub fn platform(&self) -> Platform {
        self.reach.platform()
    }
}

/// A platform as the registry knows it: its rules for reaching people and its wiring.
pub struct Registration {
    pub reach: fn() -> Arc<dyn Reach>,
    pub wire: fn(&Setup<'_>) -> anyhow::Result<Wired>,
}

/// Every platform runroom speaks: the one place a new platform is registered.
pub const REGISTERED: &[Registration] = &[
    Registration {
        reach: console::reach,
        wire: console::wire,
    },
    Registration {
        reach: slack::reach,
        wire: slack::wire,
    },
    Registration {
        reach: whatsapp::reach,
        wire: whatsapp::wire,
    },
    Registration {
        reach: telegram::reach,
        wire: telegram::wire,
    },
];

/// Wires every registered platform.
pub fn wire_all(setup: &Setup<'_>) -> anyhow::Result<Vec<Wired>> {
    REGISTERED.iter().map(|p| (p.wire)(setup)).collect()
}

/// Every registered platform's rules for reaching people (what [`wire_all`] gives the engine),
/// for engines built without wiring (tests, benchmarks).
pub fn reaches() -> Reaches {
    Reaches::new(REGISTERED.iter().map(|p| (p.reach)()))
}
