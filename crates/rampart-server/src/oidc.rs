//! Bearer tokens of trusted outside OpenID Connect issuers (`[[auth.oidc]]`).
//!
//! The token's `iss`, read unverified, only selects the issuer: it must match
//! one configured issuer exactly and not be ours. The issuer's own keys,
//! fetched over verified TLS by `rampart_auth::oidc`, then verify the token;
//! keys of one issuer never verify another's. Outside subjects carry the
//! issuer's prefix, so they never equal a local id, unless the issuer is
//! configured with `link_by` (or a `users` map): an outside identity is then
//! the local person it names, so that four-eyes checks see one person however
//! they sign in. An outside token can be revoked here (logout, `/oauth/revoke`):
//! it is then refused by a key made from its issuer and `jti`, or from a hash
//! of the whole token when it has no `jti`, a key no local token id can equal.
//!
//! A linked identity is the local person in every respect: when that person's
//! subject is revoked (access reduced, disabled, password or MFA reset), an
//! outside token issued before the revocation is refused too, at once and
//! after a restart (the store keeps the moment). Outside `iat` has whole
//! seconds and the issuer's clock may run ahead of ours by the leeway, so a
//! token counts as issued up to the leeway earlier than its `iat` says: one
//! whose `iat` is within the leeway after the revocation is refused too, and a
//! token without `iat` is refused once its person has any revocation on record.
//! With `link_by = "email"`, only an address the token marks `email_verified`
//! links anyone. Privileged roles need linking (see `rampart_auth::oidc`).

use std::sync::Arc;

use rampart_auth::oidc::{
    ExternalIdentity, OidcError, OidcIssuers, TrustedIssuerConfig, unverified_issuer,
};
use rampart_core::{Principal, PrincipalKind, Role, RoleSet};
use rampart_store::{StoreError, StoredUser};
use sha2::{Digest, Sha256};

use crate::authn::Bearer;
use crate::config::identity::{LinkBy, OidcConfig};
use crate::state::AppState;

/// The refusal reason of an outside token that does not show multi-factor authentication.
pub const MFA_REQUIRED: &str = "mfa_required";

/// The trusted issuers of `entries`; `None` when there are none.
pub fn issuers(entries: &[OidcConfig]) -> Result<Option<Arc<OidcIssuers>>, OidcError> {
    if entries.is_empty() {
        return Ok(None);
    }
    let configs = entries.iter().map(trusted).collect::<Result<Vec<_>, _>>()?;
    for entry in entries
        .iter()
        .filter(|e| e.allow_unlinked_privileged && !e.links())
    {
        tracing::warn!(
            issuer = %entry.issuer,
            "`allow_unlinked_privileged` is set: outside identities that are not linked to \
             local people may hold privileged roles, which weakens four-eyes checks"
        );
    }
    Ok(Some(Arc::new(OidcIssuers::new(configs)?)))
}

/// The outside issuers to verify `token` with, when its `iss` is one of them and not ours.
pub fn issuer_of<'s>(state: &'s AppState, token: &str) -> Option<&'s OidcIssuers> {
    let oidc = state.oidc.as_deref()?;
    let iss = unverified_issuer(token)?;
    (iss != state.issuer_url && oidc.trusts(&iss)).then_some(oidc)
}

/// Verifies an outside token; the reason names the refusal, never the token.
///
/// When its issuer links identities to local people, the principal is that
/// person (their subject id), holding only the roles and accounts both the
/// outside issuer and the local record grant; an unlinked or disabled person is refused.
pub async fn verify(
    state: &AppState,
    oidc: &OidcIssuers,
    token: &str,
    now: i64,
) -> Result<(Bearer, ExternalIdentity), &'static str> {
    let identity = oidc.verify_identity(token, now).await.map_err(|error| {
        tracing::info!(%error, "outside token refused");
        match error {
            OidcError::MfaRequired => MFA_REQUIRED,
            OidcError::UnlinkedPrivilegedRole(_) => "unlinked_privileged_role",
            _ => "outside_token",
        }
    })?;
    let revocation_key = revocation_key(&identity.issuer, identity.jti.as_deref(), token);
    let entry = state
        .auth
        .oidc
        .iter()
        .find(|entry| entry.issuer == identity.issuer);
    let (principal, linked) = match entry.filter(|e| e.links()) {
        Some(entry) => (linked_principal(state, entry, &identity).await?, true),
        None => (identity.principal.clone(), false),
    };
    let bearer = Bearer {
        principal,
        jti: revocation_key,
        sid: None,
        amr: Vec::new(),
        expires_at: identity.expires_at,
        external: true,
        linked,
    };
    Ok((bearer, identity))
}

