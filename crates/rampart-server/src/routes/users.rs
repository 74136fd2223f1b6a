//! `/v1/users`: people, their roles, and four-eyes role grants (decided in `approvals`).
//!
//! Administrators only (Cedar `user.manage`, `approval.read`,
//! `approval.decide`). A segregation-of-duties conflict is refused with 409
//! naming both roles; a privileged grant answers 202 with the approval that a
//! second administrator must decide. Disabling a user cuts off every one of
//! their tokens at once. Personal data is never listed here.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use rampart_core::{AccountId, Principal, Role};
use rampart_policy::{Action, Resource};
use rampart_store::UserProfile;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::authn::Authenticated;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::ApiError;
use crate::service::approval_person::durable_view_of;
use crate::service::user_reset::{self, ResetKind, ResetOutcome};
use crate::service::users::{self, AccessChange, NewUser};
use crate::service::{authorize, internal};
use crate::service::{owned_clients, sessions, setup_handover};
use crate::state::AppState;

pub use crate::service::user_answers::{approval_view, end_sessions, from_user_error, view};

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

/// Creates a user with a single-use set-up token, delivered to the person only (the
/// answer says how), with which they set their own password at `POST /v1/auth/setup`.
/// When privileged roles wait for a second administrator, no token exists yet: `setup`
/// is `null` and the token is delivered once `approval` is approved.
#[utoipa::path(post, path = "/v1/users", tag = "users",
    request_body(content = Object, description = "`username`, `roles`, `accounts`, \
        `display_name`, `email` (one bare address, in `allowed_domains` when tokens are \
        mailed; required then)"),
    responses(
        (status = 201, description = "created: `{user, setup, approval}`; `setup` is \
            `{delivered, delivery, expires_at}`, or `null` while `approval` (the privileged \
            roles) is pending, the token then being delivered on approval", body = Object),
        (status = 400, description = "invalid `username`, `email` or `accounts`",
            body = crate::problem::Problem),
        (status = 409, description = "taken, or roles in conflict", body = crate::problem::Problem),
        (status = 502, description = "created, but the set-up token was not delivered; \
            withdrawn", body = crate::problem::Problem),
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
    let rule = state.setup_delivery.address_rule();
    let now = state.clock.now();
    let created =
        users::create_within(&state.store, &principal.id, request, now, ttl(&state), rule)
            .await
            .map_err(from_user_error)?;
    let email = created.address.as_ref().map(AsRef::as_ref);
    let setup = match created.setup {
        Some(setup) => {
            setup_handover::hand_over(&state, &principal.id, &created.user, email, setup).await?
        }
        None => Value::Null,
    };
    let approval = match &created.approval {
        Some(approval) => durable_view_of(&state, approval).await,
        None => Value::Null,
    };
    let body = json!({ "user": view(&created.user), "setup": setup, "approval": approval });
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
                sessions::cut_off_recorded(&state, &id, ended).await;
            }
            (StatusCode::OK, Json(json!({ "user": view(&applied.user) })))
        }
        AccessChange::Proposed(approval) => (
            StatusCode::ACCEPTED,
            Json(json!({ "approval": durable_view_of(&state, &approval).await })),
        ),
    }
    .into_response())
}

/// Disables a user: every session and token of theirs is refused from now on, and so
/// are the API clients they own, disabled with them (listed as `disabled_clients`).
#[utoipa::path(post, path = "/v1/users/{id}/disable", tag = "users",
    params(("id" = String, Path, description = "the subject id")),
    responses((status = 200, description = "disabled, with `disabled_clients`: the API \
        clients they own, disabled with them and not enabled again with them; their \
        resting orders are not cancelled (engage a client kill switch for that)",
        body = Object)),
    security(("bearer" = [])))]
pub async fn disable(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    manage(&state, &principal, Action::UserManage).await?;
    let now = state.clock.now();
    let (revoked, clients) = users::disable_with_clients(&state.store, &principal.id, &id, now)
        .await
        .map_err(from_user_error)?;
    let mut answer = cut_off_answer(&state, &id, &revoked).await;
    answer.insert("disabled".into(), json!(true));
    owned_clients::cut_off_all(&state, &clients).await;
    answer.insert("disabled_clients".into(), json!(clients));
    Ok(Json(Value::Object(answer)).into_response())
}

/// Resets a user's password: their sessions and tokens end, and a new set-up token
/// (ending any earlier one) goes to the person only. A privileged person's reset
/// answers 202 with the approval a second administrator must decide.
#[utoipa::path(post, path = "/v1/users/{id}/reset-password", tag = "users",
    params(("id" = String, Path, description = "the subject id")),
    responses(
        (status = 200, description = "reset; how the set-up token was delivered", body = Object),
        (status = 202, description = "proposed for a second administrator", body = Object),
        (status = 409, description = "a role grant for a person who never set up their \
            account is pending (`user.grant_pending`)", body = crate::problem::Problem),
        (status = 502, description = "not delivered; withdrawn", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn reset_password(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    reset(&state, &principal, &id, ResetKind::Password).await
}

/// Removes a user's second factor; they enrol again at their next sign-in. A
/// privileged person's reset answers 202 with its approval.
#[utoipa::path(post, path = "/v1/users/{id}/reset-mfa", tag = "users",
    params(("id" = String, Path, description = "the subject id")),
    responses(
        (status = 200, description = "reset", body = Object),
        (status = 202, description = "proposed for a second administrator", body = Object),
    ),
    security(("bearer" = [])))]
pub async fn reset_mfa(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    reset(&state, &principal, &id, ResetKind::Mfa).await
}

/// The body shared by both resets: propose for the privileged, else apply and hand over.
async fn reset(
    state: &AppState,
    principal: &Principal,
    id: &str,
    kind: ResetKind,
) -> Result<Response, ApiError> {
    manage(state, principal, Action::UserManage).await?;
    let now = state.clock.now();
    let outcome = user_reset::reset(&state.store, &principal.id, id, kind, now, ttl(state))
        .await
        .map_err(from_user_error)?;
    let applied = match outcome {
        ResetOutcome::Proposed(approval) => {
            let body = json!({ "approval": durable_view_of(state, &approval).await });
            return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
        }
        ResetOutcome::Applied(applied) => applied,
    };
    let mut answer = cut_off_answer(state, id, &applied.revoked).await;
    answer.insert("reset".into(), json!(kind.as_str()));
    answer.insert("mfa_enrolled".into(), json!(applied.user.has_mfa()));
    if let Some(setup) = applied.setup {
        let email = applied.email.as_deref();
        let delivered =
            setup_handover::hand_over(state, &principal.id, &applied.user, email, setup);
        answer.insert("setup".into(), delivered.await?);
    }
    Ok(Json(Value::Object(answer)).into_response())
}

/// Refuses in memory the tokens of `id` up to the moment the store recorded and
/// its ended `sessions`; the answer naming them.
async fn cut_off_answer(state: &AppState, id: &str, sessions: &[String]) -> Map<String, Value> {
    sessions::cut_off_recorded(state, id, sessions).await;
    let mut answer = Map::new();
    answer.insert("id".into(), json!(id));
    answer.insert("revoked_sessions".into(), json!(sessions.len()));
    answer
}

async fn manage(state: &AppState, principal: &Principal, action: Action) -> Result<(), ApiError> {
    authorize(state, principal, action, &Resource::Gateway)
        .await
        .map(|_| ())
}

fn ttl(state: &AppState) -> Duration {
    Duration::seconds(crate::clock::signed(state.auth.approvals.ttl_seconds))
}
