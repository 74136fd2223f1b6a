//! Reading one kill switch engagement, in a transaction or from the readers. A
//! scope is stored as its kind and, except for the global scope, the target it
//! names.
//!
//! The `kill_switches` CHECK allows exactly the kinds of [`KillSwitchScope`];
//! a stored pair that does not decode is reported as corrupt, never guessed at.
//!
//! [`KillSwitchScope`]: rampart_core::KillSwitchScope

use uuid::Uuid;

use crate::error::StoreError;
use crate::records::KillSwitchRecord;
use crate::rows;
use crate::store::Store;
use crate::tx::WriteTx;

impl Store {
    /// The engagement `id`, released or not.
    pub async fn kill_switch(&self, id: Uuid) -> Result<Option<KillSwitchRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM kill_switches WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        row.as_ref().map(rows::kill_switch).transpose()
    }
}

impl WriteTx<'_> {
    /// The engagement `id`, released or not, as this transaction sees it.
    pub async fn kill_switch(&mut self, id: Uuid) -> Result<Option<KillSwitchRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM kill_switches WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(rows::kill_switch).transpose()
    }
}
