#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use common::{NOW, config, trader};
use rampart_auth::{KeyStage, Keyring, KeyringError, SigningKey, TokenError};
use secrecy::ExposeSecret;

/// Token lifetime (300) plus leeway (30) of the common configuration.
const RETENTION: i64 = 330;

fn key() -> SigningKey {
    SigningKey::generate().unwrap()
}

fn token(ring: &Keyring, now: i64) -> (String, String) {
    let issued = ring.issue(&trader(), now).unwrap();
    let kid = ring.current_kid(now).unwrap();
    (issued.access_token.expose_secret().to_owned(), kid)
}

fn published(ring: &Keyring, now: i64) -> Vec<String> {
    ring.jwks(now)["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jwk| jwk["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// A ring with an old key and a new one that signs from `NOW + 60`.
fn rotating() -> (Keyring, String, String) {
    let old = key();
    let old_kid = old.kid().to_owned();
    let ring = Keyring::new(old, config()).unwrap();
    let new = key();
    let new_kid = new.kid().to_owned();
    ring.add(new, NOW + 60).unwrap();
    (ring, old_kid, new_kid)
}

#[test]
fn new_key_is_published_before_it_signs_anything() {
    let (ring, old_kid, new_kid) = rotating();
    assert_eq!(published(&ring, NOW), [old_kid.clone(), new_kid.clone()]);
    assert_eq!(token(&ring, NOW).1, old_kid);
    assert_eq!(token(&ring, NOW + 59).1, old_kid);
    assert_eq!(token(&ring, NOW + 60).1, new_kid);
}

#[test]
fn stages_follow_the_timeline() {
    let (ring, _, _) = rotating();
    let stages = |now| -> Vec<KeyStage> { ring.statuses(now).iter().map(|s| s.stage).collect() };
    assert_eq!(stages(NOW), [KeyStage::Current, KeyStage::Pending]);
    assert_eq!(stages(NOW + 60), [KeyStage::Previous, KeyStage::Current]);
    assert_eq!(
        stages(NOW + 60 + RETENTION),
        [KeyStage::Retired, KeyStage::Current]
    );
    assert_eq!(ring.statuses(NOW)[0].retires_at, Some(NOW + 60 + RETENTION));
}

#[test]
fn token_of_the_previous_key_verifies_until_it_expires() {
    let (ring, old_kid, _) = rotating();
    let (last_old, kid) = token(&ring, NOW + 59);
    assert_eq!(kid, old_kid);
    let claims = ring.verify(&last_old, NOW + 60 + RETENTION - 2).unwrap();
    assert_eq!(claims.kid(), old_kid);
}

#[test]
fn previous_key_leaves_the_jwks_once_its_tokens_have_expired() {
    let (ring, old_kid, new_kid) = rotating();
    let (old_token, _) = token(&ring, NOW);
    let later = NOW + 60 + RETENTION;
    assert_eq!(published(&ring, later - 1), [old_kid, new_kid.clone()]);
    assert_eq!(published(&ring, later), [new_kid]);
    assert!(ring.verify(&old_token, later).is_err());
}

#[test]
fn pruned_key_is_no_longer_trusted() {
    let (ring, _, _) = rotating();
    let (old_token, _) = token(&ring, NOW + 59);
    let pruned = ring.prune(NOW + 60 + RETENTION);
    assert_eq!(pruned.len(), 1);
    assert_eq!(ring.statuses(NOW).len(), 1);
    assert_eq!(
        ring.verify(&old_token, NOW + 61).unwrap_err(),
        TokenError::UnknownKey
    );
}

#[test]
fn prune_keeps_every_key_that_is_still_published() {
    let (ring, _, _) = rotating();
    assert!(ring.prune(NOW + 60).is_empty());
    assert_eq!(ring.statuses(NOW + 60).len(), 2);
}

#[test]
fn new_key_must_follow_the_last_one() {
    let (ring, _, _) = rotating();
    assert_eq!(ring.add(key(), NOW + 60), Err(KeyringError::OutOfOrder));
    assert_eq!(ring.add(key(), NOW), Err(KeyringError::OutOfOrder));
}

#[test]
fn the_same_key_cannot_join_twice() {
    let first = key();
    let again = SigningKey::from_pkcs8_der(first.expose_pkcs8_der()).unwrap();
    let ring = Keyring::new(first, config()).unwrap();
    assert!(matches!(
        ring.add(again, NOW),
        Err(KeyringError::DuplicateKey(_))
    ));
}

#[test]
fn pending_key_alone_cannot_sign() {
    let ring = Keyring::restore([(key(), NOW + 10)], config()).unwrap();
    assert!(ring.issue(&trader(), NOW).is_err());
    assert!(ring.issue(&trader(), NOW + 10).is_ok());
}

#[test]
fn token_signed_outside_the_ring_is_refused() {
    let (ring, _, _) = rotating();
    let stranger = Keyring::new(key(), config()).unwrap();
    let (foreign, _) = token(&stranger, NOW);
    assert_eq!(
        ring.verify(&foreign, NOW).unwrap_err(),
        TokenError::UnknownKey
    );
}

#[test]
fn debug_names_key_ids_only() {
    let secret = key();
    let der = secret.expose_pkcs8_der().to_vec();
    let kid = secret.kid().to_owned();
    let ring = Keyring::new(secret, config()).unwrap();
    let shown = format!("{ring:?}");
    assert!(shown.contains(&kid));
    let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!shown.contains(&hex));
}
