//! Segregation of duties between a person and the API clients they own.
//!
//! Rule upheld: whoever holds a client's secret acts on its owner's side, so
//! the owner's roles together with each owned client's must still be roles one
//! identity may hold. `rampart client add --owner` checks this when a client
//! is registered; [`refuse_owned_conflict`] checks it whenever the owner's
//! roles change: a direct change, a `role.grant` proposal and its application
//! (once per change: a proposal checks before it is recorded, an applied change
//! in `users::apply_access`). A refusal names the client (a 409 whose detail
//! carries its id).
//! Disabled clients count too, since one could be enabled again.

use rampart_core::{RoleSet, SodConflict};
use rampart_store::{StoreError, WriteTx};

use crate::service::users::UserError;

/// Why a person may not hold the roles wanted.
#[derive(Debug, thiserror::Error)]
pub enum OwnerDutyError {
    /// The roles wanted, together with those of a client the person owns, conflict.
    #[error("segregation of duties with owned client `{client}`: {conflict}")]
    Conflict {
        /// The id of the owned client.
        client: String,
        /// The two roles that may not be held together.
        conflict: SodConflict,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<OwnerDutyError> for UserError {
    fn from(error: OwnerDutyError) -> Self {
        match error {
            OwnerDutyError::Conflict { client, conflict } => {
                UserError::OwnedClientConflict { client, conflict }
            }
            OwnerDutyError::Store(error) => UserError::Store(error),
        }
    }
}

/// Refuses `wanted` for `person` when it conflicts with the roles of a client they own,
/// naming the first such client.
pub async fn refuse_owned_conflict(
    tx: &mut WriteTx<'_>,
    person: &str,
    wanted: &RoleSet,
) -> Result<(), OwnerDutyError> {
    for client in tx.owned_clients(person).await? {
        let together = wanted.iter().chain(client.roles.iter());
        if let Err(conflict) = RoleSet::new(together) {
            tracing::info!(
                client = %client.id,
                %conflict,
                "role change refused: it conflicts with the roles of an owned client"
            );
            return Err(OwnerDutyError::Conflict {
                client: client.id,
                conflict,
            });
        }
    }
    Ok(())
}
