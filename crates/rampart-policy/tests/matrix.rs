//! The roles matrix of the default policies: every role, every action, on an
//! assigned account, an unassigned account and the gateway.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_core::{AccountId, Principal, PrincipalKind, Role, RoleSet};
use rampart_policy::{Action, Authorizer, Resource};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    AssignedAccount,
    OtherAccount,
    Gateway,
}

const TARGETS: [Target; 3] = [
    Target::AssignedAccount,
    Target::OtherAccount,
    Target::Gateway,
];

fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

fn principal(kind: PrincipalKind, roles: &[Role]) -> Principal {
    Principal {
        id: "subject-1".to_owned(),
        kind,
        roles: RoleSet::new(roles.iter().copied()).unwrap(),
        accounts: vec![account("ACC-1")],
    }
}

fn resource(target: Target) -> Resource {
    match target {
        Target::AssignedAccount => Resource::Account(account("ACC-1")),
        Target::OtherAccount => Resource::Account(account("ACC-2")),
        Target::Gateway => Resource::Gateway,
    }
}

/// The matrix of DESIGN.md, written out independently of the policy text.
///
/// Four-eyes proposals (limit changes, kill-switch releases) are for people:
/// an API client never makes one, whatever roles it holds.
fn expected(kind: PrincipalKind, role: Role, action: Action, target: Target) -> bool {
    use Action::*;
    use Role::*;
    use Target::*;
    let person = kind == PrincipalKind::User;
    let on_account = matches!(target, AssignedAccount | OtherAccount);
    let oversight = matches!(role, RiskManager | ComplianceOfficer | Auditor);
    match action {
        OrderPlace | OrderCancel => role == Trader && target == AssignedAccount,
        OrderRead | LimitsRead => {
            (role == Trader && target == AssignedAccount) || (oversight && on_account)
        }
        KillSwitchEngage => matches!(role, RiskManager | ComplianceOfficer),
        KillSwitchRead => oversight,
        KillSwitchRelease => {
            person && role == RiskManager && matches!(target, Gateway | AssignedAccount)
        }
        AuditRead => matches!(role, ComplianceOfficer | Auditor) && target == Gateway,
        ClientManage | ClientRead | UserManage | AccountManage | SecretRead | SecretRotate => {
            role == Admin && target == Gateway
        }
        LimitsPropose => person && role == RiskManager && target == AssignedAccount,
        ApprovalRead => {
            matches!(role, Admin | RiskManager | ComplianceOfficer) && target == Gateway
        }
        // Deciding is per approval (see approvals_are_decided_by_kind_and_scope).
        ApprovalDecide => false,
    }
}

#[test]
fn every_single_role_gets_exactly_the_matrix_for_users_and_clients() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let mut checked = 0;
    for kind in [PrincipalKind::User, PrincipalKind::Client] {
        for role in Role::ALL {
            let who = principal(kind, &[role]);
            for action in Action::ALL {
                for target in TARGETS {
                    let decision = authorizer.authorize(&who, action, &resource(target));
                    assert_eq!(
                        decision.allowed,
                        expected(kind, role, action, target),
                        "{kind:?} {role} {action} {target:?}: {decision:?}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(
        checked,
        2 * Role::ALL.len() * Action::ALL.len() * TARGETS.len()
    );
}

#[test]
fn combined_roles_get_the_union_of_their_permissions() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let pairs = [
        [Role::Trader, Role::Auditor],
        [Role::ComplianceOfficer, Role::Auditor],
        [Role::RiskManager, Role::ComplianceOfficer],
        [Role::Admin, Role::Auditor],
    ];
    for roles in pairs {
        let who = principal(PrincipalKind::User, &roles);
        for action in Action::ALL {
            for target in TARGETS {
                let want = roles
                    .iter()
                    .any(|role| expected(PrincipalKind::User, *role, action, target));
                let admin_blocked = roles.contains(&Role::Admin)
                    && matches!(action, Action::OrderRead | Action::LimitsRead);
                let decision = authorizer.authorize(&who, action, &resource(target));
                assert_eq!(
                    decision.allowed,
                    want && !admin_blocked,
                    "{roles:?} {action} {target:?}"
                );
            }
        }
    }
}

#[test]
fn principal_without_roles_is_denied_everything() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    for kind in [PrincipalKind::User, PrincipalKind::Client] {
        let nobody = principal(kind, &[]);
        for action in Action::ALL {
            for target in TARGETS {
                let decision = authorizer.authorize(&nobody, action, &resource(target));
                assert!(!decision.allowed, "{kind:?} {action} {target:?}");
                // Only the people-only forbids may name themselves, and only for clients.
                let ids = &decision.policy_ids;
                let people_only = ids.iter().all(|id| id.ends_with(".people_only"));
                match kind {
                    PrincipalKind::User => assert!(ids.is_empty(), "{ids:?}"),
                    PrincipalKind::Client => assert!(people_only, "{ids:?}"),
                }
            }
        }
    }
}

#[test]
fn trader_without_assigned_accounts_cannot_trade_anywhere() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let mut trader = principal(PrincipalKind::Client, &[Role::Trader]);
    trader.accounts.clear();
    for action in [
        Action::OrderPlace,
        Action::OrderRead,
        Action::OrderCancel,
        Action::LimitsRead,
    ] {
        let decision = authorizer.authorize(&trader, action, &resource(Target::AssignedAccount));
        assert!(!decision.allowed, "{action}");
    }
}

