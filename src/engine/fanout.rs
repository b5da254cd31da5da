//! Who hears what: the messages one unit of work causes, rendered per room (its language, its
//! zone, its form) with deterministic idempotency keys — the unit's key plus a sequence — so
//! the same decision can never enqueue a message twice. A roster room's message goes to each
//! of its members; a war room's carries the incident card; an announce room hears the
//! customer-safe form.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::incident::{Event, Incident};
use super::playbook::Texts;
use super::reply::{self, Card};
use super::room::{Room, RoomRole};
use crate::i18n::{I18n, Lang, Msg};
use crate::outbox::{Rich, RichButton, RichField};
use crate::store::{MessageKind, NewOutbound, Topic};

/// What a message carries besides its text.
pub enum Form<'c> {
    Plain,
    /// The incident card (war rooms).
    Card(&'c Card),
    /// Only this user (a platform user id) sees it.
    Private(String),
}

/// What a change's message is about, for platforms that must send it as one of a few
/// pre-approved templates (WhatsApp outside the 24-hour window).
pub fn topic(event: &Event) -> Topic {
    match event {
        Event::Declared { .. } => Topic::Alert,
        Event::Paged { .. } => Topic::Page,
        _ => Topic::Update,
    }
}

/// The messages of one unit of work, in the order they were decided.
pub struct Fanout {
    /// What every message's idempotency key starts with; `None` in a unit with no guard, which
    /// queues only rows that carry their own keys ([`super::unit::Unit::keep`]).
    key: Option<String>,
    /// The platform id of who sent the command, for answers only they should see.
    author: String,
    now: DateTime<Utc>,
    thread: Option<String>,
    /// Languages rooms chose from chat, over config.
    languages: HashMap<String, Lang>,
    i18n: Arc<I18n>,
    /// The topic of what is being rendered (see [`topic`]).
    pub topic: Option<Topic>,
    /// A job that fires well after its time says so: when it was due.
    pub late: Option<DateTime<Utc>>,
    /// Rendered here: their mention tokens are rendered per room when the unit commits.
    pub messages: Vec<NewOutbound>,
    /// Queued as they are (relayed words, a re-queued row): nothing in them is rendered again.
    pub verbatim: Vec<NewOutbound>,
    /// Rendered and fitted before the unit began (a query's answer): queued first, untouched.
    pub ready: Vec<NewOutbound>,
}

impl Fanout {
    pub fn new(
        key: Option<&str>,
        now: DateTime<Utc>,
        languages: HashMap<String, Lang>,
        i18n: Arc<I18n>,
    ) -> Fanout {
        Fanout {
            key: key.map(str::to_string),
            author: String::new(),
            now,
            thread: None,
            languages,
            i18n,
            topic: None,
            late: None,
            messages: Vec::new(),
            verbatim: Vec::new(),
            ready: Vec::new(),
        }
    }

