//! The write transaction: every change, and the audit event that records it.
//!
//! All writes go through the store's single writer connection, so write
//! transactions run one after another; that keeps the audit chain linear. A
//! change and its audit event commit together or not at all: a transaction
//! dropped without `commit` is rolled back. Each transaction is a unit of a
//! group commit, and its `commit` returns once the unit is durable.

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use rampart_audit::{AuditEvent, NewEvent};
use rampart_core::{AccountId, ClientOrderId, InstrumentId, Order, Side};
use rust_decimal::Decimal;
use sqlx::{Connection, SqliteConnection};
use uuid::Uuid;

use crate::codec;
use crate::error::StoreError;
use crate::group::Unit;
use crate::notional;
use crate::position::next_position;
use crate::queries;
use crate::records::{
    AccountRecord, AccountSnapshot, ClientRecord, FillRecord, KillSwitchRecord, UserRecord,
};
use crate::store::Store;

/// An open write transaction on the store.
pub struct WriteTx<'s> {
    pub(crate) tx: Unit,
    pub(crate) store: PhantomData<&'s Store>,
    pub(crate) clock: crate::store_clock::StoreClock,
}

impl WriteTx<'_> {
    /// Makes every write of the transaction durable, and returns once it is.
    ///
    /// Transactions committed at about the same time share one durable commit
    /// (see the `group` module); if that commit fails, each of them gets the error.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await
    }

    /// Discards every write of the transaction.
    pub async fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().await
    }

    /// Records an audit event, assigning its `seq` and `time` and sealing it onto the chain.
    pub async fn append(&mut self, event: NewEvent) -> Result<AuditEvent, StoreError> {
        crate::audit::append(&mut self.tx, event).await
    }

    /// Creates an API client and assigns its accounts.
    pub async fn insert_client(&mut self, client: &ClientRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO clients (id, name, secret_hash, roles, disabled, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&client.id)
        .bind(&client.name)
        .bind(&client.secret_hash)
        .bind(codec::json(&client.roles, "roles")?)
        .bind(client.disabled)
        .bind(codec::time(&client.created_at))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| StoreError::on_insert(e, "client", &client.id))?;

        for account in &client.accounts {
            sqlx::query("INSERT INTO client_accounts (client_id, account_id) VALUES (?, ?)")
                .bind(&client.id)
                .bind(account.as_str())
                .execute(&mut *self.tx)
                .await
                .map_err(|e| StoreError::on_insert(e, "client account", account.as_str()))?;
        }
        Ok(())
    }

    /// Disables or re-enables a client; false if there is no such client.
    pub async fn set_client_disabled(
        &mut self,
        id: &str,
        disabled: bool,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE clients SET disabled = ? WHERE id = ?")
            .bind(disabled)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Creates a user.
    pub async fn insert_user(&mut self, user: &UserRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, username, password_hash, roles, must_change_password, \
             created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&user.id)
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(codec::json(&user.roles, "roles")?)
        .bind(user.must_change_password)
        .bind(codec::time(&user.created_at))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| StoreError::on_insert(e, "user", &user.id))?;
        Ok(())
    }

    /// Creates an account, holding its initial cash.
    pub async fn insert_account(&mut self, account: &AccountRecord) -> Result<(), StoreError> {
        if account.initial_cash.is_sign_negative() {
            return Err(StoreError::Invalid {
                field: "initial_cash",
                rule: "must not be negative",
            });
        }
        sqlx::query(
            "INSERT INTO accounts (id, currency, initial_cash, limits, created_at, desk) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(account.id.as_str())
        .bind(&account.currency)
        .bind(codec::decimal(account.initial_cash))
        .bind(codec::json(&account.limits, "limits")?)
        .bind(codec::time(&account.created_at))
        .bind(account.desk.as_deref())
        .execute(&mut *self.tx)
        .await
        .map_err(|e| StoreError::on_insert(e, "account", account.id.as_str()))?;

        sqlx::query("INSERT INTO cash (account_id, amount) VALUES (?, ?)")
            .bind(account.id.as_str())
            .bind(codec::decimal(account.initial_cash))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Records a new order, accepted or rejected, and what it adds to the day's notional.
    pub async fn insert_order(&mut self, order: &Order) -> Result<(), StoreError> {
        let mut step = self.tx.begin().await?;
        insert_order_row(&mut step, order).await?;
        notional::apply_change(&mut step, None, order.id).await?;
        step.commit().await.map_err(StoreError::from)
    }

    /// Records the progress of an order: status, executions, rejection and time of change.
    pub async fn update_order(&mut self, order: &Order) -> Result<(), StoreError> {
        let mut step = self.tx.begin().await?;
        let before = notional::contribution(&mut step, order.id)
            .await?
            .ok_or_else(|| order_not_found(order))?;
        update_order_row(&mut step, order).await?;
        notional::apply_change(&mut step, Some(before), order.id).await?;
        step.commit().await.map_err(StoreError::from)
    }

    /// Books an execution: moves the position (buys positive) and the account's cash.
    ///
    /// The cash moves by the fill's notional as it is, so this is only right
    /// when the instrument is priced in the account's currency; use
    /// [`WriteTx::apply_fill_converted`] otherwise.
    pub async fn apply_fill(&mut self, fill: &FillRecord) -> Result<(), StoreError> {
        let notional = fill
            .quantity
            .checked_mul(fill.price)
            .ok_or(StoreError::Overflow { field: "notional" })?;
        self.apply_fill_converted(fill, notional).await
    }

    /// Books an execution whose notional, in the account's currency, is `account_notional`.
    ///
    /// The position and its cost stay in the instrument's units and currency;
    /// the cash moves by `account_notional` (out for a buy, in for a sell),
    /// which the caller converts with `rampart_trading::convert` from the
    /// fill's `quantity × price`. It must be greater than zero.
    pub async fn apply_fill_converted(
        &mut self,
        fill: &FillRecord,
        account_notional: Decimal,
    ) -> Result<(), StoreError> {
        positive("quantity", fill.quantity)?;
        positive("price", fill.price)?;
        positive("account_notional", account_notional)?;
        let (signed, cash_flow) = signed_amounts(fill, account_notional);
        self.move_cash(&fill.account_id, cash_flow).await?;
        self.move_position(fill, signed).await
    }

    async fn move_position(
        &mut self,
        fill: &FillRecord,
        signed: Decimal,
    ) -> Result<(), StoreError> {
        let (quantity, cost) = self
            .position_and_cost(&fill.account_id, &fill.instrument)
            .await?;
        let (quantity, cost) = next_position(quantity, cost, signed, fill.price)
            .ok_or(StoreError::Overflow { field: "position" })?;
        sqlx::query(
            "INSERT INTO positions (account_id, instrument, quantity, cost) VALUES (?, ?, ?, ?) \
             ON CONFLICT (account_id, instrument) \
             DO UPDATE SET quantity = excluded.quantity, cost = excluded.cost",
        )
        .bind(fill.account_id.as_str())
        .bind(fill.instrument.as_str())
        .bind(codec::decimal(quantity))
        .bind(codec::decimal(cost))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Records an engagement of the kill switch.
    pub async fn insert_kill_switch(
        &mut self,
        record: &KillSwitchRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO kill_switches (id, scope, target, reason, engaged_by, engaged_at, \
             released_by, released_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(record.id.to_string())
        .bind(record.scope.kind())
        .bind(record.scope.target())
        .bind(&record.reason)
        .bind(&record.engaged_by)
        .bind(codec::time(&record.engaged_at))
        .bind(record.released_by.as_deref())
        .bind(record.released_at.as_ref().map(codec::time))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| StoreError::on_insert(e, "kill switch", &record.id.to_string()))?;
        Ok(())
    }

    /// Releases an engaged kill switch; false if it is unknown or already released.
    pub async fn release_kill_switch(
        &mut self,
        id: Uuid,
        released_by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE kill_switches SET released_by = ?, released_at = ? \
             WHERE id = ? AND released_at IS NULL",
        )
        .bind(released_by)
        .bind(codec::time(&at))
        .bind(id.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The account `id`, as this transaction sees it.
    pub async fn account(&mut self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        queries::account(&mut self.tx, id).await
    }

    /// The order placed on `account` under the client's own id, as this transaction sees it.
    pub async fn order_by_client_order_id(
        &mut self,
        account: &AccountId,
        client_order_id: &ClientOrderId,
    ) -> Result<Option<Order>, StoreError> {
        queries::order_by_client_order_id(&mut self.tx, account, client_order_id).await
    }

    /// The figures the pre-trade controls need, as this transaction sees them.
    pub async fn account_state(
        &mut self,
        account: &AccountId,
        instrument: &InstrumentId,
        now: DateTime<Utc>,
    ) -> Result<AccountSnapshot, StoreError> {
        queries::account_state(&mut self.tx, account, instrument, now).await
    }

    async fn move_cash(&mut self, account: &AccountId, flow: Decimal) -> Result<(), StoreError> {
        let cash = queries::cash(&mut self.tx, account).await?;
        let cash = cash
            .checked_add(flow)
            .ok_or(StoreError::Overflow { field: "cash" })?;
        sqlx::query("UPDATE cash SET amount = ? WHERE account_id = ?")
            .bind(codec::decimal(cash))
            .bind(account.as_str())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn position_and_cost(
        &mut self,
        account: &AccountId,
        instrument: &InstrumentId,
    ) -> Result<(Decimal, Decimal), StoreError> {
        let held = queries::positions_with_cost(&mut self.tx, account).await?;
        Ok(held
            .into_iter()
            .find(|(p, _)| &p.instrument == instrument)
            .map_or((Decimal::ZERO, Decimal::ZERO), |(p, cost)| {
                (p.quantity, cost)
            }))
    }
}

async fn insert_order_row(conn: &mut SqliteConnection, order: &Order) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO orders ({}) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        crate::rows::ORDER_COLUMNS
    );
    sqlx::query(&sql)
        .bind(order.id.to_string())
        .bind(order.client_order_id.as_ref().map(ClientOrderId::as_str))
        .bind(order.account_id.as_str())
        .bind(order.instrument.as_str())
        .bind(order.side.as_str())
        .bind(order.order_type.as_str())
        .bind(codec::decimal(order.quantity.value()))
        .bind(codec::opt_decimal(order.limit_price.map(|p| p.value())))
        .bind(order.time_in_force.as_str())
        .bind(order.status.as_str())
        .bind(codec::decimal(order.filled_quantity))
        .bind(codec::opt_decimal(order.average_fill_price))
        .bind(order.reject_code.as_deref())
        .bind(order.reject_reason.as_deref())
        .bind(&order.placed_by)
        .bind(codec::time(&order.created_at))
        .bind(codec::time(&order.updated_at))
        .bind(order.placed_by_kind.as_str())
        .bind(order.algo_id.as_deref())
        .bind(order.desk.as_deref())
        .bind(order.limits_version)
        .execute(conn)
        .await
        .map_err(|e| StoreError::on_insert(e, "order", &order_key(order)))?;
    Ok(())
}

async fn update_order_row(conn: &mut SqliteConnection, order: &Order) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET status = ?, filled_quantity = ?, average_fill_price = ?, \
         reject_code = ?, reject_reason = ?, updated_at = ? WHERE id = ?",
    )
    .bind(order.status.as_str())
    .bind(codec::decimal(order.filled_quantity))
    .bind(codec::opt_decimal(order.average_fill_price))
    .bind(order.reject_code.as_deref())
    .bind(order.reject_reason.as_deref())
    .bind(codec::time(&order.updated_at))
    .bind(order.id.to_string())
    .execute(conn)
    .await?;
    match done.rows_affected() {
        1 => Ok(()),
        _ => Err(order_not_found(order)),
    }
}

fn order_not_found(order: &Order) -> StoreError {
    StoreError::NotFound {
        what: "order",
        key: order.id.to_string(),
    }
}

fn positive(field: &'static str, value: Decimal) -> Result<(), StoreError> {
    if value <= Decimal::ZERO {
        return Err(StoreError::Invalid {
            field,
            rule: "must be greater than zero",
        });
    }
    Ok(())
}

/// The signed quantity (buys positive) and the cash flow (buys negative) of a fill.
fn signed_amounts(fill: &FillRecord, notional: Decimal) -> (Decimal, Decimal) {
    match fill.side {
        Side::Buy => (fill.quantity, -notional),
        Side::Sell => (-fill.quantity, notional),
    }
}

fn order_key(order: &Order) -> String {
    match &order.client_order_id {
        Some(coid) => format!("{}/{}", order.account_id, coid),
        None => order.id.to_string(),
    }
}
