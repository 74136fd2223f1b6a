//! `/v1/kill-switch`: engage the kill switch (MiFID II RTS 6, Article 12), list it, and
//! propose its release.
//!
//! An engagement is global or scoped to one account, instrument, API client
//! (algorithm) or trader; it stops new orders in scope and withdraws the open
//! ones at the broker in one step (see `service::killswitch_engage`). Release
//! is a proposal that a second person approves through `/v1/approvals`
//! (`service::killswitch_release`). Unknown targets answer 404, a target that
//! does not fit the scope 400.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rampart_core::{AccountId, OrderId};
use rampart_policy::{Action, Resource};
use rampart_trading::{Engagement, KillSwitchScope};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::authn::Authenticated;
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::routes::schema::{
    EngagedSchema, EngagementListSchema, KillSwitchReleaseSchema, KillSwitchRequestSchema,
};
use crate::routes::users::approval_view;
use crate::service::killswitch_engage::{self, EngageRequest};
use crate::service::killswitch_release::{self, Released};
use crate::service::{authorize, detach, internal};
use crate::state::AppState;

/// A request to engage the kill switch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopedRequest {
    scope: ScopeKind,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    instrument: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    trader_id: Option<String>,
    reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ScopeKind {
    Global,
    Account,
    Instrument,
    Client,
    Trader,
}

impl ScopeKind {
    /// The request field that names this scope's target; none for `global`.
    fn field(self) -> Option<&'static str> {
        match self {
            Self::Global => None,
            Self::Account => Some("account_id"),
            Self::Instrument => Some("instrument"),
            Self::Client => Some("client_id"),
            Self::Trader => Some("trader_id"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Account => "account",
            Self::Instrument => "instrument",
            Self::Client => "client",
            Self::Trader => "trader",
        }
    }
}

/// A request to release an engagement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    engagement_id: String,
    reason: String,
}

/// An engagement as shown to clients.
#[derive(Debug, Serialize)]
pub struct EngagementView {
    id: String,
    scope: &'static str,
    target: Option<String>,
    account_id: Option<AccountId>,
    reason: String,
    engaged_by: String,
    engaged_at: String,
}

/// The answer to an engagement.
#[derive(Debug, Serialize)]
pub struct Engaged {
    engagement: EngagementView,
    cancelled_orders: Vec<OrderId>,
}

/// The engagements in force.
#[derive(Debug, Serialize)]
pub struct EngagementList {
    engagements: Vec<EngagementView>,
}

