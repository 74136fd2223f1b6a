//! The running total of each account's notional per UTC day and instrument.
//!
//! An order counts towards the day of its `created_at` unless it is rejected:
//! a limit order at quantity × limit price; a market order at what it filled
//! times its average fill price and, while open, the rest at the reference
//! price its controls used (`check_price`), so that an order accepted but not
//! yet filled is not missed by a concurrent check. Every write that changes
//! what an order counts applies the difference to `daily_notional` in the
//! same transaction, computed by [`order_notional`] on the stored row before
//! and after, so a pre-trade check reads one row per instrument and upholds
//! `max_daily_notional` with the same figures a full scan would give.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rampart_core::{AccountId, InstrumentId, OrderId, OrderStatus};
use rust_decimal::Decimal;
use sqlx::{SqliteConnection, SqlitePool};

use crate::codec::{self, RowKey};
use crate::error::StoreError;

/// What an order counts towards, and how much (`None` while it is rejected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Contribution {
    account: String,
    day: NaiveDate,
    instrument: InstrumentId,
    amount: Option<Decimal>,
}

/// The columns of `orders` a contribution is computed from, in [`KeyedRow`] order.
const CONTRIBUTION_COLUMNS: &str = "id, instrument, status, quantity, limit_price, \
    filled_quantity, average_fill_price, check_price, account_id, created_at";

/// A [`NotionalRow`] followed by `account_id, created_at`.
type KeyedRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

/// `id, instrument, status, quantity, limit_price, filled_quantity,
/// average_fill_price, check_price` of an order.
type NotionalRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

/// What the stored order `id` counts now, or `None` if there is no such order.
pub(crate) async fn contribution(
    conn: &mut SqliteConnection,
    id: OrderId,
) -> Result<Option<Contribution>, StoreError> {
    let sql = format!("SELECT {CONTRIBUTION_COLUMNS} FROM orders WHERE id = ?");
    let row: Option<KeyedRow> = sqlx::query_as(&sql)
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    row.map(contribution_of).transpose()
}

/// Applies the change of what order `id` counts, from `before` (none for a new order).
pub(crate) async fn apply_change(
    conn: &mut SqliteConnection,
    before: Option<Contribution>,
    id: OrderId,
) -> Result<(), StoreError> {
    let after = contribution(conn, id)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "order",
            key: id.to_string(),
        })?;
    let old = before.as_ref().and_then(|b| b.amount);
    if old.is_none() && after.amount.is_none() {
        return Ok(());
    }
    let delta = after
        .amount
        .unwrap_or(Decimal::ZERO)
        .checked_sub(old.unwrap_or(Decimal::ZERO))
        .ok_or(overflow())?;
    let total = stored_total(conn, &after)
        .await?
        .unwrap_or(Decimal::ZERO)
        .checked_add(delta)
        .ok_or(overflow())?;

    // An instrument is listed while any order of the day counts towards it,
    // even at zero, exactly as a scan of the orders would list it.
    if after.amount.is_none() && total.is_zero() && !any_counted(conn, &after).await? {
        return remove_total(conn, &after).await;
    }
    store_total(conn, &after.account, after.day, &after.instrument, total).await
}

/// The running totals of `account` for `day`, in instrument order.
pub(crate) async fn totals(
    conn: &mut SqliteConnection,
    account: &AccountId,
    day: NaiveDate,
) -> Result<Vec<(InstrumentId, Decimal)>, StoreError> {
    let found: Vec<(String, String)> = sqlx::query_as(
        "SELECT instrument, amount FROM daily_notional \
         WHERE account_id = ? AND day = ? ORDER BY instrument",
    )
    .bind(account.as_str())
    .bind(day.to_string())
    .fetch_all(conn)
    .await?;
    found
        .iter()
        .map(|(instrument, amount)| {
            let key = RowKey {
                table: "daily_notional",
                key: instrument,
            };
            Ok((key.parse::<InstrumentId>(instrument)?, key.decimal(amount)?))
        })
        .collect()
}

/// Rebuilds the running totals from the orders if they are missing, in one transaction.
///
/// A database written before the totals were kept has counted orders and no
/// totals; every other database has both or neither.
pub(crate) async fn rebuild_if_missing(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let missing: bool = sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM daily_notional) \
         AND EXISTS (SELECT 1 FROM orders WHERE status <> 'rejected')",
    )
    .fetch_one(&mut *tx)
    .await?;
    if !missing {
        return Ok(());
    }
    tracing::info!("rebuilding the daily notional totals from the orders");
    let totals = recompute(&mut tx).await?;
    for ((account, day, instrument), total) in &totals {
        store_total(&mut tx, account, *day, instrument, *total).await?;
    }
    tx.commit().await?;
    tracing::info!(totals = totals.len(), "daily notional totals rebuilt");
    Ok(())
}

/// Sums what every counted order counts, per account, day and instrument.
async fn recompute(
    conn: &mut SqliteConnection,
) -> Result<BTreeMap<(String, NaiveDate, InstrumentId), Decimal>, StoreError> {
    let sql = format!("SELECT {CONTRIBUTION_COLUMNS} FROM orders WHERE status <> 'rejected'");
    let found: Vec<KeyedRow> = sqlx::query_as(&sql).fetch_all(conn).await?;
    let mut totals = BTreeMap::new();
    for row in found {
        let counted = contribution_of(row)?;
        let amount = counted.amount.unwrap_or(Decimal::ZERO);
        let total: &mut Decimal = totals
            .entry((counted.account, counted.day, counted.instrument))
            .or_default();
        *total = total.checked_add(amount).ok_or(overflow())?;
    }
    Ok(totals)
}