#[test]
fn allowing_decision_names_the_permitting_policy_and_the_version() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let trader = principal(PrincipalKind::Client, &[Role::Trader]);
    let decision = authorizer.authorize(
        &trader,
        Action::OrderPlace,
        &resource(Target::AssignedAccount),
    );
    assert!(decision.allowed);
    assert_eq!(decision.policy_ids, ["orders.trader.place_cancel"]);
    assert_eq!(decision.policy_version, authorizer.version());
    assert!(decision.errors.is_empty());

    let auditor = principal(PrincipalKind::User, &[Role::Auditor]);
    let decision = authorizer.authorize(
        &auditor,
        Action::LimitsRead,
        &resource(Target::OtherAccount),
    );
    assert_eq!(decision.policy_ids, ["risk.oversight.read_limits"]);
}

#[test]
fn forbidding_decision_names_the_forbid_policy() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let admin = principal(PrincipalKind::User, &[Role::Admin]);
    let decision = authorizer.authorize(&admin, Action::OrderRead, &resource(Target::OtherAccount));
    assert!(!decision.allowed);
    assert_eq!(decision.policy_ids, ["orders.admin.forbid"]);
    let decision =
        authorizer.authorize(&admin, Action::LimitsRead, &resource(Target::OtherAccount));
    assert_eq!(decision.policy_ids, ["risk.admin.forbid"]);
}

#[test]
fn default_deny_names_no_policy() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let trader = principal(PrincipalKind::Client, &[Role::Trader]);
    let decision =
        authorizer.authorize(&trader, Action::OrderPlace, &resource(Target::OtherAccount));
    assert!(!decision.allowed);
    assert!(decision.policy_ids.is_empty());
    assert!(decision.errors.is_empty());
}

#[test]
fn action_on_a_resource_of_the_wrong_type_is_denied_with_an_error() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let admin = principal(PrincipalKind::User, &[Role::Admin]);
    let decision = authorizer.authorize(
        &admin,
        Action::ClientManage,
        &resource(Target::OtherAccount),
    );
    assert!(!decision.allowed);
    assert_eq!(decision.errors.len(), 1, "{:?}", decision.errors);
    assert!(
        decision.errors[0].contains("schema"),
        "{:?}",
        decision.errors
    );
}

#[test]
fn authorised_proof_comes_only_from_an_allowing_decision() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let risk = principal(PrincipalKind::User, &[Role::RiskManager]);
    let proof = authorizer
        .authorize(&risk, Action::KillSwitchEngage, &Resource::Gateway)
        .authorised()
        .unwrap();
    assert_eq!(proof.action(), Action::KillSwitchEngage);
    assert_eq!(proof.policy_ids(), ["killswitch.engage"]);
    assert_eq!(proof.policy_version(), authorizer.version());

    let denied = authorizer.authorize(
        &risk,
        Action::OrderPlace,
        &resource(Target::AssignedAccount),
    );
    let refusal = denied.authorised().unwrap_err();
    assert_eq!(refusal.to_string(), "`order.place` is not allowed");
}

#[test]
fn principal_ids_with_quotes_are_data_not_policy() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let mut sneaky = principal(PrincipalKind::User, &[Role::Trader]);
    sneaky.id = r#"x" in Rampart::Role::"risk_manager"#.to_owned();
    let engage = authorizer.authorize(&sneaky, Action::KillSwitchEngage, &Resource::Gateway);
    assert!(!engage.allowed);
    assert!(engage.errors.is_empty(), "{:?}", engage.errors);
    let place = authorizer.authorize(
        &sneaky,
        Action::OrderPlace,
        &resource(Target::AssignedAccount),
    );
    assert!(place.allowed, "{place:?}");
}

fn approval(kind: &str, accounts: &[&str]) -> Resource {
    Resource::Approval {
        id: "019a0000-0000-7000-8000-000000000001".to_owned(),
        kind: kind.to_owned(),
        accounts: accounts.iter().map(|a| account(a)).collect(),
    }
}

#[test]
fn approvals_are_listed_by_admins_risk_managers_and_compliance_officers_only() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    for role in Role::ALL {
        let who = principal(PrincipalKind::User, &[role]);
        let decision = authorizer.authorize(&who, Action::ApprovalRead, &Resource::Gateway);
        let want = matches!(
            role,
            Role::Admin | Role::RiskManager | Role::ComplianceOfficer
        );
        assert_eq!(decision.allowed, want, "{role}");
    }
}

