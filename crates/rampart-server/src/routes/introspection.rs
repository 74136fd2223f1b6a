//! What `/oauth/introspect` (RFC 7662) says of a token: a refresh token, an
//! access token of ours, or an access token of a trusted `[[auth.oidc]]` issuer.
//!
//! Rule upheld: a token is described as active exactly when a request bearing
//! it would be let through now. An access token, ours or an outside issuer's,
//! goes through the bearer extractor's own check ([`crate::authn::check`]):
//! signature, issuer, audience, lifetime, MFA, revocation, a linked person's
//! state and revocations, and whether its subject still holds what it claims.
//! Anything refused is `{"active": false}` and nothing more (RFC 7662, section
//! 2.2), so that introspection tells no more than the bearer check would. The
//! check may fetch an outside issuer's keys: it runs before any write, never
//! while the store's writer is held.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_auth::refresh::is_well_formed;
use rampart_auth::{VerifiedClaims, hash_refresh_token};
use rampart_core::PrincipalKind;
use serde_json::{Map, Value, json};

use crate::authn::{self, Bearer, Refused};
use crate::routes::oauth_session::MAX_TOKEN;
use crate::state::AppState;

/// The RFC 7662 answer for `token`.
pub async fn describe(state: &AppState, token: &str) -> Value {
    let inactive = json!({ "active": false });
    if token.is_empty() || token.len() > MAX_TOKEN {
        return inactive;
    }
    if is_well_formed(token) {
        return describe_refresh(state, token).await.unwrap_or(inactive);
    }
    let bearer = match authn::check(state, token).await {
        Ok(bearer) => bearer,
        Err(Refused::Token(reason)) => {
            tracing::debug!(reason, "introspected token is not active");
            return inactive;
        }
        Err(Refused::Unchecked(_)) => return inactive,
    };
    let view = match bearer.external {
        true => outside_view(&bearer, token),
        false => own_view(state, token),
    };
    view.unwrap_or(inactive)
}

async fn describe_refresh(state: &AppState, token: &str) -> Option<Value> {
    let hash = hash_refresh_token(token);
    let (family, current) = state
        .store
        .refresh_family_by_hash(hash.as_str())
        .await
        .ok()??;
    if !current || !family.is_active(state.clock.now()) {
        return None;
    }
    let exp = family
        .idle_expires_at
        .min(family.absolute_expires_at)
        .timestamp();
    Some(json!({
        "active": true,
        "token_type": "refresh_token",
        "sub": family.subject,
        "sid": family.id,
        "exp": exp,
        "iat": family.created_at.timestamp(),
        "iss": state.issuer_url,
    }))
}

/// One of our access tokens, accepted by the bearer check, with its claims.
///
/// The claims come from the verified-token cache the check has just filled.
fn own_view(state: &AppState, token: &str) -> Option<Value> {
    let claims = state.bearer.verify(token, state.clock.now_unix()).ok()?;
    Some(access_view(state, &claims))
}

/// An active access token as RFC 7662 describes it; a person's restricted token
/// (password only, good for the set-up routes alone) says so with `scope` = `setup`.
fn access_view(state: &AppState, claims: &VerifiedClaims) -> Value {
    let principal = claims.principal();
    let full = principal.kind != PrincipalKind::User
        || rampart_auth::amr::shows_mfa(claims.amr().iter().map(String::as_str));
    let mut view = json!({
        "active": true,
        "token_type": "Bearer",
        "sub": principal.id,
        "kind": principal.kind,
        "roles": principal.roles,
        "accounts": principal.accounts,
        "jti": claims.jti(),
        "sid": claims.sid(),
        "exp": claims.expires_at(),
        "iat": claims.issued_at(),
        "iss": state.issuer_url,
        "aud": state.auth.audience,
        "amr": claims.amr(),
    });
    if !full && let Some(members) = view.as_object_mut() {
        members.insert("scope".to_owned(), json!("setup"));
    }
    view
}

/// A trusted issuer's access token that the bearer check accepted.
///
/// `iss`, `sub`, `aud`, `iat` and `jti` are the token's own, read from the claims
/// whose signature the check has just verified; the roles and accounts are the
/// ones they map to here (for a linked person, what both sides grant), given as
/// `scope` too, and `linked_subject` names the local person it is linked to.
fn outside_view(bearer: &Bearer, token: &str) -> Option<Value> {
    let claims = verified_claims(token)?;
    let principal = &bearer.principal;
    let scope: Vec<&str> = principal.roles.iter().map(|role| role.as_str()).collect();
    let mut view = Map::new();
    view.insert("active".into(), json!(true));
    view.insert("token_type".into(), json!("Bearer"));
    for name in ["iss", "sub", "aud", "iat", "jti"] {
        if let Some(value) = claims.get(name) {
            view.insert(name.into(), value.clone());
        }
    }
    view.insert("exp".into(), json!(bearer.expires_at));
    view.insert("scope".into(), json!(scope.join(" ")));
    view.insert("roles".into(), json!(principal.roles));
    view.insert("accounts".into(), json!(principal.accounts));
    if bearer.linked {
        view.insert("linked_subject".into(), json!(principal.id));
    }
    Some(Value::Object(view))
}

/// The claims of a compact JWT whose signature has already been verified.
fn verified_claims(token: &str) -> Option<Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claims_of_a_compact_token_are_read_from_its_second_segment() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"alice","iat":7}"#);
        let claims = verified_claims(&format!("e30.{payload}.c2ln")).unwrap();
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["iat"], 7);
    }

    #[test]
    fn a_token_whose_claims_are_not_an_object_has_none() {
        let payload = URL_SAFE_NO_PAD.encode(b"[1,2]");
        assert!(verified_claims(&format!("e30.{payload}.c2ln")).is_none());
        assert!(verified_claims("not-a-token").is_none());
    }
}
