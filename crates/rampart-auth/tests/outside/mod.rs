//! Keys and signers of outside parties (clients, identity providers) for tests.

#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

/// A private key with its public JWK, able to sign JWTs.
pub struct OutsideKey {
    pub alg: Algorithm,
    pub kid: String,
    pub public_jwk: Value,
    encoding: EncodingKey,
}

impl OutsideKey {
    pub fn ed25519(kid: &str) -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
        Self {
            alg: Algorithm::EdDSA,
            kid: kid.to_owned(),
            public_jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid,
                               "alg": "EdDSA", "use": "sig"}),
            encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
        }
    }

    pub fn p256(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let point = pair.public_key().as_ref();
        let (x, y) = (&point[1..33], &point[33..65]);
        Self {
            alg: Algorithm::ES256,
            kid: kid.to_owned(),
            public_jwk: json!({"kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(x),
                               "y": URL_SAFE_NO_PAD.encode(y), "kid": kid, "use": "sig"}),
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        }
    }

    /// Signs `claims` with this key's algorithm and `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        self.sign_with(&header, claims)
    }

    pub fn sign_with(&self, header: &Header, claims: &Value) -> String {
        jsonwebtoken::encode(header, claims, &self.encoding).unwrap()
    }
}

/// A compact JWT built from raw header and claims JSON with any signature bytes.
pub fn unsigned(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}
pub mod idp;
