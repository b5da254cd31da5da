//! Sends outbox rows through the Bot API, as HTML (Telegram's three escapes, so nothing a person
//! typed is read as markup).
//!
//! A row that carries an incident's card to a group keeps one card per group current: the
//! first makes the incident's forum topic (`INC-7 · title`, in a forum supergroup where the bot
//! may manage topics), posts the card there with its buttons and pins it; later rows edit it in
//! place, and only the newest of a burst does ("message is not modified" is success). The
//! change itself is posted in the topic, or as a reply to the card in a plain group, and so is
//! everything else about the incident. The topic is closed when the incident is resolved and
//! reopened if it reopens. Every call after a row's first waits its turn at the worker's gate,
//! which counts it against the group's 20 a minute.
//!
//! A page goes to a person's private chat, found by the username they are configured with once
//! they have written to the bot. A private answer to a button press was already shown as the
//! press's toast and is not posted again.
//!
//! Telegram's answers become the worker's: a 429's `retry_after` pauses that chat only, network
//! trouble is retried, anything the Bot API refuses is final (its description kept on the row).
//! A group that became a supergroup is followed: the move is recorded and the row sent again to
//! the new id.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use teloxide_core::payloads::{
    CreateForumTopicSetters as _, EditMessageTextSetters as _, PinChatMessageSetters as _,
    SendMessageSetters as _,
};
use teloxide_core::prelude::Requester as _;
use teloxide_core::types::{
    ChatId, InlineKeyboardMarkup, MessageId, ParseMode, ReplyParameters, Rgb, ThreadId,
};
use teloxide_core::{ApiError, RequestError};

use super::moves::Moves;
use super::people::People;
use super::{card, press};
use crate::engine::room::Platform;
use crate::outbox::{Delivered, Gate, PauseScope, Rich, SendError, Sender, Ungated};
use crate::store::{CardRef, MessageKind, OutboxRow, Store, StoreError};

/// How long a group found not to be a forum (or where the bot may not make topics) is taken
/// for one before runroom tries again: an admin may turn topics on.
const PLAIN_FOR: Duration = Duration::from_secs(600);
/// The topic icon's colour (one of the six Telegram allows): red, for an incident.
const TOPIC_COLOUR: u32 = 0xFB6F5F;

type ChatLocks = Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>;

pub struct TelegramSender {
    bot: teloxide_core::Bot,
    moves: Arc<Moves>,
    people: Arc<People>,
    store: Arc<dyn Store>,
    /// Groups where a topic could not be made, and when that was learned.
    plain: Mutex<HashMap<String, Instant>>,
    /// One lock per chat: its rows go one at a time, in the order they came (their slots'),
    /// and two rows of one incident never both post a first card.
    chat_locks: ChatLocks,
}

/// Where in a chat a message goes.
#[derive(Debug, Clone, Copy)]
enum Place {
    Chat,
    Topic(ThreadId),
    /// Under the card, in a group without topics.
    ReplyTo(MessageId),
}

impl Place {
    fn of(card: &CardRef) -> Place {
        if let Some(topic) = card.thread.as_deref().and_then(press::topic) {
            return Place::Topic(topic);
        }
        match card.message_id.parse() {
            Ok(id) if card.is_posted() => Place::ReplyTo(MessageId(id)),
            _ => Place::Chat,
        }
    }
}

/// Why a row could not go: the group moved (send it again there), or what the worker is told.
enum Trouble {
    Moved(String),
    Send(SendError),
}

impl From<SendError> for Trouble {
    fn from(error: SendError) -> Trouble {
        Trouble::Send(error)
    }
}

impl From<StoreError> for Trouble {
    fn from(error: StoreError) -> Trouble {
        Trouble::Send(SendError::retryable(format!("database: {error}")))
    }
}

/// The calls one row makes, each at its turn at the worker's gate (Telegram counts every call
/// against a group's 20 a minute); the first is the one the row's pacing slot paid for.
struct Calls<'a> {
    gate: &'a dyn Gate,
    made: AtomicU32,
}

impl<'a> Calls<'a> {
    fn new(gate: &'a dyn Gate) -> Calls<'a> {
        Calls {
            gate,
            made: AtomicU32::new(0),
        }
    }

    /// Before each call: its turn.
    async fn next(&self) -> Result<(), Trouble> {
        let extra = self.made.fetch_add(1, Ordering::SeqCst) > 0;
        self.gate.turn(extra).await?;
        Ok(())
    }
}

/// A Bot API failure for a message to `chat`, as the row's trouble.
fn trouble(chat: &str) -> impl Fn(RequestError) -> Trouble + '_ {
    move |error| match error {
        RequestError::MigrateToChatId(to) => Trouble::Moved(to.0.to_string()),
        other => Trouble::Send(classify(other, chat)),
    }
}

