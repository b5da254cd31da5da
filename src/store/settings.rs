//! Settings shared by every replica (the sending mode), the languages rooms chose from chat, and
//! the inbound event ids already handled. `settings_sql!` stamps the statements onto each
//! backend's types.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::i18n::Lang;

/// Settings and room languages outside a decision.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    async fn set_setting(&self, key: &str, value: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Languages rooms chose from chat (`inc lang`), overriding config.
    async fn room_languages(&self) -> StoreResult<Vec<(String, Lang)>>;
}

/// An inbound event's dedupe key, and when it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundKey {
    pub key: String,
    pub at: DateTime<Utc>,
}

/// Inbound dedupe and room languages inside one decision's transaction.
#[async_trait]
pub trait SettingsTx: Send {
    /// Records an inbound event id; `false` when it was seen before (a platform retry).
    async fn record_inbound(&mut self, key: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Records the inbound event ids of a batch's decisions at once, outside their savepoints:
    /// the ones that were new. `Ok(None)`: the database refused one of them and none was
    /// recorded (each decision then records its own). `Err`: the transaction is unusable.
    async fn claim_inbound(&mut self, keys: &[InboundKey]) -> StoreResult<Option<HashSet<String>>>;
    /// Forgets an event id [`SettingsTx::claim_inbound`] recorded for a decision that was then
    /// undone, so a redelivery is handled afresh.
    async fn forget_inbound(&mut self, key: &str) -> StoreResult<()>;
    async fn room_languages(&mut self) -> StoreResult<Vec<(String, Lang)>>;
    async fn set_room_language(
        &mut self,
        room: &str,
        lang: Lang,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// Implements [`SettingsStore`] and [`SettingsTx`] for one backend's store and transaction types.
macro_rules! settings_sql {
    ($Store:ident, $Tx:ident, $Db:ty) => {
        mod settings_sql {
            use std::collections::HashSet;

            use chrono::{DateTime, Utc};

            use super::{$Store, $Tx};
            use $crate::i18n::Lang;
            use $crate::store::settings::{InboundKey, SettingsStore, SettingsTx};
            use $crate::store::sql;
            use $crate::store::StoreResult;

            async fn load_room_languages<'e>(
                ex: impl sqlx::Executor<'e, Database = $Db>,
            ) -> StoreResult<Vec<(String, Lang)>> {
                let rows: Vec<(String, String)> = sqlx::query_as("SELECT room_id, language FROM room_settings")
                    .fetch_all(ex)
                    .await?;
                rows.into_iter()
                    .map(|(room, lang)| Ok((room, sql::decode_lang(&lang)?)))
                    .collect()
            }

            #[async_trait::async_trait]
            impl SettingsTx for $Tx {
                async fn record_inbound(&mut self, key: &str, at: DateTime<Utc>) -> StoreResult<bool> {
                    // A read (a row when the key is new): it goes with the unit's savepoint.
                    let inserted: Vec<(String,)> = self
                        .0
                        .fetch_all(|insert| {
                            insert.push("INSERT INTO inbound_events (event_key, received_at) VALUES (");
                            insert.push_bind(key.to_string());
                            insert.push(", ");
                            insert.push_bind(sql::millis(at));
                            insert.push(") ON CONFLICT (event_key) DO NOTHING RETURNING event_key");
                        })
                        .await?;
                    Ok(inserted.len() == 1)
                }

                async fn claim_inbound(&mut self, keys: &[InboundKey]) -> StoreResult<Option<HashSet<String>>> {
                    // Two binds a key: well under either backend's limit a statement.
                    const CHUNK: usize = 1_000;
                    // In a savepoint of its own, so a refused key leaves the transaction as it
                    // was (Postgres would fail every statement after it).
                    self.0.write(|query| {
                        query.push("SAVEPOINT claim");
                    })
                    .await?;
                    let mut new = HashSet::with_capacity(keys.len());
                    for chunk in keys.chunks(CHUNK) {
                        let inserted: StoreResult<Vec<(String,)>> = self
                            .0
                            .fetch_all(|insert| {
                                insert.push("INSERT INTO inbound_events (event_key, received_at) ");
                                insert.push_values(chunk, |mut row, key| {
                                    row.push_bind(key.key.clone()).push_bind(sql::millis(key.at));
                                });
                                insert.push(" ON CONFLICT (event_key) DO NOTHING RETURNING event_key");
                            })
                            .await;
                        match inserted {
                            Ok(rows) => new.extend(rows.into_iter().map(|(key,)| key)),
                            Err(error) => {
                                tracing::debug!(%error, "a batch's dedupe keys were refused together");
                                sqlx::query("ROLLBACK TO SAVEPOINT claim").execute(self.0.get().await?).await?;
                                sqlx::query("RELEASE SAVEPOINT claim").execute(self.0.get().await?).await?;
                                return Ok(None);
                            }
                        }
                    }
                    self.0.write(|query| {
                        query.push("RELEASE SAVEPOINT claim");
                    })
                    .await?;
                    Ok(Some(new))
                }

                async fn forget_inbound(&mut self, key: &str) -> StoreResult<()> {
                    sqlx::query("DELETE FROM inbound_events WHERE event_key = $1")
                        .bind(key)
                        .execute(self.0.get().await?)
                        .await?;
                    Ok(())
                }

                async fn room_languages(&mut self) -> StoreResult<Vec<(String, Lang)>> {
                    if let Some(languages) = &self.0.languages {
                        return Ok(languages.clone());
                    }
                    let languages = load_room_languages(self.0.get().await?).await?;
                    self.0.languages = Some(languages.clone());
                    Ok(languages)
                }

                async fn set_room_language(&mut self, room: &str, lang: Lang, at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO room_settings (room_id, language, updated_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (room_id) DO UPDATE SET language = $2, updated_at = $3",
                    )
                    .bind(room)
                    .bind(lang.as_str())
                    .bind(sql::millis(at))
                    .execute(self.0.get().await?)
                    .await?;
                    self.0.languages = None;
                    Ok(())
                }
            }

            #[async_trait::async_trait]
            impl SettingsStore for $Store {
                async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
                    let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
                        .bind(key)
                        .fetch_optional(&self.pool)
                        .await?;
                    Ok(row.map(|(v,)| v))
                }

                async fn set_setting(&self, key: &str, value: &str, now: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = $3",
                    )
                    .bind(key)
                    .bind(value)
                    .bind(sql::millis(now))
                    .execute(self.writes())
                    .await?;
                    Ok(())
                }

                async fn room_languages(&self) -> StoreResult<Vec<(String, Lang)>> {
                    load_room_languages(&self.pool).await
                }
            }
        }
    };
}

pub(super) use settings_sql;
