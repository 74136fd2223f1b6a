//! The revocation list: by token id, by session, by subject, and its purge.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use common::{NOW, fixture};
use rampart_auth::cache::{CachedVerifier, IsRevoked};
use rampart_auth::revocation::{COVER_SECONDS, RevocationList};
use rampart_auth::{Session, TokenError, TokenVerifier, VerifiedClaims, VerifyingKey};
use rampart_core::{Principal, PrincipalKind, Role, RoleSet};
use secrecy::ExposeSecret;

fn person() -> Principal {
    Principal {
        id: "u-7".to_owned(),
        kind: PrincipalKind::User,
        roles: RoleSet::new([Role::Auditor]).unwrap(),
        accounts: vec![],
    }
}

fn session_claims(sid: &str, now: i64) -> (String, VerifiedClaims) {
    let f = fixture();
    let session = Session::password_and_otp(sid);
    let issued = f
        .issuer
        .issue_for_session(&person(), &session, now)
        .unwrap();
    let token = issued.access_token.expose_secret().to_owned();
    let claims = f.verifier.verify(&token, now).unwrap();
    (token, claims)
}

#[test]
fn a_revoked_jti_is_refused_and_others_are_not() {
    let list = RevocationList::new();
    let (_, claims) = session_claims("fam-1", NOW);
    let (_, other) = session_claims("fam-2", NOW);
    list.revoke_jti(claims.jti(), claims.expires_at());
    assert!(list.is_claims_revoked(&claims));
    assert!(list.is_revoked(claims.jti()));
    assert!(!list.is_claims_revoked(&other));
}

#[test]
fn a_revoked_session_refuses_every_token_of_that_session() {
    let list = RevocationList::new();
    let (_, first) = session_claims("fam-1", NOW);
    let (_, second) = session_claims("fam-1", NOW + 60);
    let (_, elsewhere) = session_claims("fam-2", NOW);
    list.revoke_sid("fam-1", NOW + 61);
    assert!(list.is_claims_revoked(&first));
    assert!(list.is_claims_revoked(&second));
    assert!(!list.is_claims_revoked(&elsewhere));
}

#[test]
fn a_revoked_subject_refuses_tokens_issued_until_then_but_not_later_ones() {
    let list = RevocationList::new();
    let (_, before) = session_claims("fam-1", NOW);
    list.revoke_subject("u-7", NOW + 10);
    let (_, after) = session_claims("fam-3", NOW + 11);
    assert!(list.is_claims_revoked(&before));
    assert!(!list.is_claims_revoked(&after));
}

fn session_claims_ms(sid: &str, now_ms: i64) -> VerifiedClaims {
    let f = fixture();
    let session = Session::password_and_otp(sid);
    let issued = f
        .issuer
        .issue_for_session_ms(&person(), &session, now_ms)
        .unwrap();
    let token = issued.access_token.expose_secret().to_owned();
    f.verifier.verify(&token, now_ms / 1000).unwrap()
}

#[test]
fn a_token_issued_later_in_the_same_second_as_a_subject_revocation_is_not_refused() {
    let list = RevocationList::new();
    let start = NOW * 1000;
    let before = session_claims_ms("fam-1", start + 200);
    list.revoke_subject_ms("u-7", start + 300);
    let after = session_claims_ms("fam-2", start + 301);
    assert_eq!(before.issued_at(), after.issued_at(), "one second for both");
    assert!(list.is_claims_revoked(&before));
    assert!(!list.is_claims_revoked(&after));
}

#[test]
fn a_token_issued_in_the_same_millisecond_as_a_subject_revocation_is_refused() {
    let list = RevocationList::new();
    let at = NOW * 1000 + 500;
    let same = session_claims_ms("fam-1", at);
    list.revoke_subject_ms("u-7", at);
    assert!(list.is_claims_revoked(&same));
}

#[test]
fn a_token_id_records_the_millisecond_it_was_issued() {
    let claims = session_claims_ms("fam-1", NOW * 1000 + 789);
    assert_eq!(claims.issued_at(), NOW);
    assert_eq!(claims.issued_at_ms(), NOW * 1000 + 789);
}

#[test]
fn a_revocation_given_in_whole_seconds_refuses_every_token_of_that_second() {
    let list = RevocationList::new();
    list.revoke_subject("u-7", NOW);
    assert!(list.is_claims_revoked(&session_claims_ms("fam-1", NOW * 1000 + 999)));
    assert!(!list.is_claims_revoked(&session_claims_ms("fam-2", NOW * 1000 + 1000)));
}

#[test]
fn purge_keeps_entries_while_a_covered_token_can_live_and_drops_them_after() {
    let list = RevocationList::new();
    let (_, claims) = session_claims("fam-1", NOW);
    let exp = claims.expires_at();
    list.revoke_jti(claims.jti(), exp);
    list.revoke_sid("fam-1", NOW);
    list.revoke_subject("u-7", NOW);

    // The token id is kept until its own `exp` plus leeway has passed.
    list.purge(exp + 30);
    assert_eq!(list.len(), 3);
    list.purge(exp + 31);
    assert_eq!(list.len(), 2);
    assert!(!list.is_revoked(claims.jti()));

    // Sessions and subjects cover any token issued before: the longest lifetime.
    list.purge(NOW + COVER_SECONDS);
    assert_eq!(list.len(), 2);
    list.purge(NOW + COVER_SECONDS + 1);
    assert!(list.is_empty());
}

#[test]
fn the_cached_verifier_refuses_a_cached_token_once_its_session_is_revoked() {
    let f = fixture();
    let list = Arc::new(RevocationList::new());
    let verifier = TokenVerifier::new(
        [VerifyingKey::from_public_bytes(&f.public).unwrap()],
        common::config(),
    )
    .unwrap();
    let cached = CachedVerifier::new(verifier, 64, Arc::clone(&list));
    let session = Session::password_and_otp("fam-9");
    let issued = f
        .issuer
        .issue_for_session(&person(), &session, NOW)
        .unwrap();
    let token = issued.access_token.expose_secret();
    assert!(cached.verify(token, NOW).is_ok());
    list.revoke_sid("fam-9", NOW + 1);
    assert_eq!(
        cached.verify(token, NOW + 2).unwrap_err(),
        TokenError::Revoked
    );
}
