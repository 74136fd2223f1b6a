//! Bearer-token authentication: `Authorization: Bearer <jwt>` ▶ verified [`Principal`].
//!
//! Every `/v1` handler takes an [`Authenticated`] argument, so no handler runs
//! without a verified identity. A missing or refused token is answered with 401
//! and leaves an `auth.bearer.rejected` event naming why, never the token.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use chrono::Utc;
use rampart_audit::{Outcome, action};
use rampart_auth::TokenError;
use rampart_core::{Principal, PrincipalKind};
use serde_json::json;

use crate::middleware::record_principal;
use crate::problem::ApiError;
use crate::service::audit::{self, ANONYMOUS};
use crate::service::internal;
use crate::state::AppState;

/// The verified identity behind a request.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Two credentials could be read differently by a proxy and the gateway: refuse both.
        if parts
            .headers
            .get_all(header::AUTHORIZATION)
            .iter()
            .nth(1)
            .is_some()
        {
            return Err(reject(state, "repeated_header", ApiError::InvalidToken).await);
        }
        let header = parts.headers.get(header::AUTHORIZATION);
        let token = match header.map(|value| value.to_str().map(bearer_token)) {
            None => return Err(reject(state, "missing_token", ApiError::MissingToken).await),
            Some(Ok(Some(token))) => token,
            Some(_) => return Err(reject(state, "not_bearer", ApiError::InvalidToken).await),
        };

        let claims = match state.verifier.verify(token, Utc::now().timestamp()) {
            Ok(claims) => claims,
            Err(error) => return Err(reject(state, kind_of(&error), ApiError::InvalidToken).await),
        };
        let principal = claims.principal();
        if let Some(reason) = revoked(state, &principal).await? {
            return Err(reject(state, reason, ApiError::InvalidToken).await);
        }
        record_principal(&principal.id);
        Ok(Authenticated(principal))
    }
}

/// Why a validly signed token no longer speaks for its client: disabled or removed.
///
/// Checked on every request, so that disabling a client cuts it off at once
/// rather than when its last token expires.
async fn revoked(
    state: &AppState,
    principal: &Principal,
) -> Result<Option<&'static str>, ApiError> {
    if principal.kind != PrincipalKind::Client {
        return Ok(None);
    }
    let client = state
        .store
        .client(&principal.id)
        .await
        .map_err(|e| internal("client", &e))?;
    Ok(match client {
        None => Some("unknown_client"),
        Some(client) if client.disabled => Some("disabled_client"),
        Some(_) => None,
    })
}

/// The token of a `Bearer` credential (scheme case-insensitive), if that is what it is.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

async fn reject(state: &AppState, reason: &'static str, error: ApiError) -> ApiError {
    let event = audit::event(
        ANONYMOUS,
        action::AUTH_BEARER_REJECTED,
        "gateway",
        Outcome::Denied,
    )
    .details(json!({ "reason": reason }));
    audit::append_or_log(&state.store, event).await;
    tracing::info!(reason, "bearer token rejected");
    error
}

/// A stable, secret-free name for why a token was refused.
pub fn kind_of(error: &TokenError) -> &'static str {
    match error {
        TokenError::TooLarge { .. } => "too_large",
        TokenError::Malformed(_) => "malformed",
        TokenError::ForbiddenHeader(_) => "forbidden_header",
        TokenError::AlgorithmNotAllowed => "algorithm_not_allowed",
        TokenError::WrongType => "wrong_type",
        TokenError::UnknownKey => "unknown_key",
        TokenError::BadSignature => "bad_signature",
        TokenError::InvalidClaim(_) => "invalid_claim",
        TokenError::WrongIssuer => "wrong_issuer",
        TokenError::WrongAudience => "wrong_audience",
        TokenError::Expired => "expired",
        TokenError::NotYetValid => "not_yet_valid",
        TokenError::IssuedInFuture => "issued_in_future",
        TokenError::InvalidLifetime => "invalid_lifetime",
        TokenError::RolesConflict(_) => "roles_conflict",
        _ => "invalid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("bearer abc.def.ghi"), Some("abc.def.ghi"));
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_not_bearer_tokens() {
        assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer"), None);
    }
}
