//! Shared fixtures for the token tests: a key, a config, a principal and a
//! hand-rolled signer for tokens the issuer would never produce.

#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_auth::{SigningKey, TokenConfig, TokenIssuer, TokenVerifier};
use rampart_core::{AccountId, Principal, PrincipalKind, Role, RoleSet};
use ring::signature::Ed25519KeyPair;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

pub const NOW: i64 = 1_764_700_000;
pub const ISSUER: &str = "https://gw.example";
pub const AUDIENCE: &str = "rampart";

pub struct Fixture {
    pub pkcs8: Vec<u8>,
    pub issuer: TokenIssuer,
    pub verifier: TokenVerifier,
    pub kid: String,
    pub public: [u8; 32],
}

pub fn config() -> TokenConfig {
    TokenConfig::new(ISSUER, AUDIENCE)
}

pub fn fixture() -> Fixture {
    let key = SigningKey::generate().unwrap();
    let pkcs8 = key.expose_pkcs8_der().to_vec();
    let kid = key.kid().to_owned();
    let public = *key.verifying_key().public_bytes();
    let verifier = TokenVerifier::new([key.verifying_key()], config()).unwrap();
    let issuer = TokenIssuer::new(key, config()).unwrap();
    Fixture {
        pkcs8,
        issuer,
        verifier,
        kid,
        public,
    }
}

pub fn trader() -> Principal {
    Principal {
        id: "algo-1".to_owned(),
        kind: PrincipalKind::Client,
        roles: RoleSet::new([Role::Trader]).unwrap(),
        accounts: vec!["ACC-1".parse::<AccountId>().unwrap()],
    }
}

impl Fixture {
    pub fn issue(&self, now: i64) -> String {
        self.issuer
            .issue(&trader(), now)
            .unwrap()
            .access_token
            .expose_secret()
            .to_owned()
    }

    pub fn header(&self) -> Value {
        json!({"alg": "EdDSA", "typ": "at+jwt", "kid": self.kid})
    }

    pub fn claims(&self) -> Value {
        json!({
            "iss": ISSUER, "sub": "algo-1", "aud": AUDIENCE,
            "exp": NOW + 300, "nbf": NOW, "iat": NOW, "jti": "AAAAAAAAAAAAAAAAAAAAAA",
            "kind": "client", "roles": ["trader"], "accounts": ["ACC-1"],
        })
    }

    /// Signs arbitrary header and claims JSON text with the trusted key.
    pub fn sign_raw(&self, header: &str, claims: &str) -> String {
        let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        let pair = Ed25519KeyPair::from_pkcs8(&self.pkcs8).unwrap();
        format!("{input}.{}", b64(pair.sign(input.as_bytes()).as_ref()))
    }

    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        self.sign_raw(&header.to_string(), &claims.to_string())
    }
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes one base64url JSON segment.
pub fn decode(segment: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}