fn chat_id(chat: &str) -> ChatId {
    ChatId(chat.trim().parse().unwrap_or_default())
}

impl TelegramSender {
    pub fn new(
        bot: teloxide_core::Bot,
        moves: Arc<Moves>,
        people: Arc<People>,
        store: Arc<dyn Store>,
    ) -> TelegramSender {
        TelegramSender {
            bot,
            moves,
            people,
            store,
            plain: Mutex::new(HashMap::new()),
            chat_locks: Mutex::new(HashMap::new()),
        }
    }

    /// The chat a row goes to now: a group followed past its move, a person's `@username` as
    /// their private chat.
    async fn destination(&self, configured: &str) -> Result<String, SendError> {
        let unreadable = |e: StoreError| SendError::retryable(format!("database: {e}"));
        if configured.trim().parse::<i64>().is_ok() {
            return self.moves.current(configured).await.map_err(unreadable);
        }
        if configured.starts_with('@') {
            return self
                .people
                .chat_of(configured)
                .await
                .map_err(unreadable)?
                .ok_or_else(|| {
                    SendError::permanent(format!(
                        "{configured} has not written to the bot yet: they open a private chat \
                         with it and send /start"
                    ))
                });
        }
        Err(SendError::permanent(format!(
            "{configured:?} is not a Telegram chat id"
        )))
    }

    /// Sends `text` (escaped here) to `place` in `chat`; returns the message's id.
    async fn post(
        &self,
        calls: &Calls<'_>,
        chat: &str,
        text: &str,
        (place, keyboard): (Place, Option<InlineKeyboardMarkup>),
    ) -> Result<String, Trouble> {
        self.post_html(calls, chat, html(text), (place, keyboard))
            .await
    }

    async fn post_html(
        &self,
        calls: &Calls<'_>,
        chat: &str,
        text: String,
        (place, keyboard): (Place, Option<InlineKeyboardMarkup>),
    ) -> Result<String, Trouble> {
        calls.next().await?;
        let mut request = self
            .bot
            .send_message(chat_id(chat), text)
            .parse_mode(ParseMode::Html);
        match place {
            Place::Chat => {}
            Place::Topic(topic) => request = request.message_thread_id(topic),
            // The card may be gone (deleted, or left behind in a group that moved): the change
            // still goes.
            Place::ReplyTo(card) => {
                request = request
                    .reply_parameters(ReplyParameters::new(card).allow_sending_without_reply())
            }
        }
        if let Some(keyboard) = keyboard {
            request = request.reply_markup(keyboard);
        }
        let sent = request.await.map_err(trouble(chat))?;
        Ok(sent.id.0.to_string())
    }

    fn chat_lock(&self, chat: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = lock(&self.chat_locks);
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        locks.entry(chat.to_string()).or_default().clone()
    }

    /// Makes the incident's forum topic; `None` where topics cannot be made (not a forum, or
    /// the bot may not manage topics), remembered for a while. The bool: whether a call was made.
    async fn make_topic(
        &self,
        calls: &Calls<'_>,
        chat: &str,
        rich: &Rich,
    ) -> Result<Option<String>, Trouble> {
        let plain = lock(&self.plain)
            .get(chat)
            .is_some_and(|since| since.elapsed() < PLAIN_FOR);
        if plain {
            return Ok(None);
        }
        calls.next().await?;
        let made = self
            .bot
            .create_forum_topic(chat_id(chat), card::topic_name(rich))
            .icon_color(Rgb::from_u32(TOPIC_COLOUR))
            .await;
        match made {
            Ok(topic) => Ok(Some(topic.thread_id.0.0.to_string())),
            Err(RequestError::Api(error)) => {
                tracing::info!(%error, "no forum topic for the incident; its messages reply to its card");
                lock(&self.plain).insert(chat.to_string(), Instant::now());
                Ok(None)
            }
            Err(other) => Err(trouble(chat)(other)),
        }
    }

    /// Closes or reopens a topic. A failure is only logged: the messages go all the same.
    async fn set_topic(
        &self,
        calls: &Calls<'_>,
        chat: &str,
        topic: ThreadId,
        closed: bool,
    ) -> Result<(), Trouble> {
        calls.next().await?;
        let done = if closed {
            self.bot.close_forum_topic(chat_id(chat), topic).await
        } else {
            self.bot.reopen_forum_topic(chat_id(chat), topic).await
        };
        if let Err(error) = done {
            tracing::warn!(%error, closed, "could not change the incident's topic");
        }
        Ok(())
    }

