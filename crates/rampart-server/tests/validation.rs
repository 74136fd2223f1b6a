//! Over real HTTPS: the strict validation of order bodies. Every bad body is a
//! 4xx problem naming the field at fault, never a 5xx, and leaves no order record.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_store::OrderFilter;
use rampart_testkit::Answer;
use rampart_testkit::desk::Desk;
use rampart_testkit::market::{BTC, JPY};
use rampart_testkit::order::{self, shifted};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// The shared desk: a refused body changes nothing another test looks at.
async fn desk() -> Desk {
    Desk::shared().await
}

fn tick() -> Decimal {
    Decimal::new(1, 3)
}

fn with(mut body: Value, member: &str, value: Value) -> Value {
    body[member] = value;
    body
}

/// Places `body` and expects a 400 `request.invalid` naming `field`.
async fn assert_refused(desk: &Desk, body: Value, field: &str) -> Answer {
    let answer = desk.place(&body).await;
    answer.assert_problem(400, "request.invalid");
    assert_eq!(answer.json["field"], field, "{}", answer.text);
    answer
}

#[tokio::test]
async fn unknown_field_is_refused_and_named() {
    let desk = desk().await;
    let answer = desk
        .place(&with(desk.resting_buy(), "leverage", json!("10")))
        .await;
    answer.assert_problem(400, "request.invalid");
    assert!(
        answer.text.contains("leverage"),
        "the unknown field is named: {}",
        answer.text
    );
}

#[tokio::test]
async fn quantity_as_a_json_number_is_refused() {
    let desk = desk().await;
    assert_refused(
        &desk,
        with(desk.resting_buy(), "quantity", json!(0.01)),
        "quantity",
    )
    .await;
}

#[tokio::test]
async fn limit_price_as_a_json_number_is_refused() {
    let desk = desk().await;
    assert_refused(
        &desk,
        with(desk.resting_buy(), "limit_price", json!(30000)),
        "limit_price",
    )
    .await;
}

#[tokio::test]
async fn quantity_with_an_exponent_is_refused() {
    let desk = desk().await;
    assert_refused(
        &desk,
        with(desk.resting_buy(), "quantity", json!("1e-2")),
        "quantity",
    )
    .await;
}

#[tokio::test]
async fn negative_quantity_is_refused() {
    let desk = desk().await;
    assert_refused(
        &desk,
        with(desk.resting_buy(), "quantity", json!("-0.01")),
        "quantity",
    )
    .await;
}

#[tokio::test]
async fn zero_quantity_is_refused() {
    let desk = desk().await;
    assert_refused(
        &desk,
        with(desk.resting_buy(), "quantity", json!("0")),
        "quantity",
    )
    .await;
}

#[tokio::test]
async fn not_a_number_and_infinity_are_refused() {
    let desk = desk().await;
    for text in ["NaN", "Infinity", "inf", " 1", "1,5", "0x10", ""] {
        assert_refused(
            &desk,
            with(desk.resting_buy(), "quantity", json!(text)),
            "quantity",
        )
        .await;
    }
}

