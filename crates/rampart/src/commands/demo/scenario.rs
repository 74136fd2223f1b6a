//! One run of the demo: the gateway, the desk, the algorithms and their scores.
//!
//! Each method is one phase of the story told by `demo`; every phase prints
//! what happens as it happens. Closing stops the gateway gracefully, verifies
//! the audit log and checks that every promised outcome was shown.

use std::ops::Range;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rampart_core::{InstrumentCatalog, InstrumentId};
use rampart_trading::market::{BTC_USD, MarketData, USD_JPY};
use secrecy::SecretString;
use uuid::Uuid;

use super::algos::{self, Market};
use super::desk::{self, Desk};
use super::market::{Tape, locate};
use super::report;
use super::trader::{Algo, Strategy, Tally};
use super::{DemoError, step};
use crate::api::{Api, ApiError};
use crate::commands::audit::{self, Verdict};
use crate::commands::killswitch::{self, Selection};
use crate::context::Context;
use crate::sandbox::{Credentials, Running, Sandbox};

/// Data seconds replayed per wall second: ten BTC bars a second.
const SPEED: u32 = 600;

/// The pause between two orders of one algorithm, so that the market moves between them.
const PACE: Duration = Duration::from_millis(40);

/// How long a running gateway takes at most to see a release made in the store
/// (it reloads the kill switch every second), with a margin.
const RELOAD_WAIT: Duration = Duration::from_millis(1_300);

/// The two algorithms: name, account, instrument and strategy.
const ALGOS: [(&str, &str, &str, Strategy); 2] = [
    ("momentum", desk::MOMENTUM_ACCOUNT, BTC_USD, algos::momentum),
    (
        "mean-reversion",
        desk::REVERSION_ACCOUNT,
        USD_JPY,
        algos::mean_reversion,
    ),
];

/// A demo in progress.
pub struct Scenario {
    running: Running,
    algos: [Algo; 2],
    tallies: [Tally; 2],
    risk_token: SecretString,
}

impl Scenario {
    /// Step 1: prepares the data directory and the desk, starts the gateway, signs everyone in.
    pub async fn open(context: &Context, market_data: Option<&Path>) -> Result<Self, DemoError> {
        let market_dir = locate(market_data, &context.config().market.data_dir)?;
        let data = MarketData::load_dir(&market_dir)?;

        step(
            1,
            "a gateway with its own CA, in a temporary data directory",
        );
        let sandbox = Sandbox::create(context.config(), market_dir.clone(), SPEED).await?;
        let catalog = sandbox.context().catalog();
        let desk = desk::set_up(&sandbox, &catalog).await?;
        let running = sandbox.start().await?;
        let origin = Instant::now();
        println!(
            "  listening on {} (TLS verified against its generated CA)",
            running.url
        );
        println!("  replaying {} at {SPEED}x", market_dir.display());

        let algos = build_algos(&running.api, &desk, &data, &catalog, origin).await?;
        let risk_token = running.api.token(&desk.risk.id, &desk.risk.secret).await?;
        println!("  tokens issued to both algorithms and to the risk desk");
        let tallies = [Tally::default(), Tally::default()];
        Ok(Self {
            running,
            algos,
            tallies,
            risk_token,
        })
    }

    /// Both algorithms trade the same steps at the same time.
    pub async fn trade(&mut self, steps: Range<usize>) -> Result<(), ApiError> {
        let api = &self.running.api;
        let [first, second] = &mut self.tallies;
        let (a, b) = tokio::join!(
            self.algos[0].trade(api, steps.clone(), PACE, first),
            self.algos[1].trade(api, steps, PACE, second),
        );
        a.and(b)
    }

    /// The risk desk engages the global kill switch; returns the engagement id.
    pub async fn halt(&self) -> Result<Uuid, DemoError> {
        let reason = "demo: risk desk halts all trading";
        let engagement = self
            .running
            .api
            .engage_kill_switch(&self.risk_token, reason)
            .await?;
        let id = engagement
            .pointer("/engagement/id")
            .and_then(|v| v.as_str())
            .and_then(|text| Uuid::try_parse(text).ok())
            .ok_or(DemoError::Engagement)?;
        let cancelled = engagement
            .get("cancelled_orders")
            .and_then(|v| v.as_array())
            .map_or(0, Vec::len);
        println!("  engaged {id} by the risk desk: {reason}");
        println!("  the gateway cancelled {cancelled} open orders at the broker");
        Ok(id)
    }