    /// Edits the card to show `rich`. A card that cannot be edited any more (deleted, or left
    /// in a group that moved) stays as it is: the change itself still goes.
    async fn edit(
        &self,
        calls: &Calls<'_>,
        chat: &str,
        message: MessageId,
        rich: &Rich,
    ) -> Result<(), Trouble> {
        calls.next().await?;
        let mut request = self
            .bot
            .edit_message_text(chat_id(chat), message, card::text(rich))
            .parse_mode(ParseMode::Html);
        if let Some(keyboard) = card::keyboard(rich) {
            request = request.reply_markup(keyboard);
        }
        match request.await {
            Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
            Err(RequestError::Api(
                error @ (ApiError::MessageToEditNotFound | ApiError::MessageCantBeEdited),
            )) => {
                tracing::warn!(%error, "the incident card can no longer be edited");
                Ok(())
            }
            Err(other) => Err(trouble(chat)(other)),
        }
    }

    /// A row that carries the incident's card to a group: the card made or brought up to date,
    /// then the change posted in the incident's place.
    async fn with_card(
        &self,
        calls: &Calls<'_>,
        row: &OutboxRow,
        chat: &str,
        (incident, rich): (i64, &Rich),
    ) -> Result<Delivered, Trouble> {
        // Cards are kept under the room's configured chat, which a move does not change.
        let key = row.message.chat.as_str();
        let now = chrono::Utc::now();
        let mut close = None;
        let card = match self.store.card(Platform::Telegram, key, incident).await? {
            Some(card) if card.is_posted() => {
                let newest = row.id > card.outbox_id
                    && !self
                        .store
                        .newer_card_row(Platform::Telegram, key, incident, row.id)
                        .await?;
                if newest {
                    let topic = card.thread.as_deref().and_then(press::topic);
                    if let Some(topic) = topic.filter(|_| card.closed && !rich.closed) {
                        self.set_topic(calls, chat, topic, false).await?;
                    }
                    let message = MessageId(card.message_id.parse().unwrap_or_default());
                    self.edit(calls, chat, message, rich).await?;
                    let shown = CardRef {
                        outbox_id: row.id,
                        closed: rich.closed,
                        ..card.clone()
                    };
                    self.store
                        .save_card(Platform::Telegram, key, incident, &shown, now)
                        .await?;
                    close = topic.filter(|_| rich.closed && !card.closed);
                }
                card
            }
            placed => {
                let thread = match placed.and_then(|p| p.thread) {
                    Some(thread) => Some(thread),
                    None => {
                        let made = self.make_topic(calls, chat, rich).await?;
                        if let Some(thread) = &made {
                            // Kept before the card is posted: a retry uses this topic.
                            let place = CardRef {
                                thread: Some(thread.clone()),
                                ..CardRef::new("", 0)
                            };
                            self.store
                                .save_card(Platform::Telegram, key, incident, &place, now)
                                .await?;
                        }
                        made
                    }
                };
                let place = match thread.as_deref().and_then(press::topic) {
                    Some(topic) => Place::Topic(topic),
                    None => Place::Chat,
                };
                let message = self
                    .post_html(calls, chat, card::text(rich), (place, card::keyboard(rich)))
                    .await?;
                let card = CardRef {
                    message_id: message,
                    outbox_id: row.id,
                    thread,
                    closed: rich.closed,
                };
                self.store
                    .save_card(Platform::Telegram, key, incident, &card, now)
                    .await?;
                self.pin(calls, chat, &card).await?;
                card
            }
        };
        let id = self
            .post(calls, chat, &row.message.text, (Place::of(&card), None))
            .await?;
        // The change went: a retry must not post it again, so a turn too far off for the lease
        // leaves the topic open (logged) rather than failing the row.
        if let Some(topic) = close
            && let Err(Trouble::Send(error)) = self.set_topic(calls, chat, topic, true).await
        {
            tracing::warn!(%error, "the incident's topic stays open");
        }
        Ok(Delivered {
            platform_message_id: Some(id),
        })
    }

    /// Pins the card (silently). Pinning needs the right to: without it the card stands
    /// unpinned.
    async fn pin(&self, calls: &Calls<'_>, chat: &str, card: &CardRef) -> Result<(), Trouble> {
        let Ok(message) = card.message_id.parse() else {
            return Ok(());
        };
        calls.next().await?;
        let pinned = self
            .bot
            .pin_chat_message(chat_id(chat), MessageId(message))
            .disable_notification(true)
            .await;
        if let Err(error) = pinned {
            tracing::warn!(%error, "could not pin the incident card");
        }
        Ok(())
    }

