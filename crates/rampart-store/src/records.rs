//! The records the store keeps, besides orders and audit events.
//!
//! Identities refer to people and clients by opaque ids only; secrets are
//! held as PHC hash strings, never in clear. Money and quantities are
//! `Decimal`, times UTC with microsecond precision.

use chrono::{DateTime, Utc};
use rampart_core::{
    AccountId, InstrumentId, KillSwitchScope, OrderId, OrderStatus, RiskLimits, RoleSet, Side,
};
use rust_decimal::Decimal;
use uuid::Uuid;

/// An API client (an algorithm) that authenticates with client credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// The client id.
    pub id: String,
    /// A display name.
    pub name: String,
    /// The argon2 PHC string of the client secret.
    pub secret_hash: String,
    /// The roles granted.
    pub roles: RoleSet,
    /// The accounts the client may act on.
    pub accounts: Vec<AccountId>,
    /// Whether the client is refused tokens.
    pub disabled: bool,
    /// When it was created (UTC).
    pub created_at: DateTime<Utc>,
}

/// A person who signs in with a username and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The opaque subject id.
    pub id: String,
    /// The sign-in name.
    pub username: String,
    /// The argon2 PHC string of the password.
    pub password_hash: String,
    /// The roles granted.
    pub roles: RoleSet,
    /// Whether the password must be changed at the next sign-in.
    pub must_change_password: bool,
    /// When it was created (UTC).
    pub created_at: DateTime<Utc>,
}

/// A trading account and its risk limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// The account id.
    pub id: AccountId,
    /// The currency cash is held in.
    pub currency: String,
    /// The cash the account started with.
    pub initial_cash: Decimal,
    /// The pre-trade limits.
    pub limits: RiskLimits,
    /// When it was created (UTC).
    pub created_at: DateTime<Utc>,
    /// The trading desk the account belongs to, if any.
    pub desk: Option<String>,
}

/// An account's holding in one instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The account.
    pub account_id: AccountId,
    /// The instrument.
    pub instrument: InstrumentId,
    /// The signed quantity held: positive long, negative short.
    pub quantity: Decimal,
    /// The average price paid for the open quantity; none when flat.
    pub average_price: Option<Decimal>,
}

/// One engagement of the kill switch, and its release once released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillSwitchRecord {
    /// The engagement id.
    pub id: Uuid,
    /// What it covers.
    pub scope: KillSwitchScope,
    /// Why it was engaged.
    pub reason: String,
    /// Who engaged it (opaque id).
    pub engaged_by: String,
    /// When it was engaged (UTC).
    pub engaged_at: DateTime<Utc>,
    /// Who released it (opaque id).
    pub released_by: Option<String>,
    /// When it was released (UTC).
    pub released_at: Option<DateTime<Utc>>,
}

/// An execution reported by the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillRecord {
    /// The order that filled.
    pub order_id: OrderId,
    /// Its account.
    pub account_id: AccountId,
    /// Its instrument.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// The quantity executed, greater than zero.
    pub quantity: Decimal,
    /// The price of the execution, greater than zero.
    pub price: Decimal,
    /// When it executed (UTC).
    pub time: DateTime<Utc>,
}

/// The figures the pre-trade controls need about one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSnapshot {
    /// The cash held.
    pub cash: Decimal,
    /// Every position of the account.
    pub positions: Vec<Position>,
    /// The signed position in the instrument asked about (zero when none).
    pub position_in_instrument: Decimal,
    /// The notional of orders accepted (not rejected) in the UTC day, summed as stored.
    ///
    /// An open market order counts at its `check_price` (see
    /// [`crate::WriteTx::insert_order_checked`]). The sum adds each order in its
    /// instrument's currency; for accounts trading instruments in other
    /// currencies use [`crate::WriteTx::daily_notional_by_instrument`] and convert.
    pub daily_notional: Decimal,
    /// How many orders, accepted or rejected, arrived in the last second.
    pub orders_in_last_second: u32,
}

/// Which orders to list, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Only orders of these accounts; all accounts when absent.
    pub accounts: Option<Vec<AccountId>>,
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
    /// At most this many orders.
    pub limit: u32,
    /// Only orders after this one (the cursor of the previous page).
    pub after: Option<OrderId>,
}
