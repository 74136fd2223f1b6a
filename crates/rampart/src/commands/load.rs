//! `rampart load`: the gateway's benchmark — N orders at concurrency C over HTTPS.
//!
//! An in-process gateway with every control on (authentication, Cedar
//! policy, validation, pre-trade controls, the durable store with its audit
//! chain, the paper broker) takes marketable BTC-USD limit orders from
//! several trader clients at once. The run is bounded by `--orders`; it
//! reports throughput and the latency distribution (hdrhistogram) of a whole
//! order round trip as the client sees it. Speed is measured here, never in a
//! timed test.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use comfy_table::{Table, presets};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use rampart_core::{AccountId, OrderRequest, OrderType, RiskLimits, Side, TimeInForce};
use rampart_trading::market::{BTC_USD, MarketData};
use rust_decimal::Decimal;
use secrecy::SecretString;

use crate::api::{Api, ApiError, Placement};
use crate::cli::LoadArgs;
use crate::commands::account::NewAccount;
use crate::commands::baseline;
use crate::commands::demo::locate_market_data;
use crate::context::Context;
use crate::logging::stderr_is_terminal;
use crate::sandbox::{Sandbox, SandboxError};

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Setting up the gateway failed.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// Market data is missing or malformed.
    #[error("{0}")]
    Market(String),
    /// A request failed outright (not a refusal: a transport or TLS failure).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The storage baseline could not be measured.
    #[error("storage baseline: {0}")]
    Baseline(String),
    /// The latency histogram could not be built.
    #[error("latency histogram: {0}")]
    Histogram(String),
}

/// One worker's measurements.
struct Measured {
    latency: Histogram<u64>,
    outcomes: BTreeMap<String, u64>,
}

/// Runs `rampart load`.
pub async fn run(context: &Context, args: &LoadArgs) -> Result<(), crate::commands::Error> {
    Ok(load(context, args).await?)
}

async fn load(context: &Context, args: &LoadArgs) -> Result<(), LoadError> {
    let market_dir = locate_market_data(
        args.market_data.as_deref(),
        &context.config().market.data_dir,
    )
    .map_err(|e| LoadError::Market(e.to_string()))?;
    let reference = reference_price(&market_dir)?;
    let sandbox = Sandbox::create(context.config(), market_dir, 1).await?;
    let traders = set_up(&sandbox, args.clients).await?;
    let baseline = storage_baseline(sandbox.path()).await?;
    let running = sandbox.start().await?;

    let mut tokens = Vec::with_capacity(traders.len());
    for (account, credentials) in &traders {
        tokens.push((
            account.clone(),
            running
                .api
                .token(&credentials.id, &credentials.secret)
                .await?,
        ));
    }
    let (orders, concurrency) = (args.orders, args.concurrency);
    tracing::info!(orders, concurrency, url = %running.url, "load started");

    let started = Instant::now();
    let measured = drive(&running.api, Arc::new(tokens), reference, args).await?;
    let elapsed = started.elapsed();
    running.stop().await?;
    report(args, elapsed, &measured, baseline)
}

/// The data directory's durable writes per second, measured before the orders flow.
async fn storage_baseline(dir: &std::path::Path) -> Result<f64, LoadError> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        baseline::durable_writes_per_second(&dir, Duration::from_secs(2))
    })
    .await
    .map_err(|e| LoadError::Baseline(e.to_string()))?
    .map_err(|e| LoadError::Baseline(e.to_string()))
}

/// The first BTC-USD price of the replay, which holds for the first minute of data.
fn reference_price(dir: &std::path::Path) -> Result<Decimal, LoadError> {
    let data = MarketData::load_dir(dir).map_err(|e| LoadError::Market(e.to_string()))?;
    let id = BTC_USD
        .parse()
        .map_err(|_| LoadError::Market("no BTC-USD".into()))?;
    let series = data
        .series(&id)
        .ok_or_else(|| LoadError::Market("no BTC-USD series".into()))?;
    series
        .price_at(series.first_time())
        .ok_or_else(|| LoadError::Market("no BTC-USD price".into()))
}

/// Creates one account and one trader client per worker group.
async fn set_up(
    sandbox: &Sandbox,
    clients: u32,
) -> Result<Vec<(AccountId, crate::sandbox::Credentials)>, LoadError> {
    let catalog = sandbox.context().catalog();
    let mut traders = Vec::new();
    for index in 1..=clients {
        let id: AccountId = format!("LOAD-{index}")
            .parse()
            .map_err(|_| LoadError::Market("account id".into()))?;
        let mut limits: RiskLimits = crate::limits::defaults(&catalog);
        limits.max_orders_per_second = rampart_core::limits::MAX_ORDERS_PER_SECOND;
        limits.max_daily_notional = Decimal::from(1_000_000_000_000_i64);
        limits.max_risk_per_trade_pct = Decimal::ONE;
        let account = NewAccount {
            id: id.clone(),
            currency: "USD".into(),
            cash: Decimal::from(10_000_000),
            limits,
            desk: None,
        };
        sandbox.add_account(&account).await?;
        let credentials = sandbox
            .add_client(&format!("load-{index}"), &["trader"], &[id.as_str()])
            .await?;
        traders.push((id, credentials));
    }
    Ok(traders)
}

