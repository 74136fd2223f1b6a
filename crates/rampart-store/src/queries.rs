//! The reads shared by the store's reader pool and the write transaction.
//!
//! Each read takes a connection, so that a pre-trade check inside a write
//! transaction sees exactly the state that transaction will change.

use chrono::{DateTime, Duration, Utc};
use rampart_core::{AccountId, ClientOrderId, InstrumentId, Order, OrderId, OrderStatus};
use rust_decimal::Decimal;
use sqlx::SqliteConnection;

use crate::codec::{self, RowKey};
use crate::error::StoreError;
use crate::notional;
use crate::records::{
    AccountRecord, AccountSnapshot, ClientRecord, KillSwitchRecord, OrderFilter, Position,
    UserRecord,
};
use crate::rows;

/// The account `id`, if it exists.
pub(crate) async fn account(
    conn: &mut SqliteConnection,
    id: &AccountId,
) -> Result<Option<AccountRecord>, StoreError> {
    let row = sqlx::query("SELECT * FROM accounts WHERE id = ?")
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(rows::account).transpose()
}

/// Every account, by id.
pub(crate) async fn accounts(
    conn: &mut SqliteConnection,
) -> Result<Vec<AccountRecord>, StoreError> {
    let found = sqlx::query("SELECT * FROM accounts ORDER BY id")
        .fetch_all(conn)
        .await?;
    found.iter().map(rows::account).collect()
}

