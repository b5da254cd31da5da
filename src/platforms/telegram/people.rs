//! Who is who on Telegram. A person is configured by username (`[[people]] telegram =
//! "@ana_ops"`), but the Bot API sends to a numeric chat: a person's private chat with the bot
//! has their user id. runroom learns each username's id when the person writes or taps a button
//! (kept in the shared settings, for every replica), so a page to `@ana_ops` reaches their
//! private chat once they have started the bot (`/start`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::store::{Store, StoreResult};

fn key(username: &str) -> String {
    format!(
        "telegram:user:{}",
        username.trim_start_matches('@').to_lowercase()
    )
}

pub struct People {
    store: Arc<dyn Store>,
    /// Ids this process learned or found. A username not found is asked again next time: another
    /// replica may have learned it since.
    known: Mutex<HashMap<String, String>>,
}

impl People {
    pub fn new(store: Arc<dyn Store>) -> People {
        People {
            store,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// `username` is user `id`: written once (and again only if it changed hands).
    pub async fn learn(&self, username: &str, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let name = username.trim_start_matches('@').to_lowercase();
        if self.lookup(&name).await?.as_deref() == Some(id) {
            return Ok(());
        }
        self.store.set_setting(&key(&name), id, at).await?;
        lock(&self.known).insert(name, id.to_string());
        Ok(())
    }

    /// The chat a page to `address` goes to: a numeric id as it is, a `@username` as the id
    /// learned for it (`None` until the person wrote to runroom or tapped one of its buttons).
    pub async fn chat_of(&self, address: &str) -> StoreResult<Option<String>> {
        let address = address.trim();
        if address.parse::<i64>().is_ok() {
            return Ok(Some(address.to_string()));
        }
        self.lookup(&address.trim_start_matches('@').to_lowercase())
            .await
    }

    async fn lookup(&self, name: &str) -> StoreResult<Option<String>> {
        if let Some(known) = lock(&self.known).get(name) {
            return Ok(Some(known.clone()));
        }
        let found = self.store.setting(&key(name)).await?;
        if let Some(id) = &found {
            lock(&self.known).insert(name.to_string(), id.clone());
        }
        Ok(found)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
