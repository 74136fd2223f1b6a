//! Authorisation decisions as data, and the typed proof that one allowed.
//!
//! A decision carries the policies that decided it and the version of the
//! policy set, so that the audit event can record them. [`Authorised`] can
//! only be made in this crate, from a decision that allowed.

use crate::action::Action;

/// The outcome of one authorisation request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// The action asked for.
    pub action: Action,
    /// The `@id` of each policy that decided, sorted; empty for a default deny.
    pub policy_ids: Vec<String>,
    /// The version of the policy set in force.
    pub policy_version: String,
    /// Errors met while evaluating; any error means deny.
    pub errors: Vec<String>,
    // INVARIANT: set only by `Decision::new`, to the action it allowed; the
    // public fields may be changed by their holder, this cannot, so a denied
    // decision edited to say `allowed` never becomes [`Authorised`].
    sealed: Option<Action>,
}

/// Proof that a request was allowed; only this crate makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorised {
    decision: Decision,
}

/// A request that was denied, with the decision that denied it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{}` is not allowed", .0.action)]
pub struct Denied(pub Decision);

impl Decision {
    pub(crate) fn new(
        allowed: bool,
        action: Action,
        policy_ids: Vec<String>,
        policy_version: String,
        errors: Vec<String>,
    ) -> Self {
        // INVARIANT: an evaluation error never leaves a request allowed.
        let allowed = allowed && errors.is_empty();
        Self {
            allowed,
            action,
            policy_ids,
            policy_version,
            errors,
            sealed: allowed.then_some(action),
        }
    }

    /// Turns an allowing decision into proof, and a denying one into an error.
    pub fn authorised(self) -> Result<Authorised, Denied> {
        if self.allowed && self.errors.is_empty() && self.sealed == Some(self.action) {
            Ok(Authorised { decision: self })
        } else {
            Err(Denied(self))
        }
    }
}

impl Authorised {
    /// The action that was allowed.
    pub fn action(&self) -> Action {
        self.decision.action
    }

    /// The policies that allowed it.
    pub fn policy_ids(&self) -> &[String] {
        &self.decision.policy_ids
    }

    /// The version of the policy set that allowed it.
    pub fn policy_version(&self) -> &str {
        &self.decision.policy_version
    }

    /// The full decision.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }
}
