//! Domain types of the Rampart gateway and their validation.
//!
//! Everything here is pure: no I/O, no clocks, no randomness. Input from the
//! outside world becomes a typed value once, at the edge, through the parsers
//! of this crate (`OrderRequest` ▶ `NewOrder`); code further in never
//! re-checks strings. Money and quantities are [`rust_decimal::Decimal`],
//! never floating point.

pub mod attribution;
pub mod decimal;
pub mod error;
pub mod ids;
pub mod instrument;
pub mod kill_scope;
pub mod limits;
pub mod limits_caps;
pub mod limits_change;
pub mod order;
pub mod principal;
pub mod printable;
pub mod role;

pub use attribution::{Attribution, PlacedByKind};
pub use decimal::{Price, Quantity};
pub use error::{FieldError, FieldErrorKind};
pub use ids::{AccountId, ClientOrderId, InstrumentId, OrderId};
pub use instrument::{Instrument, InstrumentCatalog};
pub use kill_scope::{KillSwitchScope, KillSwitchScopeError, OrderContext};
pub use limits::{RiskLimits, TradingHours};
pub use limits_caps::{CapBreach, CapExceeded, LimitCaps};
pub use limits_change::{Classification, LimitsChange, classify};
pub use order::{NewOrder, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce};
pub use principal::{Principal, PrincipalKind};
pub use role::{Role, RoleSet, SodConflict};
