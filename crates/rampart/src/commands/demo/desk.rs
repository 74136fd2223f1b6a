//! The demo's trading desk: two accounts, two algorithm clients and a risk desk
//! client owned by its risk officer.
//!
//! Limits are chosen so that the algorithms' ordinary orders pass every
//! control, while their deliberate breaches do not: a price 12% away from the
//! market meets a 5% collar on BTC, an order twenty times the usual size meets
//! the USD/JPY notional limit.

use rampart_core::{InstrumentCatalog, RiskLimits};
use rust_decimal::Decimal;

use crate::commands::account::NewAccount;
use crate::sandbox::{Credentials, Sandbox, SandboxError};

/// The momentum algorithm's account (BTC-USD, in USD).
pub const MOMENTUM_ACCOUNT: &str = "ALGO-MOM";

/// The mean-reversion algorithm's account (USD-JPY, in JPY).
pub const REVERSION_ACCOUNT: &str = "ALGO-MR";

/// The clients of the desk.
pub struct Desk {
    /// The momentum algorithm (trader on `ALGO-MOM`).
    pub momentum: Credentials,
    /// The mean-reversion algorithm (trader on `ALGO-MR`).
    pub reversion: Credentials,
    /// The risk desk (risk manager; engages the kill switch).
    pub risk: Credentials,
}

/// Creates the accounts and clients, printing what was made.
pub async fn set_up(sandbox: &Sandbox, catalog: &InstrumentCatalog) -> Result<Desk, SandboxError> {
    for account in accounts(catalog)? {
        sandbox.add_account(&account).await?;
        println!(
            "  account {:<9} {} {:>12}  max order notional {}, price collar {}%",
            account.id.as_str(),
            account.currency,
            account.cash,
            account.limits.max_order_notional,
            account.limits.price_collar_pct
        );
    }
    let momentum = sandbox
        .add_client("momentum-algo", &["trader"], &[MOMENTUM_ACCOUNT])
        .await?;
    let reversion = sandbox
        .add_client("mean-reversion-algo", &["trader"], &[REVERSION_ACCOUNT])
        .await?;
    // A privileged client answers to a person: the desk's risk officer.
    let officer = sandbox.add_person("risk-officer").await?;
    let risk = sandbox
        .add_owned_client("risk-desk", &["risk_manager"], &officer)
        .await?;
    for (name, client, role) in [
        ("momentum-algo", &momentum, "trader"),
        ("mean-reversion-algo", &reversion, "trader"),
        ("risk-desk", &risk, "risk_manager"),
    ] {
        println!(
            "  client  {:<20} {}  role {role}  (secret held in memory only)",
            name, client.id
        );
    }
    Ok(Desk {
        momentum,
        reversion,
        risk,
    })
}

fn accounts(catalog: &InstrumentCatalog) -> Result<[NewAccount; 2], SandboxError> {
    let momentum = limits(
        catalog,
        "BTC-USD",
        Limits {
            quantity: 5,
            notional: 250_000,
            collar: 5,
            position: 10,
            daily: 10_000_000,
            risk_pct: 5,
        },
    )?;
    let reversion = limits(
        catalog,
        "USD-JPY",
        Limits {
            quantity: 10_000_000,
            notional: 50_000_000,
            collar: 2,
            position: 20_000_000,
            daily: 5_000_000_000,
            risk_pct: 10,
        },
    )?;
    Ok([
        new_account(MOMENTUM_ACCOUNT, "USD", 1_000_000, momentum)?,
        new_account(REVERSION_ACCOUNT, "JPY", 500_000_000, reversion)?,
    ])
}

struct Limits {
    quantity: i64,
    notional: i64,
    collar: i64,
    position: i64,
    daily: i64,
    risk_pct: i64,
}

fn limits(
    catalog: &InstrumentCatalog,
    instrument: &str,
    l: Limits,
) -> Result<RiskLimits, SandboxError> {
    let limits = RiskLimits {
        max_order_quantity: Decimal::from(l.quantity),
        max_order_notional: Decimal::from(l.notional),
        price_collar_pct: Decimal::from(l.collar),
        max_position_quantity: Decimal::from(l.position),
        max_daily_notional: Decimal::from(l.daily),
        max_orders_per_second: 200,
        max_risk_per_trade_pct: Decimal::from(l.risk_pct),
        allowed_instruments: instrument.parse().into_iter().collect(),
        trading_hours: None,
    };
    limits
        .validate(catalog)
        .map_err(crate::limits::LimitsError::from)
        .map_err(crate::commands::account::AccountError::from)?;
    Ok(limits)
}

fn new_account(
    id: &str,
    currency: &str,
    cash: i64,
    limits: RiskLimits,
) -> Result<NewAccount, SandboxError> {
    let id = id
        .parse()
        .map_err(crate::commands::account::AccountError::Id)?;
    Ok(NewAccount {
        id,
        currency: currency.to_owned(),
        cash: Decimal::from(cash),
        limits,
        desk: None,
    })
}