    /// Releases through the operator command's own code, then waits for the gateway to see it.
    pub async fn release(&self, engagement: Uuid) -> Result<(), DemoError> {
        let reason = "demo: risk reviewed, trading may resume";
        let store = self.running.store();
        for record in killswitch::release(store, Selection::One(engagement), reason).await? {
            println!("  released {} by `operator`: {reason}", record.id);
        }
        tokio::time::sleep(RELOAD_WAIT).await;
        Ok(())
    }

    /// Cancels resting orders and reads every order's final status.
    pub async fn wind_down(&mut self) -> Result<(), ApiError> {
        let api = &self.running.api;
        for (algo, tally) in self.algos.iter().zip(self.tallies.iter_mut()) {
            let cancelled = algo.cancel_open(api).await?;
            println!("  {}: cancelled {cancelled} resting orders", algo.name);
            algo.settle(api, tally).await?;
        }
        Ok(())
    }

    /// Stops the gateway, verifies the audit log, prints the summary and checks the story.
    pub async fn close(self, keep: bool) -> Result<ExitCode, DemoError> {
        let stopped = self.running.stop().await?;
        let audit_events = stopped.store().audit_len().await?;
        let verdict = audit::verify(stopped.store()).await?;

        println!();
        let rows: Vec<(&str, &Tally)> = self
            .algos
            .iter()
            .map(|a| a.name)
            .zip(self.tallies.iter())
            .collect();
        report::print(&rows, audit_events, &verdict);
        if keep {
            let kept = stopped.keep().join("data");
            println!("data directory kept at {}", kept.display());
        }
        let missing = missing_outcomes(&self.tallies, &verdict);
        if missing.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("error: the demo did not show {}", missing.join(", "));
        Ok(ExitCode::FAILURE)
    }
}

/// Builds both algorithms on the replayed market and fetches their tokens.
async fn build_algos(
    api: &Api,
    desk: &Desk,
    data: &MarketData,
    catalog: &InstrumentCatalog,
    origin: Instant,
) -> Result<[Algo; 2], DemoError> {
    let credentials: [&Credentials; 2] = [&desk.momentum, &desk.reversion];
    let mut built = Vec::with_capacity(ALGOS.len());
    for ((name, account, symbol, strategy), credentials) in ALGOS.into_iter().zip(credentials) {
        let missing = || DemoError::Instrument(symbol);
        let id: InstrumentId = symbol.parse().map_err(|_| missing())?;
        let instrument = catalog.get(&id).cloned().ok_or_else(missing)?;
        let series = data.series(&id).cloned().ok_or_else(missing)?;
        let account = account.parse().map_err(|_| missing())?;
        let tape = Tape::new(series, SPEED, origin);
        let market = Market {
            account,
            instrument,
            tape,
        };
        let token = api.token(&credentials.id, &credentials.secret).await?;
        built.push(Algo {
            name,
            market,
            strategy,
            token,
        });
    }
    built.try_into().map_err(|_| DemoError::Instrument(BTC_USD))
}

/// What the demo promised to show and did not.
fn missing_outcomes(tallies: &[Tally; 2], verdict: &Verdict) -> Vec<&'static str> {
    let [momentum, reversion] = tallies;
    let checks = [
        (momentum.filled + reversion.filled > 0, "a filled order"),
        (
            momentum.rejected_with("risk.price_collar") > 0,
            "a price-collar rejection",
        ),
        (
            reversion.rejected_with("risk.max_order_notional") > 0,
            "a notional-limit rejection",
        ),
        (
            momentum.rejected_with("risk.kill_switch") > 0,
            "a kill-switch rejection (momentum)",
        ),
        (
            reversion.rejected_with("risk.kill_switch") > 0,
            "a kill-switch rejection (mean-reversion)",
        ),
        (
            momentum.missed.is_empty() && reversion.missed.is_empty(),
            "every breach stopped",
        ),
        (verdict.is_intact(), "a verified audit log"),
    ];
    checks
        .into_iter()
        .filter(|(shown, _)| !shown)
        .map(|(_, what)| what)
        .collect()
}
