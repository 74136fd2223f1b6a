//! Refused approval decisions and the `approval.refused` event each one leaves.
//!
//! Rule upheld: every refusal is on the record. The store refuses a decision
//! by the proposer's side, or on an approval that is closed; applying an
//! approved change can refuse it too (a kill-switch release decided by the
//! side of whoever engaged it or of the identity it stops, a `user.reset`
//! decided by the side of the person reset, a role grant that now breaks
//! segregation of duties). Either way the decision's transaction is rolled
//! back, so the refusal is written in a new transaction after the rollback,
//! naming the approval, the decider and a stable reason code. Any client error
//! met while applying is a refusal (reason: its problem `code` unless named
//! here). The record is written in a detached task, so a request dropped by a
//! timeout or disconnect still leaves it.

use rampart_audit::Outcome;
use rampart_core::Principal;
use rampart_store::{ApprovalError, ApprovalRecord, WriteTx};
use serde_json::json;
use uuid::Uuid;

use crate::problem::ApiError;
use crate::service::identity_action as act;
use crate::service::killswitch_release::{self, KILLSWITCH_RELEASE};
pub use crate::service::killswitch_release::{ENGAGER_SIDE, STOPPED_SIDE};
use crate::service::user_reset::{self, USER_RESET};
use crate::service::{audit, internal};
use crate::state::AppState;

/// Reason: the decider is on the side of the person a `user.reset` resets.
pub const TARGET_SIDE: &str = "target_side";

/// A refused decision: the problem to answer and, for a refusal, its reason code.
#[derive(Debug)]
pub struct Refusal {
    reason: Option<String>,
    answer: ApiError,
}

impl Refusal {
    /// A refusal for `reason`, answered with `answer`.
    pub fn new(reason: impl Into<String>, answer: ApiError) -> Self {
        Self {
            reason: Some(reason.into()),
            answer,
        }
    }

    /// The store's refusal of a decision; a failure of the store is no refusal.
    pub fn of_store(error: ApprovalError) -> Self {
        let (reason, answer) = match error {
            ApprovalError::NotFound => ("not_found", ApiError::NotFound),
            ApprovalError::SelfApproval => ("self_approval", ApiError::SelfApproval),
            ApprovalError::UnownedPrivilegedClient(_) => (
                "unowned_privileged_client",
                ApiError::UnownedPrivilegedClient(error.to_string()),
            ),
            ApprovalError::AlreadyDecided(_) | ApprovalError::Expired => {
                ("closed", ApiError::ApprovalClosed(error.to_string()))
            }
            ApprovalError::ProposerDisabled(_) => (
                "proposer_disabled",
                ApiError::ProposerDisabled(error.to_string()),
            ),
            ApprovalError::Store(error) => return Self::failed(internal("decide", &error)),
        };
        Self::new(reason, answer)
    }

    /// The answer once the refusal, if it is one, is recorded for approval `id`.
    pub async fn settle(self, state: &AppState, decider: &Principal, id: Uuid) -> ApiError {
        let Some(reason) = self.reason else {
            return self.answer;
        };
        let answer = self.answer;
        let (state, decider) = (state.clone(), decider.clone());
        let recorded = crate::service::detach(async move {
            record(&state, &decider, id, &reason).await;
            Ok(())
        });
        if let Err(error) = recorded.await {
            return error;
        }
        answer
    }

    fn failed(answer: ApiError) -> Self {
        Self {
            reason: None,
            answer,
        }
    }
}

/// An error met while applying a decision: any client error is a refusal, a server
/// error a failure (answered, not recorded as a refusal).
impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        match reason_of(&error) {
            Some(reason) => Self::new(reason, error),
            None => Self::failed(error),
        }
    }
}

/// Why `decider` may not decide `decided` this way, judged by who is on which side.
///
/// A release of the kill switch is refused (when approved) to the side of the person
/// who engaged it and to the side of the identity it stops; a `user.reset` is refused,
/// approved or rejected, to the side of the person reset.
pub async fn side_refusal(
    tx: &mut WriteTx<'_>,
    decided: &ApprovalRecord,
    decider: &Principal,
    approve: bool,
) -> Result<Option<&'static str>, ApiError> {
    match decided.kind.as_str() {
        KILLSWITCH_RELEASE if approve => {
            killswitch_release::side_refusal(tx, decided, decider).await
        }
        USER_RESET => match user_reset::refuse_target_side(tx, decided, decider).await {
            Ok(()) => Ok(None),
            Err(ApiError::SelfApproval) => Ok(Some(TARGET_SIDE)),
            Err(error) => Err(error),
        },
        _ => Ok(None),
    }
}

/// The reason code of an error that refuses a decision: a stable short code for the
/// refusals named here, else the problem `code` of any client error; none for a
/// server failure.
fn reason_of(error: &ApiError) -> Option<String> {
    let reason = match error {
        ApiError::SelfApproval => "self_approval",
        ApiError::UnownedPrivilegedClient(_) => "unowned_privileged_client",
        ApiError::ApprovalClosed(_) => "closed",
        ApiError::ProposerDisabled(_) => "proposer_disabled",
        ApiError::GrantChanged(_) => "target_changed",
        ApiError::GrantOutdated(_) => "proposal_outdated",
        ApiError::RoleConflict(_) => "role_conflict",
        ApiError::NotFound => "not_found",
        ApiError::LimitCap(_) => "above_cap",
        ApiError::StaleProposal(_) => "stale",
        ApiError::UnsupportedApproval(_) => "unsupported_kind",
        other if other.status().is_client_error() => return Some(other.code().to_owned()),
        _ => return None,
    };
    Some(reason.to_owned())
}

/// Appends `approval.refused` for approval `id`, by `decider`, in its own transaction.
async fn record(state: &AppState, decider: &Principal, id: Uuid, reason: &str) {
    let event = audit::event(
        &decider.id,
        act::APPROVAL_REFUSED,
        &format!("approval:{id}"),
        Outcome::Denied,
    )
    .details(json!({ "approval_id": id, "decided_by": decider.id, "reason": reason }));
    audit::append_or_log(&state.store, audit::stamp(event)).await;
}
