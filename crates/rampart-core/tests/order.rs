//! Order parsing: arbitrary JSON never panics, and each bad field is named.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use proptest::prelude::*;
use rampart_core::{
    FieldError, FieldErrorKind, Instrument, InstrumentCatalog, NewOrder, OrderRequest, OrderType,
    TimeInForce,
};
use rust_decimal_macros::dec;
use serde_json::{Map, Value, json};

const KEYS: [&str; 8] = [
    "account_id",
    "instrument",
    "side",
    "type",
    "quantity",
    "limit_price",
    "time_in_force",
    "client_order_id",
];

fn catalog() -> InstrumentCatalog {
    InstrumentCatalog::new([
        Instrument {
            id: "BTC-USD".parse().unwrap(),
            tick_size: dec!(0.1),
            lot_size: dec!(0.01),
            currency: "USD".into(),
        },
        Instrument {
            id: "USD-JPY".parse().unwrap(),
            tick_size: dec!(0.001),
            lot_size: dec!(1),
            currency: "JPY".into(),
        },
    ])
}

fn example() -> Value {
    json!({"account_id": "ACC-1", "instrument": "BTC-USD", "side": "buy", "type": "limit",
           "quantity": "0.50", "limit_price": "43000.10", "time_in_force": "gtc",
           "client_order_id": "c-0001"})
}

fn with(field: &str, value: Value) -> Value {
    let mut order = example();
    order[field] = value;
    order
}

fn without(field: &str) -> Value {
    let mut order = example();
    order.as_object_mut().unwrap().remove(field);
    order
}

fn parse(value: Value) -> Result<NewOrder, FieldError> {
    serde_json::from_value::<OrderRequest>(value)
        .unwrap()
        .validate(&catalog())
}

fn refused(value: Value) -> (&'static str, FieldErrorKind) {
    let error = parse(value).unwrap_err();
    (error.field, error.kind)
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        "[0-9.eE+-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let key = prop_oneof![
            proptest::sample::select(&KEYS[..]).prop_map(str::to_owned),
            ".{0,8}"
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(key, inner, 0..9)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[0-9]{1,6}(\\.[0-9]{1,4})?".prop_map(Value::String),
        proptest::sample::select(vec![
            "buy", "sell", "limit", "market", "gtc", "ioc", "BTC-USD", "USD-JPY", "ACC-1"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        any::<String>().prop_map(Value::String),
        any::<f64>().prop_map(|f| json!(f)),
        Just(Value::Null),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn no_json_value_makes_parsing_panic(value in any_json()) {
        if let Ok(request) = serde_json::from_value::<OrderRequest>(value) {
            let _ = request.validate(&catalog());
        }
    }

    #[test]
    fn no_byte_string_makes_parsing_panic(text in any::<String>()) {
        if let Ok(request) = serde_json::from_str::<OrderRequest>(&text) {
            let _ = request.validate(&catalog());
        }
    }

    #[test]
    fn an_accepted_order_is_on_tick_and_lot(
        overrides in proptest::collection::btree_map(
            proptest::sample::select(&KEYS[..]), field_value(), 0..4),
    ) {
        let mut value = example();
        for (key, field) in overrides {
            value[key] = field;
        }
        let Ok(request) = serde_json::from_value::<OrderRequest>(value) else { return Ok(()) };
        if let Ok(order) = request.validate(&catalog()) {
            let instrument = catalog().get(&order.instrument).unwrap().clone();
            prop_assert!(instrument.on_lot(order.quantity.value()));
            prop_assert_eq!(order.order_type == OrderType::Limit, order.limit_price.is_some());
            if let Some(price) = order.limit_price {
                prop_assert!(instrument.on_tick(price.value()));
            }
        }
    }
}

#[test]
fn the_design_example_is_accepted() {
    let order = parse(example()).unwrap();
    assert_eq!(order.quantity.value(), dec!(0.5));
    assert_eq!(order.limit_price.unwrap().value(), dec!(43000.1));
    assert_eq!(order.time_in_force, TimeInForce::Gtc);
}

#[test]
fn numbers_in_json_are_refused_for_quantity_and_price() {
    for field in ["quantity", "limit_price"] {
        let error = serde_json::from_value::<OrderRequest>(with(field, json!(1.5))).unwrap_err();
        assert!(error.to_string().contains("string"), "{field}: {error}");
    }
}

#[test]
fn unknown_fields_are_refused() {
    let error = serde_json::from_value::<OrderRequest>(with("leverage", json!("10"))).unwrap_err();
    assert!(error.to_string().contains("leverage"), "{error}");
}

#[test]
fn exponents_signs_and_special_values_name_their_field() {
    for field in ["quantity", "limit_price"] {
        for text in ["1e2", "+1", "NaN", "inf", " 1", "1 ", "0x1", "01"] {
            let result = refused(with(field, json!(text)));
            assert_eq!(
                result,
                (field, FieldErrorKind::NotADecimal),
                "{field} = {text:?}"
            );
        }
    }
}

#[test]
fn a_negative_value_names_its_field_as_not_positive() {
    for field in ["quantity", "limit_price"] {
        assert_eq!(
            refused(with(field, json!("-1"))),
            (field, FieldErrorKind::NotPositive)
        );
    }
}

#[test]
fn zero_names_its_field() {
    for field in ["quantity", "limit_price"] {
        assert_eq!(
            refused(with(field, json!("0.00"))),
            (field, FieldErrorKind::NotPositive)
        );
    }
}

#[test]
fn an_off_lot_quantity_is_refused_with_the_lot_size() {
    assert_eq!(
        refused(with("quantity", json!("0.505"))),
        ("quantity", FieldErrorKind::OffIncrement("0.01".into()))
    );
}

#[test]
fn an_off_tick_limit_price_is_refused_with_the_tick_size() {
    let result = refused(with("limit_price", json!("43000.15")));
    assert_eq!(
        result,
        ("limit_price", FieldErrorKind::OffIncrement("0.1".into()))
    );
}

#[test]
fn an_unknown_instrument_is_refused() {
    for symbol in ["ETH-USD", "", "BTC USD", "btc-usd"] {
        let result = refused(with("instrument", json!(symbol)));
        assert_eq!(
            result,
            ("instrument", FieldErrorKind::UnknownInstrument),
            "{symbol:?}"
        );
    }
}

#[test]
fn a_limit_order_needs_a_limit_price() {
    assert_eq!(
        refused(without("limit_price")),
        ("limit_price", FieldErrorKind::Missing)
    );
}

#[test]
fn a_market_order_may_not_carry_a_limit_price() {
    let (field, kind) = refused(with("type", json!("market")));
    assert_eq!(field, "limit_price");
    assert!(matches!(kind, FieldErrorKind::NotAllowed(_)), "{kind:?}");
}

#[test]
fn a_market_order_is_immediate_or_cancel() {
    let mut market = with("type", json!("market"));
    market.as_object_mut().unwrap().remove("limit_price");
    market.as_object_mut().unwrap().remove("time_in_force");
    assert_eq!(
        parse(market.clone()).unwrap().time_in_force,
        TimeInForce::Ioc
    );
    market["time_in_force"] = json!("gtc");
    assert_eq!(refused(market).0, "time_in_force");
}

#[test]
fn malformed_account_ids_are_refused_by_the_wire_format() {
    for id in ["", "ACC 1", "ACC/1", &"A".repeat(65)] {
        assert!(
            serde_json::from_value::<OrderRequest>(with("account_id", json!(id))).is_err(),
            "{id:?}"
        );
    }
}
