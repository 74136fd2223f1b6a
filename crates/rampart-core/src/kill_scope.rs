//! What a kill switch engagement stops: every order, or those of one account,
//! instrument, API client (algorithm) or trader. This one type is used by the
//! pre-trade path, the store and the HTTP layer alike.
//!
//! An engagement is matched against the facts of an order ([`OrderContext`]),
//! never against what an order claims about itself after the fact: the
//! context is built from the order record, whose attribution the gateway took
//! from the verified principal.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::attribution::PlacedByKind;
use crate::ids::{AccountId, InstrumentId};
use crate::order::Order;
use crate::printable::is_hidden_char;

/// The longest client or trader id accepted in a scope, in characters.
pub const MAX_PRINCIPAL_ID_LEN: usize = 128;

/// A scope that is not `global` or `<kind>:<target>` of a known kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KillSwitchScopeError {
    /// The kind is unknown, or the target is missing, extra or malformed.
    #[error("`scope` must be `global`, or an account, instrument, client or trader")]
    Invalid,
}

/// What an engagement stops.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KillSwitchScope {
    /// Every order.
    Global,
    /// Orders on one account.
    Account(AccountId),
    /// Orders in one instrument, on every account.
    Instrument(InstrumentId),
    /// Orders placed by one API client (an algorithm), by client id.
    Client(String),
    /// Orders placed by one person, by opaque subject id.
    Trader(String),
}

/// The facts of an order that a scope is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderContext<'a> {
    /// The account.
    pub account: &'a AccountId,
    /// The instrument.
    pub instrument: &'a InstrumentId,
    /// The opaque id of the person or client that placed it.
    pub placed_by: &'a str,
    /// Whether a person or a client placed it.
    pub kind: PlacedByKind,
}

impl<'a> OrderContext<'a> {
    /// The context of a recorded order.
    pub fn of(order: &'a Order) -> Self {
        Self {
            account: &order.account_id,
            instrument: &order.instrument,
            placed_by: &order.placed_by,
            kind: order.placed_by_kind,
        }
    }
}

impl KillSwitchScope {
    /// Whether this scope stops the order described by `order`.
    pub fn covers(&self, order: &OrderContext<'_>) -> bool {
        match self {
            Self::Global => true,
            Self::Account(id) => id == order.account,
            Self::Instrument(id) => id == order.instrument,
            Self::Client(id) => order.kind == PlacedByKind::Client && id == order.placed_by,
            Self::Trader(id) => order.kind == PlacedByKind::User && id == order.placed_by,
        }
    }

    /// The kind of scope as used on the wire: `global`, `account`, `instrument`,
    /// `client` or `trader`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Account(_) => "account",
            Self::Instrument(_) => "instrument",
            Self::Client(_) => "client",
            Self::Trader(_) => "trader",
        }
    }

    /// What the scope names: the account, instrument, client or trader; none if global.
    pub fn target(&self) -> Option<&str> {
        match self {
            Self::Global => None,
            Self::Account(id) => Some(id.as_str()),
            Self::Instrument(id) => Some(id.as_str()),
            Self::Client(id) | Self::Trader(id) => Some(id),
        }
    }

    /// The account of an account scope.
    pub fn account(&self) -> Option<&AccountId> {
        match self {
            Self::Account(id) => Some(id),
            _ => None,
        }
    }

    /// The scope of `kind` naming `target` (none for `global`), checked.
    pub fn from_parts(kind: &str, target: Option<&str>) -> Result<Self, KillSwitchScopeError> {
        let invalid = |_| KillSwitchScopeError::Invalid;
        match (kind, target) {
            ("global", None) => Ok(Self::Global),
            ("account", Some(id)) => id.parse().map(Self::Account).map_err(invalid),
            ("instrument", Some(id)) => id.parse().map(Self::Instrument).map_err(invalid),
            ("client", Some(id)) => principal_id(id).map(Self::Client),
            ("trader", Some(id)) => principal_id(id).map(Self::Trader),
            _ => Err(KillSwitchScopeError::Invalid),
        }
    }
}

/// A client or trader id: 1 to 128 characters, no spaces, control or format characters.
fn principal_id(text: &str) -> Result<String, KillSwitchScopeError> {
    let plain = |c: char| !c.is_whitespace() && !is_hidden_char(c);
    let length = text.chars().count();
    if (1..=MAX_PRINCIPAL_ID_LEN).contains(&length) && text.chars().all(plain) {
        return Ok(text.to_owned());
    }
    Err(KillSwitchScopeError::Invalid)
}

/// Written as `global` or `<kind>:<target>`, the form stored and audited.
impl fmt::Display for KillSwitchScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.target() {
            None => f.write_str(self.kind()),
            Some(target) => write!(f, "{}:{target}", self.kind()),
        }
    }
}

impl FromStr for KillSwitchScope {
    type Err = KillSwitchScopeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once(':') {
            None => Self::from_parts(text, None),
            Some((kind, target)) => Self::from_parts(kind, Some(target)),
        }
    }
}

impl Serialize for KillSwitchScope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KillSwitchScope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[path = "kill_scope_tests.rs"]
mod tests;
