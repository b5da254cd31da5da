//! What the on-call routine keeps between runs, always inside a decision: the checklists schedules
//! post, on-call overrides set from chat and the notes left for the next handoff.
//! `oncall_sql!` stamps the statements onto each backend's transaction type.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::sql::from_millis;
use super::{Checklist, ChecklistItem, HandoffNote, OncallOverride, StoreError, StoreResult};

/// Checklists, overrides and handoff notes inside one decision's transaction.
#[async_trait]
pub trait OncallTx: Send {
    async fn insert_checklist(&mut self, checklist: &Checklist) -> StoreResult<i64>;
    /// The latest checklists, newest first.
    async fn recent_checklists(&mut self, limit: i64) -> StoreResult<Vec<Checklist>>;
    async fn save_checklist_items(&mut self, id: i64, items: &[ChecklistItem]) -> StoreResult<()>;
    async fn add_override(&mut self, item: &OncallOverride) -> StoreResult<()>;
    /// Overrides that have not ended by `at` (running or to come), earliest first.
    async fn overrides(&mut self, at: DateTime<Utc>) -> StoreResult<Vec<OncallOverride>>;
    async fn add_handoff_note(&mut self, rotation: &str, note: &HandoffNote) -> StoreResult<()>;
    /// Notes not yet handed over, oldest first.
    async fn handoff_notes(&mut self, rotation: &str) -> StoreResult<Vec<HandoffNote>>;
    /// Marks a rotation's notes as handed over at `at`.
    async fn hand_over_notes(&mut self, rotation: &str, at: DateTime<Utc>) -> StoreResult<()>;
}

/// A checklist row: id, schedule, title, rooms (JSON), posted_at, items (JSON).
pub(super) type RawChecklist = (i64, String, String, String, i64, String);

pub(super) fn decode_checklist(row: RawChecklist) -> StoreResult<Checklist> {
    let (id, schedule, title, rooms, posted_at, items) = row;
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("checklist: {e}"));
    Ok(Checklist {
        id,
        schedule,
        title,
        rooms: serde_json::from_str(&rooms).map_err(corrupt)?,
        posted_at: from_millis(posted_at)?,
        items: serde_json::from_str(&items).map_err(corrupt)?,
    })
}

/// Implements [`OncallTx`] for one backend's transaction type. `$lock` is appended to the read of
/// the checklists about to be ticked (`FOR UPDATE` on Postgres; SQLite's writer already holds the
/// database lock).
macro_rules! oncall_sql {
    ($Tx:ident, $Db:ty, lock = $lock:literal) => {
        mod oncall_sql {
            use chrono::{DateTime, Utc};

            use super::$Tx;
            use $crate::store::oncall::{decode_checklist, OncallTx, RawChecklist};
            use $crate::store::sql;
            use $crate::store::{Checklist, ChecklistItem, HandoffNote, OncallOverride, StoreResult};

            #[async_trait::async_trait]
            impl OncallTx for $Tx {
                async fn insert_checklist(&mut self, checklist: &Checklist) -> StoreResult<i64> {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO checklists (schedule, title, rooms, posted_at, items) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(&checklist.schedule)
                    .bind(&checklist.title)
                    .bind(sql::encode(&checklist.rooms)?)
                    .bind(sql::millis(checklist.posted_at))
                    .bind(sql::encode(&checklist.items)?)
                    .fetch_one(self.0.get().await?)
                    .await?;
                    Ok(id)
                }

                async fn recent_checklists(&mut self, limit: i64) -> StoreResult<Vec<Checklist>> {
                    // Locked on Postgres: two people ticking at once must not overwrite each other.
                    let rows: Vec<RawChecklist> = sqlx::query_as(concat!(
                        "SELECT id, schedule, title, rooms, posted_at, items FROM checklists ORDER BY id DESC LIMIT $1",
                        $lock
                    ))
                    .bind(limit)
                    .fetch_all(self.0.get().await?)
                    .await?;
                    rows.into_iter().map(decode_checklist).collect()
                }

                async fn save_checklist_items(&mut self, id: i64, items: &[ChecklistItem]) -> StoreResult<()> {
                    sqlx::query("UPDATE checklists SET items = $2 WHERE id = $1")
                        .bind(id)
                        .bind(sql::encode(&items)?)
                        .execute(self.0.get().await?)
                        .await?;
                    Ok(())
                }

                async fn add_override(&mut self, item: &OncallOverride) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO oncall_overrides (rotation, person, starts_at, ends_at, set_by) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&item.rotation)
                    .bind(&item.person)
                    .bind(sql::millis(item.starts_at))
                    .bind(sql::millis(item.ends_at))
                    .bind(&item.set_by)
                    .execute(self.0.get().await?)
                    .await?;
                    Ok(())
                }

                async fn overrides(&mut self, at: DateTime<Utc>) -> StoreResult<Vec<OncallOverride>> {
                    let rows: Vec<(String, String, i64, i64, String)> = sqlx::query_as(
                        "SELECT rotation, person, starts_at, ends_at, set_by FROM oncall_overrides WHERE ends_at > $1 \
                         ORDER BY starts_at, id",
                    )
                    .bind(sql::millis(at))
                    .fetch_all(self.0.get().await?)
                    .await?;
                    rows.into_iter()
                        .map(|(rotation, person, starts_at, ends_at, set_by)| {
                            Ok(OncallOverride {
                                rotation,
                                person,
                                starts_at: sql::from_millis(starts_at)?,
                                ends_at: sql::from_millis(ends_at)?,
                                set_by,
                            })
                        })
                        .collect()
                }

                async fn add_handoff_note(&mut self, rotation: &str, note: &HandoffNote) -> StoreResult<()> {
                    sqlx::query("INSERT INTO handoff_notes (rotation, author, text, at) VALUES ($1, $2, $3, $4)")
                        .bind(rotation)
                        .bind(&note.author)
                        .bind(&note.text)
                        .bind(sql::millis(note.at))
                        .execute(self.0.get().await?)
                        .await?;
                    Ok(())
                }

                async fn handoff_notes(&mut self, rotation: &str) -> StoreResult<Vec<HandoffNote>> {
                    let rows: Vec<(String, String, i64)> = sqlx::query_as(
                        "SELECT author, text, at FROM handoff_notes WHERE rotation = $1 AND handed_at IS NULL ORDER BY id",
                    )
                    .bind(rotation)
                    .fetch_all(self.0.get().await?)
                    .await?;
                    rows.into_iter()
                        .map(|(author, text, at)| Ok(HandoffNote { author, text, at: sql::from_millis(at)? }))
                        .collect()
                }

                async fn hand_over_notes(&mut self, rotation: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("UPDATE handoff_notes SET handed_at = $2 WHERE rotation = $1 AND handed_at IS NULL")
                        .bind(rotation)
                        .bind(sql::millis(at))
                        .execute(self.0.get().await?)
                        .await?;
                    Ok(())
                }
            }
        }
    };
}

pub(super) use oncall_sql;
