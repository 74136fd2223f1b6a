//! Risk limits as a versioned object: every version an account's limits had, and the one in force.
//!
//! The account row holds the limits in force and their version number; the
//! history (`risk_limit_versions`) is append-only. A new version is applied
//! with [`WriteTx::apply_limits_version`], which moves both in one
//! transaction and only from the version it was based on, so an order
//! decided in another write transaction sees either the old version or the
//! new one, never a mix.

use chrono::{DateTime, Utc};
use rampart_core::{AccountId, RiskLimits};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::codec::{self, RowKey};
use crate::error::StoreError;
use crate::rows::get;
use crate::store::Store;
use crate::tx::WriteTx;

/// One version of an account's risk limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsVersion {
    /// The account.
    pub account_id: AccountId,
    /// The version number: 1 for the limits the account was created with, then 2, 3…
    pub version: i64,
    /// The limits of this version.
    pub limits: RiskLimits,
    /// Why the version was made.
    pub reason: String,
    /// Who proposed it (subject or client id; `system` for version 1).
    pub proposed_by: String,
    /// Who approved it; none for version 1 and for a tightening applied at once.
    pub approved_by: Option<String>,
    /// The approval it was applied from, if any.
    pub approval_id: Option<Uuid>,
    /// Whether it was a tightening applied at once, to be reviewed after the fact.
    pub reviewable_after_the_fact: bool,
    /// When it took effect (UTC).
    pub effective_at: DateTime<Utc>,
}

/// A version about to be applied; the store numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLimitsVersion {
    /// The version the change was proposed against; it must still be in force.
    pub base_version: i64,
    /// The new limits, already validated.
    pub limits: RiskLimits,
    /// Why.
    pub reason: String,
    /// Who proposed it.
    pub proposed_by: String,
    /// Who approved it, with the approval id; none for a tightening applied at once.
    pub approval: Option<(String, Uuid)>,
    /// When it takes effect.
    pub effective_at: DateTime<Utc>,
}

const VERSION_COLUMNS: &str = "account_id, version, limits, reason, proposed_by, approved_by, \
    approval_id, reviewable_after_the_fact, effective_at";

impl Store {
    /// Every version of `account`'s limits, oldest first; empty for an unknown account.
    pub async fn limits_history(
        &self,
        account: &AccountId,
    ) -> Result<Vec<LimitsVersion>, StoreError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM risk_limit_versions WHERE account_id = ? \
             ORDER BY version"
        );
        let found = sqlx::query(&sql)
            .bind(account.as_str())
            .fetch_all(&mut *self.reader().await?)
            .await?;
        found.iter().map(decode).collect()
    }

    /// The version of `account`'s limits in force, if the account exists.
    pub async fn limits_in_force(
        &self,
        account: &AccountId,
    ) -> Result<Option<LimitsVersion>, StoreError> {
        in_force(&mut *self.reader().await?, account).await
    }
}

impl WriteTx<'_> {
    /// The version of `account`'s limits in force, as this transaction sees it.
    pub async fn limits_in_force(
        &mut self,
        account: &AccountId,
    ) -> Result<Option<LimitsVersion>, StoreError> {
        in_force(&mut self.tx, account).await
    }

    /// The version number of `account`'s limits in force, as this transaction sees it.
    pub async fn limits_version(&mut self, account: &AccountId) -> Result<Option<i64>, StoreError> {
        let version = sqlx::query_scalar("SELECT limits_version FROM accounts WHERE id = ?")
            .bind(account.as_str())
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(version)
    }

    /// Makes `next` the limits in force on `account`, as version `base_version + 1`.
    ///
    /// Refused unless `base_version` is still in force. The account's limits,
    /// its version number and the history row change together.
    pub async fn apply_limits_version(
        &mut self,
        account: &AccountId,
        next: &NewLimitsVersion,
    ) -> Result<LimitsVersion, StoreError> {
        let version = next
            .base_version
            .checked_add(1)
            .ok_or(StoreError::Invalid {
                field: "base_version",
                rule: "is out of range",
            })?;
        let limits = canonical(&next.limits)?;
        let moved = sqlx::query(
            "UPDATE accounts SET limits = ?, limits_version = ? \
             WHERE id = ? AND limits_version = ?",
        )
        .bind(&limits)
        .bind(version)
        .bind(account.as_str())
        .bind(next.base_version)
        .execute(&mut *self.tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Err(StoreError::Invalid {
                field: "base_version",
                rule: "is not the version in force",
            });
        }
        self.insert_version(account, version, &limits, next).await?;
        in_force(&mut self.tx, account)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "account",
                key: account.to_string(),
            })
    }

    async fn insert_version(
        &mut self,
        account: &AccountId,
        version: i64,
        limits: &str,
        next: &NewLimitsVersion,
    ) -> Result<(), StoreError> {
        let (approved_by, approval_id) = match &next.approval {
            Some((by, id)) => (Some(by.as_str()), Some(id.to_string())),
            None => (None, None),
        };
        sqlx::query(
            "INSERT INTO risk_limit_versions (account_id, version, limits, reason, proposed_by, \
             approved_by, approval_id, reviewable_after_the_fact, effective_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(account.as_str())
        .bind(version)
        .bind(limits)
        .bind(&next.reason)
        .bind(&next.proposed_by)
        .bind(approved_by)
        .bind(approval_id)
        .bind(next.approval.is_none())
        .bind(codec::time(&next.effective_at))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| StoreError::on_insert(e, "risk limit version", account.as_str()))?;
        Ok(())
    }
}

async fn in_force(
    conn: &mut SqliteConnection,
    account: &AccountId,
) -> Result<Option<LimitsVersion>, StoreError> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM risk_limit_versions \
         WHERE account_id = ?1 \
         AND version = (SELECT limits_version FROM accounts WHERE id = ?1)"
    );
    let row = sqlx::query(&sql)
        .bind(account.as_str())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(decode).transpose()
}

fn canonical(limits: &RiskLimits) -> Result<String, StoreError> {
    let value = serde_json::to_value(limits).map_err(|_| invalid_limits())?;
    serde_json_canonicalizer::to_string(&value).map_err(|_| invalid_limits())
}

fn invalid_limits() -> StoreError {
    StoreError::Invalid {
        field: "limits",
        rule: "cannot be encoded",
    }
}

fn decode(row: &SqliteRow) -> Result<LimitsVersion, StoreError> {
    let account: String = get(
        row,
        "account_id",
        RowKey {
            table: "risk_limit_versions",
            key: "?",
        },
    )?;
    let key = RowKey {
        table: "risk_limit_versions",
        key: &account,
    };
    let text = |name: &str| get::<String>(row, name, key);
    let approval_id: Option<String> = get(row, "approval_id", key)?;
    Ok(LimitsVersion {
        account_id: key.parse(&account)?,
        version: get(row, "version", key)?,
        limits: key.json(&text("limits")?)?,
        reason: text("reason")?,
        proposed_by: text("proposed_by")?,
        approved_by: get(row, "approved_by", key)?,
        approval_id: approval_id.map(|id| key.parse(&id)).transpose()?,
        reviewable_after_the_fact: key.flag(get(row, "reviewable_after_the_fact", key)?)?,
        effective_at: key.time(&text("effective_at")?)?,
    })
}
