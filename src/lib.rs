//! runroom: a chat-native incident bot.
//!
//! A map of the crate, in the order a message travels:
//!
//! - [`platforms`]: each chat platform's adapters. Inbound ones verify and normalise a message
//!   into an [`engine::room::Inbound`]; senders deliver outbox rows. [`platforms::console`] is
//!   the local room on stdin/stdout; [`platforms::whatsapp`] relays a roster's members and
//!   falls back to templates outside WhatsApp's 24-hour window.
//! - [`engine`]: the platform-neutral core. [`engine::command`] parses text into a command,
//!   [`engine::actions`] decides (purely) what changes, [`engine::Engine::handle`] commits the
//!   change, its timeline and every message it causes in one transaction.
//! - [`store`]: the [`store::Store`] trait with SQLite (default) and Postgres backends.
//! - [`outbox`]: the durable send queue: workers claim due rows under a lease, pace them per
//!   platform and destination, send through each platform's [`outbox::Sender`], retry or
//!   dead-letter, behind the sending-mode and send-limit switches.
//! - [`scheduler`]: durable jobs (update reminders, escalation steps, cron schedules, on-call
//!   handoffs) claimed under a lease and fired by the engine, once, in every time zone.
//! - [`i18n`]: Fluent bundles for en, pt-BR and es; every user-visible text is rendered here.
//! - [`http`]: the axum server (`/healthz`, `/readyz`, `/metrics`, the admin API under `/api/`,
//!   and the platforms' webhooks: Slack's, WhatsApp's and Evolution's).
//! - [`config`] and [`cli`]: the configuration file, environment overrides and the commands.
//! - [`app`]: wiring: builds the engine from a config and runs `serve` / `console`.

pub mod app;
pub mod cli;
pub mod config;
pub mod engine;
pub mod http;
pub mod i18n;
pub mod outbox;
pub mod platforms;
pub mod scheduler;
pub mod store;
