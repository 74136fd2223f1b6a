//! The guards every request passes before a handler: id, limits, timeout, metrics, headers.
//!
//! Each request gets the gateway's own id (sent as `x-request-id`), a tracing
//! span that carries it and the client's own reference when well-formed, a size
//! limit and a timeout that answer with problem documents, and the security
//! headers on every response. A panic in a handler becomes a
//! logged 500 problem, never a dropped connection. No token is ever logged.

use std::any::Any;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::problem::ApiError;
use crate::state::AppState;
use crate::{request_id, telemetry};

/// `Strict-Transport-Security` on every response: two years, subdomains included.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Assigns the request id, opens the request span and sets the response headers.
pub async fn identify(request: Request, next: Next) -> Response {
    let incoming = request
        .headers()
        .get(request_id::HEADER)
        .and_then(|v| v.to_str().ok());
    let client = request_id::client_reference(incoming);
    let id = request_id::generate();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        client_request_id = client.as_deref(),
        method = %request.method(),
        route = tracing::field::Empty,
        principal = tracing::field::Empty,
        action = tracing::field::Empty,
        outcome = tracing::field::Empty,
        status = tracing::field::Empty,
    );

    let work = next.run(request).instrument(span);
    let mut response = request_id::scope_with_client(id.clone(), client, work).await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(HeaderName::from_static(request_id::HEADER), value);
    }
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Counts the request by its route template and status, and logs its end.
pub async fn observe(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    tracing::Span::current().record("route", route.as_str());
    let started = Instant::now();

    let response = next.run(request).await;
    let status = response.status().as_u16();
    telemetry::count_request(&route, status);
    tracing::Span::current().record("status", status);
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request handled"
    );
    response
}

/// Refuses new requests once shutdown has begun, and bodies declared too large.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.is_shutting_down() {
        return ApiError::Unavailable.into_response();
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > state.max_body_bytes as u64) {
        return ApiError::TooLarge.into_response();
    }
    next.run(request).await
}

/// Answers 408 when the handler takes longer than the configured timeout.
pub async fn timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(state.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("request timed out");
            ApiError::Timeout.into_response()
        }
    }
}

/// Turns a panic in a handler into a 500 problem document, and logs it.
pub fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    tracing::error!(panic = %message, "request handler panicked");
    ApiError::Internal.into_response()
}

/// Records the principal and action of the request on its span.
pub fn record_principal(principal: &str) {
    tracing::Span::current().record("principal", principal);
}

/// Records the action and its outcome on the request span.
pub fn record_decision(action: &str, outcome: &str) {
    let span = tracing::Span::current();
    span.record("action", action);
    span.record("outcome", outcome);
}