/// Engages the kill switch and cancels the open orders in its scope.
#[utoipa::path(post, path = "/v1/kill-switch", tag = "kill-switch",
    request_body = KillSwitchRequestSchema,
    responses(
        (status = 201, description = "engaged", body = EngagedSchema),
        (status = 400, description = "invalid request", body = crate::problem::Problem),
        (status = 403, description = "not allowed", body = crate::problem::Problem),
        (status = 404, description = "unknown account, instrument, client or trader",
            body = crate::problem::Problem),
        (status = 409, description = "already engaged", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn engage(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiJson(request): ApiJson<ScopedRequest>,
) -> Result<(StatusCode, Json<Engaged>), ApiError> {
    let scope = scope_of(&request)?;
    let resource = match &scope {
        KillSwitchScope::Account(account) => Resource::Account(account.clone()),
        _ => Resource::Gateway,
    };
    let decision = authorize(&state, &principal, Action::KillSwitchEngage, &resource).await?;
    require_target(&state, &scope).await?;

    let engage = EngageRequest {
        scope,
        reason: request.reason,
        actor: principal.id.clone(),
        policy_version: Some(decision.policy_version),
        details: Value::Null,
        now: state.clock.now(),
    };
    let detached = state.clone();
    let engaged = detach(async move { killswitch_engage::engage(&detached, engage).await }).await?;
    let body = Engaged {
        engagement: view(&engaged.engagement),
        cancelled_orders: engaged.cancelled,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Lists the engagements in force.
#[utoipa::path(get, path = "/v1/kill-switch", tag = "kill-switch",
    responses(
        (status = 200, description = "the engagements in force", body = EngagementListSchema),
        (status = 403, description = "not allowed", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<EngagementList>, ApiError> {
    authorize(
        &state,
        &principal,
        Action::KillSwitchRead,
        &Resource::Gateway,
    )
    .await?;
    state
        .kill_switch
        .reload(&state.store)
        .await
        .map_err(|e| internal("kill switch", &e))?;
    let engagements = state.kill_switch.engaged().iter().map(view).collect();
    Ok(Json(EngagementList { engagements }))
}

/// Proposes the release of an engagement; a second person approves it.
///
/// A guard engagement (by `system`) is released at once by a risk manager.
#[utoipa::path(post, path = "/v1/kill-switch/release", tag = "kill-switch",
    request_body = KillSwitchReleaseSchema,
    responses(
        (status = 202, description = "proposed; a second person approves it"),
        (status = 200, description = "a guard engagement released by a designated person"),
        (status = 400, description = "invalid request", body = crate::problem::Problem),
        (status = 403, description = "not allowed", body = crate::problem::Problem),
        (status = 404, description = "no such engagement", body = crate::problem::Problem),
        (status = 409, description = "no longer in force, or a release is pending already",
            body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn release(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiJson(request): ApiJson<ReleaseRequest>,
) -> Result<Response, ApiError> {
    let id = Uuid::try_parse(request.engagement_id.trim()).map_err(|_| {
        ApiError::invalid(
            "engagement_id",
            "`engagement_id` must be an engagement id (a UUID)",
        )
    })?;
    let decision = killswitch_release::authorize_release(&state, &principal, id).await?;
    let reason = request.reason;
    let version = decision.policy_version;
    let released = killswitch_release::propose(&state, &principal, id, &reason, &version).await?;
    Ok(match released {
        Released::Proposed(approval) => {
            let body = json!({ "approval": approval_view(&approval) });
            (StatusCode::ACCEPTED, Json(body)).into_response()
        }
        Released::Released(record) => {
            let body = json!({ "released": record.id, "released_by": record.released_by });
            (StatusCode::OK, Json(body)).into_response()
        }
    })
}

/// The scope a request names; a target missing, surplus or malformed is refused by field.
fn scope_of(request: &ScopedRequest) -> Result<KillSwitchScope, ApiError> {
    let given = [
        ("account_id", &request.account_id),
        ("instrument", &request.instrument),
        ("client_id", &request.client_id),
        ("trader_id", &request.trader_id),
    ];
    let wanted = request.scope.field();
    let name = request.scope.name();
    if let Some((field, _)) = given
        .iter()
        .find(|(f, v)| v.is_some() && Some(*f) != wanted)
    {
        let detail = format!("`{field}` is not allowed for scope `{name}`");
        return Err(ApiError::invalid(field, detail));
    }
    let target = match wanted {
        None => None,
        Some(field) => {
            let value = given
                .iter()
                .find(|(f, _)| *f == field)
                .and_then(|(_, v)| v.as_ref());
            let detail = format!("`{field}` is required for scope `{name}`");
            Some(
                value
                    .ok_or_else(|| ApiError::invalid(field, detail))?
                    .as_str(),
            )
        }
    };
    KillSwitchScope::from_parts(name, target).map_err(|_| {
        let field = wanted.unwrap_or("scope");
        ApiError::invalid(field, format!("`{field}` is not a valid {name} id"))
    })
}

/// Refuses with 404 a scope whose account, instrument, client or trader is unknown.
async fn require_target(state: &AppState, scope: &KillSwitchScope) -> Result<(), ApiError> {
    let store = &state.store;
    let known = match scope {
        KillSwitchScope::Global => Ok(true),
        KillSwitchScope::Account(id) => store.account(id).await.map(|a| a.is_some()),
        KillSwitchScope::Instrument(id) => Ok(state.catalog.get(id).is_some()),
        KillSwitchScope::Client(id) => store.client(id).await.map(|c| c.is_some()),
        KillSwitchScope::Trader(id) => store.user(id).await.map(|u| u.is_some()),
    }
    .map_err(|e| internal("kill switch target", &e))?;
    match known {
        true => Ok(()),
        false => Err(ApiError::NotFound),
    }
}

fn view(engagement: &Engagement) -> EngagementView {
    EngagementView {
        id: engagement.id.to_string(),
        scope: engagement.scope.kind(),
        target: engagement.scope.target().map(str::to_owned),
        account_id: engagement.scope.account().cloned(),
        reason: engagement.reason.clone(),
        engaged_by: engagement.engaged_by.clone(),
        engaged_at: rampart_audit::time::format(&engagement.engaged_at),
    }
}
