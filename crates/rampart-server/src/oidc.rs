//! Bearer tokens of trusted outside OpenID Connect issuers (`[[auth.oidc]]`).
//!
//! The token's `iss`, read unverified, only selects the issuer: it must match
//! one configured issuer exactly and not be ours. The issuer's own keys,
//! fetched over verified TLS by `rampart_auth::oidc`, then verify the token;
//! keys of one issuer never verify another's. Outside subjects carry the
//! issuer's prefix, so they never equal a local id.

use std::sync::Arc;

use rampart_auth::oidc::{OidcError, OidcIssuers, TrustedIssuerConfig, unverified_issuer};
use rampart_core::Role;

use crate::authn::Bearer;
use crate::config::identity::OidcConfig;
use crate::state::AppState;

/// The trusted issuers of `entries`; `None` when there are none.
pub fn issuers(entries: &[OidcConfig]) -> Result<Option<Arc<OidcIssuers>>, OidcError> {
    if entries.is_empty() {
        return Ok(None);
    }
    let configs = entries.iter().map(trusted).collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Arc::new(OidcIssuers::new(configs)?)))
}

/// The outside issuers to verify `token` with, when its `iss` is one of them and not ours.
pub fn issuer_of<'s>(state: &'s AppState, token: &str) -> Option<&'s OidcIssuers> {
    let oidc = state.oidc.as_deref()?;
    let iss = unverified_issuer(token)?;
    (iss != state.issuer_url && oidc.trusts(&iss)).then_some(oidc)
}

/// Verifies an outside token; the reason names the refusal, never the token.
pub async fn verify(oidc: &OidcIssuers, token: &str, now: i64) -> Result<Bearer, &'static str> {
    let identity = oidc.verify_identity(token, now).await.map_err(|error| {
        tracing::info!(%error, "outside token refused");
        "outside_token"
    })?;
    Ok(Bearer {
        principal: identity.principal,
        jti: identity.jti.unwrap_or_default(),
        sid: None,
        amr: Vec::new(),
        expires_at: identity.expires_at,
        external: true,
    })
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
    Ok(config)
}
