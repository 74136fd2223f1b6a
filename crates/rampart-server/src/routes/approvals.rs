//! `/v1/approvals`: four-eyes decisions of every kind, each applied in the decision's transaction.
//!
//! Listing needs Cedar `approval.read` on the gateway and shows only the
//! approvals the caller may read; deciding needs `approval.decide` on the
//! approval itself, whose kind and accounts the policies see (role grants by
//! administrators, risk-limit changes by risk managers of those accounts,
//! kill-switch releases by risk managers of the account they concern, and
//! never by an API client). The store refuses the proposer and anyone on the
//! proposer's side, and an approval whose proposer was disabled since, and
//! decides in its write transaction, whose clock is read once the writer is
//! held, so concurrent approvals apply once and none lapses while waiting.
//! Every refused decision, by the store or while being applied, leaves an
//! `approval.refused` event (`service::decision_refusal`). A decision runs in
//! its own task (`service::detach`), so a timeout or disconnect skips neither
//! that record nor a post-commit step (the in-memory release, a reset's
//! cut-off). Listing is read-only and paged by an opaque cursor, a position in
//! id order sealed under a per-process key (`service::approval_cursor`) and
//! never looked up, so a cursor says nothing of the approvals passed over. A
//! page scans a bounded number of stored pages: one may come back short, or
//! empty with a `next_cursor`, when the approvals scanned were ones the caller
//! may not read. Proposals past their expiry read as `expired`, and the expiry
//! task (`service::approval_expiry`) records them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use rampart_audit::Outcome;
use rampart_core::{AccountId, Principal};
use rampart_policy::{Action, Resource};
use rampart_store::{ApprovalFilter, ApprovalRecord, ApprovalStatus, WriteTx};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::authn::Authenticated;
use crate::extract::{ApiPath, ApiQuery, parse_json, require_media_type};
use crate::problem::ApiError;
use crate::routes::users::{from_user_error, view};
use crate::service::approval_person::{approval_views_of, durable_view_of};
use crate::service::decision_refusal::{self, Refusal};
use crate::service::identity_action as act;
use crate::service::killswitch_release;
use crate::service::risk_limits::{self, RISK_LIMITS_CHANGE};
use crate::service::role_grant::{self, AppliedGrant};
use crate::service::user_reset::{self, USER_RESET};
use crate::service::users::{self, ROLE_GRANT};
use crate::service::{audit, authorize, internal};
use crate::state::AppState;

pub use crate::service::approval_expiry::{APPROVAL_EXPIRED, sweep_expired};

/// The page size of `GET /v1/approvals` when none is asked for.
pub const DEFAULT_PAGE: u32 = 50;

/// The largest page of `GET /v1/approvals`.
pub const MAX_PAGE: u32 = 500;

/// How many pages of the store one listing reads at most to fill a page with
/// approvals the caller may read; a page left short still carries its cursor.
const MAX_SCANNED_PAGES: usize = 8;

/// The approval kind of a kill-switch release.
pub const KILLSWITCH_RELEASE: &str = "killswitch.release";

/// The filter of `GET /v1/approvals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

/// A decision's optional comment.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    #[serde(default)]
    comment: Option<String>,
}

/// Lists a page of the approvals the caller may read, by status, kind, target or account.
#[utoipa::path(get, path = "/v1/approvals", tag = "approvals",
    params(
        ("status" = Option<String>, Query, description = "pending, approved, rejected, expired"),
        ("kind" = Option<String>, Query, description = "such as `risk_limits.change`"),
        ("target" = Option<String>, Query, description = "such as `account:ACC-1`"),
        ("account_id" = Option<String>, Query, description = "the account a change concerns"),
        ("limit" = Option<u32>, Query, description = "page size, 1 to 500 (default 50)"),
        ("cursor" = Option<String>, Query,
            description = "the opaque `next_cursor` of the previous page (valid until restart)"),
    ),
    responses(
        (status = 200, description = "a page of approvals",
            body = crate::routes::schema::ApprovalPageSchema),
        (status = 400, description = "invalid query", body = crate::problem::Problem),
        (status = 401, description = "no valid token", body = crate::problem::Problem),
        (status = 403, description = "not a reader of approvals", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiQuery(query): ApiQuery<ApprovalQuery>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &principal, Action::ApprovalRead, &Resource::Gateway).await?;
    let page = page_of(&state, &query)?;
    let filter = filter_of(query)?;
    let (found, next) = readable_page(&state, &principal, &filter, page).await?;
    let next_cursor = next
        .map(|after| state.approval_cursor.seal(after))
        .transpose()?;
    let approvals = approval_views_of(&state, &found).await?;
    Ok(Json(
        json!({ "approvals": approvals, "next_cursor": next_cursor }),
    ))
}

