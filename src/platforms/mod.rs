//! Chat platforms. Each adapter turns its platform's wire format into [`Inbound`] messages and
//! delivers outbox rows back through an [`crate::outbox::Sender`]. Here now: the console room,
//! and WhatsApp's outbound text; Slack and Telegram, and WhatsApp's webhooks, arrive with their
//! own modules.

pub mod console;
pub mod whatsapp;

pub use crate::engine::room::{Author, Inbound, Platform, Room, RoomRef};
