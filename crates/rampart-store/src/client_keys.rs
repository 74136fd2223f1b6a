//! The public keys of API clients that authenticate with `private_key_jwt`, and their owners.
//!
//! Only public JWKs are stored; refusing private members is the caller's job
//! (`rampart_auth::assertion::parse_client_jwk`). A client's owner is the
//! person answerable for it, so that no one approves their own proposal
//! through a client they own.

use chrono::{DateTime, Utc};

use crate::codec;
use crate::error::StoreError;
use crate::store::Store;
use crate::tx::WriteTx;

impl Store {
    /// The public JWK client `id` signs its assertions with, if it has one.
    pub async fn client_jwk(&self, id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT jwk FROM client_jwks WHERE client_id = ?")
                .bind(id)
                .fetch_optional(&mut *self.reader().await?)
                .await?;
        text.map(|text| {
            serde_json::from_str(&text).map_err(|_| StoreError::Corrupt {
                table: "client_jwks",
                key: id.to_owned(),
            })
        })
        .transpose()
    }

    /// The subject id of the person who owns client `id`, if any.
    pub async fn client_owner(&self, id: &str) -> Result<Option<String>, StoreError> {
        client_owner(&mut *self.reader().await?, id).await
    }
}

impl WriteTx<'_> {
    /// Sets (or replaces) the public JWK of client `id`.
    pub async fn set_client_jwk(
        &mut self,
        id: &str,
        jwk: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO client_jwks (client_id, jwk, created_at) VALUES (?, ?, ?) \
             ON CONFLICT (client_id) DO UPDATE SET jwk = excluded.jwk, \
             created_at = excluded.created_at",
        )
        .bind(id)
        .bind(codec::json(jwk, "jwk")?)
        .bind(codec::time(&now))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| StoreError::on_insert(e, "client key", id))?;
        Ok(())
    }

    /// Records `owner` (a subject id) as the owner of client `id`; false if no such client.
    ///
    /// It makes no segregation-of-duties check of the owner's roles with the client's:
    /// callers must.
    pub async fn set_client_owner(&mut self, id: &str, owner: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE clients SET owner = ? WHERE id = ?")
            .bind(owner)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The owner of client `id`, as this transaction sees it.
    pub async fn client_owner(&mut self, id: &str) -> Result<Option<String>, StoreError> {
        client_owner(&mut self.tx, id).await
    }
}

async fn client_owner(
    conn: &mut sqlx::SqliteConnection,
    id: &str,
) -> Result<Option<String>, StoreError> {
    let owner: Option<Option<String>> =
        sqlx::query_scalar("SELECT owner FROM clients WHERE id = ?")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(owner.flatten())
}
