//! Bearer-token authentication: `Authorization: Bearer <jwt>` ▶ verified [`Principal`].
//!
//! Every `/v1` handler takes an [`Authenticated`] argument, so no handler runs
//! without a verified identity. A missing or refused token is answered with 401
//! and leaves an `auth.bearer.rejected` event naming why, never the token.
//! Tokens go through the verified-token cache, and a revoked token, session or
//! a disabled user or client is refused on every request, cached or not. A
//! person's restricted token (no second factor yet) only reaches the sign-in
//! set-up routes, which take [`Bearer`]. Introspection asks the same question
//! through `check`, so that it calls active exactly the tokens let through here.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use rampart_audit::{Outcome, action};
use rampart_auth::oidc::ExternalIdentity;
use rampart_auth::{IsRevoked, TokenError, VerifiedClaims};
use rampart_core::{AccountId, Principal, PrincipalKind, RoleSet};
use serde_json::json;

use crate::middleware::record_principal;
use crate::problem::ApiError;
use crate::service::audit::{self, ANONYMOUS};
use crate::service::internal;
use crate::state::AppState;

/// The verified identity behind a request.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

/// A verified bearer token with its session claims, for the sign-in routes.
///
/// Unlike [`Authenticated`], it also accepts a person's restricted token
/// (password only), which is good for nothing but changing the password and
/// enrolling a second factor.
#[derive(Debug, Clone)]
pub struct Bearer {
    /// Who the token speaks for.
    pub principal: Principal,
    /// The token's id.
    pub jti: String,
    /// The session (refresh family) of a person's token.
    pub sid: Option<String>,
    /// How the person signed in (RFC 8176 `amr`).
    pub amr: Vec<String>,
    /// When the token expires (Unix seconds).
    pub expires_at: i64,
    /// Whether a trusted outside issuer vouched for it (no session here).
    pub external: bool,
    /// Whether the outside identity is linked to a local person, checked on every request.
    pub linked: bool,
}

impl Bearer {
    /// Whether this is a person's token that completed a second factor.
    pub fn is_full_session(&self) -> bool {
        self.external
            || self.principal.kind != PrincipalKind::User
            || rampart_auth::amr::shows_mfa(self.amr.iter().map(String::as_str))
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let bearer = Bearer::from_request_parts(parts, state).await?;
        if !bearer.is_full_session() {
            return Err(reject(state, "setup_incomplete", ApiError::SetupRequired).await);
        }
        Ok(Authenticated(bearer.principal))
    }
}

impl FromRequestParts<AppState> for Bearer {
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

        let bearer = match check(state, token).await {
            Ok(checked) => checked.bearer,
            Err(Refused::Token(reason)) => {
                return Err(reject(state, reason, refusal(reason)).await);
            }
            Err(Refused::Unchecked(error)) => return Err(error),
        };
        record_principal(&bearer.principal.id);
        Ok(bearer)
    }
}

/// Why [`check`] did not accept a token.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// The token is refused, for the secret-free reason given.
    #[error("the token is refused: {0}")]
    Token(&'static str),
    /// The store could not be asked whether the subject still holds the token's access.
    #[error("the token's subject could not be checked: {0}")]
    Unchecked(ApiError),
}

/// The verified claims behind a [`Bearer`]: ours, or what a trusted issuer vouched for.
#[derive(Debug, Clone)]
pub(crate) enum Claims {
    /// One of this gateway's tokens.
    Own(Box<VerifiedClaims>),
    /// A trusted outside issuer's token, as its verification read it.
    Outside(Box<ExternalIdentity>),
}

/// A token [`check`] accepted: who it speaks for, and the claims that say so.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    /// What the request runs as.
    pub bearer: Bearer,
    /// The claims verified on the way.
    pub claims: Claims,
}

/// Everything the bearer extractor checks of `token`, with nothing recorded: the
/// signature and claims (ours through the cache, or a trusted issuer's), then
/// revocation and whether its subject still holds what it claims.
///
/// Introspection answers with exactly this, so that it calls active precisely the
/// tokens a request would be let through with, and describes them from the claims
/// verified here. A trusted issuer's keys may be fetched here: never call it while
/// holding the store's writer.
pub(crate) async fn check(state: &AppState, token: &str) -> Result<Checked, Refused> {
    let checked = verify(state, token).await.map_err(Refused::Token)?;
    match revoked(state, &checked).await {
        Ok(None) => Ok(checked),
        Ok(Some(reason)) => Err(Refused::Token(reason)),
        Err(error) => Err(Refused::Unchecked(error)),
    }
}

