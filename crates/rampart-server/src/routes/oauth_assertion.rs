//! `private_key_jwt` client authentication (RFC 7523, section 2.2), at the token
//! and revocation endpoints.
//!
//! The client signs a short-lived assertion with the key registered for it
//! (`rampart client add --jwk`); `iss` = `sub` = the client id, `aud` names
//! the token endpoint, the revocation endpoint or the issuer (all this one
//! authorisation server). Each `jti` is accepted once: it is
//! recorded in the store until the assertion expires, so a replay is refused
//! even after a restart. Every refusal says only `invalid_client`.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, header};
use rampart_auth::assertion::{ClientAssertion, parse_client_jwk};
use rampart_auth::oidc::unverified_issuer;
use rampart_store::ClientRecord;

use crate::routes::oauth::{OAuthError, Refusal};
use crate::service::audit::ANONYMOUS;
use crate::state::AppState;

/// The only `client_assertion_type` accepted.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest client id looked up.
const MAX_CLIENT_ID: usize = 128;

/// Whether the request authenticates with a client assertion.
pub fn is_assertion(form: &BTreeMap<String, String>) -> bool {
    form.contains_key("client_assertion") || form.contains_key("client_assertion_type")
}

/// Authenticates the client of an assertion; spends its `jti`.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &BTreeMap<String, String>,
) -> Result<ClientRecord, Refusal> {
    let refuse = |actor: &str, reason| {
        (
            OAuthError::InvalidClient { basic: false },
            actor.to_owned(),
            reason,
        )
    };
    let request = |why| {
        (
            OAuthError::InvalidRequest(why),
            ANONYMOUS.to_owned(),
            "credentials",
        )
    };
    if headers.contains_key(header::AUTHORIZATION) || form.contains_key("client_secret") {
        return Err(request("use one client authentication method"));
    }
    if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
        return Err(request(
            "`client_assertion_type` must be the JWT bearer type",
        ));
    }
    let assertion = form
        .get("client_assertion")
        .ok_or_else(|| request("`client_assertion` is required"))?;
    let client_id = match form.get("client_id") {
        Some(id) => id.clone(),
        None => {
            unverified_issuer(assertion).ok_or_else(|| refuse(ANONYMOUS, "assertion_issuer"))?
        }
    };
    if client_id.is_empty() || client_id.len() > MAX_CLIENT_ID {
        return Err(refuse(ANONYMOUS, "unknown_client"));
    }

    let server_error = |_| (OAuthError::ServerError, ANONYMOUS.to_owned(), "store");
    let client = state.store.client(&client_id).await.map_err(server_error)?;
    let jwk = state
        .store
        .client_jwk(&client_id)
        .await
        .map_err(server_error)?;
    let (Some(client), Some(jwk)) = (client, jwk) else {
        return Err(refuse(ANONYMOUS, "unknown_client"));
    };
    let jwk = parse_client_jwk(&jwk).map_err(|_| refuse(&client.id, "client_key"))?;
    let now = state.clock.now();
    let audience = audiences(state);
    let claims = ClientAssertion::verify(assertion, &jwk, &client.id, &audience, now.timestamp())
        .map_err(|_| refuse(&client.id, "bad_assertion"))?;
    if client.disabled {
        return Err(refuse(&client.id, "disabled_client"));
    }

    // The id is remembered for as long as the assertion could still be accepted,
    // leeway included; otherwise it could be replayed once its row was pruned.
    let accepted_until = claims
        .exp
        .saturating_add(rampart_auth::assertion::LEEWAY_SECONDS);
    let expires = chrono::DateTime::from_timestamp(accepted_until, 0).unwrap_or(now);
    let mut tx = state.store.begin().await.map_err(server_error)?;
    tx.prune_expired_jtis(now).await.map_err(server_error)?;
    let fresh = tx
        .use_assertion_jti(&client.id, &claims.jti, expires)
        .await
        .map_err(server_error)?;
    tx.commit().await.map_err(server_error)?;
    if !fresh {
        return Err(refuse(&client.id, "assertion_replay"));
    }
    Ok(client)
}

/// What an assertion's `aud` may name: the token or revocation endpoint, or the issuer.
fn audiences(state: &AppState) -> Vec<String> {
    let base = state.issuer_url.trim_end_matches('/');
    vec![
        format!("{base}/oauth/token"),
        format!("{base}/oauth/revoke"),
        state.issuer_url.clone(),
    ]
}
