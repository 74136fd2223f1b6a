//! The recent fills of orders placed by API clients, read back from the audit log.
//!
//! The repeated-execution guard counts fills per client in a short window, in
//! memory; at start the gateway seeds that window from here, so a restart does
//! not empty it. Every booked fill has an `order.filled` event written in the
//! transaction that booked it, so the log is the complete record of when fills
//! arrived. A fill no later than an engagement of the guard itself (actor
//! `system`, scope `client`) for that client is left out: the trip that made
//! the engagement started the guard's window afresh. So is a fill booked no
//! later than the `tripped_at` of a guard trip event for that client (a trip
//! that engaged nothing, the client being stopped already), which started the
//! window afresh too; the trip's time, not its place in the log, decides, as
//! the event is written after the trip (an event without `tripped_at` counts
//! from its own time).

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::codec::{self, RowKey};
use crate::error::StoreError;
use crate::store::Store;

/// When one fill of an order placed by an API client was booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFill {
    /// The client that placed the order.
    pub client_id: String,
    /// When the fill was booked (the time of its `order.filled` event).
    pub booked_at: DateTime<Utc>,
}

impl Store {
    /// Fills of client orders booked at or after `since`, oldest first, leaving out those
    /// at or before an engagement by `guard_actor` of the client's kill switch, and those
    /// at or before the `tripped_at` of a `trip_action` event naming the client (target
    /// `client:<id>`).
    pub async fn client_fills_since(
        &self,
        since: DateTime<Utc>,
        guard_actor: &str,
        trip_action: &str,
    ) -> Result<Vec<ClientFill>, StoreError> {
        let found = sqlx::query(
            "SELECT o.placed_by AS client_id, e.time AS booked_at \
             FROM audit_events e JOIN orders o ON e.target = 'order:' || o.id \
             WHERE e.action = 'order.filled' AND e.time >= ?1 \
             AND o.placed_by_kind = 'client' \
             AND NOT EXISTS (SELECT 1 FROM kill_switches k \
                 WHERE k.scope = 'client' AND k.target = o.placed_by \
                 AND k.engaged_by = ?2 AND k.engaged_at >= e.time) \
             AND NOT EXISTS (SELECT 1 FROM audit_events t \
                 WHERE t.action = ?3 AND t.target = 'client:' || o.placed_by \
                 AND COALESCE(json_extract(t.details, '$.tripped_at'), t.time) >= e.time) \
             ORDER BY e.seq",
        )
        .bind(codec::time(&since))
        .bind(guard_actor)
        .bind(trip_action)
        .fetch_all(&mut *self.reader().await?)
        .await?;
        found.iter().map(decode).collect()
    }
}

fn decode(row: &sqlx::sqlite::SqliteRow) -> Result<ClientFill, StoreError> {
    let client_id: String = row.try_get("client_id")?;
    let booked_at: String = row.try_get("booked_at")?;
    let key = RowKey {
        table: "audit_events",
        key: &client_id,
    };
    let booked_at = key.time(&booked_at)?;
    Ok(ClientFill {
        client_id,
        booked_at,
    })
}
