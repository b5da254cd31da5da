//! What every role's SQL shares: SQLite accepts Postgres-style `$1` placeholders, times are stored
//! as UTC epoch milliseconds and JSON as text, so one set of statements serves both backends.
//! Here are those encodings and the embedded migrations; the statements live with their role.

use chrono::{DateTime, Utc};

use super::{StoreError, StoreResult};
use crate::engine::room::Platform;
use crate::i18n::Lang;

pub(super) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(super) fn from_millis(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms}")))
}

pub(super) fn encode<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("encode: {e}")))
}

pub(super) fn decode_lang(raw: &str) -> StoreResult<Lang> {
    Lang::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("language {raw:?}")))
}

pub(super) fn decode_platform(raw: &str) -> StoreResult<Platform> {
    Platform::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("platform {raw:?}")))
}

/// The embedded migrations of one backend, in sqlx's own format (so `_sqlx_migrations` tracks
/// them exactly as `sqlx migrate` would), without needing the migration folder at run time.
macro_rules! embedded_migrations {
    ($dir:literal: $($version:literal $name:literal),+ $(,)?) => {{
        use sqlx::SqlSafeStr;
        sqlx::migrate::Migrator::with_migrations(vec![$(
            sqlx::migrate::Migration::new(
                $version,
                std::borrow::Cow::Borrowed($name),
                sqlx::migrate::MigrationType::Simple,
                include_str!(concat!("../../migrations/", $dir, "/", $version, "_", $name, ".sql")).into_sql_str(),
                false,
            )
        ),+])
    }};
}

pub(super) use embedded_migrations;

/// A backend's transaction: commit, and the one savepoint group commit needs (the same
/// statements on SQLite and Postgres; units follow each other and never nest, so one name
/// serves).
macro_rules! tx_sql {
    ($tx:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::StoreTx for $tx {
            async fn commit(self: Box<Self>) -> $crate::store::StoreResult<()> {
                self.0.commit().await?;
                Ok(())
            }

            async fn savepoint(&mut self) -> $crate::store::StoreResult<()> {
                sqlx::query("SAVEPOINT unit").execute(&mut *self.0).await?;
                Ok(())
            }

            async fn release(&mut self) -> $crate::store::StoreResult<()> {
                sqlx::query("RELEASE SAVEPOINT unit")
                    .execute(&mut *self.0)
                    .await?;
                Ok(())
            }

            async fn rollback_to(&mut self) -> $crate::store::StoreResult<()> {
                sqlx::query("ROLLBACK TO SAVEPOINT unit")
                    .execute(&mut *self.0)
                    .await?;
                self.release().await
            }
        }
    };
}

pub(super) use tx_sql;
