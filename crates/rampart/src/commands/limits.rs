//! `rampart limits`: the risk limits in force on an account, and every version of them.
//!
//! Read from the data directory, like the other local commands, and shown in
//! the same shape as `GET /v1/accounts/{id}/risk-limits` and its history when
//! `--json` is given. Reading writes nothing: neither the store nor the log.

use clap::{Args, Subcommand};
use comfy_table::Table;
use rampart_core::{AccountId, FieldError, RiskLimits};
use rampart_server::service::risk_limits::version_view;
use rampart_store::{LimitsVersion, Store};
use serde_json::{Value, json};

use crate::context::Context;

/// `rampart limits ...`.
#[derive(Debug, Subcommand)]
pub enum LimitsCommand {
    /// Shows the limits in force on an account, with their version.
    Show(LimitsArgs),
    /// Lists every version of an account's limits: who proposed, who approved, when.
    History(LimitsArgs),
}

/// The account to read, and how to print it.
#[derive(Debug, Args)]
pub struct LimitsArgs {
    /// The account id, such as `ACC-1`.
    #[arg(long)]
    pub account: String,
    /// Print JSON, as the HTTP API answers, instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Why a limits command failed.
#[derive(Debug, thiserror::Error)]
pub enum LimitsCommandError {
    /// The account id is malformed.
    #[error("{0}")]
    Id(FieldError),
    /// No account has that id.
    #[error("account `{0}` does not exist")]
    UnknownAccount(AccountId),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] rampart_store::StoreError),
}

/// Runs `rampart limits ...`.
pub async fn run(context: &Context, command: &LimitsCommand) -> Result<(), crate::commands::Error> {
    let (LimitsCommand::Show(args) | LimitsCommand::History(args)) = command;
    let account: AccountId = args.account.parse().map_err(LimitsCommandError::Id)?;
    let store = context.open_store().await?;
    let text = match command {
        LimitsCommand::Show(_) => show(&store, &account, args.json).await?,
        LimitsCommand::History(_) => history(&store, &account, args.json).await?,
    };
    println!("{text}");
    Ok(())
}

/// The limits in force on `account`, as a table or as JSON.
pub async fn show(
    store: &Store,
    account: &AccountId,
    as_json: bool,
) -> Result<String, LimitsCommandError> {
    let in_force = store.limits_in_force(account).await?;
    let in_force = in_force.ok_or_else(|| LimitsCommandError::UnknownAccount(account.clone()))?;
    if as_json {
        let answer = json!({
            "account_id": account,
            "version": in_force.version,
            "limits": in_force.limits,
        });
        return Ok(answer.to_string());
    }
    let mut table = table(["limit", "value"]);
    table.add_row(["version".to_owned(), in_force.version.to_string()]);
    table.add_row(["effective at".to_owned(), time(&in_force)]);
    for (name, value) in limit_rows(&in_force.limits) {
        table.add_row([name, value]);
    }
    Ok(format!("account `{account}`\n{table}"))
}

/// Every version of `account`'s limits, oldest first, as a table or as JSON.
pub async fn history(
    store: &Store,
    account: &AccountId,
    as_json: bool,
) -> Result<String, LimitsCommandError> {
    let versions = store.limits_history(account).await?;
    if versions.is_empty() {
        return Err(LimitsCommandError::UnknownAccount(account.clone()));
    }
    if as_json {
        let versions: Vec<Value> = versions.iter().map(version_view).collect();
        return Ok(json!({ "account_id": account, "versions": versions }).to_string());
    }
    let mut table = table([
        "version",
        "effective at",
        "proposed by",
        "approved by",
        "reason",
    ]);
    for version in &versions {
        let approved = match (&version.approved_by, version.reviewable_after_the_fact) {
            (Some(by), _) => by.clone(),
            (None, true) => "none (tightening, reviewable)".to_owned(),
            (None, false) => "none".to_owned(),
        };
        table.add_row([
            version.version.to_string(),
            time(version),
            version.proposed_by.clone(),
            approved,
            version.reason.clone(),
        ]);
    }
    Ok(format!("account `{account}`\n{table}"))
}

fn table<const N: usize>(header: [&str; N]) -> Table {
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(header);
    table
}

fn time(version: &LimitsVersion) -> String {
    rampart_audit::time::format(&version.effective_at)
}

/// Each limit as a name and its value, in the order of `RiskLimits`.
fn limit_rows(limits: &RiskLimits) -> Vec<(String, String)> {
    let decimal = |value: rust_decimal::Decimal| value.normalize().to_string();
    let instruments: Vec<&str> = limits
        .allowed_instruments
        .iter()
        .map(|i| i.as_str())
        .collect();
    let hours = limits.trading_hours.as_ref().map_or_else(
        || "any time".to_owned(),
        |h| format!("{}–{} UTC", h.start, h.end),
    );
    [
        ("max_order_quantity", decimal(limits.max_order_quantity)),
        ("max_order_notional", decimal(limits.max_order_notional)),
        ("price_collar_pct", decimal(limits.price_collar_pct)),
        (
            "max_position_quantity",
            decimal(limits.max_position_quantity),
        ),
        ("max_daily_notional", decimal(limits.max_daily_notional)),
        (
            "max_orders_per_second",
            limits.max_orders_per_second.to_string(),
        ),
        (
            "max_risk_per_trade_pct",
            decimal(limits.max_risk_per_trade_pct),
        ),
        ("allowed_instruments", instruments.join(",")),
        ("trading_hours", hours),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}
