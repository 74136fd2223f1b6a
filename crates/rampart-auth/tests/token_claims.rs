//! Tokens with a valid signature refused for their claims.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use common::{AUDIENCE, NOW, config, fixture};
use rampart_auth::TokenError;
use rampart_auth::token::MAX_TTL_SECONDS;
use rampart_core::{Role, SodConflict};
use serde_json::json;

#[test]
fn rejects_expired_token() {
    let f = fixture();
    let token = f.issue(NOW);
    let ttl = i64::from(config().ttl_seconds);
    let leeway = i64::from(config().leeway_seconds);
    assert!(f.verifier.verify(&token, NOW + ttl + leeway - 1).is_ok());
    assert_eq!(
        f.verifier.verify(&token, NOW + ttl + leeway),
        Err(TokenError::Expired)
    );
}

#[test]
fn rejects_token_not_valid_yet() {
    let f = fixture();
    let mut claims = f.claims();
    claims["nbf"] = json!(NOW + 120);
    let token = f.sign(&f.header(), &claims);
    assert_eq!(f.verifier.verify(&token, NOW), Err(TokenError::NotYetValid));
}

#[test]
fn rejects_token_issued_in_the_future() {
    let f = fixture();
    let mut claims = f.claims();
    claims["iat"] = json!(NOW + 60);
    claims["exp"] = json!(NOW + 300);
    let token = f.sign(&f.header(), &claims);
    assert_eq!(
        f.verifier.verify(&token, NOW),
        Err(TokenError::IssuedInFuture)
    );
}

#[test]
fn accepts_clock_skew_within_the_leeway() {
    let f = fixture();
    let token = f.issue(NOW + 25);
    assert!(f.verifier.verify(&token, NOW).is_ok());
}

#[test]
fn rejects_wrong_audience() {
    let f = fixture();
    let mut claims = f.claims();
    claims["aud"] = json!("someone-else");
    let token = f.sign(&f.header(), &claims);
    assert_eq!(
        f.verifier.verify(&token, NOW),
        Err(TokenError::WrongAudience)
    );
}

#[test]
fn accepts_audience_array_that_contains_ours_and_rejects_one_that_does_not() {
    let f = fixture();
    let mut claims = f.claims();
    claims["aud"] = json!(["other", AUDIENCE]);
    assert!(
        f.verifier
            .verify(&f.sign(&f.header(), &claims), NOW)
            .is_ok()
    );
    claims["aud"] = json!(["other", "RAMPART"]);
    let token = f.sign(&f.header(), &claims);
    assert_eq!(
        f.verifier.verify(&token, NOW),
        Err(TokenError::WrongAudience)
    );
}

#[test]
fn rejects_wrong_issuer() {
    let f = fixture();
    let mut claims = f.claims();
    claims["iss"] = json!("https://gw.example/");
    let token = f.sign(&f.header(), &claims);
    assert_eq!(f.verifier.verify(&token, NOW), Err(TokenError::WrongIssuer));
}

#[test]
fn rejects_float_or_string_times() {
    let f = fixture();
    for (claim, value) in [
        ("exp", json!(1_764_700_300.5)),
        ("exp", json!("1764700300")),
        ("iat", json!(1_764_700_000.0)),
        ("nbf", json!(null)),
    ] {
        let mut claims = f.claims();
        claims[claim] = value;
        let token = f.sign(&f.header(), &claims);
        assert_eq!(
            f.verifier.verify(&token, NOW),
            Err(TokenError::InvalidClaim(claim))
        );
    }
}

#[test]
fn rejects_float_exp_written_with_an_exponent() {
    let f = fixture();
    let claims = f
        .claims()
        .to_string()
        .replace(&format!("{}", NOW + 300), "1.7647003e9");
    let token = f.sign_raw(&f.header().to_string(), &claims);
    assert_eq!(
        f.verifier.verify(&token, NOW),
        Err(TokenError::InvalidClaim("exp"))
    );
}

#[test]
fn rejects_lifetime_over_fifteen_minutes() {
    let f = fixture();
    let mut claims = f.claims();
    claims["exp"] = json!(NOW + i64::from(MAX_TTL_SECONDS) + 1);
    let token = f.sign(&f.header(), &claims);
    assert_eq!(
        f.verifier.verify(&token, NOW),
        Err(TokenError::InvalidLifetime)
    );
    claims["exp"] = json!(NOW + i64::from(MAX_TTL_SECONDS));
    assert!(
        f.verifier
            .verify(&f.sign(&f.header(), &claims), NOW)
            .is_ok()
    );
}

#[test]
fn rejects_roles_that_break_segregation_of_duties() {
    let f = fixture();
    let mut claims = f.claims();
    claims["roles"] = json!(["trader", "admin"]);
    let token = f.sign(&f.header(), &claims);
    assert_eq!(
        f.verifier.verify(&token, NOW),
        Err(TokenError::RolesConflict(SodConflict(
            Role::Admin,
            Role::Trader
        )))
    );
}

#[test]
fn rejects_unknown_role_kind_or_account() {
    let f = fixture();
    for (claim, value) in [
        ("roles", json!(["superuser"])),
        ("kind", json!("robot")),
        ("accounts", json!(["ACC 1"])),
        ("sub", json!("")),
    ] {
        let mut claims = f.claims();
        claims[claim] = value;
        let token = f.sign(&f.header(), &claims);
        assert_eq!(
            f.verifier.verify(&token, NOW),
            Err(TokenError::InvalidClaim(claim))
        );
    }
}

#[test]
fn rejects_missing_claims_by_name() {
    let f = fixture();
    for claim in [
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "kind", "roles", "accounts",
    ] {
        let mut claims = f.claims();
        claims.as_object_mut().unwrap().remove(claim);
        let token = f.sign(&f.header(), &claims);
        assert_eq!(
            f.verifier.verify(&token, NOW),
            Err(TokenError::InvalidClaim(claim))
        );
    }
}

#[test]
fn rejects_claims_with_a_repeated_member() {
    let f = fixture();
    let claims = f
        .claims()
        .to_string()
        .replacen("{", r#"{"iss":"https://evil.example","#, 1);
    let token = f.sign_raw(&f.header().to_string(), &claims);
    assert!(matches!(
        f.verifier.verify(&token, NOW),
        Err(TokenError::Malformed(_))
    ));
}

#[test]
fn error_messages_do_not_echo_token_content() {
    let f = fixture();
    let mut claims = f.claims();
    claims["exp"] = json!("canary-7f3a");
    let token = f.sign(&f.header(), &claims);
    let message = f.verifier.verify(&token, NOW).unwrap_err().to_string();
    assert!(!message.contains("canary-7f3a"));
    assert_eq!(message, "token claim `exp` is missing or malformed");
}
