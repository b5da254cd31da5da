//! How the engine reaches people on each platform, answered by the platform's own adapter
//! (`crate::platforms::*`), so the engine holds no platform's rules: how a page names a
//! configured person, how a room shows a user of another platform, where a person can be paged
//! directly, and which war rooms take a roster's chatter into the incident's thread.
//!
//! Mentions travel through the engine as tokens, `<@ID>` or `<@ID|label>` (a Slack user, the form
//! stored since the first release), or `<@platform:ID|label>` for another platform's user. When a
//! message is queued, [`render`] shows each token in the receiving room's own form: the
//! platform's mention in a room of the token's platform, `@name` elsewhere. Each platform also
//! says how much one message may carry ([`Limits`]), which [`super::fit`] holds every message to.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use super::policy::Person;
use super::room::Platform;
use super::text;
use crate::store::{StoreError, StoreTx};

/// One platform's rules for reaching people.
pub trait Reach: Send + Sync {
    fn platform(&self) -> Platform;

    /// How a page names the person when they are on this platform, as it is stored on the
    /// timeline: a mention token (Slack's `<@U0123|Joana>`, which other rooms show as `@Joana`)
    /// or a handle every room shows as it is (a Telegram `@username`).
    fn person_mention(&self, _person: &Person) -> Option<String> {
        None
    }

    /// How this platform's own rooms show a mention token of one of its users (`None`: the
    /// token as it is, which is the platform's own form).
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

    /// How much one message may carry here (default: no limit, as the console).
    fn limits(&self) -> Limits {
        Limits::UNBOUNDED
    }

    /// Whether the author of a message is the person configured with `identity` on this
    /// platform (default: the same id), for who may do what (`engine::access`).
    fn is_author(&self, identity: &str, author: &super::room::Author) -> bool {
        identity == author.id
    }
}

/// How much one message may carry on a platform, counted the way the platform counts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest text of one message (`None`: unbounded).
    pub text: Option<usize>,
    /// A text's length as the platform counts it (Slack counts the escaped text, Telegram
    /// UTF-16 units). It must not shrink when a text is cut in two.
    pub measure: fn(&str) -> usize,
    /// The longest card title, in characters.
    pub card_title: Option<usize>,
    /// The longest card field as drawn (its label and value together, by `measure`).
    pub card_field: Option<usize>,
}

/// Characters (Unicode scalar values): how WhatsApp and most platforms count.
pub fn chars(text: &str) -> usize {
    text.chars().count()
}

impl Limits {
    pub const UNBOUNDED: Limits = Limits {
        text: None,
        measure: chars,
        card_title: None,
        card_field: None,
    };

    /// A plain text limit in characters, with no card drawn from the rich form.
    pub const fn text(max: usize) -> Limits {
        Limits {
            text: Some(max),
            ..Limits::UNBOUNDED
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::UNBOUNDED
    }
}

/// The registered platforms' rules, in a fixed order (by platform name); a platform with none
/// names people by name, pages nobody directly and takes no mirrors.
#[derive(Clone, Default)]
pub struct Reaches(Vec<Arc<dyn Reach>>);

impl Reaches {
    pub fn new(all: impl IntoIterator<Item = Arc<dyn Reach>>) -> Reaches {
        let mut all: Vec<Arc<dyn Reach>> = all.into_iter().collect();
        all.sort_by_key(|r| r.platform().as_str());
        all.dedup_by_key(|r| r.platform());
        Reaches(all)
    }

    pub fn of(&self, platform: Platform) -> Option<&dyn Reach> {
        self.0
            .iter()
            .find(|r| r.platform() == platform)
            .map(Arc::as_ref)
    }

    /// How a page names a person: the first platform (by name) that has a mention for them, or
    /// their name.
    pub fn person_mention(&self, person: &Person) -> String {
        self.0
            .iter()
            .find_map(|r| r.person_mention(person))
            .unwrap_or_else(|| person.name.clone())
    }

    /// Every platform where `person` can be paged directly, with the chat.
    pub fn direct_chats<'a>(
        &'a self,
        person: &'a Person,
    ) -> impl Iterator<Item = (Platform, String)> + 'a {
        self.0
            .iter()
            .filter_map(move |r| Some((r.platform(), r.direct_chat(person)?)))
    }

    pub fn takes_mirrors(&self, platform: Platform) -> bool {
        self.of(platform).is_some_and(|r| r.takes_mirrors())
    }

    /// A platform's limits (none for a platform with no rules registered).
    pub fn limits(&self, platform: Platform) -> Limits {
        self.of(platform).map(|r| r.limits()).unwrap_or_default()
    }
}

impl std::fmt::Debug for Reaches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|r| r.platform()))
            .finish()
    }
}

/// The platform and user id a token names: a bare id is a Slack user.
fn user_of(id: &str) -> (Platform, &str) {
    match id.split_once(':') {
        Some((ns, user)) => match Platform::parse(ns) {
            Some(platform) => (platform, user),
            None => (Platform::Slack, id),
        },
        None => (Platform::Slack, id),
    }
}

/// Renders every mention token of `texts` for a room on `platform`: the platform's own form in a
/// room of the token's platform, else `@name` (the name the token's platform adapter remembered
/// for the user, the token's label, or the bare id). `names` caches the remembered names across
/// the messages of one unit of work.
pub async fn render(
    tx: &mut dyn StoreTx,
    reaches: &Reaches,
    platform: Platform,
    texts: &mut [&mut String],
    names: &mut HashMap<(Platform, String), Option<String>>,
) -> Result<(), StoreError> {
    for text in texts.iter() {
        for (_, id, _) in text::mention_tokens(text) {
            let (on, user) = user_of(id);
            if on != platform
                && let Entry::Vacant(slot) = names.entry((on, user.to_string()))
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
        **text = text::rewrite_mentions(text, |id, label| {
            let (on, user) = user_of(id);
            if on == platform {
                return reach
                    .and_then(|r| r.mention_user(user, label))
                    .unwrap_or_else(|| match label {
                        Some(label) => format!("<@{id}|{label}>"),
                        None => format!("<@{id}>"),
                    });
            }
            let name = names.get(&(on, user.to_string())).cloned().flatten();
            format!("@{}", name.as_deref().or(label).unwrap_or(user))
        });
    }
    Ok(())
}
