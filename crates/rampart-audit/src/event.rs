//! Audit events and their canonical encoding.
//!
//! An event is encoded as RFC 8785 canonical JSON, so that its bytes do not
//! depend on key order or spacing, and hashed as an RFC 9162 leaf:
//! `SHA-256(0x00 || canonical JSON)`. Every field of the event is in the
//! encoding, so changing any one of them changes the leaf hash.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::raw::RawEvent;

/// The RFC 9162 prefix of a leaf hash.
const LEAF_PREFIX: u8 = 0x00;

/// The largest integer that canonical JSON (an IEEE 754 double) holds exactly.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The action was carried out.
    Success,
    /// Authentication or policy refused the action.
    Denied,
    /// A validation or pre-trade control refused the action.
    Rejected,
    /// The action was attempted and failed.
    Failed,
}

/// A stored outcome that is not one of the four names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`outcome` must be one of `success`, `denied`, `rejected`, `failed`")]
pub struct ParseOutcomeError;

impl Outcome {
    /// The outcome as written on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied => "denied",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }
}

impl FromStr for Outcome {
    type Err = ParseOutcomeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Self::Success, Self::Denied, Self::Rejected, Self::Failed]
            .into_iter()
            .find(|o| o.as_str() == text)
            .ok_or(ParseOutcomeError)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a caller records; the store adds `seq` and `time`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The subject id of the person or the client id that acted.
    pub actor: String,
    /// What was done, one of the [`crate::action`] names.
    pub action: String,
    /// What it was done to, such as an order id or an account id.
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The id of the request that caused it.
    pub request_id: String,
    /// The version of the policy set that decided it, for authorisation events.
    pub policy_version: Option<String>,
    /// Further structured facts; an empty object unless given.
    pub details: Value,
}

impl NewEvent {
    /// An event with no policy version and empty details.
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        target: impl Into<String>,
        outcome: Outcome,
        request_id: impl Into<String>,
    ) -> Self {
        Self {
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            outcome,
            request_id: request_id.into(),
            policy_version: None,
            details: Value::Object(serde_json::Map::new()),
        }
    }

    /// Records the version of the policy set that decided the action.
    pub fn policy(mut self, version: impl Into<String>) -> Self {
        self.policy_version = Some(version.into());
        self
    }

    /// Sets the structured details.
    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// Whether every number in the details survives canonical JSON exactly.
    ///
    /// Canonical JSON writes numbers as doubles, so an integer beyond
    /// ±[`MAX_SAFE_INTEGER`] would lose digits and escape the hash; such
    /// values must be recorded as strings.
    pub fn has_exact_numbers(&self) -> bool {
        numbers_are_exact(&self.details)
    }
}

/// One recorded event of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    /// The position in the log, from 1, without gaps.
    pub seq: u64,
    /// When it was recorded (UTC, microseconds).
    #[serde(with = "crate::time::micros")]
    pub time: DateTime<Utc>,
    /// The subject id of the person or the client id that acted.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The id of the request that caused it.
    pub request_id: String,
    /// The version of the policy set that decided it.
    pub policy_version: Option<String>,
    /// Further structured facts.
    pub details: Value,
}

impl AuditEvent {
    /// The event recorded at position `seq` and `time` (cut to microseconds).
    pub fn from_new(seq: u64, time: DateTime<Utc>, event: NewEvent) -> Self {
        Self {
            seq,
            time: crate::time::to_micros(time),
            actor: event.actor,
            action: event.action,
            target: event.target,
            outcome: event.outcome,
            request_id: event.request_id,
            policy_version: event.policy_version,
            details: event.details,
        }
    }

