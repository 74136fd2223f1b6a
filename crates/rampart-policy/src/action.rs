//! What a principal asks to do, and to what: the actions and resources of the policies.
//!
//! Each action's name is its Cedar action id in the `Rampart` namespace, and
//! the schema in `policies/rampart.cedarschema` declares the same list.

use std::fmt;

use rampart_core::AccountId;

/// An action a principal may be allowed to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Place an order on an account.
    OrderPlace,
    /// Read an account's orders.
    OrderRead,
    /// Cancel an order on an account.
    OrderCancel,
    /// Read an account's risk limits.
    LimitsRead,
    /// Propose a change of an account's risk limits.
    LimitsPropose,
    /// Engage the kill switch, globally or for one account.
    KillSwitchEngage,
    /// Read the kill switch's state.
    KillSwitchRead,
    /// Propose the release of a kill switch engagement (a second person approves).
    KillSwitchRelease,
    /// Read the audit log and its proofs.
    AuditRead,
    /// Create, disable or rotate API clients.
    ClientManage,
    /// List API clients.
    ClientRead,
    /// Create and change users and their roles.
    UserManage,
    /// Create trading accounts.
    AccountManage,
    /// List four-eyes approvals.
    ApprovalRead,
    /// Approve or reject someone else's proposal.
    ApprovalDecide,
    /// Read the metadata of managed secrets, never their values.
    SecretRead,
    /// Rotate a managed secret.
    SecretRotate,
}

impl Action {
    /// Every action, in a fixed order.
    pub const ALL: [Action; 17] = [
        Action::OrderPlace,
        Action::OrderRead,
        Action::OrderCancel,
        Action::LimitsRead,
        Action::LimitsPropose,
        Action::KillSwitchEngage,
        Action::KillSwitchRead,
        Action::KillSwitchRelease,
        Action::AuditRead,
        Action::ClientManage,
        Action::ClientRead,
        Action::UserManage,
        Action::AccountManage,
        Action::ApprovalRead,
        Action::ApprovalDecide,
        Action::SecretRead,
        Action::SecretRotate,
    ];

    /// The Cedar action id, such as `order.place`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::OrderPlace => "order.place",
            Action::OrderRead => "order.read",
            Action::OrderCancel => "order.cancel",
            Action::LimitsRead => "limits.read",
            Action::LimitsPropose => "limits.propose",
            Action::KillSwitchEngage => "killswitch.engage",
            Action::KillSwitchRead => "killswitch.read",
            Action::KillSwitchRelease => "killswitch.release",
            Action::AuditRead => "audit.read",
            Action::ClientManage => "client.manage",
            Action::ClientRead => "client.read",
            Action::UserManage => "user.manage",
            Action::AccountManage => "account.manage",
            Action::ApprovalRead => "approval.read",
            Action::ApprovalDecide => "approval.decide",
            Action::SecretRead => "secret.read", // pragma: allowlist secret
            Action::SecretRotate => "secret.rotate", // pragma: allowlist secret
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an action is taken on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Resource {
    /// One trading account.
    Account(AccountId),
    /// The gateway as a whole (global kill switch, administration, audit log).
    Gateway,
    /// A four-eyes proposal, decided according to its kind and the accounts it concerns.
    Approval {
        /// The approval's id.
        id: String,
        /// Its kind, such as `risk_limits.change`.
        kind: String,
        /// The accounts it concerns; none for a role grant.
        accounts: Vec<AccountId>,
    },
}

/// The Cedar entity id of the gateway resource.
pub const GATEWAY_ID: &str = "gateway";
