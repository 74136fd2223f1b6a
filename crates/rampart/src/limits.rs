//! Risk limits from the command line: defaults ▶ a TOML or JSON file ▶ flags.
//!
//! Every value goes through one parser whichever way it arrives, so a file
//! key and its flag accept exactly the same text, and an error names the
//! limit in the same words. Decimals are strings or integers, never floats;
//! a negative value is refused by name before anything else sees it. The
//! result is checked with `RiskLimits::validate` before it is stored.

use std::path::Path;

use chrono::NaiveTime;
use clap::Args;
use rampart_core::decimal::parse_decimal;
use rampart_core::{FieldError, InstrumentCatalog, InstrumentId, RiskLimits, TradingHours};
use rust_decimal::Decimal;
use serde_json::Value;

/// Why a set of limits was refused.
#[derive(Debug, thiserror::Error)]
pub enum LimitsError {
    /// The limits file could not be read.
    #[error("limits file `{path}` could not be read: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file is neither a TOML nor a JSON table.
    #[error("limits file `{path}` is not valid {format}: {reason}")]
    Syntax {
        /// The file.
        path: String,
        /// `TOML` or `JSON`.
        format: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// A key is not a risk limit.
    #[error("`{0}` is not a risk limit; known limits: {known}", known = KNOWN.join(", "))]
    Unknown(String),
    /// A value is malformed or out of bounds.
    #[error("`{field}` {reason}")]
    Invalid {
        /// The limit.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The limits break a bound checked by the domain.
    #[error("{0}")]
    Field(#[from] FieldError),
}

/// The limit names, as file keys and (with dashes) as flags.
const KNOWN: [&str; 9] = [
    "max_order_quantity",
    "max_order_notional",
    "price_collar_pct",
    "max_position_quantity",
    "max_daily_notional",
    "max_orders_per_second",
    "max_risk_per_trade_pct",
    "allowed_instruments",
    "trading_hours",
];

/// One flag per limit; each overrides the file and the defaults.
#[derive(Debug, Default, Args)]
pub struct LimitFlags {
    /// The largest quantity of one order.
    #[arg(long, allow_negative_numbers = true)]
    pub max_order_quantity: Option<String>,
    /// The largest notional of one order, in the instrument's currency.
    #[arg(long, allow_negative_numbers = true)]
    pub max_order_notional: Option<String>,
    /// How far a limit price may stray from the reference price, in percent.
    #[arg(long, allow_negative_numbers = true)]
    pub price_collar_pct: Option<String>,
    /// The largest absolute position in any one instrument.
    #[arg(long, allow_negative_numbers = true)]
    pub max_position_quantity: Option<String>,
    /// The most notional that may be placed in one UTC day.
    #[arg(long, allow_negative_numbers = true)]
    pub max_daily_notional: Option<String>,
    /// The most orders in any one second.
    #[arg(long, allow_negative_numbers = true)]
    pub max_orders_per_second: Option<String>,
    /// The largest order notional as a share of equity, in percent.
    #[arg(long, allow_negative_numbers = true)]
    pub max_risk_per_trade_pct: Option<String>,
    /// The instruments the account may trade, comma separated (default: all).
    #[arg(long)]
    pub allowed_instruments: Option<String>,
    /// When orders are accepted, in UTC, as `HH:MM-HH:MM` (default: always).
    #[arg(long)]
    pub trading_hours: Option<String>,
}

impl LimitFlags {
    fn entries(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let values = [
            &self.max_order_quantity,
            &self.max_order_notional,
            &self.price_collar_pct,
            &self.max_position_quantity,
            &self.max_daily_notional,
            &self.max_orders_per_second,
            &self.max_risk_per_trade_pct,
            &self.allowed_instruments,
            &self.trading_hours,
        ];
        KNOWN
            .into_iter()
            .zip(values)
            .filter_map(|(key, value)| Some((key, value.as_deref()?)))
    }
}

/// The limits a new account gets unless told otherwise.
pub fn defaults(catalog: &InstrumentCatalog) -> RiskLimits {
    RiskLimits {
        max_order_quantity: Decimal::from(1_000),
        max_order_notional: Decimal::from(1_000_000),
        price_collar_pct: Decimal::from(5),
        max_position_quantity: Decimal::from(10_000),
        max_daily_notional: Decimal::from(50_000_000),
        max_orders_per_second: 50,
        max_risk_per_trade_pct: Decimal::from(10),
        allowed_instruments: catalog.iter().map(|i| i.id.clone()).collect(),
        trading_hours: None,
    }
}

/// Builds validated limits from the defaults, an optional file and the flags.
pub fn build(
    catalog: &InstrumentCatalog,
    file: Option<&Path>,
    flags: &LimitFlags,
) -> Result<RiskLimits, LimitsError> {
    let mut limits = defaults(catalog);
    if let Some(path) = file {
        for (key, text) in read_file(path)? {
            apply(&mut limits, &key, &text)?;
        }
    }
    for (key, text) in flags.entries() {
        apply(&mut limits, key, text)?;
    }
    limits.validate(catalog)?;
    Ok(limits)
}

/// Sets the limit `key` from `text`.
pub fn apply(limits: &mut RiskLimits, key: &str, text: &str) -> Result<(), LimitsError> {
    let text = text.trim();
    match key {
        "max_order_quantity" => limits.max_order_quantity = decimal(key, text)?,
        "max_order_notional" => limits.max_order_notional = decimal(key, text)?,
        "price_collar_pct" => limits.price_collar_pct = decimal(key, text)?,
        "max_position_quantity" => limits.max_position_quantity = decimal(key, text)?,
        "max_daily_notional" => limits.max_daily_notional = decimal(key, text)?,
        "max_risk_per_trade_pct" => limits.max_risk_per_trade_pct = decimal(key, text)?,
        "max_orders_per_second" => limits.max_orders_per_second = count(key, text)?,
        "allowed_instruments" => limits.allowed_instruments = instruments(text)?,
        "trading_hours" => limits.trading_hours = hours(text)?,
        other => return Err(LimitsError::Unknown(other.to_owned())),
    }
    Ok(())
}

fn decimal(field: &str, text: &str) -> Result<Decimal, LimitsError> {
    refuse_negative(field, text)?;
    parse_decimal("value", text)
        .map_err(|_| invalid(field, "must be a decimal string such as \"10.25\""))
}

fn count(field: &str, text: &str) -> Result<u32, LimitsError> {
    refuse_negative(field, text)?;
    text.parse()
        .map_err(|_| invalid(field, "must be a whole number"))
}

fn instruments(text: &str) -> Result<Vec<InstrumentId>, LimitsError> {
    let parsed: Result<Vec<InstrumentId>, _> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect();
    parsed.map_err(|_| invalid("allowed_instruments", "must list instrument symbols"))
}

fn hours(text: &str) -> Result<Option<TradingHours>, LimitsError> {
    if text.is_empty() || text == "always" {
        return Ok(None);
    }
    let malformed = || invalid("trading_hours", "must be `HH:MM-HH:MM` in UTC, or `always`");
    let (start, end) = text.split_once('-').ok_or_else(malformed)?;
    let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| malformed());
    Ok(Some(TradingHours {
        start: time(start)?,
        end: time(end)?,
    }))
}

fn refuse_negative(field: &str, text: &str) -> Result<(), LimitsError> {
    if text.starts_with('-') {
        return Err(invalid(field, "must not be negative"));
    }
    Ok(())
}

fn invalid(field: &str, reason: &str) -> LimitsError {
    LimitsError::Invalid {
        field: field.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Reads a limits file into `(key, text)` pairs; `.json` files are JSON, others TOML.
fn read_file(path: &Path) -> Result<Vec<(String, String)>, LimitsError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| LimitsError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let syntax = |format, reason: String| LimitsError::Syntax {
        path: shown.clone(),
        format,
        reason,
    };
    let table: Value = if is_json {
        serde_json::from_str(&text).map_err(|e| syntax("JSON", e.to_string()))?
    } else {
        let parsed: toml::Table =
            toml::from_str(&text).map_err(|e| syntax("TOML", e.message().to_owned()))?;
        serde_json::to_value(parsed).map_err(|e| syntax("TOML", e.to_string()))?
    };
    let Value::Object(entries) = table else {
        return Err(syntax(
            if is_json { "JSON" } else { "TOML" },
            "expected a table of limits".into(),
        ));
    };
    entries
        .into_iter()
        .map(|(key, value)| Ok((key.clone(), scalar(&key, value)?)))
        .collect()
}

/// The text of one file value: a string, an integer, or a list of strings.
fn scalar(key: &str, value: Value) -> Result<String, LimitsError> {
    if !KNOWN.contains(&key) {
        return Err(LimitsError::Unknown(key.to_owned()));
    }
    match value {
        Value::String(text) => Ok(text),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        Value::Number(_) => Err(invalid(
            key,
            "must be a decimal string such as \"10.25\", not a float",
        )),
        Value::Array(items) => items
            .into_iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(key, "must list strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|list| list.join(",")),
        _ => Err(invalid(key, "must be a string or an integer")),
    }
}

#[cfg(test)]
mod tests {
    use rampart_core::Instrument;

    use super::*;

    fn catalog() -> InstrumentCatalog {
        InstrumentCatalog::new([Instrument {
            id: "BTC-USD".parse().unwrap(),
            tick_size: Decimal::new(1, 1),
            lot_size: Decimal::new(1, 3),
            currency: "USD".to_owned(),
        }])
    }

    #[test]
    fn defaults_pass_validation_and_allow_every_instrument() {
        let limits = build(&catalog(), None, &LimitFlags::default()).unwrap();
        assert_eq!(limits.allowed_instruments.len(), 1);
    }

    #[test]
    fn negative_flag_is_refused_naming_the_limit() {
        let flags = LimitFlags {
            max_order_notional: Some("-5".into()),
            ..LimitFlags::default()
        };
        let error = build(&catalog(), None, &flags).unwrap_err().to_string();
        assert_eq!(error, "`max_order_notional` must not be negative");
    }

    #[test]
    fn zero_is_refused_by_domain_validation() {
        let flags = LimitFlags {
            max_position_quantity: Some("0".into()),
            ..LimitFlags::default()
        };
        let error = build(&catalog(), None, &flags).unwrap_err().to_string();
        assert!(error.starts_with("`max_position_quantity`"), "{error}");
    }

    #[test]
    fn file_values_are_overridden_by_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("limits.toml");
        std::fs::write(
            &path,
            "max_order_notional = \"2500\"\nprice_collar_pct = 3\n",
        )
        .unwrap();
        let flags = LimitFlags {
            price_collar_pct: Some("2.5".into()),
            ..LimitFlags::default()
        };
        let limits = build(&catalog(), Some(&path), &flags).unwrap();
        assert_eq!(limits.max_order_notional, Decimal::from(2500));
        assert_eq!(limits.price_collar_pct, Decimal::new(25, 1));
    }

    #[test]
    fn float_in_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("limits.json");
        std::fs::write(&path, r#"{"max_order_notional": 0.1}"#).unwrap();
        let error = build(&catalog(), Some(&path), &LimitFlags::default()).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("`max_order_notional` must be a decimal string")
        );
    }

    #[test]
    fn unknown_key_in_a_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("limits.toml");
        std::fs::write(&path, "max_notional = \"5\"\n").unwrap();
        let error = build(&catalog(), Some(&path), &LimitFlags::default()).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("`max_notional` is not a risk limit")
        );
    }

    #[test]
    fn trading_hours_read_as_a_utc_window() {
        let hours = hours("08:00-16:30").unwrap().unwrap();
        assert_eq!(hours.start, NaiveTime::from_hms_opt(8, 0, 0).unwrap());
        assert_eq!(hours.end, NaiveTime::from_hms_opt(16, 30, 0).unwrap());
    }
}
