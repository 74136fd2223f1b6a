//! Signed tokens whose JSON has a shape the issuer never writes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use common::{AUDIENCE, ISSUER, NOW, fixture};
use rampart_auth::TokenError;

#[test]
fn rejects_a_header_that_is_a_json_array_even_when_signed() {
    let f = fixture();
    let header = format!(r#"["EdDSA","at+jwt","{}"]"#, f.kid);
    let token = f.sign_raw(&header, &f.claims().to_string());
    assert!(matches!(
        f.verifier.verify(&token, NOW),
        Err(TokenError::Malformed(_))
    ));
}

#[test]
fn rejects_claims_that_are_a_json_array_even_when_signed() {
    let f = fixture();
    let claims = format!(
        r#"["{ISSUER}","algo-1","{AUDIENCE}",{},{NOW},{NOW},"jti-1","client",{}]"#,
        NOW + 300,
        r#"["trader"],["ACC-1"]"#
    );
    let token = f.sign_raw(&f.header().to_string(), &claims);
    assert!(matches!(
        f.verifier.verify(&token, NOW),
        Err(TokenError::Malformed(_))
    ));
}

#[test]
fn rejects_a_claim_repeated_under_an_escaped_name() {
    let f = fixture();
    let mut claims = f.claims().to_string();
    claims.pop();
    claims.push_str(r#","\u0072oles":["admin"]}"#);
    let token = f.sign_raw(&f.header().to_string(), &claims);
    assert!(f.verifier.verify(&token, NOW).is_err());
}

#[test]
fn rejects_times_beyond_the_range_of_a_64_bit_integer() {
    let f = fixture();
    for exp in ["9223372036854775808", "1e400", "-9223372036854775809"] {
        let mut claims = f.claims();
        claims.as_object_mut().unwrap().remove("exp");
        let mut text = claims.to_string();
        text.pop();
        text.push_str(&format!(r#","exp":{exp}}}"#));
        let token = f.sign_raw(&f.header().to_string(), &text);
        let refused = f.verifier.verify(&token, NOW);
        assert!(
            matches!(
                refused,
                Err(TokenError::InvalidClaim("exp")) | Err(TokenError::Malformed(_))
            ),
            "exp {exp}: {refused:?}"
        );
    }
}

#[test]
fn rejects_extreme_iat_without_overflowing_the_lifetime() {
    let f = fixture();
    for (iat, exp) in [(i64::MIN, NOW + 300), (i64::MIN, i64::MAX), (NOW, i64::MAX)] {
        let mut claims = f.claims();
        claims["iat"] = iat.into();
        claims["exp"] = exp.into();
        let token = f.sign(&f.header(), &claims);
        assert_eq!(
            f.verifier.verify(&token, NOW).unwrap_err(),
            TokenError::InvalidLifetime,
            "iat {iat} exp {exp}"
        );
    }
}

#[test]
fn rejects_a_header_with_a_byte_order_mark_or_trailing_data() {
    let f = fixture();
    let header = f.header().to_string();
    for bad in [format!("\u{feff}{header}"), format!("{header} {{}}")] {
        let token = f.sign_raw(&bad, &f.claims().to_string());
        assert!(
            matches!(
                f.verifier.verify(&token, NOW),
                Err(TokenError::Malformed(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn rejects_an_empty_audience_array_and_an_audience_of_the_wrong_type() {
    let f = fixture();
    for aud in [
        serde_json::json!([]),
        serde_json::json!({"aud": AUDIENCE}),
        7.into(),
    ] {
        let mut claims = f.claims();
        claims["aud"] = aud.clone();
        let token = f.sign(&f.header(), &claims);
        assert!(f.verifier.verify(&token, NOW).is_err(), "aud {aud}");
    }
}

#[test]
fn rejects_segments_with_whitespace_other_alphabets_or_stray_bits() {
    let f = fixture();
    let token = f.issue(NOW);
    let (header, rest) = token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let stray_bits = {
        // The last character of a 64-byte signature carries 4 unused bits.
        let mut chars: Vec<char> = signature.chars().collect();
        let last = chars.pop().unwrap();
        // pragma: allowlist nextline secret
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let index = alphabet.find(last).unwrap();
        chars.push(alphabet.chars().nth(index ^ 1).unwrap());
        chars.into_iter().collect::<String>()
    };
    for bad in [
        format!("{header}\n.{payload}.{signature}"),
        format!("{header}.{payload}.{signature}\t"),
        format!("\u{feff}{header}.{payload}.{signature}"),
        format!(
            "{header}.{payload}.{}",
            signature.replace('-', "+").replace('_', "/")
        ),
        format!("{header}.{payload}.{signature}\u{3000}"),
        format!("{header}.{payload}.{stray_bits}"),
    ] {
        if bad == token {
            continue;
        }
        assert!(f.verifier.verify(&bad, NOW).is_err(), "{bad:?}");
    }
}
