//! Strict decimal parsing for prices and quantities.
//!
//! Only plain decimal strings are accepted: digits with an optional fraction,
//! no superfluous leading zero, no sign, no exponent, no whitespace, no `NaN`
//! or infinities. The rule is applied before `rust_decimal` sees the text, so
//! that no lenient parse can let a surprising value through.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{FieldError, FieldErrorKind};

/// The longest decimal string accepted, in characters.
pub const MAX_DECIMAL_LEN: usize = 40;

/// The most decimal places accepted.
pub const MAX_SCALE: u32 = 12;

/// Parses a plain, non-negative decimal string such as `"43000.10"`.
///
/// `field` names the input in the error. A whole part of more than one digit
/// may not start with `0` (`"0.5"` is accepted, `"00.5"` and `"007"` are not),
/// so that every accepted value has one spelling of its whole part. A leading
/// `-` before an otherwise valid decimal is reported as not positive.
pub fn parse_decimal(field: &'static str, text: &str) -> Result<Decimal, FieldError> {
    let err = |kind| FieldError::new(field, kind);
    if text.is_empty() || text.len() > MAX_DECIMAL_LEN {
        return Err(err(FieldErrorKind::NotADecimal));
    }
    if let Some(magnitude) = text.strip_prefix('-') {
        return Err(match check_plain(magnitude) {
            Ok(()) => err(FieldErrorKind::NotPositive),
            Err(kind) => err(kind),
        });
    }

    check_plain(text).map_err(err)?;
    Decimal::from_str_exact(text).map_err(|_| err(FieldErrorKind::TooPrecise))
}

/// Checks that `text` is digits with an optional fraction and no superfluous leading zero.
fn check_plain(text: &str) -> Result<(), FieldErrorKind> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return Err(FieldErrorKind::NotADecimal);
    }
    if whole.len() > 1 && whole.starts_with('0') {
        return Err(FieldErrorKind::NotADecimal);
    }
    if fraction.is_some_and(|f| f.len() > MAX_SCALE as usize) {
        return Err(FieldErrorKind::TooPrecise);
    }
    Ok(())
}

/// Parses a decimal string that must be greater than zero.
pub fn parse_positive(field: &'static str, text: &str) -> Result<Decimal, FieldError> {
    let value = parse_decimal(field, text)?;
    if value.is_zero() {
        return Err(FieldError::new(field, FieldErrorKind::NotPositive));
    }
    Ok(value)
}

macro_rules! positive_decimal {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Decimal);

        impl $name {
            /// Wraps a value already known to be greater than zero.
            pub fn new(value: Decimal) -> Option<Self> {
                (value > Decimal::ZERO).then_some(Self(value))
            }

            /// The value as a decimal.
            pub fn value(self) -> Decimal {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = FieldError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                parse_positive($field, text).map(Self)
            }
        }

        impl TryFrom<String> for $name {
            type Error = FieldError;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                text.parse()
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0.normalize().to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.normalize(), f)
            }
        }
    };
}

positive_decimal!(
    /// A price, greater than zero.
    Price,
    "price"
);
positive_decimal!(
    /// A quantity, greater than zero.
    Quantity,
    "quantity"
);

/// Serde support for a `Decimal` field that must arrive as a strict decimal string.
///
/// Use as `#[serde(with = "rampart_core::decimal::strict")]`.
pub mod strict {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the decimal as a string.
    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&value.normalize())
    }

    /// Reads a strict decimal string; numbers, exponents and signs are refused.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_decimal("value", &text)
            .map_err(|_| serde::de::Error::custom("must be a decimal string such as \"10.25\""))
    }
}
