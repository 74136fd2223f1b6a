//! `rampart account`: create trading accounts with their cash and risk limits.
//!
//! Limits are built from defaults, a file and flags, and checked with `RiskLimits::validate`
//! against the gateway's instrument catalog and against the firm-wide caps (`[risk.caps]`)
//! before anything is written; the account and its `account.created` audit event are stored in
//! one transaction.

use comfy_table::Table;
use rampart_audit::{NewEvent, Outcome, action};
use rampart_core::attribution::parse_label;
use rampart_core::decimal::parse_decimal;
use rampart_core::{AccountId, CapExceeded, FieldError, RiskLimits};
use rampart_store::{AccountRecord, Store};
use rust_decimal::Decimal;
use serde_json::json;

use crate::cli::{AccountAddArgs, AccountCommand};
use crate::context::{Context, OPERATOR, request_id};
use crate::limits::{self, LimitsError};

/// Why an account command failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The account id is malformed.
    #[error("{0}")]
    Id(FieldError),
    /// The desk name is malformed.
    #[error("{0}")]
    Desk(FieldError),
    /// The currency is not an ISO 4217 code.
    #[error("`currency` must be three capital letters, such as `USD`")]
    Currency,
    /// The cash is not a plain non-negative decimal.
    #[error("`cash` must be a non-negative decimal string such as \"1000000\"")]
    Cash,
    /// The limits are refused.
    #[error(transparent)]
    Limits(#[from] LimitsError),
    /// A limit is above its firm-wide cap.
    #[error(transparent)]
    Cap(#[from] CapExceeded),
    /// The store failed (including a duplicate account id).
    #[error("{0}")]
    Store(#[from] rampart_store::StoreError),
}

/// A validated account, ready to store.
pub struct NewAccount {
    /// The account id.
    pub id: AccountId,
    /// The ISO 4217 currency.
    pub currency: String,
    /// The starting cash.
    pub cash: Decimal,
    /// The validated limits.
    pub limits: RiskLimits,
    /// The trading desk, if the account belongs to one.
    pub desk: Option<String>,
}

/// Runs `rampart account ...`.
pub async fn run(
    context: &Context,
    command: &AccountCommand,
) -> Result<(), crate::commands::Error> {
    match command {
        AccountCommand::Add(args) => {
            // Validate everything before touching the data directory.
            let account = parse(context, args)?;
            let store = context.open_store().await?;
            add(&store, &account).await?;
            println!(
                "account `{}` created ({} {})",
                account.id, account.cash, account.currency
            );
        }
        AccountCommand::List => list(&context.open_store().await?).await?,
    }
    Ok(())
}

fn parse(context: &Context, args: &AccountAddArgs) -> Result<NewAccount, AccountError> {
    let id: AccountId = args.id.parse().map_err(AccountError::Id)?;
    let currency = args.currency.trim();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(AccountError::Currency);
    }
    let cash = parse_decimal("cash", args.cash.trim()).map_err(|_| AccountError::Cash)?;
    let desk = args
        .desk
        .as_deref()
        .map(|text| parse_label("desk", text.trim()))
        .transpose()
        .map_err(AccountError::Desk)?;
    let limits = limits::build(
        &context.catalog(),
        args.limits.as_deref(),
        &args.limit_flags,
    )?;
    context.config().risk.caps.check(&limits)?;
    Ok(NewAccount {
        id,
        currency: currency.to_owned(),
        cash,
        limits,
        desk,
    })
}

/// Stores an account and its `account.created` event in one transaction.
pub async fn add(store: &Store, account: &NewAccount) -> Result<(), AccountError> {
    let record = AccountRecord {
        id: account.id.clone(),
        currency: account.currency.clone(),
        initial_cash: account.cash,
        limits: account.limits.clone(),
        created_at: chrono::Utc::now(),
        desk: account.desk.clone(),
    };
    let details = json!({
        "currency": record.currency,
        "initial_cash": record.initial_cash.normalize().to_string(),
        "limits": record.limits,
        "desk": record.desk,
    });
    let event = NewEvent::new(
        OPERATOR,
        action::ACCOUNT_CREATED,
        record.id.as_str(),
        Outcome::Success,
        request_id(),
    )
    .details(details);

    let mut tx = store.begin().await?;
    tx.insert_account(&record).await?;
    tx.append(event).await?;
    tx.commit().await?;
    tracing::info!(account_id = %record.id, action = action::ACCOUNT_CREATED, "account created");
    Ok(())
}

async fn list(store: &Store) -> Result<(), AccountError> {
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header([
        "id",
        "currency",
        "initial cash",
        "max order notional",
        "collar %",
        "instruments",
        "desk",
    ]);
    for account in store.accounts().await? {
        let instruments: Vec<&str> = account
            .limits
            .allowed_instruments
            .iter()
            .map(|i| i.as_str())
            .collect();
        table.add_row([
            account.id.to_string(),
            account.currency.clone(),
            account.initial_cash.normalize().to_string(),
            account.limits.max_order_notional.normalize().to_string(),
            account.limits.price_collar_pct.normalize().to_string(),
            instruments.join(","),
            account.desk.clone().unwrap_or_default(),
        ]);
    }
    println!("{table}");
    Ok(())
}
