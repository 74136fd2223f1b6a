//! Decoding of stored rows into records.
//!
//! Every column is read with its declared type and parsed strictly; any
//! mismatch becomes `StoreError::Corrupt` naming the table and the row's key,
//! never a panic.

use rampart_core::{
    AccountId, ClientOrderId, InstrumentId, KillSwitchScope, Order, OrderId, OrderStatus,
    OrderType, PlacedByKind, Price, Quantity, RoleSet, Side, TimeInForce,
};
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Row, Sqlite, Type};

use crate::codec::RowKey;
use crate::error::StoreError;
use crate::records::{AccountRecord, ClientRecord, KillSwitchRecord, Position, UserRecord};

/// The columns of `orders`, in the order [`order`] reads them.
pub(crate) const ORDER_COLUMNS: &str = "id, client_order_id, account_id, instrument, side, \
    order_type, quantity, limit_price, time_in_force, status, filled_quantity, \
    average_fill_price, reject_code, reject_reason, placed_by, created_at, updated_at, \
    placed_by_kind, algo_id, desk, limits_version";

/// The columns [`order`] reads: those of [`ORDER_COLUMNS`] and the check price,
/// which is not part of the record but is checked so a corrupt one is reported.
pub(crate) const ORDER_READ_COLUMNS: &str = "id, client_order_id, account_id, instrument, side, \
    order_type, quantity, limit_price, time_in_force, status, filled_quantity, \
    average_fill_price, reject_code, reject_reason, placed_by, created_at, updated_at, \
    placed_by_kind, algo_id, desk, limits_version, check_price";

/// Reads column `name` of `row`, or reports the row as corrupt.
pub(crate) fn get<'r, T>(row: &'r SqliteRow, name: &str, key: RowKey<'_>) -> Result<T, StoreError>
where
    T: Decode<'r, Sqlite> + Type<Sqlite>,
{
    row.try_get(name).map_err(|_| key.corrupt())
}

/// Reads the text key column `name`, naming the row `?` if even that fails.
pub(crate) fn key_of(
    row: &SqliteRow,
    name: &str,
    table: &'static str,
) -> Result<String, StoreError> {
    row.try_get(name).map_err(|_| StoreError::Corrupt {
        table,
        key: "?".to_owned(),
    })
}

/// Decodes a row of `orders`.
pub(crate) fn order(row: &SqliteRow) -> Result<Order, StoreError> {
    let id = key_of(row, "id", "orders")?;
    let key = RowKey {
        table: "orders",
        key: &id,
    };
    let text = |name: &str| get::<String>(row, name, key);
    let opt_text = |name: &str| get::<Option<String>>(row, name, key);

    let quantity = Quantity::new(key.decimal(&text("quantity")?)?).ok_or_else(|| key.corrupt())?;
    let limit_price = match key.opt_decimal(opt_text("limit_price")?.as_deref())? {
        Some(price) => Some(Price::new(price).ok_or_else(|| key.corrupt())?),
        None => None,
    };
    key.opt_decimal(opt_text("check_price")?.as_deref())?;
    let client_order_id = match opt_text("client_order_id")? {
        Some(coid) => Some(key.parse::<ClientOrderId>(&coid)?),
        None => None,
    };

    Ok(Order {
        id: key.parse::<OrderId>(&id)?,
        client_order_id,
        account_id: key.parse::<AccountId>(&text("account_id")?)?,
        instrument: key.parse::<InstrumentId>(&text("instrument")?)?,
        side: key.named(&text("side")?, Side::parse)?,
        order_type: key.named(&text("order_type")?, OrderType::parse)?,
        quantity,
        limit_price,
        time_in_force: key.named(&text("time_in_force")?, TimeInForce::parse)?,
        status: key.named(&text("status")?, OrderStatus::parse)?,
        filled_quantity: key.decimal(&text("filled_quantity")?)?,
        average_fill_price: key.opt_decimal(opt_text("average_fill_price")?.as_deref())?,
        reject_code: opt_text("reject_code")?,
        reject_reason: opt_text("reject_reason")?,
        placed_by: text("placed_by")?,
        placed_by_kind: key.named(&text("placed_by_kind")?, PlacedByKind::parse)?,
        algo_id: opt_text("algo_id")?,
        desk: opt_text("desk")?,
        limits_version: get::<Option<i64>>(row, "limits_version", key)?,
        created_at: key.time(&text("created_at")?)?,
        updated_at: key.time(&text("updated_at")?)?,
    })
}

