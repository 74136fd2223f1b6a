//! RFC 7523 client assertions and the registration of client keys.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod outside;

use jsonwebtoken::{Algorithm, Header};
use outside::{OutsideKey, unsigned};
use rampart_auth::assertion::{AssertionError, ClientAssertion, parse_client_jwk};
use serde_json::{Value, json};

const NOW: i64 = 1_764_700_000;
const CLIENT: &str = "algo-7";
const ENDPOINT: &str = "https://gw.example/oauth/token";

fn audiences() -> Vec<String> {
    vec![ENDPOINT.to_owned(), "https://gw.example".to_owned()]
}

fn claims() -> Value {
    json!({"iss": CLIENT, "sub": CLIENT, "aud": ENDPOINT, "exp": NOW + 60,
           "iat": NOW, "jti": "a-1"})
}

fn verify(
    key: &OutsideKey,
    assertion: &str,
) -> Result<rampart_auth::assertion::AssertionClaims, AssertionError> {
    let jwk = parse_client_jwk(&key.public_jwk).unwrap();
    ClientAssertion::verify(assertion, &jwk, CLIENT, &audiences(), NOW)
}

#[test]
fn accepts_an_eddsa_assertion_and_returns_jti_and_exp() {
    let key = OutsideKey::ed25519("k1");
    let claims = verify(&key, &key.sign(&claims())).unwrap();
    assert_eq!(claims.jti, "a-1");
    assert_eq!(claims.exp, NOW + 60);
}

#[test]
fn accepts_an_es256_assertion_with_the_issuer_as_audience_in_an_array() {
    let key = OutsideKey::p256("k2");
    let mut body = claims();
    body["aud"] = json!(["https://other.example", "https://gw.example"]);
    assert!(verify(&key, &key.sign(&body)).is_ok());
}

#[test]
fn refuses_an_assertion_signed_by_another_key() {
    let registered = OutsideKey::ed25519("k1");
    let other = OutsideKey::ed25519("k1");
    assert_eq!(
        verify(&registered, &other.sign(&claims())).unwrap_err(),
        AssertionError::BadSignature
    );
}

#[test]
fn refuses_an_alg_that_is_not_the_registered_keys() {
    let key = OutsideKey::p256("k2");
    let header = json!({"alg": "HS256", "kid": "k2"});
    let forged = unsigned(&header, &claims(), b"mac");
    assert_eq!(
        verify(&key, &forged).unwrap_err(),
        AssertionError::AlgorithmNotAllowed
    );
    let none = unsigned(&json!({"alg": "none"}), &claims(), b"");
    assert_eq!(
        verify(&key, &none).unwrap_err(),
        AssertionError::AlgorithmNotAllowed
    );
    let eddsa = unsigned(&json!({"alg": "EdDSA", "kid": "k2"}), &claims(), &[0; 64]);
    assert_eq!(
        verify(&key, &eddsa).unwrap_err(),
        AssertionError::AlgorithmNotAllowed
    );
}

#[test]
fn refuses_a_header_that_brings_its_own_key() {
    let key = OutsideKey::ed25519("k1");
    let mut header = Header::new(Algorithm::EdDSA);
    header.jku = Some("https://evil.example/jwks".to_owned());
    assert_eq!(
        verify(&key, &key.sign_with(&header, &claims())).unwrap_err(),
        AssertionError::ForbiddenHeader("jku")
    );
}

#[test]
fn refuses_a_kid_that_is_not_the_registered_keys() {
    let key = OutsideKey::ed25519("k1");
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("k9".to_owned());
    assert_eq!(
        verify(&key, &key.sign_with(&header, &claims())).unwrap_err(),
        AssertionError::WrongKey
    );
}

#[test]
fn refuses_iss_or_sub_other_than_the_client_id() {
    let key = OutsideKey::ed25519("k1");
    for member in ["iss", "sub"] {
        let mut body = claims();
        body[member] = json!("algo-8");
        assert_eq!(
            verify(&key, &key.sign(&body)).unwrap_err(),
            AssertionError::WrongClient,
            "{member}"
        );
    }
}

#[test]
fn refuses_an_audience_that_is_not_this_token_endpoint() {
    let key = OutsideKey::ed25519("k1");
    let mut body = claims();
    body["aud"] = json!("https://elsewhere.example/token");
    assert_eq!(
        verify(&key, &key.sign(&body)).unwrap_err(),
        AssertionError::WrongAudience
    );
}

#[test]
fn refuses_an_expired_assertion_and_one_living_more_than_five_minutes() {
    let key = OutsideKey::ed25519("k1");
    let mut body = claims();
    body["exp"] = json!(NOW - 31);
    assert_eq!(
        verify(&key, &key.sign(&body)).unwrap_err(),
        AssertionError::Expired
    );
    body["exp"] = json!(NOW + 301);
    assert_eq!(
        verify(&key, &key.sign(&body)).unwrap_err(),
        AssertionError::TooLongLived
    );
    body["exp"] = json!(NOW + 300);
    assert!(verify(&key, &key.sign(&body)).is_ok());
}

#[test]
fn refuses_an_assertion_without_exp_or_jti() {
    let key = OutsideKey::ed25519("k1");
    for (member, name) in [("exp", "exp"), ("jti", "jti")] {
        let mut body = claims();
        body.as_object_mut().unwrap().remove(member);
        assert_eq!(
            verify(&key, &key.sign(&body)).unwrap_err(),
            AssertionError::InvalidClaim(name)
        );
    }
}

#[test]
fn refuses_an_assertion_issued_in_the_future() {
    let key = OutsideKey::ed25519("k1");
    let mut body = claims();
    body["iat"] = json!(NOW + 120);
    body["exp"] = json!(NOW + 200);
    assert_eq!(
        verify(&key, &key.sign(&body)).unwrap_err(),
        AssertionError::NotYetValid
    );
}

#[test]
fn registration_refuses_a_jwk_with_private_material() {
    let mut jwk = OutsideKey::ed25519("k1").public_jwk;
    jwk["d"] = json!("c2VjcmV0");
    assert_eq!(
        parse_client_jwk(&jwk).unwrap_err(),
        AssertionError::InvalidKey("it holds private key material")
    );
}

#[test]
fn registration_refuses_symmetric_and_encryption_keys() {
    let oct = json!({"kty": "oct", "k": "c2VjcmV0"});
    assert!(matches!(
        parse_client_jwk(&oct),
        Err(AssertionError::InvalidKey(_))
    ));
    let mut enc = OutsideKey::p256("k2").public_jwk;
    enc["use"] = json!("enc");
    assert_eq!(
        parse_client_jwk(&enc).unwrap_err(),
        AssertionError::InvalidKey("it is not a signature key")
    );
}

#[test]
fn registration_refuses_a_short_rsa_key() {
    // A 1024-bit modulus (128 bytes) with exponent 65537.
    let n = base64_of(&[0xc5; 128]);
    let jwk = json!({"kty": "RSA", "n": n, "e": "AQAB"});
    assert_eq!(
        parse_client_jwk(&jwk).unwrap_err(),
        AssertionError::InvalidKey("RSA keys must have at least 2048 bits")
    );
}

#[test]
fn registration_refuses_a_p384_key() {
    let jwk = json!({"kty": "EC", "crv": "P-384",
        "x": base64_of(&[1; 48]), "y": base64_of(&[2; 48])});
    assert!(matches!(
        parse_client_jwk(&jwk),
        Err(AssertionError::InvalidKey(_))
    ));
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
