//! Identifiers: accounts, instruments, orders and client order ids.
//!
//! Text identifiers are restricted to a short, printable alphabet so that
//! they are safe in URLs, logs, Cedar entity ids and audit targets.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{FieldError, FieldErrorKind};

/// The longest text identifier accepted, in characters.
pub const MAX_ID_LEN: usize = 64;

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')
}

/// Checks that `text` is 1 to 64 characters of `A-Z a-z 0-9 - _ . :`.
pub fn check_identifier(field: &'static str, text: &str) -> Result<(), FieldError> {
    if text.is_empty() || text.len() > MAX_ID_LEN || !text.chars().all(is_id_char) {
        return Err(FieldError::new(
            field,
            FieldErrorKind::Invalid("1 to 64 characters of letters, digits, `-`, `_`, `.`, `:`"),
        ));
    }
    Ok(())
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = FieldError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                check_identifier($field, text)?;
                Ok(Self(text.to_owned()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = FieldError;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                check_identifier($field, &text)?;
                Ok(Self(text))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_id!(
    /// A trading account, such as `ACC-1`.
    AccountId,
    "account_id"
);
text_id!(
    /// An instrument symbol, such as `BTC-USD`.
    InstrumentId,
    "instrument"
);
text_id!(
    /// The client's own id for an order, unique per account; makes placing idempotent.
    ClientOrderId,
    "client_order_id"
);

/// The gateway's id of an order: a time-ordered UUID (version 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(Uuid);

impl OrderId {
    /// A new, unique, time-ordered id.
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps an existing UUID.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The id as a UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl FromStr for OrderId {
    type Err = FieldError;

    /// Accepts only the canonical form that `Display` writes: 36 characters,
    /// lowercase hex, hyphenated. Braced, `urn:uuid:`, simple and uppercase
    /// forms are refused, so one order has exactly one spelling.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || FieldError::new("order_id", FieldErrorKind::Invalid("a lowercase UUID"));
        if !is_canonical_uuid(text) {
            return Err(invalid());
        }
        Uuid::try_parse(text).map(Self).map_err(|_| invalid())
    }
}

/// Whether `text` is `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lowercase hex.
fn is_canonical_uuid(text: &str) -> bool {
    const HYPHENS: [usize; 4] = [8, 13, 18, 23];
    text.len() == 36
        && text.bytes().enumerate().all(|(index, byte)| {
            if HYPHENS.contains(&index) {
                byte == b'-'
            } else {
                matches!(byte, b'0'..=b'9' | b'a'..=b'f')
            }
        })
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}
