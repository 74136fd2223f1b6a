//! The pre-trade verdict on an order: the kill switch, then every control, in the account's money.
//!
//! Risk limits, equity and the day's notional are in the account's currency,
//! an order's notional in its instrument's. Every amount is converted at the
//! broker's reference prices before it meets a limit (MiFID II RTS 6,
//! Article 15), and an order with no rate to convert it is refused with
//! `risk.no_conversion_rate` rather than checked in the wrong currency. A
//! `trader:` kill switch stops the person's orders and those of every API
//! client they own.

use chrono::{DateTime, Utc};
use rampart_core::{Attribution, InstrumentCatalog, InstrumentId, NewOrder, PlacedByKind};
use rampart_store::{AccountRecord, AccountSnapshot};
use rampart_trading::controls::{self, AccountState, ControlCode, Conversion};
use rampart_trading::{Broker, Engagement, OrderContext, Rejection};
use rust_decimal::Decimal;

use crate::state::AppState;

/// What the order's transaction read for its controls.
pub struct Inputs<'a> {
    /// The account the order is for.
    pub account: &'a AccountRecord,
    /// Cash, positions and counts, with working orders added to the position.
    pub snapshot: &'a AccountSnapshot,
    /// The day's notional per instrument, each in its instrument's currency.
    pub daily_by_instrument: &'a [(InstrumentId, Decimal)],
    /// The time of the decision.
    pub now: DateTime<Utc>,
    /// Who and what places the order, for the kill switch scopes.
    pub by: &'a Attribution,
    /// The person who owns the placing client, whom a `trader:` scope also stops.
    pub person: Option<&'a str>,
}

/// Runs the kill switch and every control; an accepted order gets the reference price used.
pub fn check(
    state: &AppState,
    order: &NewOrder,
    inputs: &Inputs<'_>,
) -> Result<Decimal, Rejection> {
    if let Some(engagement) = blocking(state, order, inputs) {
        return Err(Rejection::kill_switch(&engagement));
    }

    let prices = Prices::read(state.broker(), &order.instrument);
    let price_of = |instrument: &InstrumentId| prices.of(instrument);
    let account_state = account_state(&state.catalog, inputs, &price_of)?;
    let instrument_currency = currency_of(&state.catalog, &order.instrument)
        .ok_or_else(|| unknown_currency(&order.instrument))?;
    let conversion = Conversion {
        instrument_currency: &instrument_currency,
        account_currency: &inputs.account.currency,
        price_of: &price_of,
    };

    let limits = &inputs.account.limits;
    controls::check_in_currency(
        order,
        limits,
        &account_state,
        prices.reference,
        inputs.now,
        &conversion,
    )?;
    Ok(prices.reference)
}

/// An engagement that stops the order, as placed or as placed by the person behind it.
fn blocking(state: &AppState, order: &NewOrder, inputs: &Inputs<'_>) -> Option<Engagement> {
    let placed = OrderContext {
        account: &order.account_id,
        instrument: &order.instrument,
        placed_by: &inputs.by.placed_by,
        kind: inputs.by.placed_by_kind,
    };
    blocking_as(state, placed, inputs.person)
}

/// An engagement that stops the order `placed`, seen also as placed by `person`, if any.
///
/// Seen as the owner's own order, it can match only what the order matches
/// already, plus a `trader:` scope naming that owner. Placement and restart
/// recovery both ask here, so a recovered order is stopped exactly as a new one.
pub fn blocking_as(
    state: &AppState,
    placed: OrderContext<'_>,
    person: Option<&str>,
) -> Option<Engagement> {
    state.kill_switch.blocking(&placed).or_else(|| {
        let as_person = OrderContext {
            placed_by: person?,
            kind: PlacedByKind::User,
            ..placed
        };
        state.kill_switch.blocking(&as_person)
    })
}

/// The order's own reference price, read once, and the broker for every other.
///
/// Reading the order's price once means the controls, the conversion and the
/// recorded `check_price` all use the same figure while the replay moves on.
struct Prices<'a> {
    broker: &'a dyn Broker,
    instrument: &'a InstrumentId,
    reference: Decimal,
}

impl<'a> Prices<'a> {
    fn read(broker: &'a dyn Broker, instrument: &'a InstrumentId) -> Self {
        let reference = broker.reference_price(instrument).unwrap_or(Decimal::ZERO);
        Self {
            broker,
            instrument,
            reference,
        }
    }

    fn of(&self, instrument: &InstrumentId) -> Option<Decimal> {
        if instrument == self.instrument {
            return Some(self.reference).filter(|price| *price > Decimal::ZERO);
        }
        self.broker.reference_price(instrument)
    }
}

/// Equity and the day's notional converted into the account's currency, with the counts.
fn account_state(
    catalog: &InstrumentCatalog,
    inputs: &Inputs<'_>,
    price_of: &dyn Fn(&InstrumentId) -> Option<Decimal>,
) -> Result<AccountState, Rejection> {
    let currency = inputs.account.currency.as_str();
    let currency_of = |instrument: &InstrumentId| currency_of(catalog, instrument);
    let snapshot = inputs.snapshot;
    let positions: Vec<_> = snapshot
        .positions
        .iter()
        .map(|p| (p.instrument.clone(), p.quantity))
        .collect();

    let equity =
        controls::equity_in_currency(snapshot.cash, &positions, currency, currency_of, price_of)?;
    let daily_notional = controls::daily_notional_in_currency(
        inputs.daily_by_instrument,
        currency,
        currency_of,
        price_of,
    )?;
    Ok(AccountState {
        equity,
        position: snapshot.position_in_instrument,
        daily_notional,
        orders_in_last_second: snapshot.orders_in_last_second,
    })
}

/// The currency `instrument` is priced in, if the catalog knows it.
pub fn currency_of(catalog: &InstrumentCatalog, instrument: &InstrumentId) -> Option<String> {
    catalog.get(instrument).map(|known| known.currency.clone())
}

/// The rejection for an instrument whose currency the catalog does not know.
pub fn unknown_currency(instrument: &InstrumentId) -> Rejection {
    Rejection::new(
        ControlCode::NoConversion,
        format!("the currency of `{instrument}` is not known"),
    )
}
