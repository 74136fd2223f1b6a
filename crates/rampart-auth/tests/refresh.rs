//! Refresh tokens: randomness, hashing and the rotation rule.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_auth::refresh::{
    RefreshDecision, RefreshState, RefreshToken, TOKEN_BYTES, hash_refresh_token, is_well_formed,
};
use secrecy::ExposeSecret;

const NOW: i64 = 1_764_700_000;

fn live() -> RefreshState {
    RefreshState {
        rotated: false,
        family_revoked: false,
        idle_expires_at: NOW + 3600,
        absolute_expires_at: NOW + 86_400,
    }
}

#[test]
fn a_token_is_256_random_bits_in_base64url() {
    let (token, _) = RefreshToken::generate().unwrap();
    let bytes = URL_SAFE_NO_PAD.decode(token.expose_secret()).unwrap();
    assert_eq!(bytes.len(), TOKEN_BYTES);
    assert!(is_well_formed(token.expose_secret()));
}

#[test]
fn two_tokens_differ() {
    let (a, _) = RefreshToken::generate().unwrap();
    let (b, _) = RefreshToken::generate().unwrap();
    assert_ne!(a.expose_secret(), b.expose_secret());
}

#[test]
fn the_stored_hash_is_the_sha256_hex_of_the_token() {
    let (token, hash) = RefreshToken::generate().unwrap();
    assert_eq!(hash, hash_refresh_token(token.expose_secret()));
    assert_eq!(hash.as_str().len(), 64);
    assert!(hash.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!hash.as_str().contains(token.expose_secret()));
}

#[test]
fn hash_matches_a_known_sha256_vector() {
    assert_eq!(
        hash_refresh_token("abc").as_str(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // pragma: allowlist secret
    );
}

#[test]
fn hashes_compare_equal_only_for_the_same_token() {
    let a = hash_refresh_token("one");
    assert!(a.ct_eq(&hash_refresh_token("one")));
    assert!(!a.ct_eq(&hash_refresh_token("two")));
}

#[test]
fn malformed_tokens_are_recognised_before_lookup() {
    assert!(!is_well_formed(""));
    assert!(!is_well_formed("short"));
    assert!(!is_well_formed(&"a".repeat(44)));
    assert!(!is_well_formed(&format!("{}=", "a".repeat(42))));
}

#[test]
fn a_live_unused_token_rotates() {
    assert_eq!(
        RefreshDecision::decide(&live(), NOW),
        RefreshDecision::Rotate
    );
    assert!(RefreshDecision::Rotate.is_accepted());
}

#[test]
fn reuse_of_a_rotated_token_revokes_the_family() {
    let state = RefreshState {
        rotated: true,
        ..live()
    };
    assert_eq!(
        RefreshDecision::decide(&state, NOW),
        RefreshDecision::RevokeFamily
    );
    assert!(!RefreshDecision::RevokeFamily.is_accepted());
}

#[test]
fn reuse_is_detected_even_after_expiry() {
    let state = RefreshState {
        rotated: true,
        ..live()
    };
    assert_eq!(
        RefreshDecision::decide(&state, NOW + 100_000),
        RefreshDecision::RevokeFamily
    );
}

#[test]
fn a_revoked_family_refuses_every_token() {
    let state = RefreshState {
        family_revoked: true,
        ..live()
    };
    assert_eq!(
        RefreshDecision::decide(&state, NOW),
        RefreshDecision::Revoked
    );
}

#[test]
fn idle_and_absolute_lifetimes_expire_the_token() {
    assert_eq!(
        RefreshDecision::decide(&live(), NOW + 3600),
        RefreshDecision::Expired
    );
    let state = RefreshState {
        idle_expires_at: NOW + 200_000,
        ..live()
    };
    assert_eq!(
        RefreshDecision::decide(&state, NOW + 86_400),
        RefreshDecision::Expired
    );
}
