//! What the gateway reviews from its store at start, before it serves a request.
//!
//! Limits in force above a firm-wide cap are reported (the gateway still
//! starts), and the repeated-execution guard is seeded with the fills booked
//! within its window, so that neither depends on the gateway staying up.

use rampart_store::StoreError;

use crate::request_id;
use crate::service::{execution_guard, limit_caps};
use crate::state::AppState;

/// Reports limits above their caps and seeds the execution guard.
pub async fn run(state: &AppState) -> Result<(), StoreError> {
    request_id::scope(request_id::generate(), async {
        let above = limit_caps::report_above_caps(state).await?;
        let seeded = execution_guard::seed(state).await?;
        tracing::debug!(
            above_cap = above,
            seeded_fills = seeded,
            "start review done"
        );
        Ok(())
    })
    .await
}
