//! Issuing access tokens, verifying them, and the verifier's configuration.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{AUDIENCE, ISSUER, NOW, config, fixture, trader};
use rampart_auth::token::MAX_TTL_SECONDS;
use rampart_auth::{SigningKey, TokenConfig, TokenError, TokenIssuer, TokenVerifier};
use serde_json::{Value, json};

#[test]
fn issued_token_verifies_and_yields_the_same_principal() {
    let f = fixture();
    let issued = f.issuer.issue(&trader(), NOW).unwrap();
    let token = secrecy::ExposeSecret::expose_secret(&issued.access_token).to_owned();
    let claims = f.verifier.verify(&token, NOW + 10).unwrap();
    assert_eq!(claims.principal(), trader());
    assert_eq!(claims.jti(), issued.jti);
    assert_eq!(claims.expires_at(), NOW + i64::from(config().ttl_seconds));
    assert_eq!(claims.kid(), f.kid);
}

#[test]
fn issued_token_carries_the_documented_header_and_claims() {
    let f = fixture();
    let token = f.issue(NOW);
    let parts: Vec<&str> = token.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(
        header,
        json!({"alg": "EdDSA", "typ": "at+jwt", "kid": f.kid})
    );
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["sub"], "algo-1");
    assert_eq!(claims["kind"], "client");
    assert_eq!(claims["roles"], json!(["trader"]));
    assert_eq!(claims["accounts"], json!(["ACC-1"]));
    assert_eq!(claims["iat"], NOW);
    assert_eq!(claims["nbf"], NOW);
    assert!(claims["exp"].as_i64().unwrap() - NOW <= i64::from(MAX_TTL_SECONDS));
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(claims["jti"].as_str().unwrap())
            .unwrap()
            .len(),
        16
    );
}

#[test]
fn two_tokens_for_one_principal_have_different_ids() {
    let f = fixture();
    let a = f.issuer.issue(&trader(), NOW).unwrap();
    let b = f.issuer.issue(&trader(), NOW).unwrap();
    assert_ne!(a.jti, b.jti);
}

#[test]
fn issued_token_debug_does_not_show_the_token() {
    let f = fixture();
    let issued = f.issuer.issue(&trader(), NOW).unwrap();
    let token = secrecy::ExposeSecret::expose_secret(&issued.access_token).to_owned();
    let signature = token.rsplit('.').next().unwrap().to_owned();
    assert!(!format!("{issued:?}").contains(&signature));
}

#[test]
fn verifier_refuses_duplicate_kids_and_empty_key_sets() {
    let key = SigningKey::generate().unwrap();
    let twice = TokenVerifier::new([key.verifying_key(), key.verifying_key()], config());
    assert!(matches!(twice, Err(TokenError::InvalidKeys(_))));
    let none = TokenVerifier::new([], config());
    assert!(matches!(none, Err(TokenError::InvalidKeys(_))));
}

#[test]
fn verifier_trusts_every_listed_key_during_rotation() {
    let (old, new) = (
        SigningKey::generate().unwrap(),
        SigningKey::generate().unwrap(),
    );
    let verifier =
        TokenVerifier::new([old.verifying_key(), new.verifying_key()], config()).unwrap();
    for key in [old, new] {
        let token = TokenIssuer::new(key, config())
            .unwrap()
            .issue(&trader(), NOW)
            .unwrap();
        let token = secrecy::ExposeSecret::expose_secret(&token.access_token).to_owned();
        assert!(verifier.verify(&token, NOW).is_ok());
    }
}

#[test]
fn config_out_of_bounds_is_refused() {
    let bad = [
        TokenConfig {
            ttl_seconds: MAX_TTL_SECONDS + 1,
            ..config()
        },
        TokenConfig {
            ttl_seconds: 0,
            ..config()
        },
        TokenConfig {
            leeway_seconds: 31,
            ..config()
        },
        TokenConfig {
            issuer: String::new(),
            ..config()
        },
        TokenConfig {
            audience: String::new(),
            ..config()
        },
    ];
    for config in bad {
        let key = SigningKey::generate().unwrap();
        let verifying = key.verifying_key();
        assert!(matches!(
            TokenIssuer::new(key, config.clone()),
            Err(TokenError::InvalidConfig(_))
        ));
        assert!(matches!(
            TokenVerifier::new([verifying], config),
            Err(TokenError::InvalidConfig(_))
        ));
    }
}

proptest::proptest! {
    #[test]
    fn verify_never_panics_and_refuses_arbitrary_input(input in "\\PC{0,300}") {
        let f = common::fixture();
        proptest::prop_assert!(f.verifier.verify(&input, NOW).is_err());
    }

    #[test]
    fn verify_refuses_any_single_byte_change(position in 0usize..200, byte in 0u8..128) {
        let f = common::fixture();
        let token = f.issue(NOW);
        let mut bytes = token.clone().into_bytes();
        let position = position % bytes.len();
        proptest::prop_assume!(bytes[position] != byte);
        bytes[position] = byte;
        if let Ok(changed) = String::from_utf8(bytes) {
            proptest::prop_assert!(f.verifier.verify(&changed, NOW).is_err());
        }
    }
}
