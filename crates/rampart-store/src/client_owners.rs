//! Every API client a person owns: the identities a `trader:` kill switch reaches.
//!
//! A person answers for the clients they own, so a stop of that person stops
//! those clients too; the list is read in the transaction that needs it, so a
//! client registered a moment ago is not missed.

use crate::error::StoreError;
use crate::store::Store;
use crate::tx::WriteTx;

impl Store {
    /// The ids of the clients owned by the person `owner` (a subject id), in id order.
    pub async fn clients_owned_by(&self, owner: &str) -> Result<Vec<String>, StoreError> {
        owned_by(&mut *self.reader().await?, owner).await
    }
}

impl WriteTx<'_> {
    /// The ids of the clients owned by `owner`, as this transaction sees them.
    pub async fn clients_owned_by(&mut self, owner: &str) -> Result<Vec<String>, StoreError> {
        owned_by(&mut self.tx, owner).await
    }
}

async fn owned_by(
    conn: &mut sqlx::SqliteConnection,
    owner: &str,
) -> Result<Vec<String>, StoreError> {
    let ids = sqlx::query_scalar("SELECT id FROM clients WHERE owner = ? ORDER BY id")
        .bind(owner)
        .fetch_all(conn)
        .await?;
    Ok(ids)
}
