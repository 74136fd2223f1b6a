//! Reading approvals a page at a time, without writing.
//!
//! A listing never changes the log: a pending approval whose expiry has
//! passed reads as `expired` (in the filter too) whether or not the expiry
//! task has recorded it yet. Pages follow the order of the ids, which are
//! UUIDv7 and so ordered by creation, and a cursor is a pure position: a
//! bound in `id > cursor`, never looked up, so that it tells nobody whether an
//! approval with that id exists.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::approvals::{APPROVAL_COLUMNS, ApprovalFilter, ApprovalRecord, decode};
use crate::codec;
use crate::error::StoreError;
use crate::store::Store;

impl Store {
    /// Up to `limit` approvals matching `filter` as of `now`, whose ids come after `after`.
    pub async fn approvals_page(
        &self,
        filter: &ApprovalFilter,
        after: Option<Uuid>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        let mut reader = self.reader().await?;
        let sql = format!(
            "SELECT {APPROVAL_COLUMNS} FROM approvals \
             WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR target = ?2) \
             AND (?3 IS NULL OR (CASE WHEN status = 'pending' AND expires_at <= ?4 \
                 THEN 'expired' ELSE status END) = ?3) \
             AND (?5 IS NULL OR id > ?5) \
             ORDER BY id LIMIT ?6"
        );
        let found = sqlx::query(&sql)
            .bind(filter.kind.as_deref())
            .bind(filter.target.as_deref())
            .bind(filter.status.map(|s| s.as_str()))
            .bind(codec::time(&now))
            .bind(after.map(|id| id.to_string()))
            .bind(i64::from(limit))
            .fetch_all(&mut *reader)
            .await?;
        found.iter().map(|row| decode(row, now)).collect()
    }
}
