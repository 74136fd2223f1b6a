//! The JSON shapes of a token's header and claims, as written and as read.
//!
//! Reading is deliberately narrow: integers must be JSON integers, strings
//! must be strings, a repeated member is an error, and header members that
//! would tell a verifier where to find a key are noticed even when `null`.

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};

/// Claims written into an issued token.
#[derive(Debug, Serialize)]
pub(crate) struct ClaimsOut<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: &'a str,
    pub kind: &'static str,
    pub roles: Vec<&'static str>,
    pub accounts: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<&'a str>>,
}

/// A token header as read; unknown members are ignored unless listed here.
#[derive(Debug, Deserialize)]
pub(crate) struct HeaderIn {
    pub alg: Option<String>,
    pub typ: Option<String>,
    pub kid: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub jwk: bool,
    #[serde(default, deserialize_with = "present")]
    pub jku: bool,
    #[serde(default, deserialize_with = "present")]
    pub x5u: bool,
    #[serde(default, deserialize_with = "present")]
    pub x5c: bool,
    #[serde(default, deserialize_with = "present")]
    pub crit: bool,
}

impl HeaderIn {
    /// The first header member that is refused outright, if any.
    pub fn forbidden_member(&self) -> Option<&'static str> {
        [
            (self.jwk, "jwk"),
            (self.jku, "jku"),
            (self.x5u, "x5u"),
            (self.x5c, "x5c"),
            (self.crit, "crit"),
        ]
        .into_iter()
        .find_map(|(present, name)| present.then_some(name))
    }
}

/// The `aud` claim: one string, or an array of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// Whether `ours` is the audience, or one of them.
    pub fn names(&self, ours: &str) -> bool {
        match self {
            Audience::One(aud) => aud == ours,
            Audience::Many(auds) => auds.iter().any(|aud| aud == ours),
        }
    }
}

/// Claims as read; each is optional here so that a missing one is named.
#[derive(Debug, Deserialize)]
pub(crate) struct ClaimsIn {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Option<Audience>,
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
    pub iat: Option<i64>,
    pub jti: Option<String>,
    pub kind: Option<String>,
    pub roles: Option<Vec<String>>,
    pub accounts: Option<Vec<String>>,
    pub sid: Option<String>,
    pub amr: Option<Vec<String>>,
}

/// Deserialises any value and records only that the member was there.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}
