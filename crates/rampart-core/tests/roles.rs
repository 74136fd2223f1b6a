//! Segregation of duties: no identity holds roles that check each other.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use proptest::prelude::*;
use rampart_core::role::CONFLICTS;
use rampart_core::{Role, RoleSet, SodConflict};

fn conflicts_in(roles: &[Role]) -> bool {
    CONFLICTS
        .iter()
        .any(|(a, b)| roles.contains(a) && roles.contains(b))
}

proptest! {
    #[test]
    fn a_set_is_accepted_exactly_when_no_conflicting_pair_is_in_it(
        roles in proptest::collection::vec(proptest::sample::select(&Role::ALL[..]), 0..8)
    ) {
        prop_assert_eq!(RoleSet::new(roles.clone()).is_ok(), !conflicts_in(&roles));
    }
}

#[test]
fn admin_may_not_also_trade_manage_risk_or_handle_compliance() {
    for other in [Role::Trader, Role::RiskManager, Role::ComplianceOfficer] {
        assert_eq!(
            RoleSet::new([other, Role::Admin]),
            Err(SodConflict(Role::Admin, other))
        );
    }
}

#[test]
fn a_trader_may_not_also_manage_risk() {
    let error = RoleSet::new([Role::RiskManager, Role::Trader]).unwrap_err();
    assert_eq!(error, SodConflict(Role::Trader, Role::RiskManager));
    assert_eq!(
        error.to_string(),
        "roles `trader` and `risk_manager` may not be held together"
    );
}

#[test]
fn compatible_roles_may_be_held_together() {
    let set = RoleSet::new([Role::Admin, Role::Auditor]).unwrap();
    assert!(set.contains(Role::Admin) && set.contains(Role::Auditor));
    let set = RoleSet::new([Role::RiskManager, Role::ComplianceOfficer, Role::Auditor]).unwrap();
    assert_eq!(set.iter().count(), 3);
    assert!(!set.contains(Role::Trader));
}

#[test]
fn a_repeated_role_counts_once() {
    let set = RoleSet::new([Role::Trader, Role::Trader]).unwrap();
    assert_eq!(set.iter().collect::<Vec<_>>(), [Role::Trader]);
}

#[test]
fn the_empty_set_is_allowed() {
    assert!(RoleSet::new([]).unwrap().is_empty());
}

#[test]
fn deserialising_refuses_a_conflicting_set() {
    let error = serde_json::from_str::<RoleSet>(r#"["admin", "trader"]"#).unwrap_err();
    assert!(
        error.to_string().contains("may not be held together"),
        "{error}"
    );
    let set: RoleSet = serde_json::from_str(r#"["auditor", "compliance_officer"]"#).unwrap();
    assert_eq!(
        serde_json::to_string(&set).unwrap(),
        r#"["compliance_officer","auditor"]"#
    );
}

#[test]
fn role_names_round_trip_and_unknown_names_are_refused() {
    for role in Role::ALL {
        assert_eq!(role.as_str().parse::<Role>(), Ok(role));
    }
    for name in ["Trader", "superuser", ""] {
        assert_eq!(name.parse::<Role>().unwrap_err().field, "roles");
    }
}
