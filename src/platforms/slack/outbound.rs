//! Sending through the Web API. A message that carries the incident card (`rich`) keeps one card
//! per channel current: the first is posted and pinned, later ones edit it with `chat.update`,
//! and the change itself goes as a reply in the card's thread (the channel's timeline of the
//! incident). Private answers go as ephemeral messages; everything else is a plain post.
//! Slack's errors are sorted into "retry" (429 with Retry-After, 5xx, timeouts) and "never".
//! Slack limits each method per workspace, and `chat.postMessage` also per channel, so a 429
//! pauses only that method (in that channel, for `chat.postMessage`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::{
    SlackApiChatPostEphemeralRequest, SlackApiChatPostMessageRequest, SlackApiChatUpdateRequest,
    SlackApiPinsAddRequest, SlackApiToken, SlackChannelId, SlackMessageContent, SlackTs,
    SlackUserId,
};

use super::reconcile::Tag;
use super::{SlackHttpClient, blocks};
use crate::engine::room::Platform;
use crate::outbox::{Delivered, PauseScope, Rich, SendError, Sender};
use crate::store::{CardRef, MessageKind, OutboxRow, Store};

/// Slack's errors that another attempt can fix.
const RETRYABLE_CODES: &[&str] = &[
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
];

type CardLocks = Mutex<HashMap<(String, i64), Arc<tokio::sync::Mutex<()>>>>;

pub struct SlackSender {
    pub(super) client: Arc<SlackHttpClient>,
    pub(super) token: SlackApiToken,
    pub(super) store: Arc<dyn Store>,
    timeout: Duration,
    /// One lock per (channel, incident): two rows of one incident never both post a first card.
    card_locks: CardLocks,
}

const POST: &str = "chat.postMessage";
const UPDATE: &str = "chat.update";
const EPHEMERAL: &str = "chat.postEphemeral";
const PINS_ADD: &str = "pins.add";

/// What a 429 on `method` to `channel` pauses: `chat.postMessage` is limited per channel, the
/// other methods per workspace.
fn pause_scope(method: &'static str, channel: &str) -> PauseScope {
    if method == POST {
        PauseScope::MethodInChat {
            method,
            chat: channel.to_string(),
        }
    } else {
        PauseScope::Method(method)
    }
}

fn classify(error: SlackClientError, method: &'static str, channel: &str) -> SendError {
    match error {
        SlackClientError::RateLimitError(e) => SendError::Retryable {
            reason: format!("slack: 429 rate limited on {method}"),
            retry_after: e.retry_after,
            scope: pause_scope(method, channel),
        },
        SlackClientError::ApiError(e) if RETRYABLE_CODES.contains(&e.code.as_str()) => {
            SendError::retryable(format!("slack: {}", e.code))
        }
        SlackClientError::ApiError(e) => SendError::permanent(format!("slack: {}", e.code)),
        SlackClientError::HttpError(e) if e.status_code.is_server_error() => {
            SendError::retryable(format!("slack: HTTP {}", e.status_code))
        }
        SlackClientError::HttpError(e) => {
            SendError::permanent(format!("slack: HTTP {}", e.status_code))
        }
        // Connection failures and unreadable answers: the network, not the message.
        other => SendError::retryable(format!("slack: {other}")),
    }
}

fn content_text(text: &str) -> SlackMessageContent {
    SlackMessageContent::new().with_text(blocks::escape(text))
}

fn card_content(rich: &Rich) -> SlackMessageContent {
    SlackMessageContent::new()
        .with_text(blocks::escape(&rich.title))
        .with_blocks(blocks::card(rich))
}

impl SlackSender {
    pub fn new(
        client: Arc<SlackHttpClient>,
        token: SlackApiToken,
        store: Arc<dyn Store>,
        timeout: Duration,
    ) -> SlackSender {
        SlackSender {
            client,
            token,
            store,
            timeout,
            card_locks: Mutex::new(HashMap::new()),
        }
    }

