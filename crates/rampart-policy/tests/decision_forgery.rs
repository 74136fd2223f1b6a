//! Regression: a decision edited by its holder never becomes proof of authorisation.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_core::{AccountId, Principal, PrincipalKind, Role, RoleSet};
use rampart_policy::{Action, Authorizer, Resource};

fn auditor() -> Principal {
    Principal {
        id: "auditor-1".to_owned(),
        kind: PrincipalKind::User,
        roles: RoleSet::new([Role::Auditor]).unwrap(),
        accounts: Vec::new(),
    }
}

fn account() -> Resource {
    Resource::Account("ACC-1".parse::<AccountId>().unwrap())
}

#[test]
fn a_denied_decision_set_to_allowed_is_still_denied() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let mut decision = authorizer.authorize(&auditor(), Action::OrderPlace, &account());
    assert!(!decision.allowed);

    decision.allowed = true;

    assert!(decision.authorised().is_err());
}

#[test]
fn an_allowed_decision_moved_to_another_action_is_denied() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let mut decision = authorizer.authorize(&auditor(), Action::OrderRead, &account());
    assert!(decision.allowed);

    decision.action = Action::OrderPlace;

    assert!(decision.authorised().is_err());
}

#[test]
fn an_allowed_decision_left_alone_is_authorised_for_its_action() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let decision = authorizer.authorize(&auditor(), Action::OrderRead, &account());
    assert_eq!(decision.authorised().unwrap().action(), Action::OrderRead);
}
