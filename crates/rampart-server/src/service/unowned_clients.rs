//! The start-up report of privileged API clients that no person owns.
//!
//! Upholds the four-eyes rule for clients registered before an owner was
//! required: approvals refuse them, and every start warns and leaves one audit
//! event naming them, so an operator assigns owners instead of finding out later.

use rampart_audit::Outcome;
use rampart_store::StoreError;
use serde_json::json;

use crate::init::SYSTEM_ACTOR;
use crate::request_id;
use crate::service::audit;
use crate::state::AppState;

/// Recorded at start when privileged clients have no owner; lists them.
pub const CLIENTS_UNOWNED_PRIVILEGED: &str = "client.unowned_privileged";

/// Warns about, and audits once, the privileged clients with no owner; nothing if none.
pub async fn report(state: &AppState) -> Result<(), StoreError> {
    let clients = state.store.unowned_privileged_clients().await?;
    if clients.is_empty() {
        return Ok(());
    }
    tracing::warn!(
        ?clients,
        "privileged clients have no owner: they can neither propose nor decide approvals"
    );
    let event = request_id::scope(request_id::generate(), async {
        audit::event(
            SYSTEM_ACTOR,
            CLIENTS_UNOWNED_PRIVILEGED,
            "gateway",
            Outcome::Failed,
        )
        .details(json!({ "clients": clients }))
    })
    .await;
    audit::append(&state.store, event).await
}