/// The client `id` with its assigned accounts, if it exists.
pub(crate) async fn client(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<ClientRecord>, StoreError> {
    let Some(row) = sqlx::query("SELECT * FROM clients WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let accounts = client_accounts(conn, id).await?;
    rows::client(&row, &accounts).map(Some)
}

/// Every client, by id.
pub(crate) async fn clients(conn: &mut SqliteConnection) -> Result<Vec<ClientRecord>, StoreError> {
    let found = sqlx::query("SELECT * FROM clients ORDER BY id")
        .fetch_all(&mut *conn)
        .await?;
    let mut clients = Vec::with_capacity(found.len());
    for row in &found {
        let id = rows::key_of(row, "id", "clients")?;
        let accounts = client_accounts(conn, &id).await?;
        clients.push(rows::client(row, &accounts)?);
    }
    Ok(clients)
}

async fn client_accounts(conn: &mut SqliteConnection, id: &str) -> Result<Vec<String>, StoreError> {
    let accounts = sqlx::query_scalar(
        "SELECT account_id FROM client_accounts WHERE client_id = ? ORDER BY account_id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(accounts)
}

/// The user signing in as `username`, if any.
pub(crate) async fn user_by_username(
    conn: &mut SqliteConnection,
    username: &str,
) -> Result<Option<UserRecord>, StoreError> {
    let row = sqlx::query("SELECT * FROM users WHERE username = ?")
        .bind(username)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(rows::user).transpose()
}

/// The order `id`, if it exists.
pub(crate) async fn order(
    conn: &mut SqliteConnection,
    id: OrderId,
) -> Result<Option<Order>, StoreError> {
    let sql = format!(
        "SELECT {} FROM orders WHERE id = ?",
        rows::ORDER_READ_COLUMNS
    );
    let row = sqlx::query(&sql)
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(rows::order).transpose()
}

/// The order placed on `account` under the client's own id, if any.
pub(crate) async fn order_by_client_order_id(
    conn: &mut SqliteConnection,
    account: &AccountId,
    client_order_id: &ClientOrderId,
) -> Result<Option<Order>, StoreError> {
    let sql = format!(
        "SELECT {} FROM orders WHERE account_id = ? AND client_order_id = ?",
        rows::ORDER_READ_COLUMNS
    );
    let row = sqlx::query(&sql)
        .bind(account.as_str())
        .bind(client_order_id.as_str())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(rows::order).transpose()
}

/// The orders `filter` selects, oldest (lowest id) first.
pub(crate) async fn orders(
    conn: &mut SqliteConnection,
    filter: &OrderFilter,
) -> Result<Vec<Order>, StoreError> {
    crate::attribution::orders(
        conn,
        filter,
        &crate::attribution::AttributionFilter::default(),
    )
    .await
}

/// Every order still working at the broker, oldest first.
pub(crate) async fn open_orders(conn: &mut SqliteConnection) -> Result<Vec<Order>, StoreError> {
    let sql = format!(
        "SELECT {} FROM orders WHERE status = ? ORDER BY id",
        rows::ORDER_READ_COLUMNS
    );
    let found = sqlx::query(&sql)
        .bind(OrderStatus::Open.as_str())
        .fetch_all(conn)
        .await?;
    found.iter().map(rows::order).collect()
}

/// The positions of `account` with their stored costs, by instrument.
pub(crate) async fn positions_with_cost(
    conn: &mut SqliteConnection,
    account: &AccountId,
) -> Result<Vec<(Position, Decimal)>, StoreError> {
    let found = sqlx::query("SELECT * FROM positions WHERE account_id = ? ORDER BY instrument")
        .bind(account.as_str())
        .fetch_all(conn)
        .await?;
    found.iter().map(rows::position).collect()
}

/// The kill switch engagements, oldest first; only unreleased ones if `active_only`.
pub(crate) async fn kill_switches(
    conn: &mut SqliteConnection,
    active_only: bool,
) -> Result<Vec<KillSwitchRecord>, StoreError> {
    let sql = match active_only {
        true => "SELECT * FROM kill_switches WHERE released_at IS NULL ORDER BY engaged_at, id",
        false => "SELECT * FROM kill_switches ORDER BY engaged_at, id",
    };
    let found = sqlx::query(sql).fetch_all(conn).await?;
    found.iter().map(rows::kill_switch).collect()
}

/// The cash of `account`, or `NotFound` if the account does not exist.
pub(crate) async fn cash(
    conn: &mut SqliteConnection,
    account: &AccountId,
) -> Result<Decimal, StoreError> {
    let amount: Option<String> = sqlx::query_scalar("SELECT amount FROM cash WHERE account_id = ?")
        .bind(account.as_str())
        .fetch_optional(conn)
        .await?;
    let amount = amount.ok_or_else(|| StoreError::NotFound {
        what: "account",
        key: account.to_string(),
    })?;
    RowKey {
        table: "cash",
        key: account.as_str(),
    }
    .decimal(&amount)
}

/// The figures the pre-trade controls need about `account` at `now`.
pub(crate) async fn account_state(
    conn: &mut SqliteConnection,
    account: &AccountId,
    instrument: &InstrumentId,
    now: DateTime<Utc>,
) -> Result<AccountSnapshot, StoreError> {
    let cash = cash(conn, account).await?;
    let positions: Vec<Position> = positions_with_cost(conn, account)
        .await?
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let position_in_instrument = positions
        .iter()
        .find(|p| &p.instrument == instrument)
        .map_or(Decimal::ZERO, |p| p.quantity);

    Ok(AccountSnapshot {
        cash,
        positions,
        position_in_instrument,
        daily_notional: daily_notional(conn, account, now).await?,
        orders_in_last_second: orders_in_last_second(conn, account, now).await?,
    })
}

// The sum of the running totals kept per instrument (see `notional`).
async fn daily_notional(
    conn: &mut SqliteConnection,
    account: &AccountId,
    now: DateTime<Utc>,
) -> Result<Decimal, StoreError> {
    let by_instrument = daily_notional_by_instrument(conn, account, now).await?;
    by_instrument
        .iter()
        .try_fold(Decimal::ZERO, |total, (_, notional)| {
            total.checked_add(*notional)
        })
        .ok_or(overflow_of("daily_notional"))
}

/// The notional of `account`'s orders accepted on the UTC day of `now`, per instrument.
///
/// Each sum is in its instrument's currency, for conversion into the account's.
pub(crate) async fn daily_notional_by_instrument(
    conn: &mut SqliteConnection,
    account: &AccountId,
    now: DateTime<Utc>,
) -> Result<Vec<(InstrumentId, Decimal)>, StoreError> {
    notional::totals(conn, account, now.date_naive()).await
}

fn overflow_of(field: &'static str) -> StoreError {
    StoreError::Overflow { field }
}

async fn orders_in_last_second(
    conn: &mut SqliteConnection,
    account: &AccountId,
    now: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE account_id = ? AND created_at > ? AND created_at <= ?",
    )
    .bind(account.as_str())
    .bind(codec::time(&second_before(now)?))
    .bind(codec::time(&now))
    .fetch_one(conn)
    .await?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

fn second_before(now: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
    now.checked_sub_signed(Duration::seconds(1))
        .ok_or(StoreError::Overflow { field: "now" })
}
