//! The errors of the store.
//!
//! Constraint violations become typed errors (`Duplicate`, `MissingReference`)
//! and unreadable rows become `Corrupt`, naming the table and key, so that no
//! database fault can panic the gateway. Messages carry ids, never secrets.

use std::path::PathBuf;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file or its directory cannot be prepared.
    #[error("cannot prepare the database file `{path}`: {source}")]
    File {
        /// The database file.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// The database refused or failed an operation.
    #[error("database failure: {0}")]
    Database(#[source] sqlx::Error),
    /// The connection that reads the audit log for verification failed.
    #[error("cannot read the audit log for verification: {0}")]
    Scan(#[from] rusqlite::Error),
    /// The schema could not be brought up to date.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A record with the same unique key already exists.
    #[error("{what} `{key}` already exists")]
    Duplicate {
        /// What kind of record.
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// A record refers to another record that does not exist.
    #[error("{what} `{key}` refers to a record that does not exist")]
    MissingReference {
        /// What kind of record.
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// The record to change does not exist.
    #[error("{what} `{key}` does not exist")]
    NotFound {
        /// What kind of record.
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// A stored row cannot be read back into its record.
    #[error("the stored {table} row `{key}` cannot be read: the database is corrupt")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The row's key.
        key: String,
    },
    /// A value handed to the store breaks one of its rules.
    #[error("`{field}` {rule}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The durable commit shared by a group of transactions failed; none of them was kept.
    #[error("the commit failed and nothing of it was kept: {0}")]
    CommitFailed(String),
    /// A position, size or count is outside what the log holds.
    #[error("`{field}` must be between {min} and {max}, not {value}")]
    OutOfRange {
        /// The offending field.
        field: &'static str,
        /// The value given.
        value: u64,
        /// The smallest value allowed.
        min: u64,
        /// The largest value allowed.
        max: u64,
    },
    /// A Merkle proof could not be made for the sizes given.
    #[error(transparent)]
    Proof(#[from] rampart_audit::MerkleError),
    /// The blocking thread hashing audit leaves stopped before it finished.
    #[error("the thread hashing audit leaves stopped before it finished")]
    HashingStopped,
    /// A money or quantity computation left the representable range.
    #[error("`{field}` overflows")]
    Overflow {
        /// The value that would overflow.
        field: &'static str,
    },
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

impl StoreError {
    /// Maps a failed insert: a unique violation is a duplicate of `what` `key`,
    /// a foreign-key violation a missing reference.
    pub(crate) fn on_insert(error: sqlx::Error, what: &'static str, key: &str) -> Self {
        match error.as_database_error() {
            Some(db) if db.is_unique_violation() => Self::Duplicate {
                what,
                key: key.to_owned(),
            },
            Some(db) if db.is_foreign_key_violation() => Self::MissingReference {
                what,
                key: key.to_owned(),
            },
            _ => Self::Database(error),
        }
    }
}