/// Decodes a row of `accounts`.
pub(crate) fn account(row: &SqliteRow) -> Result<AccountRecord, StoreError> {
    let id = key_of(row, "id", "accounts")?;
    let key = RowKey {
        table: "accounts",
        key: &id,
    };
    let text = |name: &str| get::<String>(row, name, key);
    Ok(AccountRecord {
        id: key.parse(&id)?,
        currency: text("currency")?,
        initial_cash: key.decimal(&text("initial_cash")?)?,
        limits: key.json(&text("limits")?)?,
        created_at: key.time(&text("created_at")?)?,
        desk: get::<Option<String>>(row, "desk", key)?,
    })
}

/// Decodes a row of `clients`, given the accounts assigned to it.
pub(crate) fn client(row: &SqliteRow, accounts: &[String]) -> Result<ClientRecord, StoreError> {
    let id = key_of(row, "id", "clients")?;
    let key = RowKey {
        table: "clients",
        key: &id,
    };
    let text = |name: &str| get::<String>(row, name, key);
    let accounts = accounts
        .iter()
        .map(|a| key.parse(a))
        .collect::<Result<_, _>>()?;
    Ok(ClientRecord {
        name: text("name")?,
        secret_hash: text("secret_hash")?,
        roles: key.json::<RoleSet>(&text("roles")?)?,
        accounts,
        disabled: key.flag(get(row, "disabled", key)?)?,
        created_at: key.time(&text("created_at")?)?,
        id,
    })
}

/// Decodes a row of `users`.
pub(crate) fn user(row: &SqliteRow) -> Result<UserRecord, StoreError> {
    let id = key_of(row, "id", "users")?;
    let key = RowKey {
        table: "users",
        key: &id,
    };
    let text = |name: &str| get::<String>(row, name, key);
    Ok(UserRecord {
        username: text("username")?,
        password_hash: text("password_hash")?,
        roles: key.json::<RoleSet>(&text("roles")?)?,
        must_change_password: key.flag(get(row, "must_change_password", key)?)?,
        created_at: key.time(&text("created_at")?)?,
        id,
    })
}

/// Decodes a row of `positions` into the record and its stored cost.
pub(crate) fn position(row: &SqliteRow) -> Result<(Position, Decimal), StoreError> {
    let account = key_of(row, "account_id", "positions")?;
    let instrument = key_of(row, "instrument", "positions")?;
    let id = format!("{account}/{instrument}");
    let key = RowKey {
        table: "positions",
        key: &id,
    };
    let quantity = key.decimal(&get::<String>(row, "quantity", key)?)?;
    let cost = key.decimal(&get::<String>(row, "cost", key)?)?;
    let average_price = match quantity.is_zero() {
        true => None,
        false => Some(
            cost.checked_div(quantity)
                .ok_or_else(|| key.corrupt())?
                .normalize(),
        ),
    };
    let position = Position {
        account_id: key.parse(&account)?,
        instrument: key.parse(&instrument)?,
        quantity,
        average_price,
    };
    Ok((position, cost))
}

/// Decodes a row of `kill_switches`.
pub(crate) fn kill_switch(row: &SqliteRow) -> Result<KillSwitchRecord, StoreError> {
    let id = key_of(row, "id", "kill_switches")?;
    let key = RowKey {
        table: "kill_switches",
        key: &id,
    };
    let text = |name: &str| get::<String>(row, name, key);
    let target = get::<Option<String>>(row, "target", key)?;
    let scope = KillSwitchScope::from_parts(&text("scope")?, target.as_deref())
        .map_err(|_| key.corrupt())?;
    Ok(KillSwitchRecord {
        id: key.parse(&id)?,
        scope,
        reason: text("reason")?,
        engaged_by: text("engaged_by")?,
        engaged_at: key.time(&text("engaged_at")?)?,
        released_by: get(row, "released_by", key)?,
        released_at: key.opt_time(get::<Option<String>>(row, "released_at", key)?.as_deref())?,
    })
}
