//! Regression: an order that crosses through zero may not open a position above the limit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;

use common::{limits, market, noon, state};
use rampart_core::Side;
use rampart_trading::ControlCode;
use rampart_trading::controls::check;
use rust_decimal_macros::dec;

#[test]
fn a_sell_that_flips_a_long_above_the_limit_into_a_short_above_it_is_refused() {
    let mut account = state(dec!(100000000));
    account.position = dec!(10);
    let order = market("BTC-USD", Side::Sell, dec!(18));

    let verdict = check(&order, &limits("BTC-USD"), &account, dec!(100), noon());

    assert_eq!(
        verdict.unwrap_err().code,
        ControlCode::MaxPositionQuantity,
        "a position of -8 exceeds the limit of 3 even though |-8| < |10|"
    );
}

#[test]
fn a_buy_that_flips_a_short_into_a_long_within_the_limit_is_allowed() {
    let mut account = state(dec!(100000000));
    account.position = dec!(-10);
    let order = market("BTC-USD", Side::Buy, dec!(13));

    let verdict = check(&order, &limits("BTC-USD"), &account, dec!(100), noon());

    assert_eq!(verdict, Ok(()));
}

#[test]
fn a_sell_that_closes_a_long_above_the_limit_exactly_to_zero_is_allowed() {
    let mut account = state(dec!(100000000));
    account.position = dec!(10);
    let order = market("BTC-USD", Side::Sell, dec!(10));

    let verdict = check(&order, &limits("BTC-USD"), &account, dec!(100), noon());

    assert_eq!(verdict, Ok(()));
}
