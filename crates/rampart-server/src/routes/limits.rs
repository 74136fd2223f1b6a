//! `/v1/accounts/{id}/risk-limits`: the limits in force, their history, and proposed changes.
//!
//! Reading follows the order-read policy; proposing needs Cedar
//! `limits.propose` on the account (risk managers assigned to it). A
//! proposal answers 202 with its pending approval, or 201 with the new
//! version when a pure tightening applies at once (`risk.tighten_at_once`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rampart_core::{AccountId, LimitsChange, RiskLimits};
use rampart_policy::{Action, Resource};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::authn::Authenticated;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::ApiError;
use crate::routes::schema::AccountLimitsSchema;
use crate::routes::users::approval_view;
use crate::service::risk_limits::{self, Proposal, Requested, version_view};
use crate::service::{authorize, internal};
use crate::state::AppState;

/// The limits of one account and their version.
#[derive(Debug, Serialize)]
pub struct AccountLimits {
    account_id: AccountId,
    version: i64,
    limits: RiskLimits,
}

/// A proposed change: exactly one of `limits` (the whole set) or `changes` (some fields).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    #[serde(default)]
    limits: Option<RiskLimits>,
    #[serde(default)]
    changes: Option<LimitsChange>,
    reason: String,
}

/// Reads the risk limits in force on an account, with their version.
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
    let account_id = account_id(&id)?;
    let resource = Resource::Account(account_id.clone());
    authorize(&state, &principal, Action::LimitsRead, &resource).await?;
    let in_force = state
        .store
        .limits_in_force(&account_id)
        .await
        .map_err(|e| internal("limits", &e))?;
    let in_force = in_force.ok_or(ApiError::NotFound)?;
    Ok(Json(AccountLimits {
        account_id,
        version: in_force.version,
        limits: in_force.limits,
    }))
}

/// Every version of an account's limits, oldest first.
#[utoipa::path(get, path = "/v1/accounts/{id}/risk-limits/history", tag = "accounts",
    params(("id" = String, Path, description = "the account id")),
    responses(
        (status = 200, description = "every version, with proposer and approver",
            body = crate::routes::schema::LimitsHistorySchema),
        (status = 404, description = "unknown, or not assigned", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn history(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let account_id = account_id(&id)?;
    let resource = Resource::Account(account_id.clone());
    authorize(&state, &principal, Action::LimitsRead, &resource).await?;
    let versions = state
        .store
        .limits_history(&account_id)
        .await
        .map_err(|e| internal("limits history", &e))?;
    if versions.is_empty() {
        return Err(ApiError::NotFound);
    }
    let versions: Vec<Value> = versions.iter().map(version_view).collect();
    Ok(Json(
        json!({ "account_id": account_id, "versions": versions }),
    ))
}

/// Proposes a change of an account's limits, for a second person to approve.
#[utoipa::path(post, path = "/v1/accounts/{id}/risk-limits/changes", tag = "accounts",
    params(("id" = String, Path, description = "the account id")),
    request_body(content = Object, description = "`limits` (whole set) or `changes` \
        (some fields), and `reason`"),
    responses(
        (status = 201, description = "a tightening applied at once", body = Object),
        (status = 202, description = "pending a second person's approval", body = Object),
        (status = 422, description = "above a firm-wide cap", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn propose(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ChangeRequest>,
) -> Result<Response, ApiError> {
    let account_id = account_id(&id)?;
    let resource = Resource::Account(account_id.clone());
    authorize(&state, &principal, Action::LimitsPropose, &resource).await?;
    let requested = match (body.limits, body.changes) {
        (Some(limits), None) => Requested::Full(limits),
        (None, Some(changes)) => Requested::Partial(changes),
        _ => {
            return Err(ApiError::invalid(
                "limits",
                "send exactly one of `limits` (the whole set) or `changes`",
            ));
        }
    };
    let done =
        risk_limits::propose(&state, &principal, &account_id, requested, &body.reason).await?;
    Ok(match done {
        Proposal::Pending(approval) => (
            StatusCode::ACCEPTED,
            Json(json!({ "approval": approval_view(&approval) })),
        ),
        Proposal::Applied(version) => (
            StatusCode::CREATED,
            Json(json!({ "applied": version_view(&version) })),
        ),
    }
    .into_response())
}

fn account_id(id: &str) -> Result<AccountId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::invalid(
            "id",
            "`id` must be 1 to 64 characters of letters, digits, `-`, `_`, `.`, `:`",
        )
    })
}