/// Verifies a token of this gateway (through the cache) or of a trusted outside issuer.
async fn verify(state: &AppState, token: &str) -> Result<Checked, &'static str> {
    let now = state.clock.now_unix();
    if let Some(oidc) = crate::oidc::issuer_of(state, token) {
        let (bearer, identity) = crate::oidc::verify(state, oidc, token, now).await?;
        let claims = Claims::Outside(Box::new(identity));
        return Ok(Checked { bearer, claims });
    }
    let claims = state.bearer.verify(token, now).map_err(|e| kind_of(&e))?;
    let bearer = Bearer {
        principal: claims.principal(),
        jti: claims.jti().to_owned(),
        sid: claims.sid().map(str::to_owned),
        amr: claims.amr().to_vec(),
        expires_at: claims.expires_at(),
        external: false,
        linked: false,
    };
    let claims = Claims::Own(Box::new(claims));
    Ok(Checked { bearer, claims })
}

/// The answer to a refused token: a token that lacks only MFA says so, so that the
/// holder can sign in again with a second factor; every other refusal looks alike.
fn refusal(reason: &'static str) -> ApiError {
    if reason == crate::oidc::MFA_REQUIRED {
        ApiError::MfaRequired
    } else {
        ApiError::InvalidToken
    }
}

/// Why a validly signed token no longer speaks for its subject: disabled, removed,
/// carrying a role or an account taken away since it was issued, or issued before
/// its subject was cut off.
///
/// Checked against the store on every request, so that disabling a client or a user,
/// reducing their access or resetting a person's credentials cuts the old tokens off
/// at once rather than when they expire, even when it was recorded by another process
/// (the CLI) or the request that recorded it ended before memory was told.
async fn revoked(state: &AppState, checked: &Checked) -> Result<Option<&'static str>, ApiError> {
    let bearer = &checked.bearer;
    if bearer.external {
        return Ok(state
            .revocations
            .is_revoked(&bearer.jti)
            .then_some("revoked"));
    }
    let principal = &bearer.principal;
    let refused = match principal.kind {
        PrincipalKind::User => user_refusal(state, principal).await?,
        _ => client_refusal(state, principal).await?,
    };
    if refused.is_some() {
        return Ok(refused);
    }
    let Claims::Own(claims) = &checked.claims else {
        return Ok(None);
    };
    let cut_off = state
        .store
        .subject_revoked_at(&principal.id)
        .await
        .map_err(|e| internal("revoked subject", &e))?;
    Ok(cut_off
        .is_some_and(|at| claims.issued_at_ms() <= at.timestamp_millis())
        .then_some("revoked"))
}

/// Why the person `principal` names no longer holds what their token claims, if so.
async fn user_refusal(
    state: &AppState,
    principal: &Principal,
) -> Result<Option<&'static str>, ApiError> {
    let user = state
        .store
        .user(&principal.id)
        .await
        .map_err(|e| internal("user", &e))?;
    Ok(match user {
        None => Some("unknown_user"),
        Some(user) if user.disabled => Some("disabled_user"),
        Some(user) if !holds(principal, &user.roles, &user.accounts) => Some("access_reduced"),
        Some(_) => None,
    })
}

/// Why the client `principal` names no longer holds what its token claims, if so.
async fn client_refusal(
    state: &AppState,
    principal: &Principal,
) -> Result<Option<&'static str>, ApiError> {
    let client = state
        .store
        .client(&principal.id)
        .await
        .map_err(|e| internal("client", &e))?;
    Ok(match client {
        None => Some("unknown_client"),
        Some(client) if client.disabled => Some("disabled_client"),
        Some(client) if !holds(principal, &client.roles, &client.accounts) => {
            Some("access_reduced")
        }
        Some(_) => None,
    })
}

/// Whether the subject still holds every role and account the token claims.
fn holds(claimed: &Principal, roles: &RoleSet, accounts: &[AccountId]) -> bool {
    claimed.roles.iter().all(|role| roles.contains(role))
        && claimed
            .accounts
            .iter()
            .all(|account| accounts.contains(account))
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
        TokenError::Revoked => "revoked",
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
