//! `/v1/users` and `/v1/approvals`: people, their roles, and four-eyes role grants.
//!
//! Administrators only (Cedar `user.manage`, `approval.read`,
//! `approval.decide`). A segregation-of-duties conflict is refused with 409
//! naming both roles; a privileged grant answers 202 with the approval that a
//! second administrator must decide. Disabling a user cuts off every one of
//! their tokens at once. Personal data is never listed here.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use rampart_audit::Outcome;
use rampart_core::{AccountId, Principal, Role};
use rampart_policy::{Action, Resource};
use rampart_store::{ApprovalError, ApprovalRecord, ApprovalStatus, StoredUser, UserProfile};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::authn::Authenticated;
use crate::extract::{ApiJson, ApiPath, ApiQuery, parse_json, require_media_type};
use crate::problem::ApiError;
use crate::service::identity_action as act;
use crate::service::sessions;
use crate::service::users::{self, AccessChange, NewUser, ROLE_GRANT, UserError};
use crate::service::{audit, authorize, internal};
use crate::state::AppState;

/// A request to create a user.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    username: String,
    #[serde(default)]
    roles: Vec<Role>,
    #[serde(default)]
    accounts: Vec<AccountId>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// A change of a user's roles and accounts; an absent field keeps its value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchUserRequest {
    #[serde(default)]
    roles: Option<Vec<Role>>,
    #[serde(default)]
    accounts: Option<Vec<AccountId>>,
}

/// The filter of `GET /v1/approvals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// A decision's optional comment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    #[serde(default)]
    comment: Option<String>,
}

/// Creates a user with a single-use set-up token (shown only in this answer), with
/// which the person sets their own password at `POST /v1/auth/setup`.
#[utoipa::path(post, path = "/v1/users", tag = "users",
    request_body(content = Object, description = "`username`, `roles`, `accounts`, \
        `display_name`, `email`"),
    responses(
        (status = 201, description = "created; privileged roles pending approval", body = Object),
        (status = 409, description = "taken, or roles in conflict", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> Result<Response, ApiError> {
    manage(&state, &principal, Action::UserManage).await?;
    let request = NewUser {
        username: body.username,
        roles: body.roles,
        accounts: body.accounts,
        profile: UserProfile {
            display_name: body.display_name,
            email: body.email,
        },
    };
    let created = users::create(
        &state.store,
        &principal.id,
        request,
        state.clock.now(),
        ttl(&state),
    )
    .await
    .map_err(from_user_error)?;
    let body = json!({
        "user": view(&created.user),
        "setup_token": created.setup.token.expose_secret(),
        "setup_expires_at": rampart_audit::time::format(&created.setup.expires_at),
        "approval": created.approval.as_ref().map(approval_view),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Lists every user (no personal data).
#[utoipa::path(get, path = "/v1/users", tag = "users",
    responses((status = 200, description = "the users", body = Object)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Value>, ApiError> {
    manage(&state, &principal, Action::UserManage).await?;
    let all = state
        .store
        .users()
        .await
        .map_err(|e| internal("users", &e))?;
    Ok(Json(
        json!({ "users": all.iter().map(view).collect::<Vec<_>>() }),
    ))
}

/// Changes a user's roles or accounts; a privileged grant answers 202 with its approval.
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "the subject id")),
    request_body(content = Object, description = "`roles` and/or `accounts`"),
    responses(
        (status = 200, description = "applied", body = Object),
        (status = 202, description = "proposed for a second administrator", body = Object),
        (status = 409, description = "roles in conflict", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn patch(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<PatchUserRequest>,
) -> Result<Response, ApiError> {
    manage(&state, &principal, Action::UserManage).await?;
    let current = state
        .store
        .user(&id)
        .await
        .map_err(|e| internal("user", &e))?;
    let current = current.ok_or(ApiError::NotFound)?;
    let roles = body.roles.unwrap_or_else(|| current.roles.iter().collect());
    let accounts = body.accounts.unwrap_or(current.accounts);
    let now = state.clock.now();
    let change = users::change_access(
        &state.store,
        &principal.id,
        &id,
        &roles,
        &accounts,
        now,
        ttl(&state),
    )
    .await
    .map_err(from_user_error)?;
    Ok(match change {
        AccessChange::Applied(applied) => {
            if let Some(ended) = &applied.cut_off {
                sessions::cut_off(&state, &id, ended);
            }
            (StatusCode::OK, Json(json!({ "user": view(&applied.user) })))
        }
        AccessChange::Proposed(approval) => (
            StatusCode::ACCEPTED,
            Json(json!({ "approval": approval_view(&approval) })),
        ),
    }
    .into_response())
}

/// Disables a user: every session and token of theirs is refused from now on.
#[utoipa::path(post, path = "/v1/users/{id}/disable", tag = "users",
    params(("id" = String, Path, description = "the subject id")),
    responses((status = 200, description = "disabled", body = Object)),
    security(("bearer" = [])))]
pub async fn disable(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    manage(&state, &principal, Action::UserManage).await?;
    let now = state.clock.now();
    let revoked = users::disable(&state.store, &principal.id, &id, now)
        .await
        .map_err(from_user_error)?;
    sessions::cut_off(&state, &id, &revoked);
    Ok(Json(
        json!({ "id": id, "disabled": true, "revoked_sessions": revoked.len() }),
    ))
}

/// Resets a user's password: their sessions and tokens end, and a new set-up token
/// (shown only in this answer, ending any earlier one) lets them choose a new one.
#[utoipa::path(post, path = "/v1/users/{id}/reset-password", tag = "users",
    params(("id" = String, Path, description = "the subject id")),
    responses((status = 200, description = "reset; the set-up token", body = Object)),
    security(("bearer" = [])))]
pub async fn reset_password(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    manage(&state, &principal, Action::UserManage).await?;
    let now = state.clock.now();
    let (setup, revoked) = users::reset_password(&state.store, &principal.id, &id, now)
        .await
        .map_err(from_user_error)?;
    sessions::cut_off(&state, &id, &revoked);
    Ok(Json(json!({
        "id": id,
        "setup_token": setup.token.expose_secret(),
        "setup_expires_at": rampart_audit::time::format(&setup.expires_at),
        "revoked_sessions": revoked.len(),
    })))
}

/// Removes a user's second factor; they enrol again at their next sign-in.
#[utoipa::path(post, path = "/v1/users/{id}/reset-mfa", tag = "users",
    params(("id" = String, Path, description = "the subject id")),
    responses((status = 200, description = "reset", body = Object)),
    security(("bearer" = [])))]
