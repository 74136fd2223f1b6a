//! Every API client a person owns: the identities a `trader:` kill switch reaches.
//!
//! A person answers for the clients they own, so a stop of that person stops
//! those clients too, a change of the person's roles is checked against theirs
//! and disabling the person disables them; the list is read in the transaction
//! that needs it, so a client registered a moment ago is not missed.

use crate::error::StoreError;
use crate::queries;
use crate::records::ClientRecord;
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

    /// The clients owned by `owner`, disabled ones too, as this transaction sees them.
    pub async fn owned_clients(&mut self, owner: &str) -> Result<Vec<ClientRecord>, StoreError> {
        let ids = owned_by(&mut self.tx, owner).await?;
        let mut clients = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(client) = queries::client(&mut self.tx, &id).await? {
                clients.push(client);
            }
        }
        Ok(clients)
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
