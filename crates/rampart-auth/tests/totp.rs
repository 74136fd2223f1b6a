//! RFC 6238 one-time codes: vectors, drift, replay and enrolment.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rampart_auth::totp::{STEP_SECONDS, TotpError, TotpSecret};
use secrecy::{ExposeSecret, SecretString};

/// RFC 6238 appendix B, SHA-1: the seed "12345678901234567890" in base32.
const RFC_SEED_BASE32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// The SHA-1 rows of appendix B; six-digit codes are the last six of the eight.
const VECTORS: [(u64, &str); 6] = [
    (59, "94287082"),
    (1_111_111_109, "07081804"),
    (1_111_111_111, "14050471"),
    (1_234_567_890, "89005924"),
    (2_000_000_000, "69279037"),
    (20_000_000_000, "65353130"),
];

fn rfc_secret() -> TotpSecret {
    TotpSecret::from_base32(&SecretString::from(RFC_SEED_BASE32)).unwrap()
}

fn six(code: &str) -> &str {
    &code[2..]
}

#[test]
fn six_digit_codes_are_the_rfc_6238_sha1_vectors_truncated() {
    let secret = rfc_secret();
    for (time, eight) in VECTORS {
        assert_eq!(
            secret.code_at(time).expose_secret(),
            six(eight),
            "T = {time}"
        );
    }
}

#[test]
fn accepts_each_rfc_vector_and_returns_its_step() {
    let secret = rfc_secret();
    for (time, eight) in VECTORS {
        assert_eq!(
            secret.verify(six(eight), time, None),
            Some(time / STEP_SECONDS)
        );
    }
}

#[test]
fn accepts_a_code_one_step_early_or_late_and_refuses_two() {
    let secret = rfc_secret();
    let (time, eight) = VECTORS[3];
    let step = time / STEP_SECONDS;
    assert_eq!(
        secret.verify(six(eight), time + STEP_SECONDS, None),
        Some(step)
    );
    assert_eq!(
        secret.verify(six(eight), time - STEP_SECONDS, None),
        Some(step)
    );
    assert_eq!(
        secret.verify(six(eight), time + 2 * STEP_SECONDS, None),
        None
    );
    assert_eq!(
        secret.verify(six(eight), time - 2 * STEP_SECONDS, None),
        None
    );
}

#[test]
fn refuses_a_replayed_code_for_the_same_step() {
    let secret = rfc_secret();
    let (time, eight) = VECTORS[2];
    let step = secret.verify(six(eight), time, None).unwrap();
    assert_eq!(secret.verify(six(eight), time, Some(step)), None);
}

#[test]
fn refuses_a_code_older_than_the_last_used_step() {
    let secret = rfc_secret();
    let time = 1_234_567_890;
    let earlier = secret.code_at(time - STEP_SECONDS);
    let step_now = time / STEP_SECONDS;
    assert_eq!(
        secret.verify(earlier.expose_secret(), time, Some(step_now)),
        None
    );
}

#[test]
fn accepts_the_next_step_after_one_was_used() {
    let secret = rfc_secret();
    let time = 1_234_567_890;
    let used = time / STEP_SECONDS;
    let next = secret.code_at(time + STEP_SECONDS);
    assert_eq!(
        secret.verify(next.expose_secret(), time + STEP_SECONDS, Some(used)),
        Some(used + 1)
    );
}

#[test]
fn refuses_codes_of_the_wrong_shape() {
    let secret = rfc_secret();
    let code = secret.code_at(59);
    let good = code.expose_secret();
    for bad in [
        "",
        "12345",
        "1234567",
        "abcdef",
        " 28708",
        &format!("{good} "),
    ] {
        assert_eq!(secret.verify(bad, 59, None), None, "{bad:?}");
    }
}

#[test]
fn does_not_underflow_near_the_epoch() {
    let secret = rfc_secret();
    let code = secret.code_at(0);
    assert_eq!(secret.verify(code.expose_secret(), 0, None), Some(0));
}

#[test]
fn generated_secrets_are_160_bits_and_differ() {
    let a = TotpSecret::generate().unwrap();
    let b = TotpSecret::generate().unwrap();
    assert_eq!(a.to_base32().expose_secret().len(), 32);
    assert_ne!(a.to_base32().expose_secret(), b.to_base32().expose_secret());
}

#[test]
fn base32_round_trip_keeps_the_codes() {
    let a = TotpSecret::generate().unwrap();
    let b = TotpSecret::from_base32(&a.to_base32()).unwrap();
    assert_eq!(
        a.code_at(1_700_000_000).expose_secret(),
        b.code_at(1_700_000_000).expose_secret()
    );
}

#[test]
fn base32_input_ignores_case_spaces_and_padding() {
    let spaced = SecretString::from("gezd gnbv gy3t qojq gezd gnbv gy3t qojq====");
    let secret = TotpSecret::from_base32(&spaced).unwrap();
    assert_eq!(secret.code_at(59).expose_secret(), "287082");
}

#[test]
fn refuses_a_secret_shorter_than_128_bits_or_not_base32() {
    for bad in ["GEZDGNBVGY3TQOJQ", "not base32 at all!", ""] {
        assert_eq!(
            TotpSecret::from_base32(&SecretString::from(bad)).unwrap_err(),
            TotpError::InvalidSecret,
            "{bad:?}"
        );
    }
}

#[test]
fn otpauth_uri_names_issuer_account_and_secret() {
    let secret = rfc_secret();
    let uri = secret.otpauth_uri("Rampart", "alice").unwrap();
    let uri = uri.expose_secret();
    assert!(uri.starts_with("otpauth://totp/Rampart:alice?"), "{uri}");
    assert!(uri.contains(&format!("secret={RFC_SEED_BASE32}")), "{uri}");
    assert!(uri.contains("issuer=Rampart"), "{uri}");
}

#[test]
fn otpauth_uri_refuses_a_colon_in_a_label() {
    let secret = rfc_secret();
    assert_eq!(
        secret.otpauth_uri("Ram:part", "alice").unwrap_err(),
        TotpError::InvalidLabel("issuer")
    );
    assert_eq!(
        secret.otpauth_uri("Rampart", "").unwrap_err(),
        TotpError::InvalidLabel("account_name")
    );
}

#[test]
fn qr_code_is_a_png_image() {
    let png = rfc_secret().qr_png("Rampart", "alice").unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 100);
}