/// What a stored order counts, by [`order_notional`] unless it is rejected.
fn contribution_of(row: KeyedRow) -> Result<Contribution, StoreError> {
    let (id, instrument, status, quantity, limit, filled, average, check, account, created_at) =
        row;
    let key = RowKey {
        table: "orders",
        key: &id,
    };
    let day = key.time(&created_at)?.date_naive();
    if key.named(&status, OrderStatus::parse)? == OrderStatus::Rejected {
        let instrument = key.parse::<InstrumentId>(&instrument)?;
        return Ok(Contribution {
            account,
            day,
            instrument,
            amount: None,
        });
    }
    let notional = (
        id.clone(),
        instrument,
        status,
        quantity,
        limit,
        filled,
        average,
        check,
    );
    let (instrument, amount) = order_notional(&notional)?;
    Ok(Contribution {
        account,
        day,
        instrument,
        amount: Some(amount.ok_or(overflow())?),
    })
}

/// The instrument of an order and the notional it committed (`None` if it overflows).
fn order_notional(row: &NotionalRow) -> Result<(InstrumentId, Option<Decimal>), StoreError> {
    let (id, instrument, status, quantity, limit_price, filled, average, check_price) = row;
    let key = RowKey {
        table: "orders",
        key: id,
    };
    let instrument = key.parse::<InstrumentId>(instrument)?;
    let quantity = key.decimal(quantity)?;
    let check_price = key.opt_decimal(check_price.as_deref())?;
    if let Some(price) = key.opt_decimal(limit_price.as_deref())? {
        return Ok((instrument, quantity.checked_mul(price)));
    }
    let filled = key.decimal(filled)?;
    let average = key.opt_decimal(average.as_deref())?;
    let executed = filled.checked_mul(average.unwrap_or(Decimal::ZERO));
    let pending = match key.named(status, OrderStatus::parse)? {
        OrderStatus::Open => unfilled_notional(quantity, filled, check_price),
        _ => Some(Decimal::ZERO),
    };
    Ok((
        instrument,
        executed.zip(pending).and_then(|(a, b)| a.checked_add(b)),
    ))
}

/// What is left of an open market order, at the price its controls used.
///
/// An order recorded without a check price counts only what it filled.
fn unfilled_notional(
    quantity: Decimal,
    filled: Decimal,
    check_price: Option<Decimal>,
) -> Option<Decimal> {
    let Some(price) = check_price else {
        return Some(Decimal::ZERO);
    };
    let left = quantity.checked_sub(filled)?.max(Decimal::ZERO);
    left.checked_mul(price)
}

async fn stored_total(
    conn: &mut SqliteConnection,
    at: &Contribution,
) -> Result<Option<Decimal>, StoreError> {
    let amount: Option<String> = sqlx::query_scalar(
        "SELECT amount FROM daily_notional WHERE account_id = ? AND day = ? AND instrument = ?",
    )
    .bind(&at.account)
    .bind(at.day.to_string())
    .bind(at.instrument.as_str())
    .fetch_optional(conn)
    .await?;
    let key = format!("{}/{}/{}", at.account, at.day, at.instrument);
    let key = RowKey {
        table: "daily_notional",
        key: &key,
    };
    key.opt_decimal(amount.as_deref())
}

async fn store_total(
    conn: &mut SqliteConnection,
    account: &str,
    day: NaiveDate,
    instrument: &InstrumentId,
    total: Decimal,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO daily_notional (account_id, day, instrument, amount) VALUES (?, ?, ?, ?) \
         ON CONFLICT (account_id, day, instrument) DO UPDATE SET amount = excluded.amount",
    )
    .bind(account)
    .bind(day.to_string())
    .bind(instrument.as_str())
    .bind(codec::decimal(total))
    .execute(conn)
    .await?;
    Ok(())
}

async fn remove_total(conn: &mut SqliteConnection, at: &Contribution) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM daily_notional WHERE account_id = ? AND day = ? AND instrument = ?")
        .bind(&at.account)
        .bind(at.day.to_string())
        .bind(at.instrument.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether any order of the account, day and instrument of `at` still counts.
async fn any_counted(conn: &mut SqliteConnection, at: &Contribution) -> Result<bool, StoreError> {
    let (start, end) = day_bounds(at.day)?;
    let counted = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM orders WHERE account_id = ? AND created_at >= ? \
         AND created_at < ? AND instrument = ? AND status <> 'rejected')",
    )
    .bind(&at.account)
    .bind(codec::time(&start))
    .bind(codec::time(&end))
    .bind(at.instrument.as_str())
    .fetch_one(conn)
    .await?;
    Ok(counted)
}

fn day_bounds(day: NaiveDate) -> Result<(DateTime<Utc>, DateTime<Utc>), StoreError> {
    let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
    let end = start
        .checked_add_signed(Duration::days(1))
        .ok_or(StoreError::Overflow { field: "day" })?;
    Ok((start, end))
}

fn overflow() -> StoreError {
    StoreError::Overflow {
        field: "daily_notional",
    }
}
