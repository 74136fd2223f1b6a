//! Roles and the segregation of duties between them.
//!
//! No identity may hold `admin` together with `trader`, `risk_manager` or
//! `compliance_officer`, nor `trader` together with `risk_manager`.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, FieldErrorKind};

/// A role that grants a set of permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Places and cancels orders on assigned accounts.
    Trader,
    /// Proposes and approves risk changes, engages the kill switch.
    RiskManager,
    /// Reads the audit log, runs compliance reviews, engages the kill switch.
    ComplianceOfficer,
    /// Reads the audit log and reports.
    Auditor,
    /// Manages users, API clients, roles and secrets; cannot trade.
    Admin,
}

impl Role {
    /// Every role, in a fixed order.
    pub const ALL: [Role; 5] = [
        Role::Trader,
        Role::RiskManager,
        Role::ComplianceOfficer,
        Role::Auditor,
        Role::Admin,
    ];

    /// The roles that change what others may do: they need an accountable owner on a client.
    pub const PRIVILEGED: [Role; 3] = [Role::Admin, Role::RiskManager, Role::ComplianceOfficer];

    /// Whether this role is one of [`Role::PRIVILEGED`].
    pub fn is_privileged(self) -> bool {
        Role::PRIVILEGED.contains(&self)
    }

    /// The role's name as used in tokens, policies and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Trader => "trader",
            Role::RiskManager => "risk_manager",
            Role::ComplianceOfficer => "compliance_officer",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = FieldError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or(FieldError::new(
                "roles",
                FieldErrorKind::Invalid(
                    "one of `trader`, `risk_manager`, `compliance_officer`, `auditor`, `admin`",
                ),
            ))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Two roles that one identity may not hold together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("roles `{0}` and `{1}` may not be held together")]
pub struct SodConflict(pub Role, pub Role);

/// The pairs of roles that segregation of duties forbids together.
pub const CONFLICTS: [(Role, Role); 4] = [
    (Role::Admin, Role::Trader),
    (Role::Admin, Role::RiskManager),
    (Role::Admin, Role::ComplianceOfficer),
    (Role::Trader, Role::RiskManager),
];

/// A set of roles that respects segregation of duties.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RoleSet(BTreeSet<Role>);

impl RoleSet {
    /// Builds a set, refusing any pair of roles that may not be held together.
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Result<Self, SodConflict> {
        let roles: BTreeSet<Role> = roles.into_iter().collect();
        for (a, b) in CONFLICTS {
            if roles.contains(&a) && roles.contains(&b) {
                return Err(SodConflict(a, b));
            }
        }
        Ok(Self(roles))
    }

    /// Whether the set holds `role`.
    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    /// The roles, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for RoleSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let roles = Vec::<Role>::deserialize(deserializer)?;
        RoleSet::new(roles).map_err(serde::de::Error::custom)
    }
}