/// The local person behind `identity`, with the access both sides grant.
async fn linked_principal(
    state: &AppState,
    entry: &OidcConfig,
    identity: &ExternalIdentity,
) -> Result<Principal, &'static str> {
    let by_email =
        entry.link_by == Some(LinkBy::Email) && !entry.users.contains_key(&identity.subject);
    if by_email && identity.has_email && identity.email.is_none() {
        return Err("unverified_email");
    }
    let store_error = |error: StoreError| {
        tracing::error!(%error, "linked person could not be read");
        "store"
    };
    let user = linked_user(state, entry, identity)
        .await
        .map_err(store_error)?
        .ok_or("unlinked_identity")?;
    if user.disabled {
        return Err("disabled_user");
    }
    if revoked_since(state, &user.id, identity.issued_at)
        .await
        .map_err(store_error)?
    {
        return Err("subject_revoked");
    }
    let outside = &identity.principal;
    let roles = RoleSet::new(user.roles.iter().filter(|r| outside.roles.contains(*r)))
        .map_err(|_| "roles_conflict")?;
    let accounts = match entry.accounts_claim {
        Some(_) => user
            .accounts
            .iter()
            .filter(|a| outside.accounts.contains(a))
            .cloned()
            .collect(),
        None => user.accounts.clone(),
    };
    Ok(Principal {
        id: user.id,
        kind: PrincipalKind::User,
        roles,
        accounts,
    })
}

/// Whether `subject` was revoked at or after an outside token issued at `issued_at`,
/// taken as up to the verification leeway earlier than it says (the safe side).
///
/// The list in memory answers at once (the revoking request updates it once its
/// change is written, not before); the store answers after a restart and after the
/// list has purged an entry that an outside token, living longer than ours, still needs.
async fn revoked_since(
    state: &AppState,
    subject: &str,
    issued_at: Option<i64>,
) -> Result<bool, StoreError> {
    let in_memory = state.revocations.subject_revoked_at_ms(subject);
    let stored = state
        .store
        .subject_revoked_at(subject)
        .await?
        .map(|at| at.timestamp_millis());
    let Some(at_ms) = in_memory.max(stored) else {
        return Ok(false);
    };
    Ok(issued_at.is_none_or(|iat| earliest_issue_ms(iat) <= at_ms))
}

/// The earliest moment, in milliseconds, an outside token whose `iat` is `iat` may
/// have been issued: the issuer's clock may run ahead of ours by the leeway.
fn earliest_issue_ms(iat: i64) -> i64 {
    let leeway = crate::clock::signed(rampart_auth::oidc::DEFAULT_LEEWAY_SECONDS);
    iat.saturating_sub(leeway).saturating_mul(1000)
}

async fn linked_user(
    state: &AppState,
    entry: &OidcConfig,
    identity: &ExternalIdentity,
) -> Result<Option<StoredUser>, StoreError> {
    let store = &state.store;
    if let Some(username) = entry.users.get(&identity.subject) {
        return store.user_named(username).await;
    }
    match entry.link_by {
        Some(LinkBy::Subject) => store.user_named(&identity.subject).await,
        Some(LinkBy::Email) => {
            let Some(email) = &identity.email else {
                return Ok(None);
            };
            match store.user_id_by_email(email).await? {
                Some(id) => store.user(&id).await,
                None => Ok(None),
            }
        }
        None => Ok(None),
    }
}

/// The key an outside token is revoked and refused by: never equal to a local `jti`.
///
/// Local token ids are base64url, which has no `:`.
pub fn revocation_key(issuer: &str, jti: Option<&str>, token: &str) -> String {
    let mut digest = Sha256::new();
    match jti {
        Some(jti) => {
            digest.update(b"jti\0");
            digest.update(issuer.as_bytes());
            digest.update(b"\0");
            digest.update(jti.as_bytes());
        }
        None => {
            digest.update(b"token\0");
            digest.update(token.as_bytes());
        }
    }
    let hex: String = digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("oidc:{hex}")
}

fn trusted(entry: &OidcConfig) -> Result<TrustedIssuerConfig, OidcError> {
    let invalid = |reason| OidcError::InvalidConfig {
        issuer: entry.issuer.clone(),
        reason,
    };
    let role_map = entry
        .role_map
        .iter()
        .map(|(claim, role)| {
            Ok((
                claim.clone(),
                role.parse::<Role>().map_err(|_| invalid("unknown role"))?,
            ))
        })
        .collect::<Result<_, OidcError>>()?;
    let mut config = TrustedIssuerConfig::new(
        &entry.issuer,
        &entry.audience,
        &entry.subject_prefix,
        role_map,
    );
    config.ca_file = entry.ca_file.clone();
    config.roles_claim = entry.roles_claim.clone();
    config.accounts_claim = entry.accounts_claim.clone();
    config.links_identities = entry.links();
    config.allow_unlinked_privileged = entry.allow_unlinked_privileged;
    config.require_mfa = entry.require_mfa;
    config.mfa_amr = entry.mfa_amr.clone();
    config.mfa_acr = entry.mfa_acr.clone();
    Ok(config)
}
