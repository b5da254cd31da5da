//! The names behind Slack user ids. Slack writes people as `<@U0123>`; runroom keeps that form
//! (Slack renders it as a live mention) and remembers each id's display name, looked up once
//! with `users.info` and kept in memory and in the database, so WhatsApp, Telegram and the
//! console can show `@Ana` instead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use slack_morphism::prelude::{SlackApiToken, SlackApiUsersInfoRequest, SlackUser, SlackUserId};

use super::SlackHttpClient;
use crate::engine::room::{Inbound, Platform};
use crate::engine::text::mention_tokens;
use crate::store::Store;

pub struct People {
    client: Arc<SlackHttpClient>,
    token: SlackApiToken,
    store: Arc<dyn Store>,
    timeout: Duration,
    known: Mutex<HashMap<String, String>>,
}

/// The name people know someone by: the display name, else the real name, else the handle.
fn display_name(user: &SlackUser) -> Option<String> {
    let profile = user.profile.as_ref();
    [
        profile.and_then(|p| p.display_name.clone()),
        profile.and_then(|p| p.real_name.clone()),
        user.real_name.clone(),
        user.name.clone(),
    ]
    .into_iter()
    .flatten()
    .map(|n| n.trim().to_string())
    .find(|n| !n.is_empty())
}

impl People {
    pub fn new(
        client: Arc<SlackHttpClient>,
        token: SlackApiToken,
        store: Arc<dyn Store>,
        timeout: Duration,
    ) -> People {
        People {
            client,
            token,
            store,
            timeout,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// Makes sure the author and everyone mentioned in a message have a remembered name. A
    /// failed lookup only means that person shows as their id elsewhere; it never stops the
    /// command.
    pub async fn learn(&self, inbound: &Inbound) {
        let mut ids = vec![inbound.origin.author.id.as_str()];
        // Slack writes its users as bare ids (`<@U0123>`); namespaced tokens are not Slack's.
        ids.extend(
            mention_tokens(inbound.words().unwrap_or_default())
                .map(|(_, id, _)| id)
                .filter(|id| !id.contains(':')),
        );
        for id in ids {
            if let Err(error) = self.name(id).await {
                tracing::debug!(%error, "no name for a Slack user id");
            }
        }
    }

    /// The display name of a user id: from memory, the database, or Slack.
    pub async fn name(&self, user_id: &str) -> anyhow::Result<String> {
        if let Some(name) = self.cached(user_id) {
            return Ok(name);
        }
        if let Some(name) = self.store.person_name(Platform::Slack, user_id).await? {
            self.remember(user_id, &name);
            return Ok(name);
        }
        let session = self.client.open_session(&self.token);
        let request = SlackApiUsersInfoRequest::new(SlackUserId(user_id.to_string()));
        let response = tokio::time::timeout(self.timeout, session.users_info(&request))
            .await
            .map_err(|_| anyhow::anyhow!("users.info timed out"))??;
        let name = display_name(&response.user).unwrap_or_else(|| user_id.to_string());
        self.store
            .save_person(Platform::Slack, user_id, &name, chrono::Utc::now())
            .await?;
        self.remember(user_id, &name);
        Ok(name)
    }

    fn cached(&self, user_id: &str) -> Option<String> {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(user_id)
            .cloned()
    }

    fn remember(&self, user_id: &str, name: &str) {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(user_id.to_string(), name.to_string());
    }
}