pub async fn reset_mfa(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    manage(&state, &principal, Action::UserManage).await?;
    let now = state.clock.now();
    let revoked = users::reset_mfa(&state.store, &principal.id, &id, now)
        .await
        .map_err(from_user_error)?;
    sessions::cut_off(&state, &id, &revoked);
    Ok(Json(
        json!({ "id": id, "mfa_enrolled": false, "revoked_sessions": revoked.len() }),
    ))
}

/// Lists approvals, by status and kind.
#[utoipa::path(get, path = "/v1/approvals", tag = "approvals",
    params(
        ("status" = Option<String>, Query, description = "pending, approved, rejected, expired"),
        ("kind" = Option<String>, Query, description = "such as `role.grant`"),
    ),
    responses((status = 200, description = "the approvals", body = Object)),
    security(("bearer" = [])))]
pub async fn approvals(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiQuery(query): ApiQuery<ApprovalQuery>,
) -> Result<Json<Value>, ApiError> {
    manage(&state, &principal, Action::ApprovalRead).await?;
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => Some(ApprovalStatus::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "status",
                "`status` must be one of `pending`, `approved`, \
                `rejected`, `expired`",
            )
        })?),
    };
    let list = state
        .store
        .approvals(status, query.kind.as_deref(), state.clock.now())
        .await
        .map_err(|e| internal("approvals", &e))?;
    Ok(Json(
        json!({ "approvals": list.iter().map(approval_view).collect::<Vec<_>>() }),
    ))
}

