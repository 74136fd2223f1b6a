//! Failed sign-ins per user and per source address, and the lockouts they lead to.
//!
//! The store only counts and records; how many failures lock for how long is
//! the gateway's policy, passed in as `locked_until`. Counting happens in the
//! write transaction, so that concurrent failures are all counted.

use chrono::{DateTime, Utc};

use crate::codec::{self, RowKey};
use crate::error::StoreError;
use crate::rows::get;
use crate::store::Store;
use crate::tx::WriteTx;

/// What failed sign-ins are counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleScope {
    /// One user, by subject id (or a hash of an unknown name).
    User,
    /// One source address.
    Address,
}

impl ThrottleScope {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Address => "address",
        }
    }
}

/// The failures counted against one key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginFailures {
    /// Failures since the last success (or the last lockout expiry).
    pub failures: u32,
    /// When the last failure happened.
    pub last_failure_at: Option<DateTime<Utc>>,
    /// Until when sign-in is refused, if it is.
    pub locked_until: Option<DateTime<Utc>>,
}

impl LoginFailures {
    /// Whether sign-in is refused at `now`.
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }
}

impl Store {
    /// The failures counted against `key` in `scope`.
    pub async fn login_failures(
        &self,
        scope: ThrottleScope,
        key: &str,
    ) -> Result<LoginFailures, StoreError> {
        failures(&mut *self.reader().await?, scope, key).await
    }
}

impl WriteTx<'_> {
    /// The failures counted against `key`, as this transaction sees them.
    pub async fn login_failures(
        &mut self,
        scope: ThrottleScope,
        key: &str,
    ) -> Result<LoginFailures, StoreError> {
        failures(&mut self.tx, scope, key).await
    }

    /// Counts one more failure against `key`; `lock` maps the new count to a lockout end.
    pub async fn record_login_failure(
        &mut self,
        scope: ThrottleScope,
        key: &str,
        now: DateTime<Utc>,
        lock: impl FnOnce(u32) -> Option<DateTime<Utc>>,
    ) -> Result<LoginFailures, StoreError> {
        let before = failures(&mut self.tx, scope, key).await?;
        // A lockout that ran out starts a fresh count.
        let base = match before.locked_until {
            Some(until) if until <= now => 0,
            _ => before.failures,
        };
        let count = base.saturating_add(1);
        let locked_until = lock(count).or(before.locked_until.filter(|until| now < *until));
        sqlx::query(
            "INSERT INTO login_failures (scope, key, failures, last_failure_at, locked_until) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET \
             failures = excluded.failures, last_failure_at = excluded.last_failure_at, \
             locked_until = excluded.locked_until",
        )
        .bind(scope.as_str())
        .bind(key)
        .bind(count)
        .bind(codec::time(&now))
        .bind(locked_until.as_ref().map(codec::time))
        .execute(&mut *self.tx)
        .await?;
        Ok(LoginFailures {
            failures: count,
            last_failure_at: Some(now),
            locked_until,
        })
    }

    /// Forgets every count that can no longer lock anyone at `now`: last failed at or
    /// before `now - window` (a count that old starts afresh anyway) and not locking past
    /// `now`. Unknown usernames and addresses leave a row each; this keeps the table to
    /// the attempts of one window. How many counts went.
    pub async fn purge_login_failures(
        &mut self,
        now: DateTime<Utc>,
        window: chrono::Duration,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM login_failures WHERE last_failure_at <= ? \
             AND (locked_until IS NULL OR locked_until <= ?)",
        )
        .bind(codec::time(&(now - window)))
        .bind(codec::time(&now))
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }

    /// Forgets the failures counted against `key` (after a successful sign-in).
    pub async fn clear_login_failures(
        &mut self,
        scope: ThrottleScope,
        key: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE scope = ? AND key = ?")
            .bind(scope.as_str())
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

async fn failures(
    conn: &mut sqlx::SqliteConnection,
    scope: ThrottleScope,
    key: &str,
) -> Result<LoginFailures, StoreError> {
    let row = sqlx::query(
        "SELECT failures, last_failure_at, locked_until FROM login_failures \
         WHERE scope = ? AND key = ?",
    )
    .bind(scope.as_str())
    .bind(key)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(LoginFailures::default());
    };
    let row_key = RowKey {
        table: "login_failures",
        key,
    };
    Ok(LoginFailures {
        failures: get(&row, "failures", row_key)?,
        last_failure_at: Some(row_key.time(&get::<String>(&row, "last_failure_at", row_key)?)?),
        locked_until: row_key
            .opt_time(get::<Option<String>>(&row, "locked_until", row_key)?.as_deref())?,
    })
}
