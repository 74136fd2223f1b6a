//! The paper broker: executes orders against replayed historical prices.
//!
//! A replay clock maps wall-clock time to data time: `speed` seconds of data
//! pass per wall second, from `start` (or each series' first price), and each
//! series starts again after its last price has held for [`WRAP_HOLD`]. Every
//! series is replayed on its own: `start` applies to the series that cover
//! it, the others begin at their first price.
//!
//! Market orders fill at once at the reference price. Limit orders that are
//! marketable (buy at or above the reference, sell at or below it) fill at
//! once at the reference price; the others rest (`gtc`) or are cancelled
//! (`ioc`). A resting order fills at its limit price, in full, as soon as a
//! replayed price reaches it after it was placed, and the fill is sent on the
//! channel given to [`PaperBroker::new`]. The broker keeps no positions or
//! cash: the gateway's store does.
//!
//! Built [`with_credential`](PaperBroker::with_credential), the broker behaves
//! as a venue with an API key: every submission and cancellation carries the
//! credential and is refused when the venue no longer accepts it, and
//! [`Broker::rotate_credential`] moves it through the venue's two key slots
//! (see [`crate::credential`]).
//!
//! [`WRAP_HOLD`]: crate::market::WRAP_HOLD

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use rampart_core::{InstrumentId, Order, OrderId, OrderType, Side, TimeInForce};
use rust_decimal::Decimal;
use secrecy::SecretString;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::broker::{Broker, BrokerError, Execution, Fill, OrderPredicate};
use crate::clock::{Clock, SystemClock};
use crate::credential::CredentialGate;
use crate::market::{MarketData, Series};

/// How often [`PaperBroker::run`] advances the replay.
pub const TICK_INTERVAL: Duration = Duration::from_millis(50);

/// The data seconds replayed per wall second unless configured otherwise.
pub const DEFAULT_SPEED: u32 = 60;

/// How the historical prices are replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayConfig {
    /// The data time to start at; each series' first price when absent.
    pub start: Option<DateTime<Utc>>,
    /// Data seconds per wall second; `0` freezes the prices at `start`.
    pub speed: u32,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        Self {
            start: None,
            speed: DEFAULT_SPEED,
        }
    }
}

/// A broker that executes against replayed market data.
pub struct PaperBroker {
    market: Arc<MarketData>,
    config: ReplayConfig,
    clock: Arc<dyn Clock>,
    origin: DateTime<Utc>,
    fills: mpsc::Sender<Fill>,
    resting: Mutex<BTreeMap<OrderId, Resting>>,
    credential: Option<CredentialGate>,
}

/// A resting limit order and how far through the replay it has been checked.
struct Resting {
    order: Order,
    limit: Decimal,
    /// Replay position (microseconds of data) up to which prices were compared.
    checked_to: i128,
}

impl PaperBroker {
    /// A paper broker on the system clock; later fills are sent on `fills`.
    pub fn new(
        market: impl Into<Arc<MarketData>>,
        config: ReplayConfig,
        fills: mpsc::Sender<Fill>,
    ) -> Self {
        Self::with_clock(market, config, fills, Arc::new(SystemClock))
    }

    /// A paper broker on `clock`; the replay starts at the clock's current time.
    pub fn with_clock(
        market: impl Into<Arc<MarketData>>,
        config: ReplayConfig,
        fills: mpsc::Sender<Fill>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let origin = clock.now();
        let resting = Mutex::new(BTreeMap::new());
        Self {
            market: market.into(),
            config,
            clock,
            origin,
            fills,
            resting,
            credential: None,
        }
    }

    /// The same broker, requiring `credential` on every request; a rotated-out
    /// credential stays accepted for `grace`.
    pub fn with_credential(
        mut self,
        credential: SecretString,
        grace: Duration,
    ) -> Result<Self, BrokerError> {
        let gate = CredentialGate::new(credential, grace, Arc::clone(&self.clock))?;
        self.credential = Some(gate);
        Ok(self)
    }

    /// The venue's check of a request's credential; `Ok` when the broker needs none.
    pub fn check_credential(&self, presented: &SecretString) -> Result<(), BrokerError> {
        self.credential
            .as_ref()
            .map_or(Ok(()), |gate| gate.check(presented))
    }

    /// Checks the credential every request carries, when the broker needs one.
    fn authenticate(&self) -> Result<(), BrokerError> {
        self.credential
            .as_ref()
            .map_or(Ok(()), CredentialGate::authenticate)
    }

    /// The data time being replayed for `instrument` now.
    pub fn data_time(&self, instrument: &InstrumentId) -> Option<DateTime<Utc>> {
        let series = self.market.series(instrument)?;
        let offset = series.wrap(self.position(series, self.clock.now()));
        Some(series.first_time() + TimeDelta::microseconds(offset))
    }

    /// The resting orders, oldest first.
    pub fn resting_orders(&self) -> Vec<Order> {
        self.lock().values().map(|r| r.order.clone()).collect()
    }

    /// Advances the replay once: fills every resting order the prices reached.
    ///
    /// Returns how many fills were sent. While nobody receives fills, orders
    /// keep resting.
    pub async fn tick(&self) -> usize {
        if self.fills.is_closed() {
            return 0;
        }
        let fills = self.crossed_orders(self.clock.now());
        let count = fills.len();
        for fill in fills {
            let order_id = fill.order_id;
            if self.fills.send(fill).await.is_err() {
                tracing::error!(%order_id, "fill of a resting order lost: the fill channel closed");
            }
        }
        count
    }