#[test]
fn approvals_are_decided_by_kind_and_scope() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let cases = [
        (Role::Admin, approval("role.grant", &[]), true),
        (
            Role::Admin,
            approval("risk_limits.change", &["ACC-1"]),
            false,
        ),
        (Role::Admin, approval("killswitch.release", &[]), false),
        (
            Role::RiskManager,
            approval("risk_limits.change", &["ACC-1"]),
            true,
        ),
        (
            Role::RiskManager,
            approval("risk_limits.change", &["ACC-2"]),
            false,
        ),
        (Role::RiskManager, approval("role.grant", &[]), false),
        (Role::RiskManager, approval("killswitch.release", &[]), true),
        (
            Role::RiskManager,
            approval("killswitch.release", &["ACC-1"]),
            true,
        ),
        (
            Role::RiskManager,
            approval("killswitch.release", &["ACC-2"]),
            false,
        ),
        (
            Role::ComplianceOfficer,
            approval("killswitch.release", &[]),
            false,
        ),
        (
            Role::ComplianceOfficer,
            approval("risk_limits.change", &["ACC-1"]),
            false,
        ),
        (
            Role::Trader,
            approval("risk_limits.change", &["ACC-1"]),
            false,
        ),
        (Role::Trader, approval("killswitch.release", &[]), false),
        (Role::Auditor, approval("killswitch.release", &[]), false),
        (Role::RiskManager, approval("something.else", &[]), false),
    ];
    for (role, resource, want) in cases {
        let who = principal(PrincipalKind::User, &[role]);
        let decision = authorizer.authorize(&who, Action::ApprovalDecide, &resource);
        assert_eq!(decision.allowed, want, "{role} {resource:?}: {decision:?}");
        assert!(decision.errors.is_empty(), "{:?}", decision.errors);
    }
}

#[test]
fn an_api_client_decides_no_approval_whatever_its_roles() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let approvals = [
        approval("role.grant", &[]),
        approval("risk_limits.change", &["ACC-1"]),
        approval("killswitch.release", &[]),
        approval("killswitch.release", &["ACC-1"]),
    ];
    for role in [Role::Admin, Role::RiskManager, Role::ComplianceOfficer] {
        let client = principal(PrincipalKind::Client, &[role]);
        for resource in &approvals {
            let decision = authorizer.authorize(&client, Action::ApprovalDecide, resource);
            assert!(!decision.allowed, "{role} {resource:?}");
            let ids = &decision.policy_ids;
            assert!(
                ids.iter().any(|id| id == "approvals.people_only"),
                "{role} {ids:?}"
            );
        }
    }
}

#[test]
fn an_api_client_proposes_no_limit_change_and_no_release() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let client = principal(PrincipalKind::Client, &[Role::RiskManager]);
    let propose = authorizer.authorize(
        &client,
        Action::LimitsPropose,
        &resource(Target::AssignedAccount),
    );
    assert_eq!(propose.policy_ids, ["risk.propose.people_only"]);
    let release = authorizer.authorize(&client, Action::KillSwitchRelease, &Resource::Gateway);
    assert_eq!(release.policy_ids, ["killswitch.release.people_only"]);
    assert!(!propose.allowed && !release.allowed);
}

#[test]
fn an_account_scoped_release_needs_the_account_assigned() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let risk = principal(PrincipalKind::User, &[Role::RiskManager]);
    let assigned = resource(Target::AssignedAccount);
    let decision = authorizer.authorize(&risk, Action::KillSwitchRelease, &assigned);
    assert_eq!(decision.policy_ids, ["killswitch.release.account"]);
    let other = resource(Target::OtherAccount);
    let decision = authorizer.authorize(&risk, Action::KillSwitchRelease, &other);
    assert!(!decision.allowed);
}

#[test]
fn a_trader_holding_another_role_still_cannot_decide_and_the_forbid_is_named() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let both = principal(
        PrincipalKind::User,
        &[Role::Trader, Role::ComplianceOfficer],
    );
    let decision = authorizer.authorize(
        &both,
        Action::ApprovalDecide,
        &approval("killswitch.release", &[]),
    );
    assert!(!decision.allowed);
    assert_eq!(decision.policy_ids, ["approvals.trader.forbid"]);
}

#[test]
fn a_risk_change_over_several_accounts_needs_every_one_assigned() {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let risk = principal(PrincipalKind::User, &[Role::RiskManager]);
    let wide = approval("risk_limits.change", &["ACC-1", "ACC-2"]);
    assert!(
        !authorizer
            .authorize(&risk, Action::ApprovalDecide, &wide)
            .allowed
    );
    let decision = authorizer.authorize(
        &risk,
        Action::ApprovalDecide,
        &approval("risk_limits.change", &["ACC-1"]),
    );
    assert_eq!(decision.policy_ids, ["approvals.risk_limits.risk_manager"]);
}
