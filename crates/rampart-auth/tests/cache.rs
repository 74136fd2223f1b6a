//! The verified-token cache: bounded, never past `exp`, revocation at once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use common::{Fixture, NOW, config, fixture};
use rampart_auth::cache::{CachedVerifier, IsRevoked, VerifiedTokenCache};
use rampart_auth::{TokenError, TokenVerifier, VerifiedClaims};

/// A revocation list the test can change while the verifier runs.
#[derive(Clone, Default)]
struct Revoked(Arc<Mutex<HashSet<String>>>);

impl Revoked {
    fn revoke(&self, jti: &str) {
        self.0.lock().unwrap().insert(jti.to_owned());
    }
}

impl IsRevoked for Revoked {
    fn is_revoked(&self, jti: &str) -> bool {
        self.0.lock().unwrap().contains(jti)
    }
}

fn verifier_for(f: &Fixture) -> TokenVerifier {
    let key = rampart_auth::VerifyingKey::from_public_bytes(&f.public).unwrap();
    TokenVerifier::new([key], config()).unwrap()
}

fn claims_of(f: &Fixture, token: &str) -> VerifiedClaims {
    f.verifier.verify(token, NOW).unwrap()
}

#[test]
fn a_cached_token_is_served_until_just_before_exp() {
    let f = fixture();
    let token = f.issue(NOW);
    let cache = VerifiedTokenCache::new(16);
    let claims = Arc::new(claims_of(&f, &token));
    cache.insert(&token, Arc::clone(&claims), NOW);
    let exp = claims.expires_at();
    assert_eq!(cache.get(&token, exp - 1).as_deref(), Some(&*claims));
    assert!(cache.get(&token, exp).is_none());
}

#[test]
fn an_entry_is_never_returned_after_exp_even_if_still_held() {
    let f = fixture();
    let token = f.issue(NOW);
    let cache = VerifiedTokenCache::new(16);
    let claims = Arc::new(claims_of(&f, &token));
    cache.insert(&token, Arc::clone(&claims), NOW);
    assert!(cache.get(&token, claims.expires_at() + 10_000).is_none());
    assert!(cache.is_empty());
}

#[test]
fn an_expired_token_is_not_inserted() {
    let f = fixture();
    let token = f.issue(NOW);
    let cache = VerifiedTokenCache::new(16);
    let claims = Arc::new(claims_of(&f, &token));
    cache.insert(&token, Arc::clone(&claims), claims.expires_at());
    assert!(cache.is_empty());
}

#[test]
fn the_cache_never_holds_more_than_its_capacity() {
    let f = fixture();
    let cache = VerifiedTokenCache::new(8);
    for _ in 0..200 {
        let token = f.issue(NOW);
        cache.insert(&token, Arc::new(claims_of(&f, &token)), NOW);
    }
    assert!(cache.len() <= 8, "{} entries", cache.len());
    assert!(!cache.is_empty());
}

#[test]
fn remove_jti_and_clear_drop_entries() {
    let f = fixture();
    let cache = VerifiedTokenCache::new(16);
    let (a, b) = (f.issue(NOW), f.issue(NOW));
    let claims_a = Arc::new(claims_of(&f, &a));
    cache.insert(&a, Arc::clone(&claims_a), NOW);
    cache.insert(&b, Arc::new(claims_of(&f, &b)), NOW);
    cache.remove_jti(claims_a.jti());
    assert!(cache.get(&a, NOW).is_none());
    assert!(cache.get(&b, NOW).is_some());
    cache.clear();
    assert!(cache.get(&b, NOW).is_none());
}

#[test]
fn cached_verifier_returns_the_same_claims_as_a_full_verification() {
    let f = fixture();
    let token = f.issue(NOW);
    let cached = CachedVerifier::new(verifier_for(&f), 16, Revoked::default());
    let first = cached.verify(&token, NOW).unwrap();
    let second = cached.verify(&token, NOW + 1).unwrap();
    assert_eq!(first, claims_of(&f, &token));
    assert_eq!(second, first);
    assert_eq!(cached.cache().len(), 1);
}

#[test]
fn revocation_takes_effect_at_once_for_a_cached_token() {
    let f = fixture();
    let token = f.issue(NOW);
    let revoked = Revoked::default();
    let cached = CachedVerifier::new(verifier_for(&f), 16, revoked.clone());
    let claims = cached.verify(&token, NOW).unwrap();
    revoked.revoke(claims.jti());
    assert_eq!(
        cached.verify(&token, NOW + 1).unwrap_err(),
        TokenError::Revoked
    );
    assert!(cached.cache().is_empty());
}

#[test]
fn a_revoked_token_is_refused_on_first_sight_too() {
    let f = fixture();
    let token = f.issue(NOW);
    let jti = claims_of(&f, &token).jti().to_owned();
    let cached = CachedVerifier::new(verifier_for(&f), 16, move |seen: &str| seen == jti);
    assert_eq!(cached.verify(&token, NOW).unwrap_err(), TokenError::Revoked);
}

#[test]
fn a_bad_token_is_refused_and_not_cached() {
    let f = fixture();
    let mut token = f.issue(NOW);
    token.push('A');
    let cached = CachedVerifier::new(verifier_for(&f), 16, Revoked::default());
    assert!(cached.verify(&token, NOW).is_err());
    assert!(cached.cache().is_empty());
}

#[test]
fn an_expired_cached_token_is_refused_by_the_full_check() {
    let f = fixture();
    let token = f.issue(NOW);
    let cached = CachedVerifier::new(verifier_for(&f), 16, Revoked::default());
    let claims = cached.verify(&token, NOW).unwrap();
    let after = claims.expires_at() + 31;
    assert_eq!(
        cached.verify(&token, after).unwrap_err(),
        TokenError::Expired
    );
}

#[test]
fn an_oversized_token_is_refused_before_hashing() {
    let f = fixture();
    let cached = CachedVerifier::new(verifier_for(&f), 16, Revoked::default());
    let huge = "a".repeat(config().max_token_bytes + 1);
    assert!(matches!(
        cached.verify(&huge, NOW).unwrap_err(),
        TokenError::TooLarge { .. }
    ));
}
