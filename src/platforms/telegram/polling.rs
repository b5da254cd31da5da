//! Long polling (`telegram.mode = "polling"`), for a team with no public URL: `getUpdates` in a
//! loop, each update's command handed to the engine, and the offset moved past an update only
//! once it is recorded (a failure asks again from there; `update_id` dedupes what was done).
//! Telegram delivers an update to one poller only, and not while a webhook is set: one process
//! polls (several replicas use the webhook), and polling refuses to start over a webhook.

use std::sync::Arc;
use std::time::Duration;

use teloxide_core::payloads::GetUpdatesSetters as _;
use teloxide_core::prelude::Requester as _;
use teloxide_core::requests::Request as _;

use super::updates::Updates;
use crate::platforms::Listener;

/// The most seconds one `getUpdates` waits for an update (within the client's timeout).
const LONG_POLL_SECONDS: u64 = 20;
/// The pause after a failed round.
const RETRY: Duration = Duration::from_secs(1);

pub fn listener(handler: Arc<Updates>, bot: teloxide_core::Bot, timeout: Duration) -> Listener {
    Box::new(move |mut stop| {
        Box::pin(async move {
            match bot.get_webhook_info().send().await {
                Ok(info) if info.url.is_some() => {
                    metrics::counter!("runroom_telegram_polling_refused_total").increment(1);
                    tracing::error!(
                        "telegram.mode = \"polling\" but a webhook is set for this bot: Telegram \
                         sends its updates there. Delete it (deleteWebhook) or use mode = \"webhook\"; \
                         not polling"
                    );
                    return;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "could not read the Telegram webhook; polling anyway")
                }
            }
            let wait = u32::try_from(LONG_POLL_SECONDS.min(timeout.as_secs().saturating_sub(2)))
                .unwrap_or(0);
            let mut offset: i32 = 0;
            while !*stop.borrow() {
                let request = bot.get_updates().offset(offset).timeout(wait).send();
                let fetched = tokio::select! {
                    answer = request => answer,
                    _ = stop.changed() => break,
                };
                let updates = match fetched {
                    Ok(updates) => updates,
                    Err(error) => {
                        tracing::warn!(%error, "getUpdates failed; asking again");
                        tokio::select! {
                            () = tokio::time::sleep(RETRY) => continue,
                            _ = stop.changed() => break,
                        }
                    }
                };
                for update in updates {
                    let done = match handler.place(&update).await {
                        Ok(Some(asked)) => handler.act(asked).await,
                        Ok(None) => Ok(()),
                        Err(error) => Err(error),
                    };
                    if let Err(error) = done {
                        tracing::error!(%error, "a Telegram update was not recorded; asking again");
                        break;
                    }
                    offset = i32::try_from(update.id.0)
                        .unwrap_or(i32::MAX)
                        .saturating_add(1);
                }
            }
        })
    })
}