    pub(super) async fn call<T>(
        &self,
        method: &'static str,
        channel: &str,
        call: impl Future<Output = Result<T, SlackClientError>>,
    ) -> Result<T, SendError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result.map_err(|e| classify(e, method, channel)),
            Err(_) => Err(SendError::retryable("slack: timed out")),
        }
    }

    /// Posts one part of a row, tagged with the row's id in the message's `metadata` so that
    /// a send of unknown outcome can be found later ([`super::reconcile`]).
    async fn post(
        &self,
        channel: &str,
        content: SlackMessageContent,
        thread: Option<&str>,
        tag: Tag,
    ) -> Result<String, SendError> {
        let session = self.client.open_session(&self.token);
        let mut request = SlackApiChatPostMessageRequest::new(
            SlackChannelId(channel.into()),
            content.with_metadata(tag.metadata()),
        );
        if let Some(thread) = thread {
            request = request.with_thread_ts(SlackTs(thread.into()));
        }
        let posted = self
            .call(POST, channel, session.chat_post_message(&request))
            .await?;
        Ok(posted.ts.0)
    }

    fn card_lock(&self, channel: &str, incident: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .card_locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        locks
            .entry((channel.to_string(), incident))
            .or_default()
            .clone()
    }

    /// Posts or edits the incident's card in this channel; returns the card's `ts`.
    async fn show_card(
        &self,
        row: &OutboxRow,
        incident: i64,
        rich: &Rich,
    ) -> Result<String, SendError> {
        let channel = &row.message.chat;
        let store_error =
            |e: crate::store::StoreError| SendError::retryable(format!("database: {e}"));
        let card = self
            .store
            .card(Platform::Slack, channel, incident)
            .await
            .map_err(store_error)?;
        match card {
            Some(card) => {
                // A retried older row must not put stale content back on the card.
                if row.id > card.outbox_id {
                    let session = self.client.open_session(&self.token);
                    let request = SlackApiChatUpdateRequest::new(
                        SlackChannelId(channel.clone()),
                        card_content(rich),
                        SlackTs(card.message_id.clone()),
                    );
                    self.call(UPDATE, channel, session.chat_update(&request))
                        .await?;
                    let shown = CardRef {
                        outbox_id: row.id,
                        ..card.clone()
                    };
                    self.store
                        .save_card(
                            Platform::Slack,
                            channel,
                            incident,
                            &shown,
                            chrono::Utc::now(),
                        )
                        .await
                        .map_err(store_error)?;
                }
                Ok(card.message_id)
            }
            None => {
                let ts = self
                    .post(channel, card_content(rich), None, Tag::card(row.id))
                    .await?;
                self.keep_card(row, incident, &ts).await?;
                Ok(ts)
            }
        }
    }

    /// Records a newly posted card for its channel and incident, and pins it.
    pub(super) async fn keep_card(
        &self,
        row: &OutboxRow,
        incident: i64,
        ts: &str,
    ) -> Result<(), SendError> {
        let channel = &row.message.chat;
        let card = CardRef::new(ts.to_string(), row.id);
        self.store
            .save_card(
                Platform::Slack,
                channel,
                incident,
                &card,
                chrono::Utc::now(),
            )
            .await
            .map_err(|e| SendError::retryable(format!("database: {e}")))?;
        self.pin(channel, incident, ts).await;
        Ok(())
    }

    /// Pins the incident's card; pinning it again is harmless (`already_pinned`). Pinning is a
    /// convenience: a failure is logged, the card stands.
    pub(super) async fn pin(&self, channel: &str, incident: i64, ts: &str) {
        let session = self.client.open_session(&self.token);
        let pin = SlackApiPinsAddRequest::new(SlackChannelId(channel.into()), SlackTs(ts.into()));
        match self.call(PINS_ADD, channel, session.pins_add(&pin)).await {
            Ok(_) => {}
            Err(SendError::Permanent { reason }) if reason.ends_with("already_pinned") => {}
            Err(error) => tracing::warn!(%error, incident, "could not pin the incident card"),
        }
    }
}

