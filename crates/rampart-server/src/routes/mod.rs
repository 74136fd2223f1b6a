//! The HTTP API: every route, the middleware around them and the OpenAPI document.
//!
//! Unknown routes answer 404 and wrong methods 405, both as problem documents;
//! every `/v1` route requires a bearer token (its handlers take `Authenticated`).

pub mod approval_show;
pub mod approvals;
pub mod audit;
pub mod audit_proofs;
pub mod audit_schema;
pub mod auth;
pub mod introspection;
pub mod killswitch;
pub mod limits;
pub mod oauth;
pub mod oauth_assertion;
pub mod oauth_session;
pub mod openapi;
pub mod ops;
pub mod orders;
pub mod schema;
pub mod secrets;
pub mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post};
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;

use crate::middleware;
use crate::problem;
use crate::routes::openapi::{BearerScheme, ProblemResponses};
use crate::state::AppState;

/// The OpenAPI document of the gateway.
#[derive(OpenApi)]
#[openapi(
    info(title = "Rampart", description = "Security and compliance gateway for trading"),
    paths(
        oauth::token, oauth::jwks, oauth::metadata,
        orders::place, orders::list, orders::read, orders::cancel,
        limits::read, limits::history, limits::propose, killswitch::engage, killswitch::list,
        killswitch::release,
        audit::events, audit_proofs::latest_checkpoint, audit_proofs::inclusion,
        audit_proofs::consistency,
        secrets::list, secrets::rotate,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi,
        users::create, users::list, users::patch, users::disable, users::reset_mfa,
        users::reset_password, auth::setup,
        approvals::list, approvals::approve, approvals::reject, approval_show::show,
        oauth_session::revoke, oauth_session::introspect,
        auth::login, auth::change_password, auth::enroll, auth::confirm, auth::logout,
    ),
    components(schemas(problem::Problem, secrets::SecretView, secrets::SecretList)),
    modifiers(&BearerScheme, &ProblemResponses),
)]
pub struct ApiDoc;

/// The application with its middleware, ready to serve.
pub fn router(state: AppState) -> Router {
    let max_body = state.max_body_bytes;
    Router::new()
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth_session::revoke))
        .route("/oauth/introspect", post(oauth_session::introspect))
        .route("/.well-known/jwks.json", get(oauth::jwks))
        .route(
            "/.well-known/oauth-authorization-server",
            get(oauth::metadata),
        )
        .route("/v1/orders", post(orders::place).get(orders::list))
        .route("/v1/orders/{id}", get(orders::read))
        .route("/v1/orders/{id}/cancel", post(orders::cancel))
        .route("/v1/accounts/{id}/risk-limits", get(limits::read))
        .route(
            "/v1/accounts/{id}/risk-limits/history",
            get(limits::history),
        )
        .route(
            "/v1/accounts/{id}/risk-limits/changes",
            post(limits::propose),
        )
        .route(
            "/v1/kill-switch",
            post(killswitch::engage).get(killswitch::list),
        )
        .route("/v1/kill-switch/release", post(killswitch::release))
        .route("/v1/audit/events", get(audit::events))
        .route(
            "/v1/audit/checkpoints/latest",
            get(audit_proofs::latest_checkpoint),
        )
        .route("/v1/audit/proofs/inclusion", get(audit_proofs::inclusion))
        .route(
            "/v1/audit/proofs/consistency",
            get(audit_proofs::consistency),
        )
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/password", post(auth::change_password))
        .route("/v1/auth/setup", post(auth::setup))
        .route("/v1/auth/mfa/enroll", post(auth::enroll))
        .route("/v1/auth/mfa/confirm", post(auth::confirm))
        .route("/v1/auth/logout", post(auth::logout))
        .route("/v1/users", post(users::create).get(users::list))
        .route("/v1/users/{id}", patch(users::patch))
        .route("/v1/users/{id}/disable", post(users::disable))
        .route("/v1/users/{id}/reset-mfa", post(users::reset_mfa))
        .route("/v1/users/{id}/reset-password", post(users::reset_password))
        .route("/v1/approvals", get(approvals::list))
        .route("/v1/approvals/{id}", get(approval_show::show))
        .route("/v1/approvals/{id}/approve", post(approvals::approve))
        .route("/v1/approvals/{id}/reject", post(approvals::reject))
        .route("/v1/secrets", get(secrets::list))
        .route("/v1/secrets/{name}/rotate", post(secrets::rotate))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        // Layers run outermost last: identify ▶ observe ▶ catch panic ▶ guard ▶ timeout.
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::guard,
        ))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn(middleware::observe))
        .layer(axum::middleware::from_fn(middleware::identify))
        .with_state(state)
}