    /// Ticks every [`TICK_INTERVAL`] until `shutdown` is cancelled or the fill channel closes.
    pub async fn run(&self, shutdown: CancellationToken) {
        let mut interval = tokio::time::interval(TICK_INTERVAL);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = interval.tick() => {}
            }
            if self.fills.is_closed() {
                tracing::error!("paper broker stopped: nobody receives its fills");
                break;
            }
            self.tick().await;
        }
    }

    /// Replay position of `series` at `now`: microseconds of data since its first price.
    fn position(&self, series: &Series, now: DateTime<Utc>) -> i128 {
        let start = self
            .config
            .start
            .and_then(|start| series.offset_of(start))
            .unwrap_or(0);
        let elapsed = (now - self.origin)
            .num_microseconds()
            .unwrap_or(i64::MAX)
            .max(0);
        i128::from(start) + i128::from(elapsed) * i128::from(self.config.speed)
    }

    fn crossed_orders(&self, now: DateTime<Utc>) -> Vec<Fill> {
        let mut resting = self.lock();
        let mut filled = Vec::new();
        for (order_id, entry) in resting.iter_mut() {
            let Some(series) = self.market.series(&entry.order.instrument) else {
                continue;
            };
            let to = self.position(series, now);
            if let Some((low, high)) = series.extremes(entry.checked_to, to) {
                let best = match entry.order.side {
                    Side::Buy => low,
                    Side::Sell => high,
                };
                if marketable(entry.order.side, entry.limit, best) {
                    filled.push(*order_id);
                }
            }
            entry.checked_to = entry.checked_to.max(to);
        }
        filled
            .iter()
            .filter_map(|id| resting.remove(id))
            .filter_map(|entry| {
                let quantity = remaining(&entry.order)?;
                Some(fill(&entry.order, quantity, entry.limit, now))
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<OrderId, Resting>> {
        self.resting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Broker for PaperBroker {
    fn reference_price(&self, instrument: &InstrumentId) -> Option<Decimal> {
        let series = self.market.series(instrument)?;
        series.price_at_offset(series.wrap(self.position(series, self.clock.now())))
    }

    async fn submit(&self, order: &Order) -> Result<Execution, BrokerError> {
        self.authenticate()?;
        let no_price = || BrokerError::NoReferencePrice(order.instrument.clone());
        let series = self.market.series(&order.instrument).ok_or_else(no_price)?;
        let now = self.clock.now();
        let position = self.position(series, now);
        let reference = series
            .price_at_offset(series.wrap(position))
            .ok_or_else(no_price)?;

        let mut resting = self.lock();
        if resting.contains_key(&order.id) {
            return Err(BrokerError::DuplicateOrder(order.id));
        }
        let quantity = remaining(order).ok_or(BrokerError::NotWorking(order.id))?;
        let filled = || Execution::Filled(fill(order, quantity, reference, now));
        match limit_of(order)? {
            None => Ok(filled()),
            Some(limit) if marketable(order.side, limit, reference) => Ok(filled()),
            Some(_) if order.time_in_force == TimeInForce::Ioc => Ok(Execution::Cancelled),
            Some(limit) => {
                let entry = Resting {
                    order: order.clone(),
                    limit,
                    checked_to: position,
                };
                resting.insert(order.id, entry);
                Ok(Execution::Resting)
            }
        }
    }

    async fn cancel(&self, order_id: OrderId) -> Result<bool, BrokerError> {
        self.authenticate()?;
        Ok(self.lock().remove(&order_id).is_some())
    }

    async fn cancel_where(
        &self,
        predicate: &OrderPredicate<'_>,
    ) -> Result<Vec<OrderId>, BrokerError> {
        self.authenticate()?;
        let mut resting = self.lock();
        let chosen: Vec<OrderId> = resting
            .iter()
            .filter(|(_, r)| predicate(&r.order))
            .map(|(id, _)| *id)
            .collect();
        for id in &chosen {
            resting.remove(id);
        }
        Ok(chosen)
    }

    fn uses_credential(&self) -> bool {
        self.credential.is_some()
    }

    async fn rotate_credential(&self, credential: &str) -> Result<(), BrokerError> {
        let gate = self.credential.as_ref().ok_or_else(|| {
            BrokerError::CredentialRefused("this paper broker takes no credential".into())
        })?;
        gate.rotate(credential)?;
        // The venue has taken it: a request carrying the new credential passes.
        gate.authenticate()
    }
}

/// The limit price of a limit order; `None` for a market order.
fn limit_of(order: &Order) -> Result<Option<Decimal>, BrokerError> {
    match (order.order_type, order.limit_price) {
        (OrderType::Market, _) => Ok(None),
        (OrderType::Limit, Some(limit)) => Ok(Some(limit.value())),
        (OrderType::Limit, None) => Err(BrokerError::MissingLimitPrice(order.id)),
    }
}

/// What is left to execute of an open `order`, if anything.
fn remaining(order: &Order) -> Option<Decimal> {
    let left = order.quantity.value().checked_sub(order.filled_quantity)?;
    (order.status.is_working() && left > Decimal::ZERO).then_some(left)
}

/// Whether a limit order can execute at once against `reference`.
fn marketable(side: Side, limit: Decimal, reference: Decimal) -> bool {
    match side {
        Side::Buy => limit >= reference,
        Side::Sell => limit <= reference,
    }
}

/// The fill of `quantity` of `order` at `price`.
fn fill(order: &Order, quantity: Decimal, price: Decimal, time: DateTime<Utc>) -> Fill {
    Fill {
        order_id: order.id,
        account_id: order.account_id.clone(),
        instrument: order.instrument.clone(),
        side: order.side,
        quantity,
        price,
        time,
    }
}

#[cfg(test)]
#[path = "paper_tests.rs"]
mod tests;
