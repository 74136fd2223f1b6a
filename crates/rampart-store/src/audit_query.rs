//! Searching the audit log: by time range, actor, action, target and outcome, and by the
//! account, algorithm and desk its details name, page by page.
//!
//! Every filter is a bound parameter, never text spliced into SQL; the column filters are
//! served by an index of migration 0004, the detail filters by `json_extract`. Pages are in
//! order of `seq` and continue after a cursor (`after_seq`), so that a page never shifts when
//! events are appended.

use chrono::{DateTime, Utc};
use rampart_audit::{AuditEvent, Outcome};
use sqlx::{QueryBuilder, Sqlite};

use crate::codec;
use crate::error::StoreError;
use crate::store::Store;

/// The most events one query returns.
pub const MAX_AUDIT_PAGE: u32 = 1000;

/// Which audit events to return; every field set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Events recorded at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Events recorded before this time.
    pub to: Option<DateTime<Utc>>,
    /// Events by this actor (subject or client id).
    pub actor: Option<String>,
    /// Events of this action.
    pub action: Option<String>,
    /// Events on this target.
    pub target: Option<String>,
    /// Events with this outcome.
    pub outcome: Option<Outcome>,
    /// Events whose details name this `account_id`.
    pub account_id: Option<String>,
    /// Events whose details name this `algo_id`.
    pub algo_id: Option<String>,
    /// Events whose details name this `desk`.
    pub desk: Option<String>,
    /// Events after this `seq`: the cursor of the previous page.
    pub after_seq: Option<u64>,
    /// The most events to return, at most [`MAX_AUDIT_PAGE`].
    pub limit: u32,
}

impl Store {
    /// The events `filter` selects, in order of `seq`.
    pub async fn audit_query(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        if filter.limit == 0 || filter.limit > MAX_AUDIT_PAGE {
            return Err(StoreError::OutOfRange {
                field: "limit",
                value: filter.limit.into(),
                min: 1,
                max: MAX_AUDIT_PAGE.into(),
            });
        }
        let mut query = select(filter);
        let rows = query.build().fetch_all(&mut *self.reader().await?).await?;
        rows.iter()
            .map(|row| crate::audit::stored_event(row).map(|(stored, _)| stored.event))
            .collect()
    }
}

/// The `SELECT` for `filter`, with every value bound.
fn select(filter: &AuditFilter) -> QueryBuilder<'_, Sqlite> {
    let mut query = QueryBuilder::new("SELECT * FROM audit_events WHERE seq > ");
    query.push_bind(i64::try_from(filter.after_seq.unwrap_or(0)).unwrap_or(i64::MAX));
    if let Some(from) = &filter.from {
        query.push(" AND time >= ").push_bind(codec::time(from));
    }
    if let Some(to) = &filter.to {
        query.push(" AND time < ").push_bind(codec::time(to));
    }
    let texts = [
        ("actor", filter.actor.as_deref()),
        ("action", filter.action.as_deref()),
        ("target", filter.target.as_deref()),
        ("outcome", filter.outcome.map(Outcome::as_str)),
    ];
    for (column, value) in texts {
        if let Some(value) = value {
            // The column names are the fixed names above, never input.
            query.push(format!(" AND {column} = ")).push_bind(value);
        }
    }
    let details = [
        ("$.account_id", filter.account_id.as_deref()),
        ("$.algo_id", filter.algo_id.as_deref()),
        ("$.desk", filter.desk.as_deref()),
    ];
    for (path, value) in details {
        if let Some(value) = value {
            // The JSON paths are the fixed paths above, never input.
            query
                .push(format!(" AND json_extract(details, '{path}') = "))
                .push_bind(value);
        }
    }
    query
        .push(" ORDER BY seq LIMIT ")
        .push_bind(i64::from(filter.limit));
    query
}
