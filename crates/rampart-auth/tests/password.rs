//! New-password rules (NIST SP 800-63B), hashing and verification.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rampart_auth::password::{
    MAX_CHARS, MIN_CHARS, PasswordError, PasswordPolicy, check_new_password, hash_password,
    is_common, verify_dummy_password, verify_password,
};
use secrecy::SecretString;

fn secret(text: &str) -> SecretString {
    SecretString::from(text)
}

#[test]
fn accepts_a_long_uncommon_passphrase_without_composition_rules() {
    assert_eq!(
        check_new_password(&secret("correct horse battery staple"), &["alice"]),
        Ok(())
    );
    assert_eq!(
        check_new_password(&secret("onlylowercaseletters"), &[]),
        Ok(())
    );
}

#[test]
fn refuses_eleven_characters_and_accepts_twelve() {
    assert_eq!(
        check_new_password(&secret("plmoknijbuh"), &[]),
        Err(PasswordError::TooShort { min: MIN_CHARS })
    );
    assert_eq!(check_new_password(&secret("plmoknijbuhy"), &[]), Ok(()));
}

#[test]
fn counts_characters_not_bytes() {
    // Twelve characters, many more bytes.
    assert_eq!(check_new_password(&secret("éàüñçøåßœæî€"), &[]), Ok(()));
    assert_eq!(
        check_new_password(&secret("éàüñçøåßœæ€"), &[]),
        Err(PasswordError::TooShort { min: MIN_CHARS })
    );
}

#[test]
fn counts_characters_after_nfkc_normalisation() {
    // U+FB01 LATIN SMALL LIGATURE FI becomes "fi": eleven code points, twelve after NFKC.
    let ligature = "\u{fb01}vexyzqwplm";
    assert_eq!(ligature.chars().count(), 11);
    assert_eq!(check_new_password(&secret(ligature), &[]), Ok(()));
}

#[test]
fn refuses_more_than_one_hundred_and_twenty_eight_characters() {
    let words = "alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima \
                 mike november oscar papa quebec romeo sierra tango uniform victor whiskey";
    let at_limit: String = words.chars().take(MAX_CHARS).collect();
    assert_eq!(at_limit.chars().count(), MAX_CHARS);
    assert_eq!(check_new_password(&secret(&at_limit), &[]), Ok(()));
    let over = format!("{at_limit}z");
    assert_eq!(
        check_new_password(&secret(&over), &[]),
        Err(PasswordError::TooLong { max: MAX_CHARS })
    );
}

#[test]
fn refuses_a_huge_input_without_normalising_it() {
    let huge = "x".repeat(1_000_000);
    assert_eq!(
        check_new_password(&secret(&huge), &[]),
        Err(PasswordError::TooLong { max: MAX_CHARS })
    );
}

#[test]
fn refuses_passwords_on_the_shipped_breached_list() {
    for common in [
        "qwerty123456",
        "1qaz2wsx3edc",
        "leavemealone",
        "123qweasdzxc",
    ] {
        assert_eq!(
            check_new_password(&secret(common), &[]),
            Err(PasswordError::Common),
            "{common}"
        );
    }
}

#[test]
fn list_check_ignores_case() {
    assert!(is_common(&secret("QWERTY123456")));
    assert_eq!(
        check_new_password(&secret("LeaveMeAlone"), &[]),
        Err(PasswordError::Common)
    );
}

#[test]
fn refuses_a_password_containing_the_username_in_any_case() {
    assert_eq!(
        check_new_password(&secret("xx-JSmith-2026-yy"), &["jsmith"]),
        Err(PasswordError::ContainsContext)
    );
}

#[test]
fn refuses_a_password_equal_to_a_context_value() {
    assert_eq!(
        check_new_password(&secret("Trading Desk Seven"), &["trading desk seven"]),
        Err(PasswordError::ContainsContext)
    );
}

#[test]
fn short_context_values_only_refuse_an_equal_password() {
    assert_eq!(
        check_new_password(&secret("bob-rides-a-bicycle"), &["bob"]),
        Ok(())
    );
}

#[test]
fn errors_never_repeat_the_password() {
    let candidates = ["short", "qwerty123456", "zz-alice-2026-zz"];
    for candidate in candidates {
        let error = check_new_password(&secret(candidate), &["alice"]).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(candidate), "{shown}");
    }
}

#[test]
fn a_policy_with_a_longer_minimum_is_enforced() {
    let policy = PasswordPolicy {
        min_chars: 16,
        max_chars: 64,
    };
    assert_eq!(
        policy.check(&secret("fifteen-chars-x"), &[]),
        Err(PasswordError::TooShort { min: 16 })
    );
}

#[test]
fn hash_is_argon2id_with_at_least_owasp_parameters() {
    let phc = hash_password(&secret("correct horse battery staple")).unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
}

#[test]
fn verifies_the_right_password_and_refuses_a_wrong_one() {
    let phc = hash_password(&secret("correct horse battery staple")).unwrap();
    assert!(verify_password(
        &phc,
        &secret("correct horse battery staple")
    ));
    assert!(!verify_password(
        &phc,
        &secret("correct horse battery stapler")
    ));
}

#[test]
fn verification_normalises_so_composed_and_decomposed_forms_match() {
    let phc = hash_password(&secret("caf\u{e9} au lait s'il vous pla\u{ee}t")).unwrap();
    assert!(verify_password(
        &phc,
        &secret("cafe\u{301} au lait s'il vous plai\u{302}t")
    ));
}

#[test]
fn a_damaged_hash_never_matches() {
    assert!(!verify_password(
        "not-a-phc-string",
        &secret("anything at all")
    ));
}

#[test]
fn dummy_verification_runs_without_a_stored_hash() {
    // The call must complete (it runs one full argon2id verification) and
    // change nothing observable; timing equality is measured by the server.
    verify_dummy_password(&secret("whatever the user typed"));
    let phc = hash_password(&secret("whatever the user typed")).unwrap();
    assert!(verify_password(&phc, &secret("whatever the user typed")));
}
