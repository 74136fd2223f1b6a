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

use rampart_auth::oidc::ExternalIdentity;
use rampart_auth::refresh::is_well_formed;
use rampart_auth::{VerifiedClaims, hash_refresh_token};
use rampart_core::PrincipalKind;
use serde_json::{Map, Value, json};

use crate::authn::{self, Bearer, Claims, Refused};
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
    let checked = match authn::check(state, token).await {
        Ok(checked) => checked,
        Err(Refused::Token(reason)) => {
            tracing::debug!(reason, "introspected token is not active");
            return inactive;
        }
        Err(error @ Refused::Unchecked(_)) => {
            tracing::warn!(%error, "introspected token could not be checked");
            return inactive;
        }
    };
    match &checked.claims {
        Claims::Own(claims) => access_view(state, claims),
        Claims::Outside(identity) => outside_view(&checked.bearer, identity),
    }
}

/// A refresh token that would be rotated now: current in a live session of a person
/// who is not disabled (what a refresh checks); any other is not described.
async fn describe_refresh(state: &AppState, token: &str) -> Option<Value> {
    let hash = hash_refresh_token(token);
    let checked = async {
        let found = state.store.refresh_family_by_hash(hash.as_str()).await?;
        let Some((family, true)) = found else {
            return Ok(None);
        };
        let user = state.store.user(&family.subject).await?;
        let usable = family.is_user && user.is_some_and(|user| !user.disabled);
        Ok::<_, rampart_store::StoreError>(usable.then_some(family))
    };
    let family = match checked.await {
        Ok(family) => family?,
        Err(error) => {
            tracing::warn!(%error, "introspected refresh token could not be checked");
            return None;
        }
    };
    if !family.is_active(state.clock.now()) {
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
/// `iss`, `sub`, `aud`, `iat` and `jti` are the token's own, as the check's
/// verification read them; the roles and accounts are the ones they map to here
/// (for a linked person, what both sides grant), given as `scope` too, and
/// `linked_subject` names the local person it is linked to.
fn outside_view(bearer: &Bearer, identity: &ExternalIdentity) -> Value {
    let principal = &bearer.principal;
    let scope: Vec<&str> = principal.roles.iter().map(|role| role.as_str()).collect();
    let mut view = Map::new();
    view.insert("active".into(), json!(true));
    view.insert("token_type".into(), json!("Bearer"));
    view.insert("iss".into(), json!(identity.issuer));
    view.insert("sub".into(), json!(identity.subject));
    if !identity.audience.is_null() {
        view.insert("aud".into(), identity.audience.clone());
    }
    if let Some(iat) = identity.issued_at {
        view.insert("iat".into(), json!(iat));
    }
    if let Some(jti) = &identity.jti {
        view.insert("jti".into(), json!(jti));
    }
    view.insert("exp".into(), json!(bearer.expires_at));
    view.insert("scope".into(), json!(scope.join(" ")));
    view.insert("roles".into(), json!(principal.roles));
    view.insert("accounts".into(), json!(principal.accounts));
    if bearer.linked {
        view.insert("linked_subject".into(), json!(principal.id));
    }
    Value::Object(view)
}
