//! `/v1/orders`: place, list, read and cancel orders.
//!
//! Every handler takes the verified principal first, so an unauthenticated
//! request is answered 401 before its body is read. Traders see only the
//! accounts assigned to them; an account they may not see answers 404. A
//! principal with no order access at all, such as an administrator, gets 403.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rampart_core::attribution::parse_label;
use rampart_core::{AccountId, Order, OrderId, OrderRequest, OrderStatus, Principal};
use rampart_policy::{Action, Resource};
use rampart_store::{AttributionFilter, OrderFilter};
use serde::{Deserialize, Serialize};

use crate::authn::Authenticated;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::problem::ApiError;
use crate::routes::schema::{CancelBodySchema, OrderPageSchema, OrderRequestSchema, OrderSchema};
use crate::service::orders::{self, Placement};
use crate::service::{authorize, internal, require_order_access};
use crate::state::AppState;

/// The most orders one page may hold.
pub const MAX_PAGE: u32 = 500;

/// The page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 100;

/// The query parameters of `GET /v1/orders`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    account_id: Option<String>,
    status: Option<String>,
    limit: Option<String>,
    after: Option<String>,
    placed_by: Option<String>,
    algo_id: Option<String>,
    desk: Option<String>,
}

/// One page of orders.
#[derive(Debug, Serialize)]
pub struct OrderPage {
    /// The orders, oldest first.
    pub orders: Vec<Order>,
    /// The `after` value of the next page, when this page is full.
    pub next_cursor: Option<OrderId>,
}

/// Places an order.
#[utoipa::path(post, path = "/v1/orders", tag = "orders",
    request_body = OrderRequestSchema,
    responses(
        (status = 201, description = "accepted", body = OrderSchema),
        (status = 200, description = "the original order of a repeated `client_order_id`",
            body = OrderSchema),
        (status = 400, description = "invalid request", body = crate::problem::Problem),
        (status = 401, description = "no valid token", body = crate::problem::Problem),
        (status = 404, description = "unknown account", body = crate::problem::Problem),
        (status = 409, description = "`client_order_id` reused", body = crate::problem::Problem),
        (status = 422, description = "rejected by a control", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn place(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiJson(request): ApiJson<OrderRequest>,
) -> Result<Response, ApiError> {
    Ok(match orders::place(&state, &principal, &request).await? {
        Placement::Created(order) => (StatusCode::CREATED, Json(order)).into_response(),
        Placement::Replayed(order) => (StatusCode::OK, Json(order)).into_response(),
    })
}

/// Lists orders on the accounts the principal may read.
#[utoipa::path(get, path = "/v1/orders", tag = "orders",
    params(
        ("account_id" = Option<String>, Query, description = "only this account"),
        ("status" = Option<String>, Query, description = "rejected, open, filled or cancelled"),
        ("limit" = Option<u32>, Query, description = "page size, 1 to 500 (default 100)"),
        ("after" = Option<uuid::Uuid>, Query,
            description = "the `next_cursor` of the previous page"),
        ("placed_by" = Option<String>, Query, description = "only orders of this person or client"),
        ("algo_id" = Option<String>, Query, description = "only orders of this algorithm"),
        ("desk" = Option<String>, Query, description = "only orders of this desk"),
    ),
    responses(
        (status = 200, description = "a page of orders", body = OrderPageSchema),
        (status = 400, description = "invalid query", body = crate::problem::Problem),
        (status = 401, description = "no valid token", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    require_order_access(&state, &principal, Action::OrderRead).await?;
    let mut filter = parse_filter(&query)?;
    let by = attribution_filter(&query)?;
    let accounts = readable_accounts(&state, &principal, query.account_id).await?;
    if accounts.is_empty() {
        return Ok(Json(OrderPage {
            orders: Vec::new(),
            next_cursor: None,
        }));
    }
    filter.accounts = Some(accounts);

    let orders = state
        .store
        .orders_attributed(&filter, &by)
        .await
        .map_err(|e| internal("orders", &e))?;
    let full = u32::try_from(orders.len()).is_ok_and(|n| n == filter.limit);
    let next_cursor = if full {
        orders.last().map(|o| o.id)
    } else {
        None
    };
    Ok(Json(OrderPage {
        orders,
        next_cursor,
    }))
}

/// Reads one order.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "the order id (UUIDv7)")),
    responses(
        (status = 200, description = "the order", body = OrderSchema),
        (status = 404, description = "unknown, or on an account not assigned",
            body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn read(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Order>, ApiError> {
    let id = parse_order_id(&id)?;
    require_order_access(&state, &principal, Action::OrderRead).await?;
    let order = state
        .store
        .order(id)
        .await
        .map_err(|e| internal("order", &e))?;
    let order = order.ok_or(ApiError::NotFound)?;
    let resource = Resource::Account(order.account_id.clone());
    authorize(&state, &principal, Action::OrderRead, &resource).await?;
    Ok(Json(order))
}

/// Cancels a working order.
#[utoipa::path(post, path = "/v1/orders/{id}/cancel", tag = "orders",
    params(("id" = uuid::Uuid, Path, description = "the order id (UUIDv7)")),
    request_body(content = Option<CancelBodySchema>, content_type = "application/json",
        description = "empty, or the empty object `{}`"),
    responses(
        (status = 200, description = "the cancelled order", body = OrderSchema),
        (status = 404, description = "unknown, or on an account not assigned",
            body = crate::problem::Problem),
        (status = 409, description = "not working any more", body = crate::problem::Problem),
    ),
    security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Json<Order>, ApiError> {
    let id = parse_order_id(&id)?;
    require_empty_body(&body)?;
    orders::cancel(&state, &principal, id).await.map(Json)
}

/// A cancel carries nothing: its body must be empty or the empty object `{}`.
fn require_empty_body(body: &[u8]) -> Result<(), ApiError> {
    let blank = body.iter().all(u8::is_ascii_whitespace);
    let empty_object = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
        .is_ok_and(|members| members.is_empty());
    if blank || empty_object {
        return Ok(());
    }
    Err(ApiError::invalid(
        "body",
        "the body of a cancel must be empty or `{}`",
    ))
}

fn parse_order_id(text: &str) -> Result<OrderId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::invalid("id", "`id` must be an order id (a UUID)"))
}

fn parse_filter(query: &ListQuery) -> Result<OrderFilter, ApiError> {
    let status = match &query.status {
        Some(text) => Some(OrderStatus::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "status",
                "`status` must be one of rejected, open, filled, cancelled",
            )
        })?),
        None => None,
    };
    let limit = match &query.limit {
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| ApiError::invalid("limit", "`limit` must be from 1 to 500"))?,
        None => DEFAULT_PAGE,
    };
    let after = match &query.after {
        Some(text) => Some(text.parse::<OrderId>().map_err(|_| {
            ApiError::invalid(
                "after",
                "`after` must be the `next_cursor` of a previous page",
            )
        })?),
        None => None,
    };
    Ok(OrderFilter {
        accounts: None,
        status,
        limit,
        after,
    })
}

