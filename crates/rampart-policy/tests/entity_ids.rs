//! Ids that look like Cedar syntax stay plain ids: no principal reaches an
//! account it is not assigned to, whatever the characters of either id.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_core::{AccountId, Principal, PrincipalKind, Role, RoleSet};
use rampart_policy::{Action, Authorizer, Resource};

fn trader(id: &str, accounts: &[&str]) -> Principal {
    Principal {
        id: id.to_owned(),
        kind: PrincipalKind::Client,
        roles: RoleSet::new([Role::Trader]).unwrap(),
        accounts: accounts.iter().map(|a| a.parse().unwrap()).collect(),
    }
}

fn may_place(principal: &Principal, account: &str) -> bool {
    let authorizer = Authorizer::with_default_policies().unwrap();
    let account: AccountId = account.parse().unwrap();
    authorizer
        .authorize(principal, Action::OrderPlace, &Resource::Account(account))
        .allowed
}

#[test]
fn an_account_id_with_namespace_separators_matches_only_itself() {
    let principal = trader("algo-1", &["ACC-1::ACC-2"]);
    assert!(may_place(&principal, "ACC-1::ACC-2"));
    assert!(!may_place(&principal, "ACC-1"));
    assert!(!may_place(&principal, "ACC-2"));
    assert!(!may_place(&principal, "ACC-1::ACC-2::"));
}

#[test]
fn an_account_id_spelled_like_an_entity_uid_reaches_nothing_else() {
    let principal = trader("algo-1", &["Rampart::Account::ACC-2"]);
    assert!(!may_place(&principal, "ACC-2"));
    let principal = trader("algo-1", &["ACC-2"]);
    assert!(!may_place(&principal, "Rampart::Account::ACC-2"));
}

#[test]
fn a_principal_id_with_quotes_and_cedar_syntax_gains_nothing() {
    for id in [
        r#"x" || true || ""#,
        r#"Rampart::Role::"admin""#,
        "\"; permit(principal, action, resource);",
        "",
    ] {
        let principal = trader(id, &["ACC-1"]);
        assert!(!may_place(&principal, "ACC-2"), "principal id {id:?}");
        assert!(may_place(&principal, "ACC-1"), "principal id {id:?}");
    }
}

#[test]
fn a_trader_without_accounts_may_place_on_none() {
    let principal = trader("algo-1", &[]);
    assert!(!may_place(&principal, "ACC-1"));
}

#[test]
fn ids_differing_only_in_case_are_different_accounts() {
    let principal = trader("algo-1", &["acc-1"]);
    assert!(!may_place(&principal, "ACC-1"));
}
