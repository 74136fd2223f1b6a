//! One-time recovery codes: shape, hashing and matching.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;

use rampart_auth::recovery::{
    DEFAULT_CODES, MAX_CODES, RecoveryError, generate_codes, hash_recovery_code,
    verify_recovery_code, verify_recovery_code_in_slots,
};
use secrecy::{ExposeSecret, SecretString};

#[test]
fn codes_are_ten_base32_characters_grouped_by_five() {
    for code in generate_codes(DEFAULT_CODES).unwrap() {
        let text = code.expose_secret();
        assert_eq!(text.len(), 11, "{text}");
        assert_eq!(&text[5..6], "-");
        assert!(
            text.chars()
                .filter(|c| *c != '-')
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        );
    }
}

#[test]
fn a_batch_of_codes_has_no_repeats() {
    let codes = generate_codes(MAX_CODES).unwrap();
    let distinct: HashSet<&str> = codes.iter().map(|c| c.expose_secret()).collect();
    assert_eq!(distinct.len(), MAX_CODES);
}

#[test]
fn refuses_to_generate_more_than_the_maximum() {
    assert_eq!(
        generate_codes(MAX_CODES + 1).unwrap_err(),
        RecoveryError::TooMany { max: MAX_CODES }
    );
}

#[test]
fn stored_hashes_are_argon2id_and_do_not_contain_the_code() {
    let code = generate_codes(1).unwrap().remove(0);
    let hash = hash_recovery_code(&code).unwrap();
    assert!(hash.starts_with("$argon2id$"));
    assert!(!hash.contains(&code.expose_secret().replace('-', "")));
}

#[test]
fn finds_the_index_of_the_matching_code_typed_loosely() {
    let codes = generate_codes(3).unwrap();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| hash_recovery_code(c).unwrap())
        .collect();
    let typed = codes[2].expose_secret().to_lowercase().replace('-', " ");
    assert_eq!(
        verify_recovery_code(&hashes, &SecretString::from(typed)),
        Some(2)
    );
}

#[test]
fn a_code_that_was_never_issued_matches_nothing() {
    let codes = generate_codes(2).unwrap();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| hash_recovery_code(c).unwrap())
        .collect();
    let other = generate_codes(1).unwrap().remove(0);
    assert_eq!(verify_recovery_code(&hashes, &other), None);
    assert_eq!(
        verify_recovery_code(&hashes, &SecretString::from("not a code")),
        None
    );
}

#[test]
fn a_used_code_whose_hash_was_removed_no_longer_matches() {
    let codes = generate_codes(2).unwrap();
    let mut hashes: Vec<String> = codes
        .iter()
        .map(|c| hash_recovery_code(c).unwrap())
        .collect();
    let used = verify_recovery_code(&hashes, &codes[0]).unwrap();
    hashes.remove(used);
    assert_eq!(verify_recovery_code(&hashes, &codes[0]), None);
    assert_eq!(verify_recovery_code(&hashes, &codes[1]), Some(0));
}

#[test]
fn a_padded_check_finds_the_same_code_as_the_plain_one_and_nothing_in_no_hashes() {
    let codes = generate_codes(3).unwrap();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| hash_recovery_code(c).unwrap())
        .collect();
    let slots = hashes.len() + 2;
    assert_eq!(
        verify_recovery_code_in_slots(&hashes, &codes[2], slots),
        Some(2)
    );
    let none: [&str; 0] = [];
    assert_eq!(verify_recovery_code_in_slots(&none, &codes[0], slots), None);
    let wrong = SecretString::from("AAAAA-AAAAA");
    assert_eq!(verify_recovery_code_in_slots(&hashes, &wrong, slots), None);
}
