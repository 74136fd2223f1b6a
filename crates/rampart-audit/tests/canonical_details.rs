//! The direct canonical encoding of details against the general canonicaliser.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use rampart_audit::{AuditEvent, NewEvent, Outcome};
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn canonical_details_equal_the_general_canonicaliser_for_any_value(details in json_value()) {
        let time = Utc.timestamp_opt(1_764_000_000, 0).unwrap();
        let new = NewEvent::new("a", "b", "c", Outcome::Success, "r").details(details.clone());
        let event = AuditEvent::from_new(1, time, new);
        let general = serde_json_canonicalizer::to_string(&details).unwrap();
        prop_assert_eq!(event.canonical_details(), general);
    }
}
