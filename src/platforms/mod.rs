//! Chat platforms. Each adapter turns its platform's wire format into [`Inbound`] messages and
//! delivers outbox rows back through an [`crate::outbox::Sender`]. Here now: the console room,
//! Slack, and WhatsApp (the Cloud API and the Evolution gateway); Telegram arrives with its own
//! module.

pub mod console;
pub mod signed;
pub mod slack;
pub mod whatsapp;

pub use crate::engine::room::{Author, Inbound, Platform, Room, RoomRef};
