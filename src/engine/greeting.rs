//! A platform's own exchanges outside the incident commands (Telegram's `/start` in a private
//! chat): answered through the outbox like every reply, once per event, so a redelivered
//! update greets nobody twice.

use super::room::Origin;
use super::unit::Guard;
use super::{Engine, EngineError};
use crate::i18n::Msg;

impl Engine {
    /// Answers `origin` with `msg` once per `dedupe_key`; `false` when it was answered before.
    pub async fn greet(
        &self,
        origin: &Origin,
        dedupe_key: &str,
        msg: &Msg,
    ) -> Result<bool, EngineError> {
        self.tell(origin, dedupe_key, msg, false).await
    }

    /// [`Engine::greet`], to the author alone when `private` (where the platform allows).
    pub async fn tell(
        &self,
        origin: &Origin,
        dedupe_key: &str,
        msg: &Msg,
        private: bool,
    ) -> Result<bool, EngineError> {
        let room = self.room_for(&origin.room);
        let done = self
            .unit(Guard::Inbound(dedupe_key), |unit| {
                Box::pin(async move {
                    unit.out
                        .answering(&origin.author.id, origin.room.thread.clone());
                    unit.out.answer(&room, msg, private);
                    Ok(())
                })
            })
            .await?;
        Ok(done.is_some())
    }
}