/// Runs `concurrency` workers until `orders` have been sent.
async fn drive(
    api: &Api,
    tokens: Arc<Vec<(AccountId, SecretString)>>,
    reference: Decimal,
    args: &LoadArgs,
) -> Result<Measured, LoadError> {
    let next = Arc::new(AtomicU64::new(0));
    let progress = Arc::new(Progress::new(args.orders));
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (api, tokens, next, progress) =
            (api.clone(), tokens.clone(), next.clone(), progress.clone());
        let total = args.orders;
        workers.push(tokio::spawn(async move {
            worker(api, tokens, next, total, reference, progress).await
        }));
    }
    let mut merged = Measured {
        latency: histogram()?,
        outcomes: BTreeMap::new(),
    };
    for worker in workers {
        let measured = worker
            .await
            .map_err(|e| LoadError::Histogram(e.to_string()))??;
        merged
            .latency
            .add(&measured.latency)
            .map_err(|e| LoadError::Histogram(e.to_string()))?;
        for (outcome, count) in measured.outcomes {
            *merged.outcomes.entry(outcome).or_default() += count;
        }
    }
    progress.finish();
    Ok(merged)
}

async fn worker(
    api: Api,
    tokens: Arc<Vec<(AccountId, SecretString)>>,
    next: Arc<AtomicU64>,
    total: u64,
    reference: Decimal,
    progress: Arc<Progress>,
) -> Result<Measured, LoadError> {
    let mut measured = Measured {
        latency: histogram()?,
        outcomes: BTreeMap::new(),
    };
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        if index >= total {
            return Ok(measured);
        }
        let Some((account, token)) = tokens.get(index as usize % tokens.len().max(1)) else {
            return Ok(measured);
        };
        let order = order(account, index, reference);
        let sent = Instant::now();
        let placement = api.place(token, &order).await?;
        let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
        measured.latency.saturating_record(micros.max(1));
        *measured.outcomes.entry(outcome(&placement)).or_default() += 1;
        progress.tick(index + 1);
    }
}

/// A marketable limit order, 1% through the reference; buys and sells alternate.
fn order(account: &AccountId, index: u64, reference: Decimal) -> OrderRequest {
    let (side, factor) = if index % 2 == 0 {
        (Side::Buy, Decimal::new(101, 2))
    } else {
        (Side::Sell, Decimal::new(99, 2))
    };
    OrderRequest {
        account_id: account.clone(),
        instrument: BTC_USD.to_owned(),
        side,
        order_type: OrderType::Limit,
        quantity: "0.001".to_owned(),
        limit_price: Some((reference * factor).round_dp(2).normalize().to_string()),
        time_in_force: Some(TimeInForce::Ioc),
        client_order_id: None,
        algo_id: None,
    }
}

fn outcome(placement: &Placement) -> String {
    match placement {
        Placement::Accepted(view) => view.status.clone(),
        Placement::Rejected(problem) => problem.code.clone(),
        Placement::Refused(status, problem) => {
            format!("refused {} {}", status.as_u16(), problem.code)
        }
    }
}

fn histogram() -> Result<Histogram<u64>, LoadError> {
    // One microsecond to one minute, three significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).map_err(|e| LoadError::Histogram(e.to_string()))
}

fn report(
    args: &LoadArgs,
    elapsed: Duration,
    measured: &Measured,
    baseline: f64,
) -> Result<(), LoadError> {
    let latency = &measured.latency;
    let rate = latency.len() as f64 / elapsed.as_secs_f64().max(f64::EPSILON);
    let ms = |quantile: f64| {
        format!(
            "{:.2} ms",
            latency.value_at_quantile(quantile) as f64 / 1000.0
        )
    };
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    table.set_header(["measure", "value"]);
    table.add_row(["orders".to_owned(), latency.len().to_string()]);
    table.add_row(["concurrency".to_owned(), args.concurrency.to_string()]);
    table.add_row(["clients".to_owned(), args.clients.to_string()]);
    table.add_row([
        "elapsed".to_owned(),
        format!("{:.2} s", elapsed.as_secs_f64()),
    ]);
    table.add_row(["throughput".to_owned(), format!("{rate:.0} orders/s")]);
    table.add_row([
        "storage baseline".to_owned(),
        format!("{baseline:.0} durable writes/s"),
    ]);
    table.add_row([
        "orders per durable write".to_owned(),
        format!("{:.2}", rate / baseline.max(f64::EPSILON)),
    ]);
    for (label, quantile) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)] {
        table.add_row([format!("latency {label}"), ms(quantile)]);
    }
    for (outcome, count) in &measured.outcomes {
        table.add_row([format!("outcome {outcome}"), count.to_string()]);
    }
    println!("{table}");
    Ok(())
}

/// A bar on a terminal, a log line every few seconds otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    started: Instant,
    logged: AtomicU64,
}

impl Progress {
    fn new(total: u64) -> Self {
        let bar = stderr_is_terminal().then(|| {
            let style =
                ProgressStyle::with_template("orders {bar:40} {pos}/{len} ({per_sec}, {eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            ProgressBar::new(total).with_style(style)
        });
        Self {
            bar,
            total,
            started: Instant::now(),
            logged: AtomicU64::new(0),
        }
    }

    fn tick(&self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            return;
        }
        // One line per two seconds of run time, whichever worker gets there first.
        let slot = self.started.elapsed().as_secs() / 2;
        if self.logged.fetch_max(slot, Ordering::Relaxed) < slot {
            tracing::info!(done, total = self.total, "load in progress");
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