#[async_trait]
impl Sender for SlackSender {
    fn platform(&self) -> Platform {
        Platform::Slack
    }

    fn methods(&self, row: &OutboxRow) -> &'static [&'static str] {
        let m = &row.message;
        if m.recipient.is_some() {
            &[EPHEMERAL]
        } else if m.rich.is_some() && m.incident.is_some() {
            // The card is edited (or posted, when it is the first), then the change is posted.
            &[UPDATE, POST]
        } else {
            &[POST]
        }
    }

    async fn send(&self, row: &OutboxRow) -> Result<Delivered, SendError> {
        let m = &row.message;
        if let Some(user) = &m.recipient {
            let session = self.client.open_session(&self.token);
            let mut request = SlackApiChatPostEphemeralRequest::new(
                SlackChannelId(m.chat.clone()),
                SlackUserId(user.clone()),
                content_text(&m.text),
            );
            if let Some(thread) = &m.thread {
                request = request.with_thread_ts(SlackTs(thread.clone()));
            }
            self.call(EPHEMERAL, &m.chat, session.chat_post_ephemeral(&request))
                .await?;
            return Ok(Delivered::default());
        }
        let ts = match (&m.rich, m.incident) {
            (Some(rich), Some(incident)) => {
                let lock = self.card_lock(&m.chat, incident);
                let _held = lock.lock().await;
                let card = self.show_card(row, incident, rich).await?;
                self.post(
                    &m.chat,
                    content_text(&m.text),
                    Some(&card),
                    Tag::text(row.id),
                )
                .await?
            }
            // Relayed chatter from a WhatsApp roster goes into the incident card's thread, once
            // the card is up; before that, into the channel.
            (None, Some(incident)) if m.kind == MessageKind::Mirror => {
                let card = self
                    .store
                    .card(Platform::Slack, &m.chat, incident)
                    .await
                    .map_err(|e| SendError::retryable(format!("database: {e}")))?;
                let thread = card.map(|c| c.message_id).or_else(|| m.thread.clone());
                self.post(
                    &m.chat,
                    content_text(&m.text),
                    thread.as_deref(),
                    Tag::text(row.id),
                )
                .await?
            }
            _ => {
                self.post(
                    &m.chat,
                    content_text(&m.text),
                    m.thread.as_deref(),
                    Tag::text(row.id),
                )
                .await?
            }
        };
        Ok(Delivered {
            platform_message_id: Some(ts),
        })
    }

    async fn reconcile(&self, row: &OutboxRow) -> Result<Option<Delivered>, SendError> {
        self.reconcile_row(row).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_morphism::errors::{SlackClientApiError, SlackRateLimitError};

    #[test]
    fn errors_are_sorted() {
        let api = |code: &str| {
            classify(
                SlackClientError::ApiError(SlackClientApiError::new(code.into())),
                POST,
                "C1",
            )
        };
        assert!(matches!(
            api("channel_not_found"),
            SendError::Permanent { .. }
        ));
        assert!(matches!(api("not_in_channel"), SendError::Permanent { .. }));
        assert!(matches!(api("internal_error"), SendError::Retryable { .. }));
        let limited = |method| {
            classify(
                SlackClientError::RateLimitError(
                    SlackRateLimitError::new().with_retry_after(Duration::from_secs(3)),
                ),
                method,
                "C1",
            )
        };
        assert_eq!(
            limited(POST),
            SendError::Retryable {
                reason: "slack: 429 rate limited on chat.postMessage".into(),
                retry_after: Some(Duration::from_secs(3)),
                scope: PauseScope::MethodInChat {
                    method: POST,
                    chat: "C1".into()
                },
            },
            "chat.postMessage is limited per channel"
        );
        assert!(matches!(
            limited(UPDATE),
            SendError::Retryable {
                scope: PauseScope::Method(UPDATE),
                ..
            }
        ));
    }
}
