//! What the pre-trade controls record and read inside a write transaction.
//!
//! The reference price a market order was checked at is stored with it
//! (`check_price`), so that until it fills it still counts against the day's
//! notional at that price; and the day's notional is available per instrument,
//! in each instrument's currency, for conversion into the account's. These
//! uphold `max_daily_notional` when orders are checked concurrently.

use chrono::{DateTime, Utc};
use rampart_core::{AccountId, InstrumentId, Order, OrderId};
use rust_decimal::Decimal;
use sqlx::Connection;

use crate::codec;
use crate::error::StoreError;
use crate::notional;
use crate::queries;
use crate::tx::WriteTx;

impl WriteTx<'_> {
    /// Records a new order with the reference price its controls were run at.
    ///
    /// The gateway records an accepted order this way (rather than with
    /// [`WriteTx::insert_order`]), so that an open market order counts as
    /// `quantity × check_price` in the day's notional until it fills.
    pub async fn insert_order_checked(
        &mut self,
        order: &Order,
        check_price: Decimal,
    ) -> Result<(), StoreError> {
        self.insert_order(order).await?;
        self.set_check_price(order.id, check_price).await
    }

    /// Sets the reference price the controls used for order `id`, and moves the day's notional.
    pub async fn set_check_price(
        &mut self,
        id: OrderId,
        check_price: Decimal,
    ) -> Result<(), StoreError> {
        if check_price <= Decimal::ZERO {
            return Err(StoreError::Invalid {
                field: "check_price",
                rule: "must be greater than zero",
            });
        }
        let mut step = self.tx.begin().await?;
        let before = notional::contribution(&mut step, id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "order",
                key: id.to_string(),
            })?;
        sqlx::query("UPDATE orders SET check_price = ? WHERE id = ?")
            .bind(codec::decimal(check_price))
            .bind(id.to_string())
            .execute(&mut *step)
            .await?;
        notional::apply_change(&mut step, Some(before), id).await?;
        step.commit().await.map_err(StoreError::from)
    }

    /// The notional of `account`'s orders accepted on the UTC day of `now`, per instrument.
    ///
    /// Each sum is in its instrument's currency, in instrument order; the sum
    /// of them all is [`crate::AccountSnapshot::daily_notional`].
    pub async fn daily_notional_by_instrument(
        &mut self,
        account: &AccountId,
        now: DateTime<Utc>,
    ) -> Result<Vec<(InstrumentId, Decimal)>, StoreError> {
        queries::daily_notional_by_instrument(&mut self.tx, account, now).await
    }
}
