//! How the engine reaches people on each platform, answered by the platform's own adapter
//! (`crate::platforms::*`), so the engine holds no platform's rules: how a room mentions a
//! configured person or one of its own users, where a person can be paged directly, and which
//! war rooms take a roster's chatter into the incident's thread.
//!
//! Mentions travel through the engine as tokens, `<@ID>`, `<@ID|label>` or `<@ns:ID|label>`:
//! `ns` is `person` (an id from `[[people]]`) or a platform (`telegram:…`); a bare id is a
//! Slack user, the form stored before other platforms had mentions. [`render`] turns each
//! token into the receiving room's own form when the message is queued.

use std::collections::HashMap;
use std::sync::Arc;

use super::policy::{Person, Policies};
use super::room::Platform;
use super::text;
use crate::store::{StoreError, StoreTx};

/// One platform's rules for reaching people.
pub trait Reach: Send + Sync {
    fn platform(&self) -> Platform;

    /// How this platform's rooms mention a configured person (`None`: by name).
    fn mention(&self, _person: &Person) -> Option<String> {
        None
    }

    /// A public handle other platforms' rooms may show for the person (a Telegram `@username`),
    /// when the platform has a readable one; ids and phone numbers are not.
    fn handle(&self, _person: &Person) -> Option<String> {
        None
    }

    /// How this platform's rooms mention one of its own users (`None`: by name).
    fn mention_user(&self, _user_id: &str, _label: Option<&str>) -> Option<String> {
        None
    }

    /// The chat where a page reaches the person directly on this platform, if any.
    fn direct_chat(&self, _person: &Person) -> Option<String> {
        None
    }

    /// Whether this platform's war rooms take a roster's chatter into the incident's thread
    /// (they have an incident card to thread it under).
    fn takes_mirrors(&self) -> bool {
        false
    }
}

/// The registered platforms' rules; a platform with none mentions by name, pages nobody
/// directly and takes no mirrors.
#[derive(Clone, Default)]
pub struct Reaches(HashMap<Platform, Arc<dyn Reach>>);

impl Reaches {
    pub fn new(all: impl IntoIterator<Item = Arc<dyn Reach>>) -> Reaches {
        Reaches(all.into_iter().map(|r| (r.platform(), r)).collect())
    }

    pub fn of(&self, platform: Platform) -> Option<&dyn Reach> {
        self.0.get(&platform).map(Arc::as_ref)
    }

    /// Every platform where `person` can be paged directly, with the chat.
    pub fn direct_chats<'a>(
        &'a self,
        person: &'a Person,
    ) -> impl Iterator<Item = (Platform, String)> + 'a {
        let mut platforms: Vec<&Arc<dyn Reach>> = self.0.values().collect();
        platforms.sort_by_key(|r| r.platform().as_str());
        platforms
            .into_iter()
            .filter_map(move |r| Some((r.platform(), r.direct_chat(person)?)))
    }

    /// How a room with no mention of its own names a person: a public handle they have on some
    /// platform, else `@name`.
    pub fn name_of(&self, person: &Person) -> String {
        let mut platforms: Vec<&Arc<dyn Reach>> = self.0.values().collect();
        platforms.sort_by_key(|r| r.platform().as_str());
        platforms
            .into_iter()
            .find_map(|r| r.handle(person))
            .unwrap_or_else(|| format!("@{}", person.name))
    }

    pub fn takes_mirrors(&self, platform: Platform) -> bool {
        self.of(platform).is_some_and(|r| r.takes_mirrors())
    }
}

impl std::fmt::Debug for Reaches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// A mention token as [`text::mention_tokens`] reads it.
enum Mentioned<'t> {
    Person(&'t str),
    User(Platform, &'t str),
}

fn mentioned(id: &str) -> Mentioned<'_> {
    match id.split_once(':') {
        Some(("person", person)) => Mentioned::Person(person),
        Some((ns, user)) => match Platform::parse(ns) {
            Some(platform) => Mentioned::User(platform, user),
            None => Mentioned::User(Platform::Slack, id),
        },
        None => Mentioned::User(Platform::Slack, id),
    }
}

/// The token that mentions a configured person, whatever room it ends up in.
pub fn person_token(person: &Person) -> String {
    format!("<@person:{}|{}>", person.id, person.name)
}

/// Renders every mention token of `texts` for a room on `platform`: the platform's own mention
/// where it has one, else a person's public handle or `@name` (the name the platform's adapter
/// remembered for a user id, the person's configured name, the token's label, or the bare id). `names` caches the
/// remembered names across the messages of one unit of work.
pub async fn render(
    tx: &mut dyn StoreTx,
    reaches: &Reaches,
    policies: &Policies,
    platform: Platform,
    texts: &mut [&mut String],
    names: &mut HashMap<(Platform, String), Option<String>>,
) -> Result<(), StoreError> {
    for text in texts.iter() {
        for (_, id, _) in text::mention_tokens(text) {
            if let Mentioned::User(on, user) = mentioned(id)
                && on != platform
                && let std::collections::hash_map::Entry::Vacant(slot) =
                    names.entry((on, user.to_string()))
            {
                slot.insert(tx.person_name(on, user).await?);
            }
        }
    }
    let reach = reaches.of(platform);
    for text in texts.iter_mut() {
        if !text.contains("<@") {
            continue;
        }
        **text = text::rewrite_mentions(text, |id, label| match mentioned(id) {
            Mentioned::Person(pid) => match policies.person(pid) {
                Some(person) => reach
                    .and_then(|r| r.mention(person))
                    .unwrap_or_else(|| reaches.name_of(person)),
                None => format!("@{}", label.unwrap_or(pid)),
            },
            Mentioned::User(on, user) if on == platform => reach
                .and_then(|r| r.mention_user(user, label))
                .unwrap_or_else(|| format!("@{}", label.unwrap_or(user))),
            Mentioned::User(on, user) => {
                let name = names.get(&(on, user.to_string())).cloned().flatten();
                format!("@{}", name.as_deref().or(label).unwrap_or(user))
            }
        });
    }
    Ok(())
}
