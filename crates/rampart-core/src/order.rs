//! Orders: the request a client sends, the validated order, and its record.
//!
//! `OrderRequest` is what arrives on the wire: unknown fields are refused and
//! prices and quantities are strings. `OrderRequest::validate` turns it into a
//! `NewOrder` against the instrument catalog, or names the field that is wrong.

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::attribution::{Attribution, PlacedByKind, parse_label};
use crate::decimal::{Price, Quantity, parse_positive};
use crate::error::{FieldError, FieldErrorKind};
use crate::ids::{AccountId, ClientOrderId, InstrumentId, OrderId};
use crate::instrument::{Instrument, InstrumentCatalog};

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

/// Market or limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderType {
    /// Fill now at the reference price.
    Market,
    /// Fill at the limit price or better.
    Limit,
}

/// How long an order stays working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeInForce {
    /// Good till cancelled: rests until filled or cancelled.
    Gtc,
    /// Immediate or cancel: whatever cannot fill at once is cancelled.
    Ioc,
}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Refused by a control; kept as a record.
    Rejected,
    /// Accepted and working at the broker.
    Open,
    /// Executed in full.
    Filled,
    /// Withdrawn before it filled.
    Cancelled,
}

impl OrderStatus {
    /// The status as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rejected => "rejected",
            Self::Open => "open",
            Self::Filled => "filled",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a stored status.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Rejected, Self::Open, Self::Filled, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// Whether the order can still fill or be cancelled.
    pub fn is_working(self) -> bool {
        self == Self::Open
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! wire_names {
    ($($ty:ident { $($variant:ident => $name:literal),+ })+) => {$(
        impl $ty {
            /// The name used on the wire and in storage.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }

            /// Parses a stored name.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($name => Some(Self::$variant),)+ _ => None }
            }
        }
    )+};
}

wire_names! {
    Side { Buy => "buy", Sell => "sell" }
    OrderType { Market => "market", Limit => "limit" }
    TimeInForce { Gtc => "gtc", Ioc => "ioc" }
}

/// An order as a client sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// The account to trade on.
    pub account_id: AccountId,
    /// The instrument symbol.
    pub instrument: String,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    #[serde(rename = "type")]
    pub order_type: OrderType,
    /// The quantity, as a decimal string.
    pub quantity: String,
    /// The limit price, as a decimal string; required for limit orders, refused for market.
    #[serde(default)]
    pub limit_price: Option<String>,
    /// Defaults to `gtc` for limit orders and `ioc` for market orders.
    #[serde(default)]
    pub time_in_force: Option<TimeInForce>,
    /// The client's own id; the same id with the same body returns the original order.
    #[serde(default)]
    pub client_order_id: Option<ClientOrderId>,
    /// The algorithm behind the order; only an API client may name one.
    #[serde(default)]
    pub algo_id: Option<String>,
}

/// A validated order, ready for the pre-trade controls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewOrder {
    /// The account to trade on.
    pub account_id: AccountId,
    /// The instrument, known to the catalog.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub order_type: OrderType,
    /// A positive whole number of lots.
    pub quantity: Quantity,
    /// For limit orders, a positive whole number of ticks.
    pub limit_price: Option<Price>,
    /// How long the order works.
    pub time_in_force: TimeInForce,
    /// The client's own id, if given.
    pub client_order_id: Option<ClientOrderId>,
}

impl OrderRequest {
    /// Checks the request against the catalog and returns the order it describes.
    pub fn validate(&self, catalog: &InstrumentCatalog) -> Result<NewOrder, FieldError> {
        let instrument = catalog.resolve("instrument", &self.instrument)?;
        let quantity = self.quantity_on_lot(instrument)?;
        let limit_price = self.limit_price_on_tick(instrument)?;
        let time_in_force = self.time_in_force()?;

        Ok(NewOrder {
            account_id: self.account_id.clone(),
            instrument: instrument.id.clone(),
            side: self.side,
            order_type: self.order_type,
            quantity,
            limit_price,
            time_in_force,
            client_order_id: self.client_order_id.clone(),
        })
    }

    /// The algorithm the request names, checked to be 1 to 64 safe characters.
    pub fn requested_algo_id(&self) -> Result<Option<String>, FieldError> {
        self.algo_id
            .as_deref()
            .map(|text| parse_label("algo_id", text))
            .transpose()
    }

    /// The quantity: positive and a whole number of the instrument's lots.
    fn quantity_on_lot(&self, instrument: &Instrument) -> Result<Quantity, FieldError> {
        let quantity = parse_positive("quantity", &self.quantity)?;
        if !instrument.on_lot(quantity) {
            return Err(FieldError::new(
                "quantity",
                FieldErrorKind::OffIncrement(instrument.lot_size.normalize().to_string()),
            ));
        }
        Quantity::new(quantity).ok_or(FieldError::new("quantity", FieldErrorKind::NotPositive))
    }

