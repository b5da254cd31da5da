//! Sends outbox rows with `sendMessage`, as HTML (Telegram's three escapes, so nothing a person
//! typed is read as markup), into the row's topic when it has one. Telegram's answers become the
//! worker's: a 429's `retry_after` pauses that chat only, network trouble is retried, anything
//! the Bot API refuses is final (with its description kept on the row). A group that became a
//! supergroup is followed: the move is recorded and the same message sent to the new id.

use std::sync::Arc;

use async_trait::async_trait;
use teloxide_core::payloads::SendMessageSetters as _;
use teloxide_core::prelude::Requester as _;
use teloxide_core::types::{ChatId, MessageId, ParseMode, ThreadId};
use teloxide_core::{ApiError, RequestError};

use super::moves::Moves;
use crate::engine::room::Platform;
use crate::outbox::{Delivered, PauseScope, SendError, Sender};
use crate::store::OutboxRow;

pub struct TelegramSender {
    bot: teloxide_core::Bot,
    moves: Arc<Moves>,
}

impl TelegramSender {
    pub fn new(bot: teloxide_core::Bot, moves: Arc<Moves>) -> TelegramSender {
        TelegramSender { bot, moves }
    }

    async fn send_to(&self, chat: &str, row: &OutboxRow) -> Result<Delivered, RequestError> {
        let id: i64 = chat.trim().parse().unwrap_or_default();
        let message = &row.message;
        let mut request = self
            .bot
            .send_message(ChatId(id), html(&message.text))
            .parse_mode(ParseMode::Html);
        if let Some(topic) = message
            .thread
            .as_deref()
            .and_then(|t| t.parse::<i32>().ok())
        {
            request = request.message_thread_id(ThreadId(MessageId(topic)));
        }
        let sent = request.await?;
        Ok(Delivered {
            platform_message_id: Some(sent.id.0.to_string()),
        })
    }
}

/// Text as Telegram's HTML mode takes it: `&`, `<`, `>` escaped, nothing else.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// How the worker treats a Bot API failure for a message to `chat`.
pub fn classify(error: RequestError, chat: &str) -> SendError {
    match error {
        RequestError::RetryAfter(after) => SendError::rate_limited(
            format!("Telegram: retry after {}", after.seconds()),
            after.duration(),
            PauseScope::Chat(chat.to_string()),
        ),
        RequestError::Network(e) => SendError::retryable(format!("Telegram unreachable: {e}")),
        RequestError::InvalidJson { .. } => {
            SendError::retryable("Telegram answered with something that is not the Bot API")
        }
        RequestError::Io(e) => SendError::retryable(format!("Telegram: {e}")),
        // `send` follows a move itself; a second one for the same message is retried later.
        RequestError::MigrateToChatId(to) => {
            SendError::retryable(format!("Telegram: the group moved to chat {}", to.0))
        }
        RequestError::Api(ApiError::Unknown(text)) if is_server_trouble(&text) => {
            SendError::retryable(format!("Telegram: {text}"))
        }
        RequestError::Api(e) => SendError::permanent(format!("Telegram refused it: {e}")),
    }
}

/// The Bot API's own descriptions of a failure on its side.
fn is_server_trouble(text: &str) -> bool {
    [
        "Internal Server Error",
        "Bad Gateway",
        "Gateway Timeout",
        "Service Unavailable",
    ]
    .iter()
    .any(|t| text.contains(t))
}

#[async_trait]
impl Sender for TelegramSender {
    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    async fn send(&self, row: &OutboxRow) -> Result<Delivered, SendError> {
        let configured = &row.message.chat;
        if configured.trim().parse::<i64>().is_err() {
            return Err(SendError::permanent(format!(
                "{configured:?} is not a Telegram chat id"
            )));
        }
        let unreadable = |e: crate::store::StoreError| SendError::retryable(e.to_string());
        let chat = self.moves.current(configured).await.map_err(unreadable)?;
        match self.send_to(&chat, row).await {
            // The group became a supergroup: follow it, and send this message there now.
            Err(RequestError::MigrateToChatId(to)) => {
                let to = to.0.to_string();
                self.moves
                    .record(&chat, &to, chrono::Utc::now())
                    .await
                    .map_err(unreadable)?;
                self.send_to(&to, row)
                    .await
                    .map_err(|error| classify(error, &to))
            }
            sent => sent.map_err(|error| classify(error, &chat)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_only_what_telegram_reads_as_markup() {
        assert_eq!(
            html("<b>5 > 3 & \"x\"</b>"),
            "&lt;b&gt;5 &gt; 3 &amp; \"x\"&lt;/b&gt;"
        );
    }
}
