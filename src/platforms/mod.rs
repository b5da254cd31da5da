//! Chat platforms. Each adapter turns its platform's wire format into [`Inbound`] messages and
//! delivers outbox rows back through an [`crate::outbox::Sender`]. Here now: the console room,
//! Slack, and WhatsApp's outbound text; Telegram, and WhatsApp's webhooks, arrive with their own
//! modules.

pub mod console;
pub mod slack;
pub mod whatsapp;

pub use crate::engine::room::{Author, Inbound, Platform, Room, RoomRef};
