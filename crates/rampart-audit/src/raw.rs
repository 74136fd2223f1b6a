//! Audit events as their stored text, encoded and hashed without decoding them.
//!
//! A [`RawEvent`] borrows an event's fields as they are stored: strings, the time in its
//! one stored form, and the details already in their RFC 8785 spelling. Its canonical JSON
//! is the fixed envelope written around those strings, so it is the very encoding of
//! [`AuditEvent::canonical_json`](crate::AuditEvent::canonical_json), which is built from it.
//!
//! It upholds that a stored row verifies only if it holds exactly the fields that were
//! hashed: the strings are escaped and the details must be one JSON value, so the envelope
//! reads back into its fields one way only; a row whose fields differ in any byte, even
//! with the same meaning, encodes differently.

use std::io::Write as _;

use serde::de::IgnoredAny;
use sha2::{Digest, Sha256};

use crate::chain::chain_hash;
use crate::event::Outcome;

/// The RFC 9162 prefix of a leaf hash.
const LEAF_PREFIX: u8 = 0x00;

/// An event's fields as stored, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawEvent<'a> {
    /// The position in the log.
    pub seq: u64,
    /// The time in its stored form (RFC 3339 UTC, six fractional digits).
    pub time: &'a str,
    /// Who acted.
    pub actor: &'a str,
    /// What was done.
    pub action: &'a str,
    /// What it was done to.
    pub target: &'a str,
    /// How it ended, by its wire name.
    pub outcome: &'a str,
    /// The request that caused it.
    pub request_id: &'a str,
    /// The policy version, if any.
    pub policy_version: Option<&'a str>,
    /// The details in their RFC 8785 spelling.
    pub details: &'a str,
}

/// The leaf and chain hash of an event, computed from its stored fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawHashes {
    /// `SHA-256(0x00 || canonical JSON)`.
    pub leaf_hash: [u8; 32],
    /// The chain hash linking the leaf to the chain before it.
    pub chain_hash: [u8; 32],
}

impl RawEvent<'_> {
    /// Writes the event's canonical JSON into `out`, after what `out` holds.
    ///
    /// The envelope's keys are fixed, so they are written in their RFC 8785 order; strings
    /// get RFC 8785 escaping, which is serde_json's; the details go in as they are.
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"action\":");
        push_str(out, self.action);
        out.extend_from_slice(b",\"actor\":");
        push_str(out, self.actor);
        out.extend_from_slice(b",\"details\":");
        out.extend_from_slice(self.details.as_bytes());
        out.extend_from_slice(b",\"outcome\":");
        push_str(out, self.outcome);
        out.extend_from_slice(b",\"policy_version\":");
        match self.policy_version {
            Some(version) => push_str(out, version),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"request_id\":");
        push_str(out, self.request_id);
        out.extend_from_slice(b",\"seq\":");
        // Writing into a vector cannot fail.
        let _ = write!(out, "{}", self.seq);
        out.extend_from_slice(b",\"target\":");
        push_str(out, self.target);
        out.extend_from_slice(b",\"time\":");
        push_str(out, self.time);
        out.push(b'}');
    }

    /// The leaf hash over the canonical JSON, using `scratch` as the encoding buffer.
    pub fn leaf_hash(&self, scratch: &mut Vec<u8>) -> [u8; 32] {
        scratch.clear();
        scratch.push(LEAF_PREFIX);
        self.write_canonical(scratch);
        Sha256::digest(scratch.as_slice()).into()
    }

    /// The leaf hash and the chain hash after `prev`.
    pub fn hashes(&self, prev: &[u8; 32], scratch: &mut Vec<u8>) -> RawHashes {
        let leaf_hash = self.leaf_hash(scratch);
        RawHashes {
            leaf_hash,
            chain_hash: chain_hash(prev, &leaf_hash),
        }
    }

    /// Whether the fields read back as an event: a known outcome, a time in its one
    /// stored form, and details that are one JSON value, so that the envelope reads back
    /// into these fields one way only.
    pub fn is_well_formed(&self) -> bool {
        self.outcome.parse::<Outcome>().is_ok()
            && crate::time::is_stored_form(self.time)
            && serde_json::from_str::<IgnoredAny>(self.details).is_ok()
    }
}

/// Appends `text` as a JSON string with RFC 8785 escaping.
fn push_str(out: &mut Vec<u8>, text: &str) {
    crate::canonical::write_str(out, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<'a>(details: &'a str, actor: &'a str) -> RawEvent<'a> {
        RawEvent {
            seq: 42,
            time: "2026-01-02T03:04:05.000006Z",
            actor,
            action: "order.accepted",
            target: "ord-1",
            outcome: "success",
            request_id: "req-1",
            policy_version: None,
            details,
        }
    }

    #[test]
    fn strings_needing_escapes_are_escaped_as_serde_json_does() {
        for actor in [
            "plain",
            "quo\"te",
            "back\\slash",
            "tab\tnew\nline\u{1}",
            "é ü 漢",
        ] {
            let mut out = Vec::new();
            push_str(&mut out, actor);
            assert_eq!(out, serde_json::to_vec(actor).unwrap(), "{actor:?}");
        }
    }

    #[test]
    fn canonical_json_places_the_details_verbatim_between_sorted_keys() {
        let mut out = Vec::new();
        sample(r#"{"a":1}"#, "c-1").write_canonical(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            concat!(
                r#"{"action":"order.accepted","actor":"c-1","details":{"a":1},"#,
                r#""outcome":"success","policy_version":null,"request_id":"req-1","#,
                r#""seq":42,"target":"ord-1","time":"2026-01-02T03:04:05.000006Z"}"#
            )
        );
    }

    #[test]
    fn details_spilling_into_the_envelope_are_not_well_formed() {
        assert!(sample(r#"{"a":[1,{"b":null}]}"#, "c").is_well_formed());
        assert!(!sample(r#"{"a":1},"x":{"#, "c").is_well_formed());
        assert!(!sample("", "c").is_well_formed());
    }

    #[test]
    fn unknown_outcomes_and_other_time_spellings_are_not_well_formed() {
        let good = sample("{}", "c");
        assert!(
            !RawEvent {
                outcome: "won",
                ..good
            }
            .is_well_formed()
        );
        let time = "2026-01-02T03:04:05.000006+00:00";
        assert!(!RawEvent { time, ..good }.is_well_formed());
    }

    #[test]
    fn leaf_hash_covers_every_byte_of_the_fields() {
        let mut scratch = Vec::new();
        let base = sample("{}", "c-1").leaf_hash(&mut scratch);
        assert_ne!(sample("{ }", "c-1").leaf_hash(&mut scratch), base);
        assert_ne!(sample("{}", "c-2").leaf_hash(&mut scratch), base);
        assert_eq!(sample("{}", "c-1").leaf_hash(&mut scratch), base);
    }
}
