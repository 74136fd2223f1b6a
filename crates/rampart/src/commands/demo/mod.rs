//! `rampart demo`: two algorithms trade real market data through a live gateway.
//!
//! A gateway starts in-process in a temporary data directory. A momentum
//! algorithm on BTC-USD and a mean-reversion algorithm on USD-JPY derive their
//! orders from the same replayed prices the paper broker uses and send them
//! over HTTPS with the generated CA (verification on). Some orders fill, some
//! are stopped on purpose by the price collar and the notional limit; then the
//! risk desk engages the kill switch, its rejections show, an operator releases
//! it through `rampart killswitch release`'s own code, trading resumes, and the
//! audit log is verified. The run is bounded by `--orders` and checks itself:
//! it exits 1 if any of those outcomes failed to appear.

mod algos;
mod desk;
mod market;
mod report;
mod scenario;
mod trader;

pub use self::market::locate as locate_market_data;

use std::process::ExitCode;

use self::market::NoMarketData;
use self::scenario::Scenario;
use crate::api::ApiError;
use crate::cli::DemoArgs;
use crate::commands::audit::AuditError;
use crate::commands::killswitch::KillSwitchError;
use crate::context::Context;
use crate::sandbox::SandboxError;

/// Orders each algorithm sends while the kill switch is engaged.
const BLOCKED_ORDERS: usize = 3;

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// No market data.
    #[error(transparent)]
    NoMarketData(#[from] NoMarketData),
    /// The market data is malformed.
    #[error(transparent)]
    Market(#[from] rampart_trading::market::MarketError),
    /// An instrument of the demo is missing from the catalog or the data.
    #[error("instrument `{0}` is not configured or has no market data")]
    Instrument(&'static str),
    /// Setting up or stopping the gateway failed.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// A request to the gateway failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The kill switch could not be released.
    #[error(transparent)]
    KillSwitch(#[from] KillSwitchError),
    /// The audit log could not be read.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The gateway's answer to engaging the kill switch has no engagement id.
    #[error("the answer to engaging the kill switch has no `engagement.id`")]
    Engagement,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] rampart_store::StoreError),
}

/// Runs `rampart demo`.
pub async fn run(context: &Context, args: &DemoArgs) -> Result<ExitCode, crate::commands::Error> {
    Ok(demo(context, args).await?)
}

async fn demo(context: &Context, args: &DemoArgs) -> Result<ExitCode, DemoError> {
    let orders = args.orders as usize;
    let mut scenario = Scenario::open(context, args.market_data.as_deref()).await?;

    step(2, &format!("trading: {orders} orders per algorithm"));
    scenario.trade(0..orders).await?;

    step(3, "the risk desk engages the global kill switch");
    let engagement = scenario.halt().await?;
    scenario.trade(orders..orders + BLOCKED_ORDERS).await?;

    step(4, "an operator releases it (`rampart killswitch release`)");
    scenario.release(engagement).await?;

    step(5, "trading resumes");
    scenario
        .trade(orders + BLOCKED_ORDERS..2 * orders + BLOCKED_ORDERS)
        .await?;

    step(6, "winding down: resting orders are cancelled");
    scenario.wind_down().await?;

    step(7, "the gateway stops and the audit log is verified");
    scenario.close(args.keep).await
}

/// Prints the heading of a step.
fn step(number: u32, title: &str) {
    println!("\n▶ {number}. {title}");
}
