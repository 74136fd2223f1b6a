//! What a privileged grant reads about its person: set-up history and profile.
//!
//! Rule upheld: a set-up token issued when a grant is approved goes only to a
//! person who has never had one, and the address it goes to is the one the
//! approver saw. The transaction's reads run in the decision's write
//! transaction, so they agree with what that transaction writes; the store's
//! read shows an approver whether the person already holds a live token.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;

use crate::codec::{self, RowKey};
use crate::error::StoreError;
use crate::rows::get;
use crate::store::Store;
use crate::tx::WriteTx;
use crate::users::UserProfile;

impl WriteTx<'_> {
    /// Whether any set-up token, live or ended, was ever issued to `user_id`.
    pub async fn has_had_setup_token(&mut self, user_id: &str) -> Result<bool, StoreError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM setup_tokens WHERE user_id = ? LIMIT 1")
                .bind(user_id)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(found.is_some())
    }

    /// The personal data of user `id`, as this transaction sees it.
    pub async fn user_profile(&mut self, id: &str) -> Result<Option<UserProfile>, StoreError> {
        let row = sqlx::query("SELECT display_name, email FROM user_profiles WHERE user_id = ?")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|row| decode_profile(&row, id)).transpose()
    }
}

impl Store {
    /// Whether any set-up token, live or ended, was ever issued to `user_id`.
    pub async fn has_had_setup_token(&self, user_id: &str) -> Result<bool, StoreError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM setup_tokens WHERE user_id = ? LIMIT 1")
                .bind(user_id)
                .fetch_optional(&mut *self.reader().await?)
                .await?;
        Ok(found.is_some())
    }

    /// Whether `user_id` holds a set-up token that is still good at `now`.
    pub async fn has_live_setup_token(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM setup_tokens \
             WHERE user_id = ? AND ended_at IS NULL AND expires_at > ? LIMIT 1",
        )
        .bind(user_id)
        .bind(codec::time(&now))
        .fetch_optional(&mut *self.reader().await?)
        .await?;
        Ok(found.is_some())
    }
}

/// Decodes a `user_profiles` row (`display_name`, `email`) of user `id`.
pub(crate) fn decode_profile(row: &SqliteRow, id: &str) -> Result<UserProfile, StoreError> {
    let key = RowKey {
        table: "user_profiles",
        key: id,
    };
    Ok(UserProfile {
        display_name: get(row, "display_name", key)?,
        email: get(row, "email", key)?,
    })
}
