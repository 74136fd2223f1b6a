//! Token-signing keys: Ed25519 key pairs, their public JWKs and the JWKS document.
//!
//! The private key is held as a zeroised PKCS#8 document and never printed:
//! `Debug` shows the key id only. The key id is the RFC 7638 thumbprint of the
//! public JWK, so it names the key without revealing anything new.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Length of an Ed25519 public key in bytes.
pub const PUBLIC_KEY_BYTES: usize = 32;

/// What can go wrong with a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The system random generator failed.
    #[error("key could not be generated")]
    Generate,
    /// The bytes are not an Ed25519 private key in PKCS#8 form.
    #[error("private key is not an Ed25519 PKCS#8 document")]
    InvalidPrivateKey,
    /// The bytes are not a 32-byte Ed25519 public key.
    #[error("public key is not 32 bytes of Ed25519")]
    InvalidPublicKey,
}

/// An Ed25519 key that signs access tokens.
pub struct SigningKey {
    pkcs8: Zeroizing<Vec<u8>>,
    encoding: EncodingKey,
    public: VerifyingKey,
}

impl SigningKey {
    /// Generates a new key from the system random generator.
    pub fn generate() -> Result<Self, KeyError> {
        let document =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Generate)?;
        Self::from_pkcs8_der(document.as_ref())
    }

    /// Loads a key from a PKCS#8 DER document (v2, or v1 without the public key).
    pub fn from_pkcs8_der(bytes: &[u8]) -> Result<Self, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes)
            .map_err(|_| KeyError::InvalidPrivateKey)?;
        let public = VerifyingKey::from_public_bytes(pair.public_key().as_ref())?;
        Ok(Self {
            pkcs8: Zeroizing::new(bytes.to_vec()),
            encoding: EncodingKey::from_ed_der(bytes),
            public,
        })
    }

    /// The private key as PKCS#8 DER, for storing it in the secret store.
    pub fn expose_pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key id: the RFC 7638 thumbprint of the public JWK.
    pub fn kid(&self) -> &str {
        self.public.kid()
    }

    /// The public JWK (`kty`, `crv`, `x`, `kid`, `alg`, `use`).
    pub fn public_jwk(&self) -> Value {
        self.public.public_jwk()
    }

    /// The public half, for a token verifier.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.public.clone()
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

/// An Ed25519 public key with its key id; checks token signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    public: [u8; PUBLIC_KEY_BYTES],
    kid: String,
}

impl VerifyingKey {
    /// Builds a key from the 32 raw bytes of an Ed25519 public key.
    pub fn from_public_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let public: [u8; PUBLIC_KEY_BYTES] =
            bytes.try_into().map_err(|_| KeyError::InvalidPublicKey)?;
        let kid = thumbprint(&public);
        Ok(Self { public, kid })
    }

    /// The key id: the RFC 7638 thumbprint of the public JWK.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The raw public key.
    pub fn public_bytes(&self) -> &[u8; PUBLIC_KEY_BYTES] {
        &self.public
    }

    /// The public JWK (`kty`, `crv`, `x`, `kid`, `alg`, `use`).
    pub fn public_jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.public),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }

    /// Whether `signature` is a valid Ed25519 signature of `message` by this key.
    ///
    /// This is the only signature check the token verifier performs.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.public)
            .verify(message, signature)
            .is_ok()
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The JWKS document (`{"keys": [...]}`) publishing the given keys.
pub fn jwks(keys: &[&SigningKey]) -> Value {
    let keys: Vec<Value> = keys.iter().map(|key| key.public_jwk()).collect();
    json!({ "keys": keys })
}

/// RFC 7638: base64url SHA-256 of the required members in lexicographic order.
fn thumbprint(public: &[u8; PUBLIC_KEY_BYTES]) -> String {
    let x = URL_SAFE_NO_PAD.encode(public);
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_matches_the_rfc_8037_thumbprint_example() {
        // RFC 8037, appendix A.2 and A.3.
        let x = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo") // pragma: allowlist secret
            .unwrap();
        let key = VerifyingKey::from_public_bytes(&x).unwrap();
        // pragma: allowlist nextline secret
        assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn debug_shows_the_kid_and_nothing_of_the_private_key() {
        let key = SigningKey::generate().unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains(key.kid()));
        let private_hex = hex_of(key.expose_pkcs8_der());
        assert!(!shown.contains(&private_hex));
        assert!(!shown.contains(&URL_SAFE_NO_PAD.encode(key.expose_pkcs8_der())));
    }

    #[test]
    fn generated_key_survives_a_pkcs8_round_trip() {
        let key = SigningKey::generate().unwrap();
        let again = SigningKey::from_pkcs8_der(key.expose_pkcs8_der()).unwrap();
        assert_eq!(key.kid(), again.kid());
        assert_eq!(key.public_jwk(), again.public_jwk());
    }

    #[test]
    fn rejects_bytes_that_are_not_a_pkcs8_key() {
        assert!(matches!(
            SigningKey::from_pkcs8_der(&[0x30, 0x03, 0x02, 0x01, 0x00]),
            Err(KeyError::InvalidPrivateKey)
        ));
    }

    #[test]
    fn public_jwk_has_exactly_the_published_members() {
        let key = SigningKey::generate().unwrap();
        let jwk = key.public_jwk();
        let mut members: Vec<&String> = jwk.as_object().unwrap().keys().collect();
        members.sort();
        assert_eq!(members, ["alg", "crv", "kid", "kty", "use", "x"]);
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["alg"], "EdDSA");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"], key.kid());
        assert!(jwk.get("d").is_none());
    }

    #[test]
    fn jwks_lists_every_key_in_order() {
        let (a, b) = (
            SigningKey::generate().unwrap(),
            SigningKey::generate().unwrap(),
        );
        let document = jwks(&[&a, &b]);
        let kids: Vec<&str> = document["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids, [a.kid(), b.kid()]);
    }

    fn hex_of(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
