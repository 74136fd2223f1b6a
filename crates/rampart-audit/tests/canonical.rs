//! Properties of the canonical encoding over generated events.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::{SubsecRound, TimeZone, Utc};
use proptest::prelude::*;
use rampart_audit::{AuditEvent, NewEvent, Outcome};
use serde_json::{Value, json};

fn details_entries() -> impl Strategy<Value = Vec<(String, i64)>> {
    proptest::collection::btree_map("[a-zA-Z_é😀]{1,8}", -1_000_000i64..1_000_000, 0..8)
        .prop_map(|map| map.into_iter().collect())
}

fn event_with(entries: &[(String, i64)], actor: &str) -> AuditEvent {
    let details: serde_json::Map<String, Value> =
        entries.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let time = Utc.timestamp_opt(1_764_000_000, 1_000).unwrap();
    let new = NewEvent::new(actor, "policy.denied", "ACC-1", Outcome::Denied, "req")
        .details(Value::Object(details));
    AuditEvent::from_new(1, time, new)
}

/// The event as JSON text with its details' keys written in the given order.
fn text_with_key_order(event: &AuditEvent, entries: &[(String, i64)]) -> String {
    let details: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
        .collect();
    let mut value = serde_json::to_value(event).unwrap();
    value["details"] = json!("__details__");
    serde_json::to_string(&value)
        .unwrap()
        .replace("\"__details__\"", &format!("{{{}}}", details.join(",")))
}

proptest! {
    #[test]
    fn canonical_json_ignores_the_order_of_detail_keys(
        entries in details_entries(),
        actor in "[ -~]{1,20}",
    ) {
        let event = event_with(&entries, &actor);
        let mut reversed = entries.clone();
        reversed.reverse();
        let forward: AuditEvent =
            serde_json::from_str(&text_with_key_order(&event, &entries)).unwrap();
        let backward: AuditEvent =
            serde_json::from_str(&text_with_key_order(&event, &reversed)).unwrap();
        prop_assert_eq!(forward.canonical_json(), event.canonical_json());
        prop_assert_eq!(backward.leaf_hash(), event.leaf_hash());
    }

    #[test]
    fn canonical_json_reads_back_as_the_same_event(
        entries in details_entries(),
        actor in "\\PC{1,20}",
    ) {
        let event = event_with(&entries, &actor);
        let parsed: AuditEvent = serde_json::from_slice(&event.canonical_json()).unwrap();
        prop_assert_eq!(parsed, event);
    }

    #[test]
    fn direct_encoding_equals_canonicalising_the_whole_event(
        entries in details_entries(),
        actor in "\\PC{0,20}|[\\x00-\\x1f\"\\\\\u{7f}\u{2028}]{1,8}",
        target in any::<String>(),
        seq in 0u64..(1 << 53),
        nanos in 0u32..1_000_000_000,
        policy in proptest::option::of(any::<String>()),
    ) {
        let mut event = event_with(&entries, &actor);
        event.target = target;
        event.seq = seq;
        event.time = Utc.timestamp_opt(1_764_000_000, nanos).unwrap().trunc_subsecs(6);
        event.policy_version = policy;
        let general = serde_json_canonicalizer::to_vec(&event).unwrap();
        prop_assert_eq!(event.canonical_json(), general);
    }

    #[test]
    fn different_actors_give_different_leaves(a in "\\PC{1,20}", b in "\\PC{1,20}") {
        prop_assume!(a != b);
        prop_assert_ne!(event_with(&[], &a).leaf_hash(), event_with(&[], &b).leaf_hash());
    }
}