#[tokio::test]
async fn limit_price_off_the_tick_is_refused() {
    let desk = desk().await;
    let price = shifted(desk.gw.reference_price(BTC), -20, tick()) + Decimal::new(5, 4);
    let body = order::limit(&desk.account, BTC, "buy", "0.01", price);
    let answer = assert_refused(&desk, body, "limit_price").await;
    assert!(
        answer.json["detail"].as_str().unwrap().contains("0.001"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn quantity_off_the_lot_is_refused() {
    let desk = desk().await;
    assert_refused(
        &desk,
        with(desk.resting_buy(), "quantity", json!("0.0105")),
        "quantity",
    )
    .await;
    let jpy = order::market(&desk.account, JPY, "buy", "10.5");
    assert_refused(&desk, jpy, "quantity").await;
}

#[tokio::test]
async fn limit_order_without_a_limit_price_is_refused() {
    let desk = desk().await;
    let mut body = desk.resting_buy();
    body.as_object_mut().unwrap().remove("limit_price");
    assert_refused(&desk, body, "limit_price").await;
}

#[tokio::test]
async fn market_order_with_a_limit_price_is_refused() {
    let desk = desk().await;
    let body = with(
        order::market(&desk.account, BTC, "buy", "0.01"),
        "limit_price",
        json!("40000"),
    );
    assert_refused(&desk, body, "limit_price").await;
}

#[tokio::test]
async fn unknown_instrument_is_refused() {
    let desk = desk().await;
    assert_refused(
        &desk,
        with(desk.resting_buy(), "instrument", json!("DOGE-USD")),
        "instrument",
    )
    .await;
}

#[tokio::test]
async fn unknown_side_is_refused_without_echoing_it() {
    let desk = desk().await;
    let body = with(desk.resting_buy(), "side", json!("sideways"));
    let answer = assert_refused(&desk, body, "side").await;
    assert!(!answer.text.contains("sideways"));
}

#[tokio::test]
async fn missing_account_is_refused() {
    let desk = desk().await;
    let mut body = desk.resting_buy();
    body.as_object_mut().unwrap().remove("account_id");
    assert_refused(&desk, body, "account_id").await;
}

#[tokio::test]
async fn body_over_64_kib_is_too_large() {
    let desk = desk().await;
    let body = with(
        desk.resting_buy(),
        "client_order_id",
        json!("x".repeat(70 * 1024)),
    );
    let answer = desk.place(&body).await;
    answer.assert_problem(413, "request.too_large");
}

#[tokio::test]
async fn json_nested_100_deep_is_refused() {
    let desk = desk().await;
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let body = format!(
        r#"{{"account_id": "{}", "instrument": {deep}}}"#,
        desk.account
    );
    let answer = desk
        .api
        .post_raw("/v1/orders", Some(&desk.token), "application/json", body)
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    answer.assert_problem_shape();
}

#[tokio::test]
async fn body_that_is_not_json_is_refused() {
    let desk = desk().await;
    for body in [
        "",
        "{",
        "null",
        "[]",
        "\"order\"",
        "{\"account_id\": }",
        "{} {}",
    ] {
        let answer = desk
            .api
            .post_raw("/v1/orders", Some(&desk.token), "application/json", body)
            .await;
        assert_eq!(answer.status, 400, "{body:?}: {}", answer.text);
        answer.assert_problem_shape();
    }
}

#[tokio::test]
async fn wrong_content_type_is_unsupported() {
    let desk = desk().await;
    let text = desk.resting_buy().to_string();
    for media in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonx",
    ] {
        let answer = desk
            .api
            .post_raw("/v1/orders", Some(&desk.token), media, text.clone())
            .await;
        answer.assert_problem(415, "request.unsupported_media_type");
    }
}

#[tokio::test]
async fn refused_body_leaves_no_order_record() {
    let desk = Desk::open().await;
    assert_refused(
        &desk,
        with(desk.resting_buy(), "quantity", json!("0")),
        "quantity",
    )
    .await;
    let filter = OrderFilter {
        accounts: Some(vec![desk.account.clone()]),
        status: None,
        limit: 10,
        after: None,
    };
    assert!(desk.gw.stored_orders(filter).await.is_empty());
}

#[tokio::test]
async fn repeated_member_in_an_order_body_is_refused() {
    // Two parsers reading the same body must never disagree about its meaning.
    let desk = desk().await;
    let text = desk.resting_buy().to_string();
    let body = text.replacen('{', r#"{"quantity": "1000", "#, 1);
    let answer = desk
        .api
        .post_raw("/v1/orders", Some(&desk.token), "application/json", body)
        .await;
    answer.assert_problem(400, "request.invalid");
    assert_eq!(answer.json["field"], "quantity", "{}", answer.text);
}

#[tokio::test]
async fn market_order_good_till_cancelled_is_refused() {
    let desk = desk().await;
    let body = with(
        order::market(&desk.account, BTC, "buy", "0.01"),
        "time_in_force",
        json!("gtc"),
    );
    assert_refused(&desk, body, "time_in_force").await;
}

#[tokio::test]
async fn body_of_exactly_64_kib_is_read_and_one_byte_more_is_too_large() {
    let desk = desk().await;
    let text = desk.resting_buy().to_string();
    let padded = |size: usize| format!("{text}{}", " ".repeat(size - text.len()));
    let at_limit = desk
        .api
        .post_raw(
            "/v1/orders",
            Some(&desk.token),
            "application/json",
            padded(65_536),
        )
        .await;
    assert_eq!(
        at_limit.status, 201,
        "a body at the limit is accepted: {}",
        at_limit.text
    );
    let over = desk
        .api
        .post_raw(
            "/v1/orders",
            Some(&desk.token),
            "application/json",
            padded(65_537),
        )
        .await;
    over.assert_problem(413, "request.too_large");
}

#[tokio::test]
async fn absurdly_large_quantities_and_prices_are_refused_without_a_server_error() {
    let desk = desk().await;
    let huge = "79228162514264337593543950335";
    let bodies = [
        order::market(&desk.account, BTC, "buy", huge),
        with(desk.resting_buy(), "limit_price", json!(huge)),
        with(
            desk.resting_buy(),
            "quantity",
            json!("79228162514264337593543950"),
        ),
        with(desk.resting_buy(), "quantity", json!("0.0000000000001")),
    ];
    for body in bodies {
        let answer = desk.place(&body).await;
        assert!(
            [400, 422].contains(&answer.status),
            "{body}: {}",
            answer.text
        );
        answer.assert_problem_shape();
    }
}

#[tokio::test]
async fn refused_values_are_never_echoed() {
    let desk = desk().await;
    let canary = "CANARY<script>alert(1)</script>";
    let bodies = [
        with(desk.resting_buy(), "quantity", json!(canary)),
        with(desk.resting_buy(), "limit_price", json!(canary)),
        with(desk.resting_buy(), "client_order_id", json!(canary)),
        with(desk.resting_buy(), "account_id", json!(canary)),
        with(desk.resting_buy(), "instrument", json!(canary)),
        with(desk.resting_buy(), "type", json!(canary)),
        with(desk.resting_buy(), canary, json!("1")),
    ];
    for body in bodies {
        let answer = desk.place(&body).await;
        assert!((400..500).contains(&answer.status), "{}", answer.text);
        answer.assert_problem_shape();
        assert!(
            !answer.text.contains("CANARY"),
            "a refused value was echoed: {}",
            answer.text
        );
    }
}

#[tokio::test]
async fn array_or_null_order_body_is_answered_without_rust_type_names() {
    let desk = desk().await;
    for body in [json!([]), Value::Null, json!("x"), json!(1)] {
        let answer = desk.place(&body).await;
        answer.assert_problem(400, "request.invalid");
        let detail = answer.json["detail"].as_str().unwrap_or_default();
        assert_eq!(detail, "the body must be a JSON object", "{}", answer.text);
        assert!(!answer.text.contains("OrderRequest"), "{}", answer.text);
    }
}
