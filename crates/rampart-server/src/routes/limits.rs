//! `/v1/accounts/{id}/risk-limits`: the pre-trade limits in force on an account.

use axum::Json;
use axum::extract::State;
use rampart_core::{AccountId, RiskLimits};
use rampart_policy::{Action, Resource};
use serde::Serialize;

use crate::authn::Authenticated;
use crate::extract::ApiPath;
use crate::problem::ApiError;
use crate::routes::schema::AccountLimitsSchema;
use crate::service::{authorize, internal};
use crate::state::AppState;

/// The limits of one account.
#[derive(Debug, Serialize)]
pub struct AccountLimits {
    account_id: AccountId,
    limits: RiskLimits,
}

/// Reads the risk limits of an account.
#[utoipa::path(get, path = "/v1/accounts/{id}/risk-limits", tag = "accounts",
    params(("id" = String, Path, description = "the account id")),
    responses(
        (status = 200, description = "the limits in force", body = AccountLimitsSchema),
        (status = 404, description = "unknown, or not assigned", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AccountLimits>, ApiError> {
    let account_id: AccountId = id.parse().map_err(|_| {
        ApiError::invalid(
            "id",
            "`id` must be 1 to 64 characters of letters, digits, `-`, `_`, `.`, `:`",
        )
    })?;
    let resource = Resource::Account(account_id.clone());
    authorize(&state, &principal, Action::LimitsRead, &resource).await?;
    let account = state
        .store
        .account(&account_id)
        .await
        .map_err(|e| internal("account", &e))?;
    let account = account.ok_or(ApiError::NotFound)?;
    Ok(Json(AccountLimits {
        account_id,
        limits: account.limits,
    }))
}
