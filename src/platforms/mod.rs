//! Chat platforms. Each adapter turns its platform's wire format into [`Inbound`] messages and
//! delivers outbox rows back. The console room is here now; Slack, WhatsApp and Telegram arrive
//! with their own modules (`slack/`, `whatsapp/`, `telegram/`).

pub mod console;
pub mod whatsapp;

pub use crate::engine::room::{Author, Inbound, Platform, Room, RoomRef};