/// Where a listing starts and how many approvals it may hold.
#[derive(Debug, Clone, Copy)]
struct Page {
    after: Option<Uuid>,
    limit: u32,
}

/// Up to `page.limit` approvals the caller may read, and the cursor of the next page.
async fn readable_page(
    state: &AppState,
    principal: &Principal,
    filter: &ApprovalFilter,
    page: Page,
) -> Result<(Vec<ApprovalRecord>, Option<Uuid>), ApiError> {
    let now = state.clock.now();
    let wanted = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let mut readable = Vec::new();
    let mut after = page.after;
    for _ in 0..MAX_SCANNED_PAGES {
        let batch = state
            .store
            .approvals_page(filter, after, page.limit, now)
            .await
            .map_err(|e| internal("approvals", &e))?;
        let exhausted = batch.len() < wanted;
        for approval in batch {
            after = Some(approval.id);
            if may_read(state, principal, &approval) {
                readable.push(approval);
            }
            if readable.len() == wanted {
                return Ok((readable, after));
            }
        }
        if exhausted {
            return Ok((readable, None));
        }
    }
    Ok((readable, after))
}

fn may_read(state: &AppState, principal: &Principal, approval: &ApprovalRecord) -> bool {
    let resource = resource_of(approval);
    let decision = state
        .authorizer
        .authorize(principal, Action::ApprovalRead, &resource);
    decision.allowed
}

fn page_of(state: &AppState, query: &ApprovalQuery) -> Result<Page, ApiError> {
    let limit = match &query.limit {
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| ApiError::invalid("limit", "`limit` must be from 1 to 500"))?,
        None => DEFAULT_PAGE,
    };
    let after = match &query.cursor {
        Some(text) => Some(state.approval_cursor.open(text)?),
        None => None,
    };
    Ok(Page { after, limit })
}

/// Approves someone else's proposal, applying it.
#[utoipa::path(post, path = "/v1/approvals/{id}/approve", tag = "approvals",
    params(("id" = String, Path, description = "the approval id")),
    request_body(content = Object, description = "optional `comment`"),
    responses(
        (status = 200, description = "approved and applied: `{approval, applied, user, \
            setup}`; `setup` is how a set-up token issued by the decision went \
            (`delivered: false` when it could not be delivered, with `recorded: false` \
            when not even that could be recorded; the decision stands), else `null`; a \
            `role.grant` or `user.reset` approval shows its `person`", body = Object),
        (status = 403, description = "self-approval, or not a decider",
            body = crate::problem::Problem),
        (status = 409, description = "decided, expired or stale; a role grant whose \
            person's e-mail changed since the proposal (`approval.target_changed`), or \
            proposed by an earlier version (`approval.proposal_outdated`)",
            body = crate::problem::Problem),
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
    detached_decision(state, principal, id, true, request).await
}

/// Rejects someone else's proposal.
#[utoipa::path(post, path = "/v1/approvals/{id}/reject", tag = "approvals",
    params(("id" = String, Path, description = "the approval id")),
    request_body(content = Object, description = "optional `comment`"),
    responses(
        (status = 200, description = "rejected", body = Object),
        (status = 403, description = "self-approval, or not a decider",
            body = crate::problem::Problem),
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
    detached_decision(state, principal, id, false, request).await
}

