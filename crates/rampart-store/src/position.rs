//! How a fill moves a position and its cost.
//!
//! The cost of a position is the signed amount paid for its open quantity,
//! so that its average price is `cost / quantity`. Adding to a position adds
//! the fill's value; reducing it keeps the average price; crossing through
//! zero opens the remainder at the fill price. All arithmetic is checked.

use rust_decimal::Decimal;

/// The decimal places kept of a reduced position's cost.
const COST_SCALE: u32 = 12;

/// The quantity and cost after a fill of `signed` (buys positive) at `price`,
/// or `None` if a figure would overflow.
pub(crate) fn next_position(
    quantity: Decimal,
    cost: Decimal,
    signed: Decimal,
    price: Decimal,
) -> Option<(Decimal, Decimal)> {
    let new_quantity = quantity.checked_add(signed)?;
    if quantity.is_zero() || quantity.is_sign_positive() == signed.is_sign_positive() {
        return Some((new_quantity, cost.checked_add(signed.checked_mul(price)?)?));
    }
    if new_quantity.is_zero() {
        return Some((Decimal::ZERO, Decimal::ZERO));
    }
    if new_quantity.is_sign_positive() == quantity.is_sign_positive() {
        let kept = cost.checked_mul(new_quantity)?.checked_div(quantity)?;
        return Some((new_quantity, kept.round_dp(COST_SCALE)));
    }
    Some((new_quantity, new_quantity.checked_mul(price)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn buying_from_flat_opens_a_long_at_the_fill_price() {
        assert_eq!(
            next_position(d("0"), d("0"), d("2"), d("10")),
            Some((d("2"), d("20")))
        );
    }

    #[test]
    fn adding_to_a_long_adds_the_fill_value() {
        assert_eq!(
            next_position(d("2"), d("20"), d("1"), d("13")),
            Some((d("3"), d("33")))
        );
    }

    #[test]
    fn reducing_a_long_keeps_its_average_price() {
        let (quantity, cost) = next_position(d("3"), d("33"), d("-1"), d("50")).unwrap();
        assert_eq!((quantity, cost / quantity), (d("2"), d("11")));
    }

    #[test]
    fn closing_a_position_leaves_no_cost() {
        assert_eq!(
            next_position(d("-2"), d("-20"), d("2"), d("7")),
            Some((d("0"), d("0")))
        );
    }

    #[test]
    fn selling_through_zero_opens_a_short_at_the_fill_price() {
        assert_eq!(
            next_position(d("1"), d("10"), d("-3"), d("12")),
            Some((d("-2"), d("-24")))
        );
    }

    #[test]
    fn an_overflowing_fill_is_refused() {
        assert_eq!(next_position(d("0"), d("0"), Decimal::MAX, d("2")), None);
    }
}
