//! How values are written to and read from their TEXT columns.
//!
//! Decimals are stored as exact text, times in the one audit time form (RFC
//! 3339 UTC, microseconds), UUIDs hyphenated. Reading is strict: a value that
//! does not parse is reported as a corrupt row of `table` with `key`.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;

use crate::error::StoreError;

/// The row being decoded, for naming it in a `Corrupt` error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowKey<'a> {
    pub table: &'static str,
    pub key: &'a str,
}

impl RowKey<'_> {
    /// The `Corrupt` error for this row.
    pub fn corrupt(&self) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            key: self.key.to_owned(),
        }
    }

    /// Parses a stored decimal exactly.
    pub fn decimal(&self, text: &str) -> Result<Decimal, StoreError> {
        Decimal::from_str_exact(text).map_err(|_| self.corrupt())
    }

    /// Parses an optional stored decimal.
    pub fn opt_decimal(&self, text: Option<&str>) -> Result<Option<Decimal>, StoreError> {
        text.map(|t| self.decimal(t)).transpose()
    }

    /// Parses a stored time.
    pub fn time(&self, text: &str) -> Result<DateTime<Utc>, StoreError> {
        rampart_audit::time::parse(text).ok_or_else(|| self.corrupt())
    }

    /// Parses an optional stored time.
    pub fn opt_time(&self, text: Option<&str>) -> Result<Option<DateTime<Utc>>, StoreError> {
        text.map(|t| self.time(t)).transpose()
    }

    /// Parses a value through its `FromStr`.
    pub fn parse<T: FromStr>(&self, text: &str) -> Result<T, StoreError> {
        text.parse().map_err(|_| self.corrupt())
    }

    /// Parses a value through a name table such as `Side::parse`.
    pub fn named<T>(&self, text: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
        parse(text).ok_or_else(|| self.corrupt())
    }

    /// Parses stored JSON.
    pub fn json<T: DeserializeOwned>(&self, text: &str) -> Result<T, StoreError> {
        serde_json::from_str(text).map_err(|_| self.corrupt())
    }

    /// Reads a stored 0/1 flag.
    pub fn flag(&self, value: i64) -> Result<bool, StoreError> {
        match value {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.corrupt()),
        }
    }

    /// Reads a stored 32-byte hash.
    pub fn hash(&self, bytes: &[u8]) -> Result<[u8; 32], StoreError> {
        bytes.try_into().map_err(|_| self.corrupt())
    }
}

/// Writes a decimal as exact text (trailing zeros dropped).
pub(crate) fn decimal(value: Decimal) -> String {
    value.normalize().to_string()
}

/// Writes an optional decimal.
pub(crate) fn opt_decimal(value: Option<Decimal>) -> Option<String> {
    value.map(decimal)
}

/// Writes a time in the stored form.
pub(crate) fn time(value: &DateTime<Utc>) -> String {
    rampart_audit::time::format(value)
}

/// Writes a value as JSON text.
pub(crate) fn json<T: serde::Serialize>(
    value: &T,
    field: &'static str,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|_| StoreError::Invalid {
        field,
        rule: "cannot be encoded",
    })
}