    /// Any other row: about an incident, into its place in a group (once its card is up);
    /// otherwise where the row says, with the card's buttons when it has them (a page).
    async fn plain(
        &self,
        calls: &Calls<'_>,
        row: &OutboxRow,
        chat: &str,
    ) -> Result<Delivered, Trouble> {
        let m = &row.message;
        let group = chat.starts_with('-');
        let card = match m.incident {
            Some(incident) if group => {
                self.store
                    .card(Platform::Telegram, &m.chat, incident)
                    .await?
            }
            _ => None,
        };
        let place = match (card, m.thread.as_deref().and_then(press::topic)) {
            (Some(card), _) => Place::of(&card),
            (None, Some(topic)) => Place::Topic(topic),
            (None, None) => Place::Chat,
        };
        let keyboard = m.rich.as_ref().and_then(card::keyboard);
        let id = self.post(calls, chat, &m.text, (place, keyboard)).await?;
        Ok(Delivered {
            platform_message_id: Some(id),
        })
    }

    async fn deliver(
        &self,
        calls: &Calls<'_>,
        row: &OutboxRow,
        chat: &str,
    ) -> Result<Delivered, Trouble> {
        let m = &row.message;
        let group = chat.starts_with('-');
        match (&m.rich, m.incident) {
            (Some(rich), Some(incident)) if group && m.kind != MessageKind::Page => {
                self.with_card(calls, row, chat, (incident, rich)).await
            }
            _ => self.plain(calls, row, chat).await,
        }
    }
}

/// Text as Telegram's HTML mode takes it: `&`, `<`, `>` escaped, nothing else.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// How the worker treats a Bot API failure for a message to `chat`.
pub fn classify(error: RequestError, chat: &str) -> SendError {
    match error {
        RequestError::RetryAfter(after) => SendError::rate_limited(
            format!("Telegram: retry after {}", after.seconds()),
            after.duration(),
            PauseScope::Chat(chat.to_string()),
        ),
        RequestError::Network(e) => SendError::retryable(format!("Telegram unreachable: {e}")),
        RequestError::InvalidJson { .. } => {
            SendError::retryable("Telegram answered with something that is not the Bot API")
        }
        RequestError::Io(e) => SendError::retryable(format!("Telegram: {e}")),
        // `send` follows a move itself; a second one for the same message is retried later.
        RequestError::MigrateToChatId(to) => {
            SendError::retryable(format!("Telegram: the group moved to chat {}", to.0))
        }
        RequestError::Api(ApiError::Unknown(text)) if is_server_trouble(&text) => {
            SendError::retryable(format!("Telegram: {text}"))
        }
        RequestError::Api(ApiError::CantInitiateConversation | ApiError::BotBlocked) => {
            SendError::permanent(
                "Telegram: the person has not started a private chat with the bot (/start)",
            )
        }
        RequestError::Api(e) => SendError::permanent(format!("Telegram refused it: {e}")),
    }
}

/// The Bot API's own descriptions of a failure on its side.
fn is_server_trouble(text: &str) -> bool {
    [
        "Internal Server Error",
        "Bad Gateway",
        "Gateway Timeout",
        "Service Unavailable",
    ]
    .iter()
    .any(|t| text.contains(t))
}

#[async_trait]
impl Sender for TelegramSender {
    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    async fn send(&self, row: &OutboxRow) -> Result<Delivered, SendError> {
        self.send_gated(row, &Ungated).await
    }

    async fn send_gated(&self, row: &OutboxRow, gate: &dyn Gate) -> Result<Delivered, SendError> {
        let calls = Calls::new(gate);
        let m = &row.message;
        // One row at a time per chat; a wait the lease cannot cover gives the row back.
        let held = self.chat_lock(&m.chat);
        let Ok(_held) = tokio::time::timeout(gate.max_wait(), held.lock()).await else {
            return Err(crate::outbox::worker::busy(
                &m.chat,
                chrono::Duration::from_std(gate.max_wait()).unwrap_or_default(),
            ));
        };
        // The toast of the press it answers showed it already.
        if m.recipient.is_some() && press::is_press(m.thread.as_deref()) && press::fits(&m.text) {
            return Ok(Delivered::default());
        }
        let chat = self.destination(&m.chat).await?;
        match self.deliver(&calls, row, &chat).await {
            Ok(delivered) => Ok(delivered),
            Err(Trouble::Send(error)) => Err(error),
            // The group became a supergroup: follow it, and send this row there now.
            Err(Trouble::Moved(to)) => {
                self.moves
                    .record(&chat, &to, chrono::Utc::now())
                    .await
                    .map_err(|e| SendError::retryable(format!("database: {e}")))?;
                match self.deliver(&calls, row, &to).await {
                    Ok(delivered) => Ok(delivered),
                    Err(Trouble::Send(error)) => Err(error),
                    Err(Trouble::Moved(again)) => Err(SendError::retryable(format!(
                        "Telegram: the group moved to chat {again}"
                    ))),
                }
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_only_what_telegram_reads_as_markup() {
        assert_eq!(
            html("<b>5 > 3 & \"x\"</b>"),
            "&lt;b&gt;5 &gt; 3 &amp; \"x\"&lt;/b&gt;"
        );
    }
}