    /// Answers go to `author` privately and to `thread` (the thread the command came from).
    pub fn answering(&mut self, author: &str, thread: Option<String>) {
        self.author = author.to_string();
        self.thread = thread;
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The language a room speaks now.
    pub fn language_of(&self, room: &Room) -> Lang {
        self.languages
            .get(&room.id)
            .copied()
            .unwrap_or(room.language)
    }

    /// A room chose a language from chat: what follows in this unit speaks it.
    pub fn set_language(&mut self, room: &str, lang: Lang) {
        self.languages.insert(room.to_string(), lang);
    }

    pub fn render(&self, room: &Room, msg: &Msg) -> String {
        self.i18n.render(self.language_of(room), room.timezone, msg)
    }

    /// The next message's idempotency key: the unit's key and a sequence. A unit with no key
    /// has no way to make one that a retry would repeat, so asking is a bug.
    fn next_key(&self) -> Option<String> {
        let n = self.messages.len() + self.verbatim.len();
        match &self.key {
            Some(key) => Some(format!("{key}#{n}")),
            None => {
                debug_assert!(false, "a unit with no key queued a message without one");
                tracing::error!("a unit with no key queued a message without one; skipped");
                None
            }
        }
    }

    /// Queues words that are already what the room should read (a relayed line): under the next
    /// key, with nothing in them rendered again.
    pub fn queue_verbatim(&mut self, mut message: NewOutbound) {
        if let Some(key) = self.next_key() {
            message.idempotency_key = key;
            self.verbatim.push(message);
        }
    }

    /// A message to `room` (to each member of a roster).
    pub fn push(
        &mut self,
        room: &Room,
        kind: MessageKind,
        priority: i64,
        incident: Option<i64>,
        msg: &Msg,
        form: Form<'_>,
    ) {
        let (card, recipient) = match form {
            Form::Plain => (None, None),
            Form::Card(card) => (Some(card), None),
            Form::Private(user) => (None, Some(user)),
        };
        let language = self.language_of(room);
        let render = |m: &Msg| self.i18n.render(language, room.timezone, m);
        let rich = card.map(|c| Rich {
            title: render(&c.title),
            fields: c
                .fields
                .iter()
                .map(|(label, value)| RichField {
                    label: render(label),
                    value: render(value),
                })
                .collect(),
            buttons: c
                .buttons
                .iter()
                .map(|(id, label)| RichButton {
                    id: id.clone(),
                    label: render(label),
                })
                .collect(),
            name: Some(c.name.clone()),
            closed: c.closed,
        });
        let mut text = render(msg);
        if let Some(due) = self.late {
            text.push('\n');
            text.push_str(&render(&reply::late(due)));
        }
        let message = |chat: &str, recipient: Option<String>| NewOutbound {
            idempotency_key: String::new(),
            room_id: room.id.clone(),
            platform: room.platform,
            chat: chat.to_string(),
            // Replies stay in the thread the command came from; broadcasts start at the room.
            thread: if kind == MessageKind::Reply {
                self.thread.clone()
            } else {
                None
            },
            kind,
            language,
            text: text.clone(),
            rich: rich.clone(),
            incident,
            priority,
            created_at: self.now,
            recipient,
            topic: self.topic,
        };
        let batch: Vec<NewOutbound> = if room.members.is_empty() {
            vec![message(&room.chat, recipient)]
        } else {
            // A roster is its members' one-to-one chats: the room's message goes to each of
            // them, and a private answer only to the one it is for.
            let only = recipient.filter(|r| room.members.contains(r));
            room.members
                .iter()
                .filter(|m| only.as_ref().is_none_or(|r| r == *m))
                .map(|m| message(m, None))
                .collect()
        };
        for mut m in batch {
            if let Some(key) = self.next_key() {
                m.idempotency_key = key;
                self.messages.push(m);
            }
        }
    }

    /// To the sender's room; replies go first (priority 0): someone is waiting for them.
    pub fn reply(&mut self, origin: &Room, incident: Option<i64>, msg: &Msg) {
        self.push(origin, MessageKind::Reply, 0, incident, msg, Form::Plain);
    }

    /// An answer that changes nothing; `private`: only the author sees it, where the platform
    /// allows (an error, or the answer to a slash command).
    pub fn answer(&mut self, origin: &Room, msg: &Msg, private: bool) {
        let form = if private && !self.author.is_empty() {
            Form::Private(self.author.clone())
        } else {
            Form::Plain
        };
        self.push(origin, MessageKind::Reply, 0, None, msg, form);
    }

    /// The origin room gets the change as its reply; every other war room the same as a
    /// broadcast, more urgent the higher the severity; announce rooms the customer-safe form of
    /// the changes they hear about. War rooms' messages carry the incident card.
    /// `customer`: a playbook's customer message for this change, which announce rooms get
    /// instead of the generic customer-safe form.
    pub fn broadcast(
        &mut self,
        origin: Option<&Room>,
        rooms: &[Room],
        incident: &Incident,
        event: &Event,
        msg: &Msg,
        customer: Option<&Texts>,
    ) {
        let card = reply::card(incident);
        let priority = incident.severity.number();
        let number = Some(incident.number);
        if let Some(origin) = origin {
            self.push(
                origin,
                MessageKind::Reply,
                0,
                number,
                msg,
                Form::Card(&card),
            );
        }
        for room in rooms.iter().filter(|r| origin.is_none_or(|o| r.id != o.id)) {
            match room.role {
                RoomRole::WarRoom => self.push(
                    room,
                    MessageKind::Broadcast,
                    priority,
                    number,
                    msg,
                    Form::Card(&card),
                ),
                RoomRole::Announce => {
                    // A playbook's words replace the generic text of a change announce rooms hear.
                    let public =
                        reply::announcement(incident, event, self.now).map(
                            |generic| match customer {
                                Some(texts) => reply::customer_message(
                                    incident,
                                    texts.get(self.language_of(room)),
                                ),
                                None => generic,
                            },
                        );
                    if let Some(public) = public {
                        self.push(
                            room,
                            MessageKind::Broadcast,
                            priority,
                            number,
                            &public,
                            Form::Plain,
                        );
                    }
                }
            }
        }
    }
}
