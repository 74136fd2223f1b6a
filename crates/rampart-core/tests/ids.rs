//! Order ids: only the canonical lowercase hyphenated UUID is accepted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use proptest::prelude::*;
use rampart_core::{FieldErrorKind, OrderId};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn no_string_makes_the_order_id_parser_panic(text in any::<String>()) {
        let _ = text.parse::<OrderId>();
    }

    #[test]
    fn a_generated_order_id_round_trips_through_its_text(_seed in any::<u8>()) {
        let id = OrderId::generate();
        prop_assert_eq!(id.to_string().parse::<OrderId>().unwrap(), id);
    }

    #[test]
    fn an_accepted_order_id_is_written_back_exactly_as_it_was_read(
        text in "[0-9a-fA-F{}:urn-]{30,46}",
    ) {
        if let Ok(id) = text.parse::<OrderId>() {
            prop_assert_eq!(id.to_string(), text);
        }
    }
}

#[test]
fn the_canonical_lowercase_form_is_accepted() {
    let text = "0190f1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b";
    assert_eq!(text.parse::<OrderId>().unwrap().to_string(), text);
}

#[test]
fn braced_urn_simple_and_uppercase_order_ids_are_refused() {
    let canonical = "0190f1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b";
    for text in [
        format!("{{{canonical}}}"),
        format!("urn:uuid:{canonical}"),
        canonical.replace('-', ""),
        canonical.to_uppercase(),
        "0190F1B2-3c4d-7e5f-8a9b-0c1d2e3f4a5b".to_owned(),
        format!(" {canonical}"),
        format!("{canonical}\n"),
        "0190f1b23-c4d-7e5f-8a9b-0c1d2e3f4a5b".to_owned(),
        String::new(),
    ] {
        let error = text.parse::<OrderId>().unwrap_err();
        assert_eq!(error.field, "order_id", "{text}");
        assert!(matches!(error.kind, FieldErrorKind::Invalid(_)), "{text}");
    }
}