/// The attribution filters: a person or client id, an algorithm, a desk.
fn attribution_filter(query: &ListQuery) -> Result<AttributionFilter, ApiError> {
    let placed_by = match &query.placed_by {
        Some(text) if text.is_empty() || text.chars().count() > 128 => {
            return Err(ApiError::invalid(
                "placed_by",
                "`placed_by` must be 1 to 128 characters",
            ));
        }
        other => other.clone(),
    };
    let label = |field: &'static str, text: &Option<String>| {
        let parsed = text.as_deref().map(|t| parse_label(field, t)).transpose();
        parsed.map_err(|e| ApiError::field(&e))
    };
    Ok(AttributionFilter {
        placed_by,
        algo_id: label("algo_id", &query.algo_id)?,
        desk: label("desk", &query.desk)?,
    })
}

/// The accounts whose orders the principal may read: the one asked for, or every one allowed.
async fn readable_accounts(
    state: &AppState,
    principal: &Principal,
    asked: Option<String>,
) -> Result<Vec<AccountId>, ApiError> {
    if let Some(text) = asked {
        let account: AccountId = text.parse().map_err(|e| ApiError::field(&e))?;
        let resource = Resource::Account(account.clone());
        authorize(state, principal, Action::OrderRead, &resource).await?;
        return Ok(vec![account]);
    }

    let accounts = state
        .store
        .accounts()
        .await
        .map_err(|e| internal("accounts", &e))?;
    let allowed: Vec<AccountId> = accounts
        .into_iter()
        .map(|account| account.id)
        .filter(|id| {
            let resource = Resource::Account(id.clone());
            state
                .authorizer
                .authorize(principal, Action::OrderRead, &resource)
                .allowed
        })
        .collect();
    Ok(allowed)
}