    /// The limit price: required and on the tick for limit orders, refused for market orders.
    fn limit_price_on_tick(&self, instrument: &Instrument) -> Result<Option<Price>, FieldError> {
        let text = match (self.order_type, &self.limit_price) {
            (OrderType::Market, None) => return Ok(None),
            (OrderType::Market, Some(_)) => {
                return Err(FieldError::new(
                    "limit_price",
                    FieldErrorKind::NotAllowed("for market orders"),
                ));
            }
            (OrderType::Limit, None) => {
                return Err(FieldError::new("limit_price", FieldErrorKind::Missing));
            }
            (OrderType::Limit, Some(text)) => text,
        };
        let price = parse_positive("limit_price", text)?;
        if !instrument.on_tick(price) {
            return Err(FieldError::new(
                "limit_price",
                FieldErrorKind::OffIncrement(instrument.tick_size.normalize().to_string()),
            ));
        }
        Price::new(price)
            .map(Some)
            .ok_or(FieldError::new("limit_price", FieldErrorKind::NotPositive))
    }

    /// The time in force: `ioc` for market orders, `gtc` by default for limit orders.
    fn time_in_force(&self) -> Result<TimeInForce, FieldError> {
        match (self.order_type, self.time_in_force) {
            (OrderType::Market, None | Some(TimeInForce::Ioc)) => Ok(TimeInForce::Ioc),
            (OrderType::Market, Some(TimeInForce::Gtc)) => Err(FieldError::new(
                "time_in_force",
                FieldErrorKind::NotAllowed("as `gtc` for market orders"),
            )),
            (OrderType::Limit, tif) => Ok(tif.unwrap_or(TimeInForce::Gtc)),
        }
    }
}

/// The gateway's record of an order, accepted or rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The gateway's id.
    pub id: OrderId,
    /// The client's own id, if given.
    pub client_order_id: Option<ClientOrderId>,
    /// The account.
    pub account_id: AccountId,
    /// The instrument.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    #[serde(rename = "type")]
    pub order_type: OrderType,
    /// The ordered quantity.
    pub quantity: Quantity,
    /// The limit price, for limit orders.
    pub limit_price: Option<Price>,
    /// How long the order works.
    pub time_in_force: TimeInForce,
    /// Where the order is in its life.
    pub status: OrderStatus,
    /// How much has been executed.
    pub filled_quantity: Decimal,
    /// The average price of what has been executed.
    pub average_fill_price: Option<Decimal>,
    /// For a rejected order, the stable code of the control that refused it.
    pub reject_code: Option<String>,
    /// For a rejected order, why, in words.
    pub reject_reason: Option<String>,
    /// The opaque id of the person or client that placed it.
    pub placed_by: String,
    /// Whether a person or an API client placed it.
    pub placed_by_kind: PlacedByKind,
    /// The algorithm behind it; none for a person acting by hand.
    pub algo_id: Option<String>,
    /// The desk of its account, if the account names one.
    pub desk: Option<String>,
    /// The version of the account's risk limits it was checked against.
    pub limits_version: Option<i64>,
    /// When the gateway received it (UTC).
    pub created_at: DateTime<Utc>,
    /// When it last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

impl Order {
    /// The record of `order`, received at `now` and attributed to `by`, in `status`.
    pub fn from_new(
        id: OrderId,
        order: &NewOrder,
        by: &Attribution,
        status: OrderStatus,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            client_order_id: order.client_order_id.clone(),
            account_id: order.account_id.clone(),
            instrument: order.instrument.clone(),
            side: order.side,
            order_type: order.order_type,
            quantity: order.quantity,
            limit_price: order.limit_price,
            time_in_force: order.time_in_force,
            status,
            filled_quantity: Decimal::ZERO,
            average_fill_price: None,
            reject_code: None,
            reject_reason: None,
            placed_by: by.placed_by.clone(),
            placed_by_kind: by.placed_by_kind,
            algo_id: by.algo_id.clone(),
            desk: by.desk.clone(),
            limits_version: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether this record describes the same order as `order` (for idempotent retries).
    pub fn matches(&self, order: &NewOrder) -> bool {
        self.account_id == order.account_id
            && self.instrument == order.instrument
            && self.side == order.side
            && self.order_type == order.order_type
            && self.quantity == order.quantity
            && self.limit_price == order.limit_price
            && self.time_in_force == order.time_in_force
    }
}
