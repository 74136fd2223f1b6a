//! Pre-trade controls, kill switch and the paper broker of the Rampart gateway.
//!
//! - [`controls`]: the per-account pre-trade checks of MiFID II RTS 6, Article 15.
//! - [`conversion`]: notional moved into the account's currency at reference prices.
//! - [`killswitch`]: engagements that stop trading (RTS 6, Article 12).
//! - [`execution_guard`]: too many fills of one algorithm switch it off (RTS 6, Article 15).
//! - [`broker`]: the `Broker` trait that executes accepted orders.
//! - [`credential`]: the broker credential the venue checks on every request.
//! - [`market`]: historical prices, read as decimals.
//! - [`paper`]: a broker that executes against replayed prices.
//! - [`clock`]: the injectable source of wall-clock time.
//!
//! Nothing here keeps positions or cash; the gateway's store does, in the same
//! transaction as the audit event of each change.

pub mod broker;
pub mod clock;
pub mod controls;
pub mod conversion;
pub mod credential;
pub mod execution_guard;
pub mod killswitch;
pub mod market;
pub mod paper;

pub use broker::{Broker, BrokerError, Execution, Fill};
pub use clock::{Clock, SystemClock};
pub use controls::{AccountState, ControlCode, Rejection};
pub use conversion::{Conversion, convert, daily_notional_in_currency, equity_in_currency};
pub use credential::CredentialGate;
pub use killswitch::{Engagement, EngagementId, KillSwitch, KillSwitchScope, OrderContext};
pub use market::{MarketData, default_instruments};
pub use paper::{PaperBroker, ReplayConfig};
