//! `/v1/kill-switch`: engage the kill switch (MiFID II RTS 6, Article 12) and list it.
//!
//! Engaging takes the order gate exclusively, so no order being decided can
//! slip past it; it is held in memory at once, persisted with its audit event,
//! and every open order in scope is cancelled at the broker, each audited.
//! Release is the operator's, through the command line.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use rampart_audit::{Outcome, action};
use rampart_core::{AccountId, OrderId, Principal};
use rampart_policy::{Action, Decision, Resource};
use rampart_trading::killswitch::KillSwitchError;
use rampart_trading::{Engagement, KillSwitchScope};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::authn::Authenticated;
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::routes::schema::{EngagedSchema, EngagementListSchema, KillSwitchRequestSchema};
use crate::service::fills::record_cancel;
use crate::service::killswitch::record_of;
use crate::service::{audit, authorize, detach, internal, target_of};
use crate::state::AppState;

/// A request to engage the kill switch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngageRequest {
    scope: ScopeKind,
    #[serde(default)]
    account_id: Option<AccountId>,
    reason: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ScopeKind {
    Global,
    Account,
}

/// An engagement as shown to clients.
#[derive(Debug, Serialize)]
pub struct EngagementView {
    id: String,
    scope: &'static str,
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
        (status = 404, description = "unknown account", body = crate::problem::Problem),
        (status = 409, description = "already engaged", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn engage(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiJson(request): ApiJson<EngageRequest>,
) -> Result<(StatusCode, Json<Engaged>), ApiError> {
    let scope = scope_of(&request)?;
    let resource = match &scope {
        KillSwitchScope::Account(account) => Resource::Account(account.clone()),
        _ => Resource::Gateway,
    };
    let decision = authorize(&state, &principal, Action::KillSwitchEngage, &resource).await?;
    if let KillSwitchScope::Account(account) = &scope {
        let found = state
            .store
            .account(account)
            .await
            .map_err(|e| internal("account", &e))?;
        found.ok_or(ApiError::NotFound)?;
    }

    let detached = state.clone();
    let (engagement, cancelled) = detach(async move {
        let gate = detached.order_gate.write().await;
        let persisted = persist(
            &detached,
            &principal,
            scope,
            &request.reason,
            &decision,
            &resource,
        )
        .await;
        // New orders may flow to other accounts again; shutdown still waits for the cancels.
        let reading = gate.downgrade();
        let engagement = persisted?;
        let cancelled = cancel_in_scope(&detached, &engagement, &principal.id).await?;
        drop(reading);
        Ok((engagement, cancelled))
    })
    .await?;
    let body = Engaged {
        engagement: view(&engagement),
        cancelled_orders: cancelled,
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

fn scope_of(request: &EngageRequest) -> Result<KillSwitchScope, ApiError> {
    match (request.scope, &request.account_id) {
        (ScopeKind::Global, None) => Ok(KillSwitchScope::Global),
        (ScopeKind::Global, Some(_)) => Err(ApiError::invalid(
            "account_id",
            "`account_id` is not allowed for scope `global`",
        )),
        (ScopeKind::Account, Some(account)) => Ok(KillSwitchScope::Account(account.clone())),
        (ScopeKind::Account, None) => Err(ApiError::invalid(
            "account_id",
            "`account_id` is required for scope `account`",
        )),
    }
}

async fn persist(
    state: &AppState,
    principal: &Principal,
    scope: KillSwitchScope,
    reason: &str,
    decision: &Decision,
    resource: &Resource,
) -> Result<Engagement, ApiError> {
    let store = state.store.clone();
    let actor = principal.id.clone();
    let version = decision.policy_version.clone();
    let target = target_of(resource);
    let write = |engagement: Engagement| async move {
        let mut tx = store.begin().await?;
        tx.insert_kill_switch(&record_of(&engagement)).await?;
        let event = audit::event(
            &actor,
            action::KILLSWITCH_ENGAGED,
            &target,
            Outcome::Success,
        )
        .policy(version)
        .details(json!({
            "engagement_id": engagement.id.to_string(),
            "scope": engagement.scope.kind(),
            "account_id": engagement.scope.account(),
            "reason": engagement.reason,
        }));
        tx.append(audit::stamp(event)).await?;
        tx.commit().await
    };
    let outcome = state
        .kill_switch
        .engage(scope, reason, &principal.id, Utc::now(), write)
        .await;
    match outcome {
        Ok(Ok((engagement, ()))) => Ok(engagement),
        Ok(Err(error)) => Err(internal("killswitch.engaged event", &error)),
        Err(KillSwitchError::InvalidReason) => Err(ApiError::invalid(
            "reason",
            KillSwitchError::InvalidReason.to_string(),
        )),
        Err(KillSwitchError::AlreadyEngaged(_)) => Err(ApiError::KillSwitchEngaged),
        Err(error) => Err(internal("kill switch", &error)),
    }
}

/// Cancels every resting order the engagement covers; returns their ids.
async fn cancel_in_scope(
    state: &AppState,
    engagement: &Engagement,
    actor: &str,
) -> Result<Vec<OrderId>, ApiError> {
    let scope = engagement.scope.clone();
    let covered = move |order: &rampart_core::Order| scope.covers(&order.account_id);
    let ids = state
        .broker()
        .cancel_where(&covered)
        .await
        .map_err(|e| internal("broker", &e))?;
    for id in &ids {
        let order = state
            .store
            .order(*id)
            .await
            .map_err(|e| internal("order", &e))?;
        let Some(order) = order else { continue };
        record_cancel(&state.store, order, actor, "kill_switch", Utc::now())
            .await
            .map_err(|e| internal("order.cancelled event", &e))?;
    }
    Ok(ids)
}

fn view(engagement: &Engagement) -> EngagementView {
    EngagementView {
        id: engagement.id.to_string(),
        scope: engagement.scope.kind(),
        account_id: engagement.scope.account().cloned(),
        reason: engagement.reason.clone(),
        engaged_by: engagement.engaged_by.clone(),
        engaged_at: rampart_audit::time::format(&engagement.engaged_at),
    }
}