/// Runs [`decide`] to completion even if the request is dropped (timeout, disconnect),
/// so that neither a refusal's record nor a post-commit step is skipped.
async fn detached_decision(
    state: AppState,
    principal: Principal,
    id: Uuid,
    approve: bool,
    request: DecisionRequest,
) -> Result<Json<Value>, ApiError> {
    crate::service::detach(async move { decide(&state, &principal, id, approve, request).await })
        .await
}

/// The policy resource of an approval: its kind and the accounts it concerns.
pub fn resource_of(approval: &ApprovalRecord) -> Resource {
    let mut accounts = risk_limits::accounts_of(approval);
    accounts.extend(killswitch_release::accounts_of(approval));
    Resource::Approval {
        id: approval.id.to_string(),
        kind: approval.kind.clone(),
        accounts,
    }
}

fn filter_of(query: ApprovalQuery) -> Result<ApprovalFilter, ApiError> {
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => Some(ApprovalStatus::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "status",
                "`status` must be one of `pending`, `approved`, `rejected`, `expired`",
            )
        })?),
    };
    let account_target = match query.account_id.as_deref() {
        None => None,
        Some(text) => {
            let account: AccountId = text.parse().map_err(|_| {
                ApiError::invalid("account_id", "`account_id` is not a valid account id")
            })?;
            Some(risk_limits::account_target(&account))
        }
    };
    if query.target.is_some() && account_target.is_some() && query.target != account_target {
        return Err(ApiError::invalid(
            "target",
            "`target` and `account_id` name different things",
        ));
    }
    Ok(ApprovalFilter {
        status,
        kind: query.kind,
        target: query.target.or(account_target),
    })
}

/// The optional JSON body of a decision: empty, or `{"comment": ...}`.
fn decision_body(headers: &HeaderMap, body: &[u8]) -> Result<DecisionRequest, ApiError> {
    if body.is_empty() {
        return Ok(DecisionRequest::default());
    }
    require_media_type(headers, "application/json")?;
    parse_json(body)
}

/// Decides approval `id` as `principal`: authorised first, then decided and applied in
/// one write transaction, whose clock is read once the writer is held, so that time
/// spent waiting for it cannot keep alive an approval that lapsed meanwhile.
async fn decide(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    approve: bool,
    request: DecisionRequest,
) -> Result<Json<Value>, ApiError> {
    check_comment(request.comment.as_deref())?;
    let found = authorized_approval(state, principal, id).await?;
    role_grant::refuse_if_changed(state, principal, &found, approve).await?;

    let mut tx = state
        .store
        .begin()
        .await
        .map_err(|e| internal("begin", &e))?;
    let now = state.clock.now();
    let comment = request.comment.as_deref();
    let (decided, applied, granted) =
        match decide_in(state, &mut tx, principal, id, approve, comment, now).await {
            Ok(done) => done,
            Err(refusal) => {
                drop(tx);
                return Err(refusal.settle(state, principal, id).await);
            }
        };
    tx.commit().await.map_err(|e| internal("commit", &e))?;
    if approve {
        killswitch_release::after_commit(state, &decided).await;
    }
    let setup = match granted {
        Some(grant) => role_grant::after_commit(state, &principal.id, grant).await,
        None => user_reset::after_commit(state, &decided).await,
    };
    Ok(Json(json!({
        "approval": durable_view_of(state, &decided).await,
        "applied": applied,
        "user": applied.get("user"),
        "setup": setup,
    })))
}

