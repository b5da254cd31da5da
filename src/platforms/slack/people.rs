//! The names behind Slack user ids. Slack writes people as `<@U0123>`; runroom keeps that form
//! (Slack renders it as a live mention) and remembers each id's display name, looked up with
//! `users.info` and kept in memory and in the database (`people`), so WhatsApp, Telegram and the
//! console can show `@Ana` instead.
//!
//! A lookup never delays a command: [`People::learn`] starts the lookups a message needs in the
//! background and returns at once (the inbox calls it after the command committed), so a
//! message shows the id until the name is known. One lookup per id runs at a time, and a failed
//! one is not tried again for [`RETRY_FAILED_AFTER`] (in the injected clock's time): a Slack that
//! refuses or does not answer costs one call per person per ten minutes, not one per command.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use slack_morphism::prelude::{SlackApiToken, SlackApiUsersInfoRequest, SlackUser, SlackUserId};

use super::SlackHttpClient;
use crate::engine::clock::Clock;
use crate::engine::room::{Inbound, Platform};
use crate::engine::text::mention_tokens;
use crate::store::Store;

/// How long a failed lookup is remembered before the id is tried again.
pub const RETRY_FAILED_AFTER: chrono::Duration = chrono::Duration::minutes(10);

pub struct People {
    client: Arc<SlackHttpClient>,
    token: SlackApiToken,
    store: Arc<dyn Store>,
    timeout: Duration,
    clock: Arc<dyn Clock>,
    state: Mutex<Known>,
}

/// What this process knows about ids: their names, the ids being looked up, and until when a
/// failed id is left alone.
#[derive(Default)]
struct Known {
    names: HashMap<String, String>,
    looking: HashSet<String>,
    failed_until: HashMap<String, DateTime<Utc>>,
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
        clock: Arc<dyn Clock>,
    ) -> People {
        People {
            client,
            token,
            store,
            timeout,
            clock,
            state: Mutex::new(Known::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, Known> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts looking up, on `tasks`, the names not known yet of a message's author and of
    /// everyone it mentions; returns at once. A failed lookup only means that person shows as
    /// their id elsewhere until a later one succeeds.
    pub fn learn(self: &Arc<Self>, inbound: &Inbound, tasks: &tokio_util::task::TaskTracker) {
        let mut ids = vec![inbound.origin.author.id.as_str()];
        // Slack writes its users as bare ids (`<@U0123>`); namespaced tokens are not Slack's.
        ids.extend(
            mention_tokens(inbound.words().unwrap_or_default())
                .map(|(_, id, _)| id)
                .filter(|id| !id.contains(':')),
        );
        for id in ids {
            if id.is_empty() || !self.claim(id) {
                continue;
            }
            let people = self.clone();
            let id = id.to_string();
            tasks.spawn(async move {
                let looked_up = people.look_up(&id).await;
                people.finish(&id, looked_up);
            });
        }
    }

    /// Whether `id` should be looked up now (and, if so, marks it as being looked up): not
    /// when its name is known, a lookup is running, or one failed less than ten minutes ago.
    fn claim(&self, id: &str) -> bool {
        let now = self.clock.now();
        let mut known = self.state();
        if known.names.contains_key(id) || known.looking.contains(id) {
            return false;
        }
        if known.failed_until.get(id).is_some_and(|until| now < *until) {
            return false;
        }
        known.failed_until.remove(id);
        known.looking.insert(id.to_string())
    }

    fn finish(&self, id: &str, looked_up: anyhow::Result<String>) {
        let now = self.clock.now();
        let mut known = self.state();
        known.looking.remove(id);
        match looked_up {
            Ok(name) => {
                known.names.insert(id.to_string(), name);
            }
            Err(error) => {
                tracing::debug!(%error, "no name for a Slack user id; not asked again for a while");
                known
                    .failed_until
                    .insert(id.to_string(), now + RETRY_FAILED_AFTER);
            }
        }
    }

    /// The display name of a user id: from the database, else Slack (then remembered there).
    async fn look_up(&self, user_id: &str) -> anyhow::Result<String> {
        if let Some(name) = self.store.person_name(Platform::Slack, user_id).await? {
            return Ok(name);
        }
        let session = self.client.open_session(&self.token);
        let request = SlackApiUsersInfoRequest::new(SlackUserId(user_id.to_string()));
        let response = tokio::time::timeout(self.timeout, session.users_info(&request))
            .await
            .map_err(|_| anyhow::anyhow!("users.info timed out"))??;
        let name = display_name(&response.user).unwrap_or_else(|| user_id.to_string());
        self.store
            .save_person(Platform::Slack, user_id, &name, self.clock.now())
            .await?;
        Ok(name)
    }
}
