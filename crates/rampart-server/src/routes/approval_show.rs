//! `GET /v1/approvals/{id}`: one approval as its deciders see it.
//!
//! Rule upheld: a decider sees what they approve before approving it. The
//! caller needs Cedar `approval.read` on the gateway and on the approval
//! itself (its kind and accounts), as in the listing; a `role.grant` or
//! `user.reset` shows its `person` (username, display name, e-mail address,
//! whether the account is already in use), read from the profile now. The
//! status is as of now, so a proposal past its expiry reads as `expired`.

use axum::Json;
use axum::extract::State;
use rampart_policy::{Action, Resource};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::authn::Authenticated;
use crate::extract::ApiPath;
use crate::problem::ApiError;
use crate::routes::approvals::resource_of;
use crate::service::approval_person::approval_view_of;
use crate::service::{authorize, internal};
use crate::state::AppState;

/// Shows one approval the caller may read.
#[utoipa::path(get, path = "/v1/approvals/{id}", tag = "approvals",
    params(("id" = String, Path, description = "the approval id")),
    responses(
        (status = 200, description = "`{approval}`; a `role.grant` or `user.reset` has \
            `person` (`username`, `display_name`, `email`, `email_as_proposed`, \
            `must_change_password`, `mfa_enrolled`, `setup_token_live`)", body = Object),
        (status = 403, description = "not a reader of this approval",
            body = crate::problem::Problem),
        (status = 404, description = "no such approval", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &principal, Action::ApprovalRead, &Resource::Gateway).await?;
    let found = state.store.approval(id, state.clock.now()).await;
    let found = found.map_err(|e| internal("approval", &e))?;
    let found = found.ok_or(ApiError::NotFound)?;
    authorize(
        &state,
        &principal,
        Action::ApprovalRead,
        &resource_of(&found),
    )
    .await?;
    let view = approval_view_of(&state, &found).await?;
    Ok(Json(json!({ "approval": view })))
}
