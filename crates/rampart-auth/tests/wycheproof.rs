//! Wycheproof vectors run through the verifier's own code paths.
//!
//! - `ed25519_test.json`: every case goes through [`VerifyingKey::verify`],
//!   the one Ed25519 check the token verifier makes (ring's
//!   `UnparsedPublicKey` with `ED25519`); `valid` must pass, `invalid` must
//!   fail. Each group's JWK also pins our `x` encoding and key id.
//! - `json_web_signature_test.json`: no group uses EdDSA, so no case can be
//!   valid for us. What applies is the structure and the header: every
//!   compact JWS in the file must be refused; those with `alg: none`, with an
//!   attacker-provided `jwk`, with symmetric/asymmetric key confusion
//!   (HS256 over a public key) or with any non-EdDSA algorithm must be
//!   refused for that reason, before any signature is computed; those with
//!   missing or extra segments or bad base64url must be refused as malformed.
//!   The JSON serialisation cases are not compact tokens and are refused as
//!   malformed too.
//! - `json_web_key_test.json`: its cases test JWK-set parsing (mixed
//!   symmetric keys, duplicate kids, weak RSA keys, wrong curves). Rampart
//!   never reads a JWK from outside: its trusted keys are 32-byte Ed25519
//!   keys, and a key set with a repeated kid is refused when the verifier is
//!   built. The tokens in that file must all be refused on `alg`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_auth::{TokenError, TokenVerifier, VerifyingKey};
use serde_json::Value;

fn vectors(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/wycheproof")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn ed25519_vectors_pass_exactly_when_valid() {
    let suite = vectors("ed25519_test.json");
    let (mut valid, mut invalid) = (0, 0);
    for group in suite["testGroups"].as_array().unwrap() {
        let public = hex(group["publicKey"]["pk"].as_str().unwrap());
        let key = VerifyingKey::from_public_bytes(&public).unwrap();
        for case in group["tests"].as_array().unwrap() {
            let message = hex(case["msg"].as_str().unwrap());
            let signature = hex(case["sig"].as_str().unwrap());
            let accepted = key.verify(&message, &signature);
            match case["result"].as_str().unwrap() {
                "valid" => {
                    assert!(accepted, "tcId {} should verify", case["tcId"]);
                    valid += 1;
                }
                "invalid" => {
                    assert!(!accepted, "tcId {} should not verify", case["tcId"]);
                    invalid += 1;
                }
                other => panic!("tcId {} has result {other}", case["tcId"]),
            }
        }
    }
    assert_eq!(valid + invalid, suite["numberOfTests"].as_u64().unwrap());
    assert!(valid > 0 && invalid > 0);
}

#[test]
fn ed25519_vector_keys_encode_to_their_published_jwk() {
    let suite = vectors("ed25519_test.json");
    for group in suite["testGroups"].as_array().unwrap() {
        let public = hex(group["publicKey"]["pk"].as_str().unwrap());
        let ours = VerifyingKey::from_public_bytes(&public)
            .unwrap()
            .public_jwk();
        let theirs = &group["publicKeyJwk"];
        assert_eq!(ours["x"], theirs["x"]);
        assert_eq!(ours["kty"], theirs["kty"]);
        assert_eq!(ours["crv"], theirs["crv"]);
        let x = URL_SAFE_NO_PAD
            .decode(theirs["x"].as_str().unwrap())
            .unwrap();
        assert_eq!(x, public);
    }
}

fn verifier() -> TokenVerifier {
    common::fixture().verifier
}

fn header_of(jws: &str) -> Option<Value> {
    let header = jws.split('.').next()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()
}

/// The reason a vector must be refused, from its own header.
fn expected_refusal(jws: &str) -> Option<TokenError> {
    let header = header_of(jws)?;
    if jws.split('.').count() != 3 || jws.split('.').any(str::is_empty) {
        return None;
    }
    if header.get("jwk").is_some() {
        return Some(TokenError::ForbiddenHeader("jwk"));
    }
    (header["alg"] != "EdDSA").then_some(TokenError::AlgorithmNotAllowed)
}

/// Runs every case of a suite; returns (refused on the header, refused as malformed, total).
fn check_jws_suite(name: &str) -> (usize, usize, u64) {
    let suite = vectors(name);
    let verifier = verifier();
    let (mut by_header, mut malformed) = (0, 0);
    for group in suite["testGroups"].as_array().unwrap() {
        for case in group["tests"].as_array().unwrap() {
            let jws = match &case["jws"] {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let outcome = verifier.verify(&jws, common::NOW);
            match expected_refusal(&jws) {
                Some(reason) => {
                    assert_eq!(outcome, Err(reason), "tcId {}", case["tcId"]);
                    by_header += 1;
                }
                None => {
                    assert!(
                        matches!(outcome, Err(TokenError::Malformed(_))),
                        "tcId {}: {outcome:?}",
                        case["tcId"]
                    );
                    malformed += 1;
                }
            }
        }
    }
    (
        by_header,
        malformed,
        suite["numberOfTests"].as_u64().unwrap(),
    )
}

#[test]
fn every_jws_vector_is_refused_for_its_header_or_its_structure() {
    let (by_header, malformed, total) = check_jws_suite("json_web_signature_test.json");
    assert_eq!((by_header + malformed) as u64, total);
    assert!(by_header > 300, "{by_header}");
    assert!(malformed > 10, "{malformed}");
}

#[test]
fn alg_none_and_embedded_jwk_vectors_are_among_those_refused() {
    let suite = vectors("json_web_signature_test.json");
    let verifier = verifier();
    let mut seen = (0, 0);
    for group in suite["testGroups"].as_array().unwrap() {
        for case in group["tests"].as_array().unwrap() {
            let Some(jws) = case["jws"].as_str() else {
                continue;
            };
            let Some(header) = header_of(jws) else {
                continue;
            };
            let outcome = verifier.verify(jws, common::NOW);
            if header["alg"] == "none" {
                assert!(outcome.is_err());
                seen.0 += 1;
            }
            if header.get("jwk").is_some() {
                assert_eq!(outcome, Err(TokenError::ForbiddenHeader("jwk")));
                seen.1 += 1;
            }
        }
    }
    assert!(seen.0 >= 4 && seen.1 >= 1, "{seen:?}");
}

#[test]
fn every_token_in_the_jwk_suite_is_refused_on_its_algorithm() {
    // Two of its tokens (the 1024-bit and exponent-one RSA keys) have an
    // empty payload and are refused as malformed before the header is read.
    let (by_header, malformed, total) = check_jws_suite("json_web_key_test.json");
    assert_eq!((by_header + malformed) as u64, total);
    assert_eq!(malformed, 2);
}
