//! runroom: a chat-native incident bot.
//!
//! A map of the crate, in the order a message travels:
//!
//! - [`platforms`]: each chat platform's folder, registered in [`platforms::REGISTERED`]. Inbound
//!   adapters verify and normalise a message into an [`engine::room::Inbound`] and hand it over
//!   within the platform's ack budget ([`platforms::ack`]); senders deliver outbox rows; each
//!   platform's [`engine::reach::Reach`] says how its rooms mention and page people.
//!   [`platforms::console`] is the local room on stdin/stdout; [`platforms::whatsapp`] relays a
//!   roster's members and falls back to templates outside WhatsApp's 24-hour window.
//! - [`alerts`]: alert webhooks (Alertmanager, Grafana, Datadog, PagerDuty-style events), each
//!   source checked by its own secret and parsed into platform-neutral alerts that
//!   [`engine::Engine::take_alerts`] turns into incidents.
//! - [`engine`]: the platform-neutral core. [`engine::command`] parses text into a command,
//!   [`engine::actions`] decides (purely) what changes, [`engine::Engine::execute`] commits the
//!   change, its timeline, its jobs and every message it causes in one [`engine::unit`] of work.
//! - [`store`]: the [`store::Store`] and [`store::StoreTx`] traits, made of one role trait per
//!   kind of data, with SQLite (default) and Postgres backends.
//! - [`outbox`]: the durable send queue: workers claim due rows under a lease, pace them per
//!   platform and destination, send through each platform's [`outbox::Sender`], retry or
//!   dead-letter, behind the sending-mode and send-limit switches.
//! - [`scheduler`]: durable jobs (update reminders, escalation steps, cron schedules, on-call
//!   handoffs) claimed under a lease and fired by the engine, once, in every time zone.
//! - [`postmortem`]: after the incident, the postmortem draft written from its timeline, and its
//!   response figures.
//! - [`i18n`]: Fluent bundles for en, pt-BR and es and the [`i18n::Msg`] values the code builds;
//!   every user-visible text is rendered here.
//! - [`http`]: runroom's own routes (`/healthz`, `/readyz`, `/metrics`, the admin API under
//!   `/api/`); the platforms add their webhooks.
//! - [`dashboard`]: the signed-in web pages under `/dashboard`, rendered on the server.
//! - [`config`] and [`cli`]: the configuration file, environment overrides and the commands.
//! - [`app`]: [`app::build`] assembles all of the above from a config, a clock and the secrets,
//!   for `serve`, `console` and the tests.

pub mod alerts;
pub mod app;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod engine;
pub mod http;
pub mod i18n;
pub mod outbox;
pub mod platforms;
pub mod postmortem;
pub mod scheduler;
pub mod store;
