//! Attribution: who and what is behind an order.
//!
//! MiFID II RTS 6 asks a firm to know which person, algorithm, desk and
//! account stand behind each order. [`Attribution`] carries those facts from
//! the authenticated principal to the order record; algorithm and desk names
//! are parsed once here, so inner code never re-checks their text.

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, FieldErrorKind};
use crate::principal::PrincipalKind;

/// The longest algorithm id or desk name accepted.
pub const MAX_LABEL_LEN: usize = 64;

/// Whether an order was placed by a person or by an API client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlacedByKind {
    /// A person, by opaque subject id.
    User,
    /// An API client (an algorithm), by client id.
    Client,
}

impl PlacedByKind {
    /// The name used on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Client => "client",
        }
    }

    /// Parses a stored or requested name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "user" => Some(Self::User),
            "client" => Some(Self::Client),
            _ => None,
        }
    }
}

impl From<PrincipalKind> for PlacedByKind {
    fn from(kind: PrincipalKind) -> Self {
        match kind {
            PrincipalKind::User => Self::User,
            PrincipalKind::Client => Self::Client,
        }
    }
}

/// Who placed an order, for which algorithm and desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    /// The opaque id of the person or client.
    pub placed_by: String,
    /// Person or client.
    pub placed_by_kind: PlacedByKind,
    /// The algorithm behind the order; none for a person acting by hand.
    pub algo_id: Option<String>,
    /// The desk the account belongs to, if it names one.
    pub desk: Option<String>,
}

impl Attribution {
    /// An order placed by `placed_by`, of `kind`, with no algorithm or desk yet.
    pub fn new(placed_by: &str, kind: PlacedByKind) -> Self {
        Self {
            placed_by: placed_by.to_owned(),
            placed_by_kind: kind,
            algo_id: None,
            desk: None,
        }
    }

    /// The same attribution naming the algorithm `algo_id`.
    pub fn with_algo(mut self, algo_id: Option<String>) -> Self {
        self.algo_id = algo_id;
        self
    }

    /// The same attribution naming the desk `desk`.
    pub fn with_desk(mut self, desk: Option<String>) -> Self {
        self.desk = desk;
        self
    }
}

/// Parses an algorithm id or desk name: 1 to 64 letters, digits, `.`, `_`, `-` or `:`.
pub fn parse_label(field: &'static str, text: &str) -> Result<String, FieldError> {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':');
    if text.is_empty() || text.len() > MAX_LABEL_LEN || !text.chars().all(safe) {
        return Err(FieldError::new(
            field,
            FieldErrorKind::Invalid("1 to 64 letters, digits, `.`, `_`, `-` or `:`"),
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_label_of_safe_characters() {
        assert_eq!(
            parse_label("algo_id", "twap-2.v1:eu").unwrap(),
            "twap-2.v1:eu"
        );
    }

    #[test]
    fn refuses_empty_long_or_unsafe_labels() {
        for bad in ["", "a b", "x/y", "é", "<script>", &"a".repeat(65)] {
            let error = parse_label("desk", bad).unwrap_err();
            assert_eq!(error.field, "desk", "{bad:?}");
        }
        assert!(parse_label("desk", &"a".repeat(64)).is_ok());
    }

    #[test]
    fn placed_by_kind_round_trips_through_its_name() {
        for kind in [PlacedByKind::User, PlacedByKind::Client] {
            assert_eq!(PlacedByKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(PlacedByKind::parse("robot"), None);
    }

    #[test]
    fn attribution_follows_the_principal_kind() {
        assert_eq!(PlacedByKind::from(PrincipalKind::User), PlacedByKind::User);
        let made = Attribution::new("c-1", PrincipalKind::Client.into())
            .with_algo(Some("c-1".into()))
            .with_desk(Some("rates".into()));
        assert_eq!(made.algo_id.as_deref(), Some("c-1"));
        assert_eq!(made.desk.as_deref(), Some("rates"));
    }
}
