//! Hostile tokens for attack tests: forged, re-signed, unsigned or tampered.
//!
//! A [`Forge`] starts from a genuine token the gateway issued, so that every
//! claim but the one under attack is right, then changes header members or
//! claims and seals the result in the way the attack needs: with the
//! gateway's own key (to prove that a claim check, not the signature, refuses
//! it), with a foreign Ed25519 key, as HS256 keyed with the public key, with
//! no signature at all, or with the original signature over changed claims.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Map, Value};

/// The header and claims of a token being forged.
#[derive(Debug, Clone)]
pub struct Forge {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    original_signature: String,
}

impl Forge {
    /// Starts from the header and claims of `token`, a genuine compact JWT.
    pub fn from_token(token: &str) -> Forge {
        let mut parts = token.split('.');
        let (Some(header), Some(claims), Some(signature)) =
            (parts.next(), parts.next(), parts.next())
        else {
            panic!("a genuine token has three segments");
        };
        Forge {
            header: decode_object(header),
            claims: decode_object(claims),
            original_signature: signature.to_owned(),
        }
    }

    /// The current value of claim `name`.
    pub fn claim_value(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// Sets header member `name`.
    pub fn header(mut self, name: &str, value: Value) -> Forge {
        self.header.insert(name.to_owned(), value);
        self
    }

    /// Sets claim `name`.
    pub fn claim(mut self, name: &str, value: Value) -> Forge {
        self.claims.insert(name.to_owned(), value);
        self
    }

    /// Removes claim `name`.
    pub fn without_claim(mut self, name: &str) -> Forge {
        self.claims.remove(name);
        self
    }

    /// Signs with the Ed25519 key in `pkcs8` (DER), such as the gateway's own.
    pub fn sign_eddsa(&self, pkcs8: &[u8]) -> String {
        let pair =
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).expect("an Ed25519 PKCS#8 key");
        let input = self.signing_input();
        let signature = pair.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    /// Signs as HS256 with `secret` as the HMAC key (the algorithm-confusion attack).
    pub fn sign_hs256(&self, secret: &[u8]) -> String {
        let forged = self.clone().header("alg", Value::from("HS256"));
        let input = forged.signing_input();
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// `alg: none` with an empty signature segment.
    pub fn unsigned(&self) -> String {
        let forged = self.clone().header("alg", Value::from("none"));
        format!("{}.", forged.signing_input())
    }

    /// The changed header and claims under the genuine token's signature.
    pub fn with_original_signature(&self) -> String {
        format!("{}.{}", self.signing_input(), self.original_signature)
    }

    /// `base64url(header).base64url(claims)`.
    pub fn signing_input(&self) -> String {
        format!(
            "{}.{}",
            encode_object(&self.header),
            encode_object(&self.claims)
        )
    }
}

/// A new Ed25519 key, as PKCS#8 DER, that the gateway has never seen.
pub fn foreign_key() -> Vec<u8> {
    let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("a key generates");
    document.as_ref().to_vec()
}

/// The raw 32-byte public key of the Ed25519 key in `pkcs8`.
pub fn public_key_of(pkcs8: &[u8]) -> Vec<u8> {
    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).expect("an Ed25519 PKCS#8 key");
    pair.public_key().as_ref().to_vec()
}

/// Whether `token`'s EdDSA signature verifies under the raw Ed25519 public key `x`.
pub fn verifies_under(token: &str, x: &[u8]) -> bool {
    let Some((input, signature)) = token.rsplit_once('.') else {
        return false;
    };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let public = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, x);
    public.verify(input.as_bytes(), &signature).is_ok()
}

/// The claims of a compact JWT, decoded without any check (for inspecting an issued token).
pub fn claims_of(token: &str) -> Map<String, Value> {
    decode_object(
        token
            .split('.')
            .nth(1)
            .expect("a token has a claims segment"),
    )
}

/// The header of a compact JWT, decoded without any check.
pub fn header_of(token: &str) -> Map<String, Value> {
    decode_object(
        token
            .split('.')
            .next()
            .expect("a token has a header segment"),
    )
}

fn decode_object(segment: &str) -> Map<String, Value> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .expect("a base64url segment");
    match serde_json::from_slice(&bytes).expect("a JSON segment") {
        Value::Object(map) => map,
        other => panic!("a token segment is a JSON object, not {other}"),
    }
}

fn encode_object(map: &Map<String, Value>) -> String {
    let bytes = serde_json::to_vec(map).expect("JSON serialises");
    URL_SAFE_NO_PAD.encode(bytes)
}
