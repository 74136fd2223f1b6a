//! People's tokens carry `sid` and `amr`; client tokens stay as they were.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{NOW, fixture, trader};
use rampart_auth::{Session, TokenError};
use rampart_core::{Principal, PrincipalKind, Role, RoleSet};
use secrecy::ExposeSecret;
use serde_json::json;

fn person() -> Principal {
    Principal {
        id: "u-01J0000000000000000000000".to_owned(),
        kind: PrincipalKind::User,
        roles: RoleSet::new([Role::RiskManager]).unwrap(),
        accounts: vec![],
    }
}

#[test]
fn session_token_carries_sid_and_amr_through_verification() {
    let f = fixture();
    let session = Session::password_and_otp("fam-42");
    let issued = f
        .issuer
        .issue_for_session(&person(), &session, NOW)
        .unwrap();
    let claims = f
        .verifier
        .verify(issued.access_token.expose_secret(), NOW)
        .unwrap();
    assert_eq!(claims.sid(), Some("fam-42"));
    assert_eq!(claims.amr(), ["pwd", "otp"]);
    assert_eq!(claims.principal(), person());
}

#[test]
fn client_token_has_neither_sid_nor_amr() {
    let f = fixture();
    let token = f.issue(NOW);
    let payload = token.split('.').nth(1).unwrap();
    let payload = common::decode(payload);
    assert!(payload.get("sid").is_none());
    assert!(payload.get("amr").is_none());
    let claims = f.verifier.verify(&token, NOW).unwrap();
    assert_eq!(claims.sid(), None);
    assert!(claims.amr().is_empty());
    assert_eq!(claims.principal(), trader());
}

#[test]
fn refuses_to_issue_with_an_invalid_sid_or_no_amr() {
    let f = fixture();
    let bad_sid = Session::password_and_otp("has space");
    assert_eq!(
        f.issuer
            .issue_for_session(&person(), &bad_sid, NOW)
            .unwrap_err(),
        TokenError::InvalidPrincipal("sid")
    );
    let no_amr = Session {
        sid: "fam-1".to_owned(),
        amr: vec![],
    };
    assert_eq!(
        f.issuer
            .issue_for_session(&person(), &no_amr, NOW)
            .unwrap_err(),
        TokenError::InvalidPrincipal("amr")
    );
}

#[test]
fn refuses_a_signed_token_whose_amr_is_not_a_list_of_method_names() {
    let f = fixture();
    let mut claims = f.claims();
    claims["amr"] = json!(["pwd", "Not A Method"]);
    let token = f.sign(&f.header(), &claims);
    assert_eq!(
        f.verifier.verify(&token, NOW).unwrap_err(),
        TokenError::InvalidClaim("amr")
    );
    claims["amr"] = json!("pwd");
    let token = f.sign(&f.header(), &claims);
    assert_eq!(
        f.verifier.verify(&token, NOW).unwrap_err(),
        TokenError::InvalidClaim("amr")
    );
}

#[test]
fn refuses_a_signed_token_whose_sid_is_not_an_identifier() {
    let f = fixture();
    let mut claims = f.claims();
    claims["sid"] = json!("a b");
    let token = f.sign(&f.header(), &claims);
    assert_eq!(
        f.verifier.verify(&token, NOW).unwrap_err(),
        TokenError::InvalidClaim("sid")
    );
}
