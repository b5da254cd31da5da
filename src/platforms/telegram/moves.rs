//! Groups that became supergroups. Telegram gives a migrated group a new chat id and refuses the
//! old one (`migrate_to_chat_id`); the room's configured `chat` stays the old id, so runroom
//! keeps the move (in the shared settings, for every replica) and follows it both ways: a
//! message to the room goes to the new id, an update from the new id belongs to the room.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::store::{Store, StoreResult};

/// The settings key of where a chat moved to, and of where a chat came from.
fn moved_to(chat: &str) -> String {
    format!("telegram:moved-to:{chat}")
}
fn moved_from(chat: &str) -> String {
    format!("telegram:moved-from:{chat}")
}

pub struct Moves {
    store: Arc<dyn Store>,
    /// Lookups already made, found or not (a move happens once per group, and is recorded here
    /// by this process when it learns of it).
    to: Mutex<HashMap<String, Option<String>>>,
    from: Mutex<HashMap<String, Option<String>>>,
}

impl Moves {
    pub fn new(store: Arc<dyn Store>) -> Moves {
        Moves {
            store,
            to: Mutex::new(HashMap::new()),
            from: Mutex::new(HashMap::new()),
        }
    }

    /// Where a message to `chat` goes now.
    pub async fn current(&self, chat: &str) -> StoreResult<String> {
        Ok(self
            .lookup(&self.to, chat, moved_to)
            .await?
            .unwrap_or_else(|| chat.to_string()))
    }

    /// The chat a room was configured with, for an update from `chat`.
    pub async fn original(&self, chat: &str) -> StoreResult<String> {
        Ok(self
            .lookup(&self.from, chat, moved_from)
            .await?
            .unwrap_or_else(|| chat.to_string()))
    }

    /// Records that `from` became `to`.
    pub async fn record(&self, from: &str, to: &str, at: DateTime<Utc>) -> StoreResult<()> {
        // A chain (a supergroup id never moves again, but a room may have been configured with
        // an id that already moved) points at the first id.
        let first = self.original(from).await?;
        self.store.set_setting(&moved_to(&first), to, at).await?;
        self.store.set_setting(&moved_to(from), to, at).await?;
        self.store.set_setting(&moved_from(to), &first, at).await?;
        let mut known = lock(&self.to);
        known.insert(first.clone(), Some(to.to_string()));
        known.insert(from.to_string(), Some(to.to_string()));
        lock(&self.from).insert(to.to_string(), Some(first));
        tracing::info!(
            from,
            to,
            "a Telegram group became a supergroup; following it"
        );
        Ok(())
    }

    async fn lookup(
        &self,
        cache: &Mutex<HashMap<String, Option<String>>>,
        chat: &str,
        key: fn(&str) -> String,
    ) -> StoreResult<Option<String>> {
        if let Some(known) = lock(cache).get(chat) {
            return Ok(known.clone());
        }
        let found = self.store.setting(&key(chat)).await?;
        lock(cache).insert(chat.to_string(), found.clone());
        Ok(found)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
