//! Set-up tokens: how a new or reset person sets their own first password.
//!
//! Only the SHA-256 of a token is stored. A token is good once, until it
//! expires; spending it, issuing a newer one for the same person, or any
//! password change ends it. Spending happens in the write transaction that
//! sets the password, so two requests with one token cannot both succeed.

use chrono::{DateTime, Utc};

use crate::codec;
use crate::error::StoreError;
use crate::store::Store;
use crate::tx::WriteTx;

impl Store {
    /// The person a live set-up token with `hash` is for, at `now`.
    pub async fn setup_token_user(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let user = sqlx::query_scalar(
            "SELECT user_id FROM setup_tokens \
             WHERE token_hash = ? AND ended_at IS NULL AND expires_at > ?",
        )
        .bind(hash)
        .bind(codec::time(&now))
        .fetch_optional(&mut *self.reader().await?)
        .await?;
        Ok(user)
    }
}

impl WriteTx<'_> {
    /// Stores a set-up token for `user_id`, ending every earlier one of theirs.
    pub async fn insert_setup_token(
        &mut self,
        hash: &str,
        user_id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.end_setup_tokens(user_id, now).await?;
        sqlx::query(
            "INSERT INTO setup_tokens (token_hash, user_id, created_at, expires_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(hash)
        .bind(user_id)
        .bind(codec::time(&now))
        .bind(codec::time(&expires_at))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| StoreError::on_insert(e, "setup token", user_id))?;
        Ok(())
    }

    /// Spends the live set-up token with `hash`; the person it was for, if it was live.
    pub async fn spend_setup_token(
        &mut self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let now = codec::time(&now);
        let user = sqlx::query_scalar(
            "UPDATE setup_tokens SET ended_at = ? \
             WHERE token_hash = ? AND ended_at IS NULL AND expires_at > ? RETURNING user_id",
        )
        .bind(&now)
        .bind(hash)
        .bind(&now)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(user)
    }

    /// Ends every live set-up token of `user_id`; returns how many.
    pub async fn end_setup_tokens(
        &mut self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE setup_tokens SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
        )
        .bind(codec::time(&now))
        .bind(user_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }
}
