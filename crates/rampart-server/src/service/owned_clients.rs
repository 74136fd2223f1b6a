//! The API clients of a person who is disabled stop with them.
//!
//! Rule upheld: no program acts for a person who may no longer act. When a
//! person is disabled, every enabled client they own is disabled in the same
//! transaction, its tokens are refused from that moment (the bearer check
//! reads the client's state on every request, and the revocation is recorded
//! too) and each leaves a `client.disabled` event with reason
//! `owner_disabled`; the gateway that made the change also refuses their
//! tokens in memory at once ([`cut_off_all`]) and names them in the answer and
//! the `user.disabled` event (`disabled_clients`). Enabling the person again
//! does not enable their clients: an administrator enables each one
//! deliberately, after review. Their resting orders are not cancelled by this:
//! a client-scope kill switch withdraws them.

use chrono::{DateTime, Utc};
use rampart_audit::{Outcome, action};
use rampart_store::{StoreError, WriteTx};
use serde_json::json;

use crate::service::{audit, sessions};
use crate::state::AppState;

/// Why an owned client was disabled and its tokens refused.
pub const OWNER_DISABLED: &str = "owner_disabled";

/// Disables every enabled client `owner` owns, as `actor`; returns their ids.
pub async fn disable_owned(
    tx: &mut WriteTx<'_>,
    actor: &str,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let mut disabled = Vec::new();
    for client in tx.owned_clients(owner).await? {
        if client.disabled || !tx.set_client_disabled(&client.id, true).await? {
            continue;
        }
        tx.revoke_subject(&client.id, OWNER_DISABLED, now).await?;
        let details = json!({ "reason": OWNER_DISABLED, "owner": owner });
        let event = audit::event(actor, action::CLIENT_DISABLED, &client.id, Outcome::Success);
        tx.append(audit::stamp(event.details(details))).await?;
        disabled.push(client.id);
    }
    Ok(disabled)
}

/// Refuses in memory the tokens of each client in `clients`, at the moment the store
/// recorded for their disabling (once it has committed).
pub async fn cut_off_all(state: &AppState, clients: &[String]) {
    for client in clients {
        sessions::cut_off_recorded(state, client, &[]).await;
    }
}
