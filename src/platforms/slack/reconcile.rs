//! Finding a send of unknown outcome. Every post carries its outbox id and part (the card, or
//! the text) in the message's `metadata`. A row claimed again after its worker stopped mid-send
//! (`OutboxRow::in_doubt`) is looked up before it is sent again: its card among the channel's
//! messages since a little before the row fell due (`conversations.history`), its text there
//! or under its thread (`conversations.replies`). A card found is recorded and pinned as if its
//! post had answered; a text found marks the row sent. Ephemeral answers cannot be looked up
//! and are sent again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use slack_morphism::prelude::{
    SlackApiConversationsHistoryRequest, SlackApiConversationsRepliesRequest, SlackChannelId,
    SlackCursorId, SlackHistoryMessage, SlackMessageMetadata, SlackTs,
};

use super::outbound::SlackSender;
use crate::engine::room::Platform;
use crate::outbox::{Delivered, SendError};
use crate::store::{MessageKind, OutboxRow};

/// The metadata's event type on runroom's posts.
const EVENT_TYPE: &str = "runroom_outbox";
const HISTORY: &str = "conversations.history";
const REPLIES: &str = "conversations.replies";
/// How long before the row fell due a lookup starts: the clocks of runroom and Slack differ.
const SKEW: chrono::Duration = chrono::Duration::minutes(5);
/// Messages a lookup reads per request, and the most requests it makes: a send of unknown
/// outcome is recent, so 1,000 messages since a little before it fell due reach back far
/// enough in any war room but a flood; one not found by then is sent again.
const PAGE: u16 = 200;
const PAGES: usize = 5;

/// Which of a row's posts a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Card,
    Text,
}

impl Part {
    fn as_str(self) -> &'static str {
        match self {
            Part::Card => "card",
            Part::Text => "text",
        }
    }
}

/// A post's outbox id and part, as its metadata carries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    outbox: i64,
    part: Part,
}

impl Tag {
    pub fn card(outbox: i64) -> Tag {
        Tag {
            outbox,
            part: Part::Card,
        }
    }

    pub fn text(outbox: i64) -> Tag {
        Tag {
            outbox,
            part: Part::Text,
        }
    }

    pub fn metadata(self) -> SlackMessageMetadata {
        SlackMessageMetadata::new(EVENT_TYPE.to_string()).with_event_payload(HashMap::from([
            ("outbox_id".to_string(), self.outbox.to_string()),
            ("part".to_string(), self.part.as_str().to_string()),
        ]))
    }

    fn marks(self, message: &SlackHistoryMessage) -> bool {
        let Some(meta) = &message.content.metadata else {
            return false;
        };
        let payload = meta.event_payload.as_ref();
        let field = |name: &str| payload.and_then(|p| p.get(name)).map(String::as_str);
        meta.event_type == EVENT_TYPE
            && field("outbox_id") == Some(self.outbox.to_string().as_str())
            && field("part") == Some(self.part.as_str())
    }
}

/// Slack's `ts` for a time.
fn ts_at(at: DateTime<Utc>) -> SlackTs {
    SlackTs(format!(
        "{}.{:06}",
        at.timestamp(),
        at.timestamp_subsec_micros()
    ))
}

impl SlackSender {
    /// The `ts` of the post `tag` marks in `channel` (under `thread`), posted since `since`.
    /// Follows the cursor for at most [`PAGES`] pages: after a burst the post may be older
    /// than the newest page.
    async fn find(
        &self,
        channel: &str,
        thread: Option<&str>,
        since: DateTime<Utc>,
        tag: Tag,
    ) -> Result<Option<String>, SendError> {
        let session = self.client.open_session(&self.token);
        let id = SlackChannelId(channel.into());
        let mut cursor: Option<SlackCursorId> = None;
        for _ in 0..PAGES {
            let (messages, metadata) = match thread {
                Some(thread) => {
                    let mut request = SlackApiConversationsRepliesRequest::new(
                        id.clone(),
                        SlackTs(thread.into()),
                    )
                    .with_oldest(ts_at(since))
                    .with_limit(PAGE);
                    request.cursor = cursor.take();
                    let page = self
                        .call(REPLIES, channel, session.conversations_replies(&request))
                        .await?;
                    (page.messages, page.response_metadata)
                }
                None => {
                    let mut request = SlackApiConversationsHistoryRequest::new()
                        .with_channel(id.clone())
                        .with_oldest(ts_at(since))
                        .with_limit(PAGE)
                        .with_include_all_metadata(true);
                    request.cursor = cursor.take();
                    let page = self
                        .call(HISTORY, channel, session.conversations_history(&request))
                        .await?;
                    (page.messages, page.response_metadata)
                }
            };
            if let Some(found) = messages.iter().find(|m| tag.marks(m)) {
                return Ok(Some(found.origin.ts.0.clone()));
            }
            cursor = metadata
                .and_then(|m| m.next_cursor)
                .filter(|c| !c.0.is_empty());
            if cursor.is_none() {
                break;
            }
        }
        Ok(None)
    }

    /// What an in-doubt row already delivered: `Some` when its text is on Slack (its card, if
    /// it posted one, is recorded too); `None` to send it.
    pub(super) async fn reconcile_row(
        &self,
        row: &OutboxRow,
    ) -> Result<Option<Delivered>, SendError> {
        let m = &row.message;
        if m.recipient.is_some() {
            return Ok(None);
        }
        let since = row.next_attempt_at - SKEW;
        let card = |incident| async move {
            self.store
                .card(Platform::Slack, &m.chat, incident)
                .await
                .map_err(|e| SendError::retryable(format!("database: {e}")))
        };
        let thread = match (&m.rich, m.incident) {
            (Some(_), Some(incident)) => match card(incident).await? {
                Some(card) => {
                    // This row recorded the card, and its worker may have stopped before the
                    // pin that follows the record.
                    if card.outbox_id == row.id {
                        self.pin(&m.chat, incident, &card.message_id).await;
                    }
                    Some(card.message_id)
                }
                None => match self.find(&m.chat, None, since, Tag::card(row.id)).await? {
                    Some(ts) => {
                        // The card went up before the worker stopped: keep it, as the post's
                        // answer would have.
                        self.keep_card(row, incident, &ts).await?;
                        Some(ts)
                    }
                    // No card: nothing of this row reached Slack.
                    None => return Ok(None),
                },
            },
            (None, Some(incident)) if m.kind == MessageKind::Mirror => card(incident)
                .await?
                .map(|c| c.message_id)
                .or_else(|| m.thread.clone()),
            _ => m.thread.clone(),
        };
        let found = self
            .find(&m.chat, thread.as_deref(), since, Tag::text(row.id))
            .await?;
        Ok(found.map(|ts| Delivered {
            platform_message_id: Some(ts),
        }))
    }
}
