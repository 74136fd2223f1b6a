//! Tokens refused for their size, structure, header or signature.

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
use common::{NOW, b64, config, fixture, trader};
use rampart_auth::{SigningKey, TokenError, TokenIssuer};
use ring::hmac;
use serde_json::{Value, json};

#[test]
fn rejects_alg_none_without_signature_and_with_one() {
    let f = fixture();
    let header = json!({"alg": "none", "typ": "at+jwt", "kid": f.kid}).to_string();
    let unsigned = format!(
        "{}.{}.",
        b64(header.as_bytes()),
        b64(f.claims().to_string().as_bytes())
    );
    assert!(matches!(
        f.verifier.verify(&unsigned, NOW),
        Err(TokenError::Malformed(_))
    ));
    let signed = f.sign_raw(&header, &f.claims().to_string());
    assert_eq!(
        f.verifier.verify(&signed, NOW),
        Err(TokenError::AlgorithmNotAllowed)
    );
}

#[test]
fn rejects_hs256_token_keyed_with_the_public_key() {
    let f = fixture();
    let jwk = json!({"crv": "Ed25519", "kty": "OKP", "x": b64(&f.public)}).to_string();
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(&f.public);
    let x = b64(&f.public);
    let secrets: [&[u8]; 4] = [&f.public, &spki, jwk.as_bytes(), x.as_bytes()];

    for secret in secrets {
        let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": f.kid}).to_string();
        let input = format!(
            "{}.{}",
            b64(header.as_bytes()),
            b64(f.claims().to_string().as_bytes())
        );
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
        let token = format!("{input}.{}", b64(tag.as_ref()));
        assert_eq!(
            f.verifier.verify(&token, NOW),
            Err(TokenError::AlgorithmNotAllowed)
        );
    }
}

#[test]
fn rejects_other_algorithms_even_when_signed_with_the_right_key() {
    let f = fixture();
    for alg in ["RS256", "ES256", "PS256", "HS512", "eddsa", "Ed25519", ""] {
        let header = json!({"alg": alg, "typ": "at+jwt", "kid": f.kid});
        let token = f.sign(&header, &f.claims());
        assert_eq!(
            f.verifier.verify(&token, NOW),
            Err(TokenError::AlgorithmNotAllowed),
            "{alg}"
        );
    }
    let header = json!({"typ": "at+jwt", "kid": f.kid});
    let token = f.sign(&header, &f.claims());
    assert_eq!(
        f.verifier.verify(&token, NOW),
        Err(TokenError::AlgorithmNotAllowed)
    );
}

#[test]
fn rejects_wrong_or_missing_type() {
    let f = fixture();
    for header in [
        json!({"alg": "EdDSA", "typ": "JWT", "kid": f.kid}),
        json!({"alg": "EdDSA", "kid": f.kid}),
    ] {
        let token = f.sign(&header, &f.claims());
        assert_eq!(f.verifier.verify(&token, NOW), Err(TokenError::WrongType));
    }
}

#[test]
fn rejects_token_signed_with_unknown_key() {
    let f = fixture();
    let stranger = TokenIssuer::new(SigningKey::generate().unwrap(), config()).unwrap();
    let token = stranger.issue(&trader(), NOW).unwrap();
    let token = secrecy::ExposeSecret::expose_secret(&token.access_token).to_owned();
    assert_eq!(f.verifier.verify(&token, NOW), Err(TokenError::UnknownKey));
}

#[test]
fn rejects_token_whose_kid_names_our_key_but_was_signed_by_another() {
    let f = fixture();
    let other = fixture();
    let token = other.sign(&f.header(), &f.claims());
    assert_eq!(
        f.verifier.verify(&token, NOW),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn rejects_tampered_payload() {
    let f = fixture();
    let token = f.issue(NOW);
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["roles"] = json!(["risk_manager"]);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(
        f.verifier.verify(&forged, NOW),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn rejects_tampered_signature() {
    let f = fixture();
    let token = f.issue(NOW);
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[10] ^= 0x01;
    let forged = format!("{input}.{}", b64(&bytes));
    assert_eq!(
        f.verifier.verify(&forged, NOW),
        Err(TokenError::BadSignature)
    );
    let truncated = format!("{input}.{}", b64(&bytes[..63]));
    assert_eq!(
        f.verifier.verify(&truncated, NOW),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn rejects_oversized_token_before_parsing_it() {
    let f = fixture();
    let oversized = "x".repeat(config().max_token_bytes + 1);
    let limit = config().max_token_bytes;
    assert_eq!(
        f.verifier.verify(&oversized, NOW),
        Err(TokenError::TooLarge { limit })
    );
    let mut claims = f.claims();
    claims["pad"] = json!("a".repeat(limit));
    let token = f.sign(&f.header(), &claims);
    assert_eq!(
        f.verifier.verify(&token, NOW),
        Err(TokenError::TooLarge { limit })
    );
}

#[test]
fn rejects_embedded_keys_key_urls_certificates_and_critical_extensions() {
    let f = fixture();
    let embedded = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&f.public)});
    let cases = [
        ("jwk", embedded),
        ("jku", json!("https://attacker.example/jwks.json")),
        ("x5u", json!("https://attacker.example/cert.pem")),
        ("x5c", json!(["MIIB"])),
        ("crit", json!(["exp"])),
        ("jku", Value::Null),
    ];
    for (member, value) in cases {
        let mut header = f.header();
        header[member] = value;
        let token = f.sign(&header, &f.claims());
        assert_eq!(
            f.verifier.verify(&token, NOW),
            Err(TokenError::ForbiddenHeader(member))
        );
    }
}

#[test]
fn rejects_header_with_a_repeated_alg() {
    let f = fixture();
    let header = format!(
        r#"{{"alg":"none","alg":"EdDSA","typ":"at+jwt","kid":"{}"}}"#,
        f.kid
    );
    let token = f.sign_raw(&header, &f.claims().to_string());
    assert!(matches!(
        f.verifier.verify(&token, NOW),
        Err(TokenError::Malformed(_))
    ));
}

#[test]
fn rejects_wrong_number_of_segments_and_non_canonical_base64() {
    let f = fixture();
    let token = f.issue(NOW);
    let (header, rest) = token.split_once('.').unwrap();
    for bad in [
        String::new(),
        rest.to_owned(),
        format!("{token}."),
        format!("{token}.e30"),
        format!("{header}=.{rest}"),
        token.replace('.', ". "),
        format!("{token}="),
    ] {
        assert!(
            matches!(f.verifier.verify(&bad, NOW), Err(TokenError::Malformed(_))),
            "{bad}"
        );
    }
}
