//! Validation errors that name the offending field.
//!
//! Every parser in this crate reports which field was wrong and why, in the
//! user's terms, so that the HTTP layer can answer with a precise RFC 9457
//! problem document without echoing the rejected value.

use std::fmt;

/// A rejected input field: which field, and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {kind}")]
pub struct FieldError {
    /// The name of the field as the client sent it, such as `limit_price`.
    pub field: &'static str,
    /// What was wrong with it.
    pub kind: FieldErrorKind,
}

/// What was wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// The field is required and was absent.
    Missing,
    /// The field must be absent for this kind of request.
    NotAllowed(&'static str),
    /// The field is not a plain decimal string such as `"43000.10"`.
    NotADecimal,
    /// The value must be greater than zero.
    NotPositive,
    /// The value has more significant digits or decimal places than allowed.
    TooPrecise,
    /// The value is not a multiple of the instrument's tick or lot size.
    OffIncrement(String),
    /// The value is outside its allowed range.
    OutOfRange(String),
    /// The value is not one of the accepted forms.
    Invalid(&'static str),
    /// The instrument is not configured on this gateway.
    UnknownInstrument,
}

impl FieldError {
    /// Builds an error for `field`.
    pub fn new(field: &'static str, kind: FieldErrorKind) -> Self {
        Self { field, kind }
    }
}

impl fmt::Display for FieldErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("is required"),
            Self::NotAllowed(why) => write!(f, "is not allowed {why}"),
            Self::NotADecimal => f.write_str("must be a decimal string such as \"10.25\""),
            Self::NotPositive => f.write_str("must be greater than zero"),
            Self::TooPrecise => f.write_str("has too many digits"),
            Self::OffIncrement(step) => write!(f, "must be a multiple of {step}"),
            Self::OutOfRange(range) => write!(f, "must be {range}"),
            Self::Invalid(expected) => write!(f, "must be {expected}"),
            Self::UnknownInstrument => f.write_str("is not a configured instrument"),
        }
    }
}
