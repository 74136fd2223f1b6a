//! Strict decimal parsing: no input panics, accepted values round-trip, lenient forms are refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use proptest::prelude::*;
use rampart_core::decimal::{MAX_DECIMAL_LEN, MAX_SCALE, parse_decimal, parse_positive};
use rampart_core::{FieldError, FieldErrorKind, Price, Quantity};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn kind(result: Result<Decimal, FieldError>) -> FieldErrorKind {
    let error = result.unwrap_err();
    assert_eq!(error.field, "amount");
    error.kind
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn no_string_makes_the_parser_panic(text in any::<String>()) {
        let _ = parse_decimal("amount", &text);
        let _ = parse_positive("amount", &text);
        let _ = text.parse::<Quantity>();
    }

    #[test]
    fn only_plain_digit_strings_are_accepted(text in "[-+0-9.eE ,_a-zA-Z]{0,45}") {
        if parse_decimal("amount", &text).is_ok() {
            let (whole, fraction) = text.split_once('.').unwrap_or((&text, "1"));
            prop_assert!(!whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(!fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(text.len() <= MAX_DECIMAL_LEN);
        }
    }

    #[test]
    fn accepted_decimals_round_trip(
        whole in "0|[1-9][0-9]{0,15}",
        fraction in proptest::option::of("[0-9]{1,12}"),
    ) {
        let text = match &fraction {
            Some(fraction) => format!("{whole}.{fraction}"),
            None => whole.clone(),
        };
        let value = parse_decimal("amount", &text).unwrap();
        prop_assert_eq!(parse_decimal("amount", &value.to_string()).unwrap(), value);
        prop_assert_eq!(parse_decimal("amount", &value.normalize().to_string()).unwrap(), value);
        prop_assert_eq!(value.to_string(), text);
    }

    #[test]
    fn a_whole_part_with_a_superfluous_leading_zero_is_never_accepted(
        zeros in "0{1,3}",
        rest in "[0-9]{1,8}",
        fraction in proptest::option::of("[0-9]{1,6}"),
    ) {
        let text = match fraction {
            Some(fraction) => format!("{zeros}{rest}.{fraction}"),
            None => format!("{zeros}{rest}"),
        };
        prop_assert_eq!(kind(parse_decimal("amount", &text)), FieldErrorKind::NotADecimal);
        prop_assert_eq!(kind(parse_positive("amount", &text)), FieldErrorKind::NotADecimal);
    }

    #[test]
    fn a_leading_minus_is_refused_as_not_positive(
        whole in "0|[1-9][0-9]{0,10}",
        fraction in proptest::option::of("[0-9]{1,6}"),
    ) {
        let text = match fraction {
            Some(fraction) => format!("-{whole}.{fraction}"),
            None => format!("-{whole}"),
        };
        prop_assert_eq!(kind(parse_decimal("amount", &text)), FieldErrorKind::NotPositive);
        prop_assert_eq!(kind(parse_positive("amount", &text)), FieldErrorKind::NotPositive);
    }

    #[test]
    fn positive_quantities_serialise_and_parse_back(
        whole in "[1-9][0-9]{0,10}",
        fraction in "[0-9]{0,8}",
    ) {
        let text = if fraction.is_empty() { whole } else { format!("{whole}.{fraction}") };
        let quantity: Quantity = text.parse().unwrap();
        let json = serde_json::to_string(&quantity).unwrap();
        prop_assert_eq!(serde_json::from_str::<Quantity>(&json).unwrap(), quantity);
    }

    #[test]
    fn a_plus_sign_is_never_accepted(digits in "[0-9]{1,10}") {
        let text = format!("+{digits}");
        prop_assert_eq!(kind(parse_decimal("amount", &text)), FieldErrorKind::NotADecimal);
    }

    #[test]
    fn an_exponent_is_never_accepted(
        mantissa in "[0-9]{1,5}(\\.[0-9]{1,3})?",
        e in "[eE][-+]?[0-9]{1,3}",
    ) {
        let text = format!("{mantissa}{e}");
        prop_assert_eq!(kind(parse_decimal("amount", &text)), FieldErrorKind::NotADecimal);
    }

    #[test]
    fn surrounding_whitespace_is_never_accepted(
        digits in "[0-9]{1,8}",
        space in "[ \t\r\n\u{a0}]",
    ) {
        for text in [format!("{space}{digits}"), format!("{digits}{space}")] {
            prop_assert_eq!(kind(parse_decimal("amount", &text)), FieldErrorKind::NotADecimal);
        }
    }
}

#[test]
fn nan_and_infinities_are_refused() {
    for text in ["NaN", "nan", "inf", "-inf", "Infinity", "+Infinity", "∞"] {
        assert_eq!(
            kind(parse_decimal("amount", text)),
            FieldErrorKind::NotADecimal,
            "{text}"
        );
    }
}

#[test]
fn malformed_forms_are_refused_as_not_a_decimal() {
    let long = "1".repeat(MAX_DECIMAL_LEN + 1);
    for text in [
        "",
        ".",
        "1.",
        ".5",
        "1.2.3",
        "1,5",
        "1_000",
        "0x10",
        "١٢",
        " ",
        long.as_str(),
    ] {
        assert_eq!(
            kind(parse_decimal("amount", text)),
            FieldErrorKind::NotADecimal,
            "{text}"
        );
    }
}

#[test]
fn too_many_decimal_places_are_refused_as_too_precise() {
    let text = format!("1.{}", "1".repeat(MAX_SCALE as usize + 1));
    assert_eq!(
        kind(parse_decimal("amount", &text)),
        FieldErrorKind::TooPrecise
    );
    let twelve = format!("1.{}", "1".repeat(MAX_SCALE as usize));
    assert!(parse_decimal("amount", &twelve).is_ok());
}

#[test]
fn more_digits_than_a_decimal_holds_are_refused_as_too_precise() {
    let text = "9".repeat(MAX_DECIMAL_LEN);
    assert_eq!(
        kind(parse_decimal("amount", &text)),
        FieldErrorKind::TooPrecise
    );
}

#[test]
fn zero_is_a_decimal_but_not_a_positive_one() {
    for text in ["0", "0.0", "0.000"] {
        assert_eq!(parse_decimal("amount", text), Ok(Decimal::ZERO));
        assert_eq!(
            kind(parse_positive("amount", text)),
            FieldErrorKind::NotPositive
        );
    }
}

#[test]
fn trailing_zeros_keep_the_value() {
    assert_eq!(parse_decimal("amount", "7.50"), Ok(dec!(7.5)));
    assert_eq!(parse_decimal("amount", "0.50"), Ok(dec!(0.5)));
}

#[test]
fn superfluous_leading_zeros_are_refused_as_not_a_decimal() {
    for text in ["00.01", "007", "007.50", "00", "000.000", "01"] {
        assert_eq!(
            kind(parse_decimal("amount", text)),
            FieldErrorKind::NotADecimal,
            "{text}"
        );
    }
    assert_eq!(parse_decimal("amount", "0.5"), Ok(dec!(0.5)));
}

#[test]
fn minus_one_is_refused_as_not_positive_rather_than_not_a_decimal() {
    for text in ["-1", "-0.5", "-0"] {
        assert_eq!(
            kind(parse_positive("amount", text)),
            FieldErrorKind::NotPositive,
            "{text}"
        );
    }
    for text in ["-", "--1", "-1e2", "-007", "- 1"] {
        assert_eq!(
            kind(parse_positive("amount", text)),
            FieldErrorKind::NotADecimal,
            "{text}"
        );
    }
    let error = "-1".parse::<Quantity>().unwrap_err();
    assert_eq!(error.to_string(), "`quantity` must be greater than zero");
}

#[test]
fn price_and_quantity_name_their_field_when_refused() {
    assert_eq!("0".parse::<Quantity>().unwrap_err().field, "quantity");
    assert_eq!("-1".parse::<Price>().unwrap_err().field, "price");
}

#[test]
fn price_and_quantity_refuse_json_numbers() {
    assert!(serde_json::from_str::<Price>("43000.1").is_err());
    assert!(serde_json::from_str::<Quantity>("1").is_err());
    assert_eq!(
        serde_json::from_str::<Price>("\"43000.10\"")
            .unwrap()
            .value(),
        dec!(43000.10)
    );
}

#[test]
fn price_and_quantity_are_written_without_trailing_zeros() {
    let price: Price = "43000.10".parse().unwrap();
    assert_eq!(serde_json::to_string(&price).unwrap(), "\"43000.1\"");
    assert_eq!(price.to_string(), "43000.1");
}

#[test]
fn new_refuses_zero_and_negative_values() {
    assert_eq!(Quantity::new(Decimal::ZERO), None);
    assert_eq!(Price::new(dec!(-0.01)), None);
    assert_eq!(Price::new(dec!(0.01)).map(Price::value), Some(dec!(0.01)));
}
