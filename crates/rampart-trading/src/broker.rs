//! The `Broker` trait: where accepted orders are executed.
//!
//! A broker only executes; positions and cash are kept by the gateway's store,
//! which applies each [`Fill`] in the same transaction as its audit event. An
//! order that fills at once comes back from `submit` as [`Execution::Filled`];
//! a resting order that fills later is reported through the channel the
//! broker was built with.
//!
//! Credentials a broker needs (an API key, a session token) live in the
//! gateway's secret store; [`Broker::rotate_credential`] is how a rotated one
//! reaches the broker, and the rotation is promoted only if the broker takes it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rampart_core::{AccountId, InstrumentId, Order, OrderId, Side};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An execution of an order, in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
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
    /// When it executed (UTC, gateway time).
    pub time: DateTime<Utc>,
}

/// What happened to an order at submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Execution {
    /// It executed at once.
    Filled(Fill),
    /// It rests at the broker until it fills or is cancelled.
    Resting,
    /// It could not execute at once and was cancelled (immediate or cancel).
    Cancelled,
}

/// Why a broker refused an order or a cancellation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokerError {
    /// The broker has no price for the instrument.
    #[error("no reference price is known for `{0}`")]
    NoReferencePrice(InstrumentId),
    /// An order with this id is already working at the broker.
    #[error("order `{0}` is already working at the broker")]
    DuplicateOrder(OrderId),
    /// A limit order arrived without a limit price.
    #[error("limit order `{0}` has no `limit_price`")]
    MissingLimitPrice(OrderId),
    /// The order is not open or has nothing left to execute.
    #[error("order `{0}` is not open")]
    NotWorking(OrderId),
    /// The broker refused a new credential; the one in use stays in use.
    #[error("the broker refused the new credential: {0}")]
    CredentialRefused(String),
    /// The broker refused a request's credential (wrong, or rotated out past its grace).
    #[error("the broker refused the request's credential")]
    CredentialRejected,
}

/// A predicate choosing resting orders, for [`Broker::cancel_where`].
pub type OrderPredicate<'a> = dyn Fn(&Order) -> bool + Send + Sync + 'a;

/// A place that executes orders.
#[async_trait]
pub trait Broker: Send + Sync {
    /// The current reference price of `instrument`, if the broker knows one.
    fn reference_price(&self, instrument: &InstrumentId) -> Option<Decimal>;

    /// Submits an open order for execution.
    async fn submit(&self, order: &Order) -> Result<Execution, BrokerError>;

    /// Cancels a resting order; `false` when it is not resting (unknown or already filled).
    async fn cancel(&self, order_id: OrderId) -> Result<bool, BrokerError>;

    /// Cancels every resting order that `predicate` chooses and returns their ids.
    async fn cancel_where(
        &self,
        predicate: &OrderPredicate<'_>,
    ) -> Result<Vec<OrderId>, BrokerError>;

    /// Cancels the listed orders and returns the ids of those that were resting.
    async fn cancel_many(&self, order_ids: &[OrderId]) -> Result<Vec<OrderId>, BrokerError> {
        let mut cancelled = Vec::with_capacity(order_ids.len());
        for &order_id in order_ids {
            if self.cancel(order_id).await? {
                cancelled.push(order_id);
            }
        }
        Ok(cancelled)
    }

    /// Whether this broker authenticates with a credential from the secret store.
    ///
    /// A broker that does returns `true`, is handed its credential at start, and
    /// carries it on every request; the paper broker does when one is configured.
    fn uses_credential(&self) -> bool {
        false
    }

    /// Takes a new credential into use, after checking it with the broker.
    ///
    /// The value is borrowed from a zeroised secret and must not be logged. An
    /// error keeps the credential in use unchanged and fails the rotation.
    async fn rotate_credential(&self, credential: &str) -> Result<(), BrokerError> {
        let _ = credential;
        Ok(())
    }
}