/// Approves someone else's proposal, applying it.
#[utoipa::path(post, path = "/v1/approvals/{id}/approve", tag = "approvals",
    params(("id" = String, Path, description = "the approval id")),
    request_body(content = Object, description = "optional `comment`"),
    responses(
        (status = 200, description = "approved and applied", body = Object),
        (status = 403, description = "self-approval", body = crate::problem::Problem),
        (status = 409, description = "decided or expired", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = decision_body(&headers, &body)?;
    decide(&state, &principal, id, true, request).await
}

/// Rejects someone else's proposal.
#[utoipa::path(post, path = "/v1/approvals/{id}/reject", tag = "approvals",
    params(("id" = String, Path, description = "the approval id")),
    request_body(content = Object, description = "optional `comment`"),
    responses(
        (status = 200, description = "rejected", body = Object),
        (status = 403, description = "self-approval", body = crate::problem::Problem),
        (status = 409, description = "decided or expired", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn reject(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = decision_body(&headers, &body)?;
    decide(&state, &principal, id, false, request).await
}

/// The optional JSON body of a decision: empty, or `{"comment": ...}`.
fn decision_body(headers: &HeaderMap, body: &[u8]) -> Result<DecisionRequest, ApiError> {
    if body.is_empty() {
        return Ok(DecisionRequest::default());
    }
    require_media_type(headers, "application/json")?;
    parse_json(body)
}

async fn decide(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    approve: bool,
    request: DecisionRequest,
) -> Result<Json<Value>, ApiError> {
    manage(state, principal, Action::ApprovalDecide).await?;
    if request
        .comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > 500)
    {
        return Err(ApiError::invalid(
            "comment",
            "`comment` must be at most 500 characters",
        ));
    }
    let now = state.clock.now();
    let mut tx = state
        .store
        .begin()
        .await
        .map_err(|e| internal("begin", &e))?;
    let decided = match tx
        .decide(id, &principal.id, approve, request.comment.as_deref(), now)
        .await
    {
        Ok(decided) => decided,
        Err(error) => {
            drop(tx);
            return Err(refuse_decision(state, principal, id, error).await);
        }
    };
    let action = if approve {
        act::APPROVAL_APPROVED
    } else {
        act::APPROVAL_REJECTED
    };
    let details = json!({ "kind": decided.kind, "target": decided.target });
    let event = audit::event(
        &principal.id,
        action,
        &format!("approval:{id}"),
        Outcome::Success,
    );
    tx.append(audit::stamp(event.details(details)))
        .await
        .map_err(|e| internal("approval event", &e))?;
    let applied = match (approve, decided.kind.as_str()) {
        (true, ROLE_GRANT) => Some(
            users::apply_grant(&mut tx, &principal.id, &decided, now)
                .await
                .map_err(from_user_error)?,
        ),
        _ => None,
    };
    tx.commit().await.map_err(|e| internal("commit", &e))?;
    Ok(Json(json!({
        "approval": approval_view(&decided),
        "user": applied.as_ref().map(view),
    })))
}

async fn refuse_decision(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    error: ApprovalError,
) -> ApiError {
    let (reason, answer) = match error {
        ApprovalError::NotFound => ("not_found", ApiError::NotFound),
        ApprovalError::SelfApproval => ("self_approval", ApiError::SelfApproval),
        ApprovalError::AlreadyDecided(_) | ApprovalError::Expired => {
            ("closed", ApiError::ApprovalClosed(error.to_string()))
        }
        ApprovalError::Store(error) => return internal("decide", &error),
    };
    let event = audit::event(
        &principal.id,
        act::APPROVAL_REFUSED,
        &format!("approval:{id}"),
        Outcome::Denied,
    )
    .details(json!({ "reason": reason }));
    audit::append_or_log(&state.store, event).await;
    answer
}

/// Refuses, from now on, the tokens of `sessions` just ended in the store.
pub fn end_sessions(state: &AppState, sessions: &[String]) {
    let now = state.clock.now_unix();
    for sid in sessions {
        state.revocations.revoke_sid(sid, now);
        state.bearer.cache().remove_sid(sid);
    }
}

async fn manage(state: &AppState, principal: &Principal, action: Action) -> Result<(), ApiError> {
    authorize(state, principal, action, &Resource::Gateway)
        .await
        .map(|_| ())
}

fn ttl(state: &AppState) -> Duration {
    Duration::seconds(crate::clock::signed(state.auth.approvals.ttl_seconds))
}

fn from_user_error(error: UserError) -> ApiError {
    match error {
        UserError::Username => ApiError::invalid("username", error.to_string()),
        UserError::Profile(field) => ApiError::invalid(field, error.to_string()),
        UserError::Taken => ApiError::Duplicate(error.to_string()),
        UserError::Conflict(_) => ApiError::RoleConflict(error.to_string()),
        UserError::UnknownAccount(_) => ApiError::invalid("accounts", error.to_string()),
        UserError::UnknownUser => ApiError::NotFound,
        UserError::Hash | UserError::Payload | UserError::Setup(_) => {
            internal("user change", &error)
        }
        UserError::Store(error) => internal("users", &error),
    }
}

/// A user as administrators see it: no password hash, no seed, no personal data.
pub fn view(user: &StoredUser) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "roles": user.roles,
        "accounts": user.accounts,
        "disabled": user.disabled,
        "must_change_password": user.must_change_password,
        "mfa_enrolled": user.has_mfa(),
        "created_at": rampart_audit::time::format(&user.created_at),
    })
}

/// An approval as shown to deciders.
pub fn approval_view(approval: &ApprovalRecord) -> Value {
    json!({
        "id": approval.id,
        "kind": approval.kind,
        "target": approval.target,
        "payload": approval.payload,
        "status": approval.status.as_str(),
        "proposed_by": approval.proposed_by,
        "proposed_at": rampart_audit::time::format(&approval.proposed_at),
        "expires_at": rampart_audit::time::format(&approval.expires_at),
        "decided_by": approval.decided_by,
        "decided_at": approval.decided_at.as_ref().map(rampart_audit::time::format),
        "comment": approval.comment,
    })
}
