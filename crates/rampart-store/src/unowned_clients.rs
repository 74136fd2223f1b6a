//! Privileged API clients with no owner: identities no person answers for.
//!
//! Upholds the four-eyes rule for clients registered before every privileged
//! client needed an owner: such a client cannot be put on anyone's side, so it
//! may neither propose nor decide an approval (fail closed).

use sqlx::SqliteConnection;

use crate::error::StoreError;
use crate::queries;
use crate::records::ClientRecord;
use crate::store::Store;
use crate::tx::WriteTx;

impl Store {
    /// The ids of the clients holding a privileged role with no owner, in id order.
    pub async fn unowned_privileged_clients(&self) -> Result<Vec<String>, StoreError> {
        let clients = queries::clients(&mut *self.reader().await?).await?;
        let mut unowned = Vec::new();
        for client in clients.iter().filter(|c| is_privileged(c)) {
            if self.client_owner(&client.id).await?.is_none() {
                unowned.push(client.id.clone());
            }
        }
        Ok(unowned)
    }
}

impl WriteTx<'_> {
    /// Whether `id` is a client holding a privileged role with no owner.
    pub async fn is_unowned_privileged_client(&mut self, id: &str) -> Result<bool, StoreError> {
        unowned_privileged(&mut self.tx, id).await
    }
}

async fn unowned_privileged(conn: &mut SqliteConnection, id: &str) -> Result<bool, StoreError> {
    let Some(client) = queries::client(&mut *conn, id).await? else {
        return Ok(false);
    };
    if !is_privileged(&client) {
        return Ok(false);
    }
    let owner: Option<Option<String>> =
        sqlx::query_scalar("SELECT owner FROM clients WHERE id = ?")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(owner.flatten().is_none())
}

fn is_privileged(client: &ClientRecord) -> bool {
    client.roles.iter().any(rampart_core::Role::is_privileged)
}