    /// The RFC 8785 canonical JSON of the whole event.
    ///
    /// Numbers are written as IEEE 754 doubles, so details holding `1` and
    /// `1.0` encode (and hash) alike: they are one number. The store keeps
    /// these canonical bytes, so an event read back is the event that was hashed.
    ///
    /// The envelope's keys are fixed, so it is written directly in their RFC 8785
    /// order (strings escaped as RFC 8785 asks, which is serde_json's escaping);
    /// only the details go through the general canonicaliser. A property test
    /// holds this equal to canonicalising the whole event.
    pub fn canonical_json(&self) -> Vec<u8> {
        if self.seq > MAX_SAFE_INTEGER {
            return canonical_value(self);
        }
        let details = self.canonical_details();
        let time = crate::time::format(&self.time);
        let mut out = Vec::with_capacity(details.len().saturating_add(320));
        self.raw(&time, &details).write_canonical(&mut out);
        out
    }

    /// The RFC 8785 spelling of the details: the bytes the leaf covers, as the store keeps them.
    pub fn canonical_details(&self) -> String {
        let mut out = Vec::with_capacity(128);
        crate::canonical::write_value(&mut out, &self.details);
        // The encoder writes strings that were UTF-8 and ASCII around them.
        String::from_utf8(out).unwrap_or_default()
    }

    /// The event's fields borrowed as stored, with `time` and `details` already encoded.
    pub fn raw<'a>(&'a self, time: &'a str, details: &'a str) -> RawEvent<'a> {
        RawEvent {
            seq: self.seq,
            time,
            actor: &self.actor,
            action: &self.action,
            target: &self.target,
            outcome: self.outcome.as_str(),
            request_id: &self.request_id,
            policy_version: self.policy_version.as_deref(),
            details,
        }
    }

    /// The RFC 9162 leaf hash: `SHA-256(0x00 || canonical JSON)`.
    pub fn leaf_hash(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update([LEAF_PREFIX]);
        hasher.update(self.canonical_json());
        hasher.finalize().into()
    }

    /// Whether the event survives canonical JSON exactly (see [`NewEvent::has_exact_numbers`]).
    pub fn is_exactly_encodable(&self) -> bool {
        self.seq <= MAX_SAFE_INTEGER && numbers_are_exact(&self.details)
    }
}

/// The RFC 8785 canonical JSON of `value`.
fn canonical_value<T: Serialize>(value: &T) -> Vec<u8> {
    #[expect(
        clippy::expect_used,
        reason = "events and JSON values hold only strings, integers and JSON values, which \
                  have no unencodable values (JSON values cannot hold NaN or infinities)"
    )]
    serde_json_canonicalizer::to_vec(value).expect("an audit event always encodes")
}

