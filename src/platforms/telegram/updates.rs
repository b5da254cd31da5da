//! One update, handled the same way whether the webhook or long polling brought it: placed
//! ([`super::inbound`]), then acted on through the engine. A button press always gets its
//! `answerCallbackQuery` (the button stops spinning), with the presser's own answer as the toast
//! when there is one (an error, localized like every reply). `/start` in a private chat is
//! answered with how pages reach the person there.

use std::sync::Arc;

use teloxide_core::payloads::AnswerCallbackQuerySetters as _;
use teloxide_core::prelude::Requester as _;
use teloxide_core::types::{CallbackQueryId, Update};

use super::inbound::{self, Asked};
use super::moves::Moves;
use super::people::People;
use super::press;
use crate::engine::room::{Inbound, Platform};
use crate::engine::{Engine, EngineError, Outcome};
use crate::i18n::Msg;
use crate::store::StoreError;

/// Why an update was not recorded (Telegram delivers it again).
#[derive(Debug, thiserror::Error)]
pub enum Unrecorded {
    #[error("could not place the update: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

pub struct Updates {
    engine: Arc<Engine>,
    moves: Arc<Moves>,
    people: Arc<People>,
    bot: teloxide_core::Bot,
    bot_username: Option<String>,
}

impl Updates {
    pub fn new(
        engine: Arc<Engine>,
        (moves, people): (Arc<Moves>, Arc<People>),
        bot: teloxide_core::Bot,
        bot_username: Option<String>,
    ) -> Updates {
        Updates {
            engine,
            moves,
            people,
            bot,
            bot_username,
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// What an update asks of runroom, if anything (a group's move is recorded here).
    pub async fn place(&self, update: &Update) -> Result<Option<Asked>, Unrecorded> {
        let now = self.engine.clock().now();
        Ok(inbound::receive(
            update,
            self.bot_username.as_deref(),
            (&self.moves, &self.people),
            self.engine.rooms(),
            now,
        )
        .await?)
    }

    /// Does what an update asks; `Ok` once it is recorded (or was before).
    pub async fn act(&self, asked: Asked) -> Result<(), Unrecorded> {
        match asked {
            Asked::Command { inbound, parsed } => {
                self.engine
                    .act(parsed, &inbound.origin, &inbound.dedupe_key())
                    .await?;
            }
            Asked::Press {
                inbound,
                command,
                query,
            } => {
                let outcome = match command {
                    Some(command) => {
                        let acted = self
                            .engine
                            .execute(command, &inbound.origin, &inbound.dedupe_key())
                            .await;
                        match acted {
                            Ok(outcome) => Some(outcome),
                            Err(error) => {
                                // The spinner stops; the redelivered update does the work.
                                self.answer(query, None).await;
                                return Err(error.into());
                            }
                        }
                    }
                    None => None,
                };
                let toast = outcome.as_ref().and_then(|o| toast(o, &inbound));
                self.answer(query, toast).await;
            }
            Asked::Start { inbound, username } => {
                let msg = match username {
                    Some(username) => Msg::new("telegram-start-linked").text("username", username),
                    None => Msg::new("telegram-start-no-username")
                        .text("id", inbound.origin.author.id.clone()),
                };
                self.engine
                    .greet(&inbound.origin, &inbound.dedupe_key(), &msg)
                    .await?;
            }
        }
        Ok(())
    }

    /// Answers a press, with a toast when there is one. Telegram forgets a press after a short
    /// while (and a redelivered one was answered already): a failure is only logged.
    async fn answer(&self, query: CallbackQueryId, toast: Option<String>) {
        let mut request = self.bot.answer_callback_query(query);
        if let Some(text) = toast {
            request = request.text(text);
        }
        if let Err(error) = request.await {
            tracing::info!(%error, "could not answer a button press");
        }
    }
}

/// The answer to the presser alone, when it fits a toast (the outbox leaves those out of the
/// group).
fn toast(outcome: &Outcome, pressed: &Inbound) -> Option<String> {
    let Outcome::Handled { messages, .. } = outcome else {
        return None;
    };
    messages
        .iter()
        .find(|m| {
            m.platform == Platform::Telegram
                && m.recipient.is_some()
                && m.chat == pressed.origin.room.chat
                && press::is_press(m.thread.as_deref())
                && press::fits(&m.text)
        })
        .map(|m| m.text.clone())
}
