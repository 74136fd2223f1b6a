//! Operator routes: liveness, readiness, Prometheus metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa::OpenApi;

use crate::problem::ApiError;
use crate::routes::ApiDoc;
use crate::state::AppState;

/// Answers while the process runs.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "alive", body = Object)))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Answers 200 when the store answers and every instrument has a reference price.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses(
        (status = 200, description = "ready", body = Object),
        (status = 503, description = "not ready", body = crate::problem::Problem),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    if state.is_shutting_down() {
        return Err(ApiError::Unavailable);
    }
    if let Err(error) = state.store.ping().await {
        tracing::warn!(%error, "store is not answering");
        return Err(ApiError::Unavailable);
    }
    let broker = state.broker();
    if state
        .catalog
        .iter()
        .any(|i| broker.reference_price(&i.id).is_none())
    {
        return Err(ApiError::Unavailable);
    }
    Ok(Json(json!({ "status": "ready" })))
}

/// The Prometheus text exposition of the gateway's metrics.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut response = state.metrics.render().into_response();
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    response
}

/// The OpenAPI 3.1 description of this API.
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "the OpenAPI document", body = Object)))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
