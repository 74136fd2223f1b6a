//! Subjects whose access tokens were cut off at a moment: rights reduced or a user disabled.
//!
//! The gateway refuses, in memory, every token of such a subject issued at or
//! before that moment; this table is the record it reloads at start, so that a
//! restart does not bring a cut-off token back to life. Rows are kept: nothing
//! purges them, and a later moment for the same subject replaces the earlier one,
//! so the table holds at most one row per subject ever cut off.

use chrono::{DateTime, SubsecRound, Utc};

use crate::codec::{self, RowKey};
use crate::error::StoreError;
use crate::rows::{get, key_of};
use crate::store::Store;
use crate::tx::WriteTx;

impl Store {
    /// Subjects cut off at or after `since`, with the moment each was cut off.
    pub async fn revoked_subjects(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT subject, revoked_at FROM revoked_subjects WHERE revoked_at >= ? \
             ORDER BY subject",
        )
        .bind(codec::time(&since))
        .fetch_all(&mut *self.reader().await?)
        .await?;
        rows.iter()
            .map(|row| {
                let subject = key_of(row, "subject", "revoked_subjects")?;
                let key = RowKey {
                    table: "revoked_subjects",
                    key: &subject,
                };
                let at = key.time(&get::<String>(row, "revoked_at", key)?)?;
                Ok((subject, at))
            })
            .collect()
    }
}

impl Store {
    /// The latest moment at or before which every token of `subject` is refused, if any.
    pub async fn subject_revoked_at(
        &self,
        subject: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT revoked_at FROM revoked_subjects WHERE subject = ?")
                .bind(subject)
                .fetch_optional(&mut *self.reader().await?)
                .await?;
        let key = RowKey {
            table: "revoked_subjects",
            key: subject,
        };
        text.map(|at| key.time(&at)).transpose()
    }
}

impl WriteTx<'_> {
    /// The latest moment at or before which every token of `subject` is refused,
    /// as this transaction sees it.
    pub async fn subject_revoked_at(
        &mut self,
        subject: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT revoked_at FROM revoked_subjects WHERE subject = ?")
                .bind(subject)
                .fetch_optional(&mut *self.tx)
                .await?;
        let key = RowKey {
            table: "revoked_subjects",
            key: subject,
        };
        text.map(|at| key.time(&at)).transpose()
    }

    /// Records that every token of `subject` issued up to a moment is refused, and
    /// returns that moment: the later of `at_least` and the store clock's time.
    ///
    /// A later moment replaces an earlier one; an earlier one never moves it back.
    pub async fn revoke_subject(
        &mut self,
        subject: &str,
        reason: &str,
        at_least: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        // INVARIANT: this transaction holds the writer, so every sign-in committed
        // before it is committed already and the clock read now follows it; a
        // moment read before `begin` could precede a sign-in committed meanwhile.
        // Kept to the microsecond, as stored, so that the moment returned is the one read back.
        let at = at_least.max(self.now()).trunc_subsecs(6);
        sqlx::query(
            "INSERT INTO revoked_subjects (subject, revoked_at, reason) VALUES (?, ?, ?) \
             ON CONFLICT (subject) DO UPDATE SET revoked_at = excluded.revoked_at, \
             reason = excluded.reason WHERE excluded.revoked_at > revoked_subjects.revoked_at",
        )
        .bind(subject)
        .bind(codec::time(&at))
        .bind(reason)
        .execute(&mut *self.tx)
        .await?;
        Ok(at)
    }
}
