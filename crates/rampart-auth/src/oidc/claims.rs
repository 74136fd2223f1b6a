//! Mapping an outside token's verified claims to a Rampart principal.

use rampart_core::ids::check_identifier;
use rampart_core::{AccountId, Principal, PrincipalKind, Role, RoleSet};
use serde_json::Value;

use super::OidcError;
use super::config::{TrustedIssuerConfig, needs_link};

/// The most role or account values read from one claim.
const MAX_VALUES: usize = 256;

/// The principal for verified `claims` under `config`'s mapping.
pub(super) fn principal(
    config: &TrustedIssuerConfig,
    claims: &Value,
) -> Result<Principal, OidcError> {
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|sub| !sub.is_empty())
        .ok_or(OidcError::InvalidClaim("sub"))?;
    let id = format!("{}{sub}", config.subject_prefix);
    check_identifier("sub", &id).map_err(|_| OidcError::InvalidClaim("sub"))?;

    Ok(Principal {
        id,
        kind: PrincipalKind::User,
        roles: roles(config, claims)?,
        accounts: accounts(config, claims)?,
    })
}

/// The mapped roles: unknown outside names are ignored, none mapped is refused,
/// and so is a privileged role for an identity this issuer does not link.
fn roles(config: &TrustedIssuerConfig, claims: &Value) -> Result<RoleSet, OidcError> {
    let names = strings(lookup(claims, &config.roles_claim), "roles")?;
    let mapped: Vec<Role> = names
        .iter()
        .filter_map(|name| config.role_map.get(*name).copied())
        .collect();
    if mapped.is_empty() {
        return Err(OidcError::NoMappedRole);
    }
    // Defensive: validation already refuses such a `role_map`, but an entry built
    // in code without `validate` must still never grant the role.
    let unlinked = !config.links_identities && !config.allow_unlinked_privileged;
    if let Some(role) = mapped.iter().find(|r| needs_link(**r))
        && unlinked
    {
        return Err(OidcError::UnlinkedPrivilegedRole(*role));
    }
    RoleSet::new(mapped).map_err(OidcError::RolesConflict)
}

fn accounts(config: &TrustedIssuerConfig, claims: &Value) -> Result<Vec<AccountId>, OidcError> {
    let Some(claim) = &config.accounts_claim else {
        return Ok(Vec::new());
    };
    let ids = strings(lookup(claims, claim), "accounts")?;
    ids.into_iter()
        .map(|id| id.parse::<AccountId>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| OidcError::InvalidClaim("accounts"))
}

/// A claim by dotted path (`realm_access.roles`), or the member of that exact name.
fn lookup<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(path) {
        return Some(value);
    }
    path.split('.')
        .try_fold(claims, |value, part| value.get(part))
}

/// A string or an array of strings; absent means none.
fn strings<'a>(value: Option<&'a Value>, claim: &'static str) -> Result<Vec<&'a str>, OidcError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(one)) => Ok(one.split_whitespace().collect()),
        Some(Value::Array(items)) if items.len() <= MAX_VALUES => items
            .iter()
            .map(|item| item.as_str().ok_or(OidcError::InvalidClaim(claim)))
            .collect(),
        Some(_) => Err(OidcError::InvalidClaim(claim)),
    }
}
