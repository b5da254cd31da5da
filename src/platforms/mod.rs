//! Chat platforms. Each adapter turns its platform's wire format into [`Inbound`] messages and
//! delivers outbox rows back through an [`crate::outbox::Sender`]. Here now: the console room,
//! Slack, and WhatsApp (the Cloud API and the Evolution gateway).
//!
//! A platform plugs in through one function, `wire`, called from [`wire_all`]: from the config
//! and the secrets it returns its sender, and its entrances (webhook routes, listeners) to be
//! built once the engine exists. [`crate::app::build`] does the rest.

pub mod ack;
pub mod console;
pub mod signed;
pub mod slack;
pub mod whatsapp;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::watch;

use crate::app::Secrets;
use crate::config::Config;
use crate::engine::Engine;
use crate::engine::clock::Clock;
pub use crate::engine::room::{Author, Inbound, Platform, Room, RoomRef};
use crate::outbox::Sender;
use crate::store::Store;

/// What a platform may use to wire itself.
pub struct Setup<'a> {
    pub config: &'a Config,
    pub store: &'a Arc<dyn Store>,
    pub clock: &'a Arc<dyn Clock>,
    pub secrets: &'a Secrets,
    /// Where the console room prints.
    pub console: &'a console::SharedOutput,
}

/// A long-running inbound connection (Slack's Socket Mode), run until the flag turns true.
pub type Listener = Box<dyn FnOnce(watch::Receiver<bool>) -> BoxFuture<'static, ()> + Send>;

/// A platform's ways in, built once the engine exists.
#[derive(Default)]
pub struct Entrances {
    /// Webhook routes, merged into the one HTTP server.
    pub router: axum::Router,
    pub listeners: Vec<Listener>,
}

/// Builds a platform's entrances for the engine.
pub type EntranceBuilder = Box<dyn FnOnce(&Arc<Engine>) -> anyhow::Result<Entrances> + Send>;

/// One platform, wired from config and secrets.
pub struct Wired {
    pub platform: Platform,
    /// Delivers its outbox rows; `None` when it is not configured (its rows wait).
    pub sender: Option<Arc<dyn Sender>>,
    pub entrances: Option<EntranceBuilder>,
    /// What is configured but cannot run, said once by `serve`.
    pub warnings: Vec<String>,
}

impl Wired {
    pub fn new(platform: Platform) -> Wired {
        Wired {
            platform,
            sender: None,
            entrances: None,
            warnings: Vec::new(),
        }
    }
}

/// Every platform runroom speaks: the one place a new platform is registered.
pub fn wire_all(setup: &Setup<'_>) -> anyhow::Result<Vec<Wired>> {
    Ok(vec![
        console::wire(setup),
        slack::wire(setup)?,
        whatsapp::wire(setup)?,
    ])
}
