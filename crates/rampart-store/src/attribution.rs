//! Orders selected by who placed them, their algorithm and their desk, and
//! the algorithm id a client record names.
//!
//! Every filter value is bound as a parameter, never spliced into SQL.

use rampart_core::Order;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::error::StoreError;
use crate::records::OrderFilter;
use crate::rows;
use crate::store::Store;
use crate::tx::WriteTx;

/// Which orders to list by attribution, on top of an [`OrderFilter`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributionFilter {
    /// Only orders placed by this person or client (opaque id).
    pub placed_by: Option<String>,
    /// Only orders of this algorithm.
    pub algo_id: Option<String>,
    /// Only orders of accounts of this desk.
    pub desk: Option<String>,
}

impl Store {
    /// The orders both filters select, oldest (lowest id) first.
    pub async fn orders_attributed(
        &self,
        filter: &OrderFilter,
        by: &AttributionFilter,
    ) -> Result<Vec<Order>, StoreError> {
        orders(&mut *self.reader().await?, filter, by).await
    }

    /// The algorithm id the client `id` names, if it names one.
    pub async fn client_algo_id(&self, id: &str) -> Result<Option<String>, StoreError> {
        client_algo_id(&mut *self.reader().await?, id).await
    }
}

impl WriteTx<'_> {
    /// The algorithm id the client `id` names, as this transaction sees it.
    pub async fn client_algo_id(&mut self, id: &str) -> Result<Option<String>, StoreError> {
        client_algo_id(&mut self.tx, id).await
    }

    /// Names (or with `None` clears) the algorithm id of client `id`; false if unknown.
    pub async fn set_client_algo_id(
        &mut self,
        id: &str,
        algo_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE clients SET algo_id = ? WHERE id = ?")
            .bind(algo_id)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// The orders `filter` and `by` select, oldest (lowest id) first.
pub(crate) async fn orders(
    conn: &mut SqliteConnection,
    filter: &OrderFilter,
    by: &AttributionFilter,
) -> Result<Vec<Order>, StoreError> {
    if filter.limit == 0 || filter.accounts.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let mut query = QueryBuilder::<Sqlite>::new(format!(
        "SELECT {} FROM orders WHERE 1 = 1",
        rows::ORDER_READ_COLUMNS
    ));
    push_order_filter(&mut query, filter);
    push_attribution(&mut query, by);
    query
        .push(" ORDER BY id LIMIT ")
        .push_bind(i64::from(filter.limit));

    let found = query.build().fetch_all(conn).await?;
    found.iter().map(rows::order).collect()
}

fn push_order_filter(query: &mut QueryBuilder<'_, Sqlite>, filter: &OrderFilter) {
    if let Some(accounts) = &filter.accounts {
        query.push(" AND account_id IN (");
        let mut list = query.separated(", ");
        for account in accounts {
            list.push_bind(account.as_str().to_owned());
        }
        query.push(")");
    }
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(after) = filter.after {
        query.push(" AND id > ").push_bind(after.to_string());
    }
}

fn push_attribution(query: &mut QueryBuilder<'_, Sqlite>, by: &AttributionFilter) {
    let columns = [
        ("placed_by", &by.placed_by),
        ("algo_id", &by.algo_id),
        ("desk", &by.desk),
    ];
    for (column, value) in columns {
        if let Some(value) = value {
            query
                .push(format!(" AND {column} = "))
                .push_bind(value.clone());
        }
    }
}

async fn client_algo_id(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<String>, StoreError> {
    let found: Option<Option<String>> =
        sqlx::query_scalar("SELECT algo_id FROM clients WHERE id = ?")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(found.flatten())
}