/// Approval `id`, once lapsed approvals are recorded and `principal` is allowed to
/// decide it; what applying it needs is prepared before the writer is taken.
async fn authorized_approval(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<ApprovalRecord, ApiError> {
    let now = state.clock.now();
    sweep_expired(state, now)
        .await
        .map_err(|e| internal("approval sweep", &e))?;
    let found = state
        .store
        .approval(id, now)
        .await
        .map_err(|e| internal("approval", &e))?;
    let found = found.ok_or(ApiError::NotFound)?;
    let resource = resource_of(&found);
    authorize(state, principal, Action::ApprovalDecide, &resource).await?;
    user_reset::prepare(&found).await?;
    Ok(found)
}

/// Decides and applies approval `id` in `tx`; a refusal leaves `tx` to be rolled back.
async fn decide_in(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    principal: &Principal,
    id: Uuid,
    approve: bool,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(ApprovalRecord, Value, Option<AppliedGrant>), Refusal> {
    let decided = tx
        .decide(id, &principal.id, approve, comment, now)
        .await
        .map_err(Refusal::of_store)?;
    let side = decision_refusal::side_refusal(tx, &decided, principal, approve).await?;
    if let Some(reason) = side {
        return Err(Refusal::new(reason, ApiError::SelfApproval));
    }
    record_decision(tx, principal, &decided, approve).await?;
    let (applied, granted) = apply_kind(state, tx, principal, &decided, approve, now).await?;
    Ok((decided, applied, granted))
}

fn check_comment(comment: Option<&str>) -> Result<(), ApiError> {
    let bad = comment.is_some_and(|c| c.chars().count() > 500 || c.chars().any(char::is_control));
    if bad {
        return Err(ApiError::invalid(
            "comment",
            "`comment` must be at most 500 characters with no control characters",
        ));
    }
    Ok(())
}

async fn record_decision(
    tx: &mut WriteTx<'_>,
    principal: &Principal,
    decided: &ApprovalRecord,
    approve: bool,
) -> Result<(), ApiError> {
    let action = if approve {
        act::APPROVAL_APPROVED
    } else {
        act::APPROVAL_REJECTED
    };
    let details = json!({
        "kind": decided.kind,
        "target": decided.target,
        "proposed_by": decided.proposed_by,
        "comment": decided.comment,
    });
    let event = audit::event(
        &principal.id,
        action,
        &format!("approval:{}", decided.id),
        Outcome::Success,
    );
    tx.append(audit::stamp(event.details(details)))
        .await
        .map_err(|e| internal("approval event", &e))?;
    Ok(())
}

/// Applies (or records the rejection of) the decided change according to its kind, with
/// an applied role grant, whose set-up token is handed over after commit.
async fn apply_kind(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    principal: &Principal,
    decided: &ApprovalRecord,
    approve: bool,
    now: DateTime<Utc>,
) -> Result<(Value, Option<AppliedGrant>), ApiError> {
    if let (ROLE_GRANT, true) = (decided.kind.as_str(), approve) {
        let grant = users::apply_grant(tx, &principal.id, decided, now).await;
        let grant = grant.map_err(from_user_error)?;
        return Ok((json!({ "user": view(&grant.user) }), Some(grant)));
    }
    apply_other(state, tx, principal, decided, approve, now)
        .await
        .map(|applied| (applied, None))
}

/// Applies (or records the rejection of) a decided change other than an approved grant.
async fn apply_other(
    state: &AppState,
    tx: &mut WriteTx<'_>,
    principal: &Principal,
    decided: &ApprovalRecord,
    approve: bool,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    match (decided.kind.as_str(), approve) {
        (ROLE_GRANT, _) => Ok(Value::Null),
        (RISK_LIMITS_CHANGE, true) => {
            let version = risk_limits::apply(state, tx, decided, principal, now).await?;
            Ok(json!({ "limits": version }))
        }
        (RISK_LIMITS_CHANGE, false) => {
            risk_limits::rejected(tx, decided, principal).await?;
            Ok(Value::Null)
        }
        (KILLSWITCH_RELEASE, true) => killswitch_release::apply(tx, decided, principal, now).await,
        (KILLSWITCH_RELEASE, false) => Ok(Value::Null),
        (USER_RESET, true) => user_reset::apply(tx, decided, principal, now).await,
        // The person reset may not reject it either: `side_refusal` refused that already.
        (USER_RESET, false) => Ok(Value::Null),
        (other, _) => Err(ApiError::UnsupportedApproval(other.to_owned())),
    }
}
