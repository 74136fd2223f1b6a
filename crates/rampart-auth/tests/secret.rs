//! Client secrets: generation, hashing and verification.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use argon2::password_hash::PasswordHash;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_auth::secret::{ITERATIONS, MEMORY_KIB, PARALLELISM};
use rampart_auth::{generate_client_secret, hash_secret, verify_secret};
use secrecy::{ExposeSecret, SecretString};

#[test]
fn generated_secret_is_256_bits_of_base64url() {
    let secret = generate_client_secret();
    let bytes = URL_SAFE_NO_PAD.decode(secret.expose_secret()).unwrap();
    assert_eq!(bytes.len(), 32);
    assert_ne!(
        generate_client_secret().expose_secret(),
        secret.expose_secret()
    );
}

#[test]
fn hash_is_an_argon2id_phc_string_with_at_least_owasp_parameters() {
    let phc = hash_secret(&generate_client_secret()).unwrap();
    let parsed = PasswordHash::new(&phc).unwrap();
    assert_eq!(parsed.algorithm.as_str(), "argon2id");
    assert!(parsed.params.get_decimal("m").unwrap() >= 19_456);
    assert!(parsed.params.get_decimal("t").unwrap() >= 2);
    assert!(parsed.params.get_decimal("p").unwrap() >= 1);
    assert_eq!((MEMORY_KIB, ITERATIONS, PARALLELISM), (19_456, 2, 1));
}

#[test]
fn right_secret_verifies_and_wrong_one_does_not() {
    let secret = generate_client_secret();
    let phc = hash_secret(&secret).unwrap();
    assert!(verify_secret(&phc, &secret));
    assert!(!verify_secret(&phc, &generate_client_secret()));
}

#[test]
fn two_hashes_of_one_secret_differ_by_salt() {
    let secret = generate_client_secret();
    assert_ne!(hash_secret(&secret).unwrap(), hash_secret(&secret).unwrap());
}

#[test]
fn damaged_or_non_argon2id_hash_never_verifies() {
    let secret = SecretString::from("password");
    let phc = hash_secret(&secret).unwrap();
    let argon2i = phc.replacen("$argon2id$", "$argon2i$", 1);
    for stored in ["", "not a hash", &phc[..phc.len() - 4], &argon2i] {
        assert!(!verify_secret(stored, &secret), "{stored}");
    }
}

#[test]
fn hash_does_not_contain_the_secret() {
    let secret = generate_client_secret();
    let phc = hash_secret(&secret).unwrap();
    assert!(!phc.contains(secret.expose_secret()));
    assert!(!format!("{secret:?}").contains(secret.expose_secret()));
}
