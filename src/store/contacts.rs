//! What the platforms tell us about people and about our messages: contacts and their messaging
//! windows, the names behind user ids, the card message of an incident in each chat, and delivery
//! reports. `contact_sql!` stamps the statements onto each backend's types.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{CardRef, Contact, DeliveryReport, OutboxRow, StoreResult};
use crate::engine::room::Platform;

/// Contacts, people, cards and delivery reports outside a decision.
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// The card message of an incident in a chat, once one was posted.
    async fn card(
        &self,
        platform: Platform,
        chat: &str,
        incident: i64,
    ) -> StoreResult<Option<CardRef>>;
    /// Records the card message (the first one stays) and the row it now shows; a row older than
    /// the one recorded changes nothing.
    async fn save_card(
        &self,
        platform: Platform,
        chat: &str,
        incident: i64,
        card: &CardRef,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Whether a row newer than `after` that carries the card of `incident` to `chat` is still
    /// to be sent: the card can wait for it instead of being edited twice.
    async fn newer_card_row(
        &self,
        platform: Platform,
        chat: &str,
        incident: i64,
        after: i64,
    ) -> StoreResult<bool>;
    /// When a contact last wrote to us (WhatsApp's 24-hour window runs from then), and how the
    /// platform knows them.
    async fn contact(&self, platform: Platform, address: &str) -> StoreResult<Option<Contact>>;
    /// Keeps what the platform reported about a message it accepted and applies it to the row
    /// with that platform id, when there is one yet; statuses only move forward. Returns the row.
    async fn record_delivery(
        &self,
        platform: Platform,
        report: &DeliveryReport,
    ) -> StoreResult<Option<OutboxRow>>;
    /// The latest report about a platform message id (one that may have arrived before the row
    /// recorded the id).
    async fn delivery_report(
        &self,
        platform: Platform,
        platform_message_id: &str,
    ) -> StoreResult<Option<DeliveryReport>>;
    /// The display name remembered for a platform user id.
    async fn person_name(&self, platform: Platform, user_id: &str) -> StoreResult<Option<String>>;
    async fn save_person(
        &self,
        platform: Platform,
        user_id: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// Contacts and people inside one decision's transaction.
#[async_trait]
pub trait ContactTx: Send {
    /// The display name remembered for a platform user id (to render mentions for other rooms).
    async fn person_name(
        &mut self,
        platform: Platform,
        user_id: &str,
    ) -> StoreResult<Option<String>>;
    /// Records that a contact (an E.164 number or a group id) wrote to us at `at`, as the
    /// platform identified them (`seen_as`); the latest message wins. Inside a unit of work only.
    async fn record_contact(
        &mut self,
        platform: Platform,
        address: &str,
        seen_as: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The platform says a contact's window is closed: forget messages up to `up_to`, so the
    /// next send goes straight to the template (a later message opens it again).
    async fn close_contact_window(
        &mut self,
        platform: Platform,
        address: &str,
        up_to: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// Implements [`ContactStore`] and [`ContactTx`] for one backend's store and transaction types.
/// The store type supplies `begin_tx()`: a delivery report is kept and applied in one transaction.
macro_rules! contact_sql {
    ($Store:ident, $Tx:ident, $Db:ty) => {
        mod contact_sql {
            use chrono::{DateTime, Utc};

            use super::{$Store, $Tx};
            use $crate::store::contacts::{ContactStore, ContactTx};
            use $crate::store::outbox::{decode_outbox, outbox_columns};
            use $crate::store::sql;
            use $crate::engine::room::Platform;
            use $crate::store::{CardRef, Contact, DeliveryReport, DeliveryStatus, OutboxRow, StoreResult};

            async fn load_person<'e>(
                ex: impl sqlx::Executor<'e, Database = $Db>,
                platform: Platform,
                user_id: &str,
            ) -> StoreResult<Option<String>> {
                let row: Option<(String,)> =
                    sqlx::query_as("SELECT name FROM people WHERE platform = $1 AND user_id = $2")
                        .bind(platform.as_str())
                        .bind(user_id)
                        .fetch_optional(ex)
                        .await?;
                Ok(row.map(|(name,)| name))
            }

            async fn write_contact<'e>(
                ex: impl sqlx::Executor<'e, Database = $Db>,
                platform: Platform,
                address: &str,
                seen_as: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                // Webhooks can arrive out of order: the window runs from the latest message.
                sqlx::query(
                    "INSERT INTO contact_windows (platform, address, seen_as, last_inbound_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (platform, address) DO UPDATE SET seen_as = $3, last_inbound_at = $4 \
                     WHERE contact_windows.last_inbound_at < $4",
                )
                .bind(platform.as_str())
                .bind(address)
                .bind(seen_as)
                .bind(sql::millis(at))
                .execute(ex)
                .await?;
                Ok(())
            }

            async fn close_window<'e>(
                ex: impl sqlx::Executor<'e, Database = $Db>,
                platform: Platform,
                address: &str,
                up_to: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE contact_windows SET last_inbound_at = 0 \
                     WHERE platform = $1 AND address = $2 AND last_inbound_at <= $3",
                )
                .bind(platform.as_str())
                .bind(address)
                .bind(sql::millis(up_to))
                .execute(ex)
                .await?;
                Ok(())
            }

            #[async_trait::async_trait]
            impl ContactTx for $Tx {
                async fn person_name(&mut self, platform: Platform, user_id: &str) -> StoreResult<Option<String>> {
                    load_person(self.0.get().await?, platform, user_id).await
                }

                async fn record_contact(&mut self, platform: Platform, address: &str, seen_as: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    write_contact(self.0.get().await?, platform, address, seen_as, at).await
                }

                async fn close_contact_window(&mut self, platform: Platform, address: &str, up_to: DateTime<Utc>) -> StoreResult<()> {
                    close_window(self.0.get().await?, platform, address, up_to).await
                }
            }

            #[async_trait::async_trait]
            impl ContactStore for $Store {
                async fn card(&self, platform: Platform, chat: &str, incident: i64) -> StoreResult<Option<CardRef>> {
                    let row: Option<(String, i64, Option<String>, bool)> = sqlx::query_as(
                        "SELECT message_id, outbox_id, thread, closed FROM cards WHERE platform = $1 AND chat = $2 AND incident = $3",
                    )
                    .bind(platform.as_str())
                    .bind(chat)
                    .bind(incident)
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(row.map(|(message_id, outbox_id, thread, closed)| CardRef { message_id, outbox_id, thread, closed }))
                }

                async fn save_card(&self, platform: Platform, chat: &str, incident: i64, card: &CardRef, now: DateTime<Utc>) -> StoreResult<()> {
                    // The first message stays the card (a place saved before its message takes
                    // the message once), and its first place stays its place; later rows only
                    // move `outbox_id` forward, with whether the place is closed.
                    sqlx::query(
                        "INSERT INTO cards (platform, chat, incident, message_id, outbox_id, thread, closed, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (platform, chat, incident) DO UPDATE SET \
                           message_id = CASE WHEN cards.message_id = '' THEN $4 ELSE cards.message_id END, \
                           outbox_id = $5, thread = COALESCE(cards.thread, $6), closed = $7, updated_at = $8 \
                         WHERE cards.outbox_id < $5 OR (cards.message_id = '' AND $4 <> '')",
                    )
                    .bind(platform.as_str())
                    .bind(chat)
                    .bind(incident)
                    .bind(&card.message_id)
                    .bind(card.outbox_id)
                    .bind(&card.thread)
                    .bind(card.closed)
                    .bind(sql::millis(now))
                    .execute(self.writes())
                    .await?;
                    Ok(())
                }

                async fn newer_card_row(&self, platform: Platform, chat: &str, incident: i64, after: i64) -> StoreResult<bool> {
                    // Through `outbox_by_chat`: only the chat's unfinished rows are looked at.
                    let found: Option<(i64,)> = sqlx::query_as(
                        "SELECT id FROM outbox WHERE platform = $1 AND chat = $2 \
                         AND state IN ('pending', 'sending', 'failed') \
                         AND incident = $3 AND id > $4 AND rich IS NOT NULL LIMIT 1",
                    )
                    .bind(platform.as_str())
                    .bind(chat)
                    .bind(incident)
                    .bind(after)
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(found.is_some())
                }

                async fn person_name(&self, platform: Platform, user_id: &str) -> StoreResult<Option<String>> {
                    load_person(&self.pool, platform, user_id).await
                }

                async fn save_person(&self, platform: Platform, user_id: &str, name: &str, now: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO people (platform, user_id, name, updated_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (platform, user_id) DO UPDATE SET name = $3, updated_at = $4",
                    )
                    .bind(platform.as_str())
                    .bind(user_id)
                    .bind(name)
                    .bind(sql::millis(now))
                    .execute(self.writes())
                    .await?;
                    Ok(())
                }

                async fn contact(&self, platform: Platform, address: &str) -> StoreResult<Option<Contact>> {
                    let row: Option<(String, i64)> = sqlx::query_as(
                        "SELECT seen_as, last_inbound_at FROM contact_windows WHERE platform = $1 AND address = $2",
                    )
                    .bind(platform.as_str())
                    .bind(address)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(|(seen_as, at)| Ok(Contact { seen_as, last_inbound_at: sql::from_millis(at)? }))
                        .transpose()
                }

                async fn record_delivery(&self, platform: Platform, report: &DeliveryReport) -> StoreResult<Option<OutboxRow>> {
                    // Statuses only move forward (sent < delivered < read < failed): a late or
                    // redelivered `sent` never hides a `read`, and the same status twice is a no-op.
                    let rank = |column: &str| {
                        format!(
                            "(CASE {column} WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 \
                             WHEN 'failed' THEN 4 ELSE 0 END)"
                        )
                    };
                    let keep = format!(
                        "INSERT INTO delivery_reports (platform, platform_message_id, status, error_code, error, at) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (platform, platform_message_id) DO UPDATE \
                         SET status = $3, error_code = COALESCE($4, delivery_reports.error_code), \
                         error = COALESCE($5, delivery_reports.error), at = $6 WHERE {} < {}",
                        rank("delivery_reports.status"),
                        rank("$3"),
                    );
                    let apply = format!(
                        "UPDATE outbox SET delivery_status = $3, delivery_error = COALESCE($4, delivery_error), \
                         delivery_at = $5 WHERE platform = $1 AND platform_message_id = $2 AND {} < {}",
                        rank("delivery_status"),
                        rank("$3"),
                    );
                    let error = match (report.error_code, &report.error) {
                        (_, Some(error)) => Some(error.clone()),
                        (Some(code), None) => Some(code.to_string()),
                        (None, None) => None,
                    };
                    let mut tx = self.begin_tx().await?;
                    sqlx::query(sqlx::AssertSqlSafe(keep))
                        .bind(platform.as_str())
                        .bind(&report.platform_message_id)
                        .bind(report.status.as_str())
                        .bind(report.error_code)
                        .bind(&report.error)
                        .bind(sql::millis(report.at))
                        .execute(&mut *tx)
                        .await?;
                    if let Some(id) = report.outbox_id {
                        // The send's own answer was lost: this report is how the row learns its id.
                        sqlx::query(
                            "UPDATE outbox SET platform_message_id = $2 \
                             WHERE platform = $1 AND id = $3 AND platform_message_id IS NULL",
                        )
                        .bind(platform.as_str())
                        .bind(&report.platform_message_id)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    sqlx::query(sqlx::AssertSqlSafe(apply))
                        .bind(platform.as_str())
                        .bind(&report.platform_message_id)
                        .bind(report.status.as_str())
                        .bind(error)
                        .bind(sql::millis(report.at))
                        .execute(&mut *tx)
                        .await?;
                    let row = sqlx::query(concat!(
                        "SELECT ", outbox_columns!(), " FROM outbox WHERE platform = $1 AND platform_message_id = $2"
                    ))
                    .bind(platform.as_str())
                    .bind(&report.platform_message_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    row.as_ref().map(decode_outbox).transpose()
                }

                async fn delivery_report(&self, platform: Platform, platform_message_id: &str) -> StoreResult<Option<DeliveryReport>> {
                    let row: Option<(String, Option<i64>, Option<String>, i64)> = sqlx::query_as(
                        "SELECT status, error_code, error, at FROM delivery_reports WHERE platform = $1 AND platform_message_id = $2",
                    )
                    .bind(platform.as_str())
                    .bind(platform_message_id)
                    .fetch_optional(&self.pool)
                    .await?;
                    // A status runroom does not track (an older version kept any word here)
                    // reads as no report: it never changed a row, so there is nothing to apply.
                    row.filter(|(status, ..)| DeliveryStatus::parse(status).is_ok())
                        .map(|(status, error_code, error, at)| {
                            Ok(DeliveryReport {
                                platform_message_id: platform_message_id.to_string(),
                                status: DeliveryStatus::parse(&status)?,
                                error_code,
                                error,
                                at: sql::from_millis(at)?,
                                outbox_id: None,
                            })
                        })
                        .transpose()
                }

            }
        }
    };
}

pub(super) use contact_sql;