fn numbers_are_exact(value: &Value) -> bool {
    match value {
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => u <= MAX_SAFE_INTEGER,
            (None, Some(i)) => i.unsigned_abs() <= MAX_SAFE_INTEGER,
            (None, None) => true,
        },
        Value::Array(items) => items.iter().all(numbers_are_exact),
        Value::Object(map) => map.values().all(numbers_are_exact),
        Value::Null | Value::Bool(_) | Value::String(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn sample() -> AuditEvent {
        let time = Utc.timestamp_opt(1_764_000_000, 123_456_000).unwrap();
        let new = NewEvent::new(
            "client-1",
            crate::action::ORDER_ACCEPTED,
            "ord-1",
            Outcome::Success,
            "req-1",
        )
        .policy("abc123")
        .details(
            json!({"quantity": "0.5", "price": "43000.1", "nested": {"b": 1, "a": [true, null]}}),
        );
        AuditEvent::from_new(7, time, new)
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let text = String::from_utf8(sample().canonical_json()).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"action":"order.accepted","actor":"client-1","#,
                r#""details":{"nested":{"a":[true,null],"b":1},"price":"43000.1","#,
                r#""quantity":"0.5"},"outcome":"success","policy_version":"abc123","#,
                r#""request_id":"req-1","seq":7,"target":"ord-1","#,
                r#""time":"2025-11-24T16:00:00.123456Z"}"#,
            )
        );
    }

    #[test]
    fn canonical_json_does_not_depend_on_key_order() {
        let event = sample();
        let reordered: Value = serde_json::from_str(
            r#"{"time":"2025-11-24T16:00:00.123456Z","target":"ord-1","seq":7,
                "request_id":"req-1","policy_version":"abc123","outcome":"success",
                "details":{"quantity":"0.5","nested":{"a":[true,null],"b":1},"price":"43000.1"},
                "actor":"client-1","action":"order.accepted"}"#,
        )
        .unwrap();
        let parsed: AuditEvent = serde_json::from_value(reordered).unwrap();
        assert_eq!(parsed.canonical_json(), event.canonical_json());
        assert_eq!(parsed.leaf_hash(), event.leaf_hash());
    }

    type Change = fn(&mut AuditEvent);

    #[test]
    fn changing_any_one_field_changes_the_leaf_hash() {
        let base = sample();
        let changes: [(&str, Change); 9] = [
            ("seq", |e| e.seq += 1),
            ("time", |e| e.time += chrono::Duration::microseconds(1)),
            ("actor", |e| e.actor.push('x')),
            ("action", |e| {
                e.action = crate::action::ORDER_REJECTED.into()
            }),
            ("target", |e| e.target.push('x')),
            ("outcome", |e| e.outcome = Outcome::Failed),
            ("request_id", |e| e.request_id.push('x')),
            ("policy_version", |e| e.policy_version = None),
            ("details", |e| e.details["quantity"] = json!("0.6")),
        ];
        let value = serde_json::to_value(&base).unwrap();
        assert_eq!(
            value.as_object().unwrap().len(),
            changes.len(),
            "a field is not tested"
        );
        for (field, change) in changes {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(
                changed.leaf_hash(),
                base.leaf_hash(),
                "`{field}` is not covered"
            );
        }
    }

    #[test]
    fn leaf_hash_is_sha256_of_zero_byte_and_canonical_json() {
        let event = sample();
        let mut input = vec![0u8];
        input.extend(event.canonical_json());
        let expected: [u8; 32] = Sha256::digest(&input).into();
        assert_eq!(event.leaf_hash(), expected);
    }

    #[test]
    fn time_serialises_with_six_fractional_digits() {
        let value = serde_json::to_value(sample()).unwrap();
        assert_eq!(value["time"], json!("2025-11-24T16:00:00.123456Z"));
    }

    #[test]
    fn outcome_uses_snake_case_names() {
        for outcome in [
            Outcome::Success,
            Outcome::Denied,
            Outcome::Rejected,
            Outcome::Failed,
        ] {
            assert_eq!(
                serde_json::to_value(outcome).unwrap(),
                json!(outcome.as_str())
            );
            assert_eq!(outcome.as_str().parse::<Outcome>(), Ok(outcome));
        }
        assert_eq!("Success".parse::<Outcome>(), Err(ParseOutcomeError));
    }

    #[test]
    fn new_event_defaults_to_empty_details_and_no_policy() {
        let event = NewEvent::new("a", "b", "c", Outcome::Denied, "r");
        assert_eq!(event.details, json!({}));
        assert_eq!(event.policy_version, None);
    }

    #[test]
    fn integers_beyond_double_precision_are_not_exactly_encodable() {
        let exact = NewEvent::new("a", "b", "c", Outcome::Success, "r")
            .details(json!({"n": [MAX_SAFE_INTEGER, -(MAX_SAFE_INTEGER as i64), 0.25]}));
        assert!(exact.has_exact_numbers());
        let lossy = exact
            .clone()
            .details(json!({"deep": {"n": MAX_SAFE_INTEGER + 1}}));
        assert!(!lossy.has_exact_numbers());
        let negative = exact.details(json!([-(MAX_SAFE_INTEGER as i64) - 1]));
        assert!(!negative.has_exact_numbers());
    }
}
