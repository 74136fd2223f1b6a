//! Instruments and the catalog of those a gateway trades.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{FieldError, FieldErrorKind};
use crate::ids::InstrumentId;

/// A tradable instrument: its price increment, quantity increment and currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    /// The symbol, such as `BTC-USD`.
    pub id: InstrumentId,
    /// The smallest price increment; every limit price is a multiple of it.
    pub tick_size: Decimal,
    /// The smallest quantity increment; every quantity is a multiple of it.
    pub lot_size: Decimal,
    /// The currency of prices and notional, such as `USD`.
    pub currency: String,
}

impl Instrument {
    /// Whether `price` is a whole number of ticks.
    pub fn on_tick(&self, price: Decimal) -> bool {
        is_multiple(price, self.tick_size)
    }

    /// Whether `quantity` is a whole number of lots.
    pub fn on_lot(&self, quantity: Decimal) -> bool {
        is_multiple(quantity, self.lot_size)
    }
}

fn is_multiple(value: Decimal, step: Decimal) -> bool {
    !step.is_zero() && value.checked_rem(step).is_some_and(|rest| rest.is_zero())
}

/// The instruments configured on this gateway, by symbol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstrumentCatalog {
    instruments: BTreeMap<InstrumentId, Instrument>,
}

impl InstrumentCatalog {
    /// Builds a catalog; a later instrument with the same symbol replaces an earlier one.
    pub fn new(instruments: impl IntoIterator<Item = Instrument>) -> Self {
        let instruments = instruments.into_iter().map(|i| (i.id.clone(), i)).collect();
        Self { instruments }
    }

    /// Looks an instrument up by symbol.
    pub fn get(&self, id: &InstrumentId) -> Option<&Instrument> {
        self.instruments.get(id)
    }

    /// Looks an instrument up by the symbol as sent by a client.
    pub fn resolve(&self, field: &'static str, symbol: &str) -> Result<&Instrument, FieldError> {
        let id: InstrumentId = symbol.parse().map_err(|_| unknown(field))?;
        self.get(&id).ok_or_else(|| unknown(field))
    }

    /// Every instrument, in symbol order.
    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.instruments.values()
    }
}

fn unknown(field: &'static str) -> FieldError {
    FieldError::new(field, FieldErrorKind::UnknownInstrument)
}
