//! The authenticated party behind a request.

use serde::Serialize;

use crate::ids::AccountId;
use crate::role::{Role, RoleSet};

/// Whether a principal is a person or an API client (an algorithm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A person, identified by an opaque subject id.
    User,
    /// An API client, identified by its client id.
    Client,
}

/// Who is making a request: an opaque id, roles and assigned accounts.
///
/// Only the authentication layer builds one, from verified token claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The subject id of a person or the client id of an API client.
    pub id: String,
    /// Person or client.
    pub kind: PrincipalKind,
    /// The roles held.
    pub roles: RoleSet,
    /// The accounts this principal may act on.
    pub accounts: Vec<AccountId>,
}

impl Principal {
    /// Whether the principal holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(role)
    }

    /// Whether `account` is assigned to the principal.
    pub fn is_assigned(&self, account: &AccountId) -> bool {
        self.accounts.contains(account)
    }
}
