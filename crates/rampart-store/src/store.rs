//! Opening the SQLite database and reading from it.
//!
//! The database runs in WAL mode with `synchronous=FULL`, so a committed
//! transaction survives a power cut, with foreign keys enforced and a busy
//! timeout. One writer connection serialises every write (which keeps the
//! audit chain linear); a small pool of query-only connections serves reads.

use std::fs::{OpenOptions, Permissions};
use std::marker::PhantomData;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rampart_audit::StoredEvent;
use rampart_core::{AccountId, Order, OrderId};
use sqlx::Sqlite;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::StoreError;
use crate::group::Group;
use crate::notional;
use crate::queries;
use crate::records::{
    AccountRecord, ClientRecord, KillSwitchRecord, OrderFilter, Position, UserRecord,
};
use crate::tx::WriteTx;

/// How many read connections are kept.
const READERS: u32 = 4;

/// How long a connection waits for a lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The mode of the database file: read and write for its owner only.
const PRIVATE_MODE: u32 = 0o600;

/// The embedded migrations of the schema.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The gateway's database.
#[derive(Debug, Clone)]
pub struct Store {
    writer: SqlitePool,
    readers: SqlitePool,
    group: Group,
    path: Arc<PathBuf>,
    /// The background WAL checkpoint, stopped on close or when the last clone drops.
    checkpointing: Arc<crate::wal_checkpoint::Checkpointing>,
    /// The clock read for moments taken under the writer (see `store_clock`).
    pub(crate) clock: crate::store_clock::StoreClock,
}

/// The durability settings in force on the writer connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Durability {
    /// The journal mode, such as `wal`.
    pub journal_mode: String,
    /// The synchronous level: 0 off, 1 normal, 2 full, 3 extra.
    pub synchronous: i64,
    /// Whether foreign keys are enforced.
    pub foreign_keys: bool,
}

impl Store {
    /// Opens (creating it with mode 0600 if absent) and migrates the database at `path`.
    ///
    /// The parent directory must exist.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        create_private_file(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Full);

        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                options
                    .clone()
                    .journal_mode(SqliteJournalMode::Wal)
                    // Savepoint journals of group commit stay in memory.
                    .pragma("temp_store", "MEMORY"),
            )
            .await?;
        MIGRATOR.run(&writer).await?;
        notional::rebuild_if_missing(&writer).await?;

        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.pragma("query_only", "ON"))
            .await?;
        let (checkpointing, _task) = crate::wal_checkpoint::spawn(readers.clone());
        tracing::debug!(path = %path.display(), "store opened");
        let group = Group::new(writer.clone());
        Ok(Store {
            writer,
            readers,
            group,
            path: Arc::new(path.to_owned()),
            checkpointing: Arc::new(checkpointing),
            clock: crate::store_clock::StoreClock::default(),
        })
    }

    /// Starts a write transaction; waits while another one is open.
    pub async fn begin(&self) -> Result<WriteTx<'_>, StoreError> {
        Ok(WriteTx {
            tx: self.group.begin().await?,
            store: PhantomData,
            clock: self.clock.clone(),
        })
    }

    /// Closes every connection, checkpointing the write-ahead log.
    ///
    /// Transactions already committed are flushed first.
    pub async fn close(&self) {
        self.group.drain().await;
        self.checkpointing.stop();
        self.readers.close().await;
        self.writer.close().await;
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        Ok(())
    }

    /// The durability settings of the writer connection.
    pub async fn durability(&self) -> Result<Durability, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let journal_mode = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await?;
        let synchronous = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await?;
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await?;
        Ok(Durability {
            journal_mode,
            synchronous,
            foreign_keys: foreign_keys == 1,
        })
    }

    /// The client `id`, if it exists.
    pub async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        queries::client(&mut *self.reader().await?, id).await
    }

    /// Every client, by id.
    pub async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        queries::clients(&mut *self.reader().await?).await
    }

    /// The user signing in as `username`, if any.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        queries::user_by_username(&mut *self.reader().await?, username).await
    }

    /// The account `id`, if it exists.
    pub async fn account(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        queries::account(&mut *self.reader().await?, id).await
    }

    /// Every account, by id.
    pub async fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        queries::accounts(&mut *self.reader().await?).await
    }

    /// The order `id`, if it exists.
    pub async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        queries::order(&mut *self.reader().await?, id).await
    }

    /// The orders `filter` selects, oldest first.
    pub async fn orders(&self, filter: &OrderFilter) -> Result<Vec<Order>, StoreError> {
        queries::orders(&mut *self.reader().await?, filter).await
    }

    /// Every order still working at the broker, oldest first.
    pub async fn open_orders(&self) -> Result<Vec<Order>, StoreError> {
        queries::open_orders(&mut *self.reader().await?).await
    }

    /// The positions of `account`, by instrument.
    pub async fn positions(&self, account: &AccountId) -> Result<Vec<Position>, StoreError> {
        let held = queries::positions_with_cost(&mut *self.reader().await?, account).await?;
        Ok(held.into_iter().map(|(position, _)| position).collect())
    }

    /// The kill switch engagements, oldest first; only unreleased ones if `active_only`.
    pub async fn kill_switches(
        &self,
        active_only: bool,
    ) -> Result<Vec<KillSwitchRecord>, StoreError> {
        queries::kill_switches(&mut *self.reader().await?, active_only).await
    }

    /// Up to `limit` stored audit events after `after_seq`, in order of `seq`.
    pub async fn audit_events(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        crate::audit::page(&mut *self.reader().await?, after_seq, limit).await
    }

    /// How many audit events are stored.
    pub async fn audit_len(&self) -> Result<u64, StoreError> {
        crate::audit::len(&mut *self.reader().await?).await
    }

    /// The path of the database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) async fn reader(&self) -> Result<PoolConnection<Sqlite>, StoreError> {
        Ok(self.readers.acquire().await?)
    }
}

/// Creates the database file readable and writable by its owner only, and
/// takes group and other access away from an existing one.
///
/// SQLite gives its `-wal` and `-shm` files the mode of the database file. An
/// existing file is never opened here, only changed by path: closing any
/// descriptor of a file drops every POSIX lock the process holds on it, so a
/// descriptor opened and closed beside a live SQLite connection of this process
/// (a store being reopened) would silently drop that connection's locks, and
/// another process could then check the WAL in and delete it under the store.
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    let file_error = |source| StoreError::File {
        path: path.to_owned(),
        source,
    };
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_MODE)
        .open(path);
    match created {
        Ok(_) => return Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(file_error(error)),
    }
    let metadata = std::fs::metadata(path).map_err(file_error)?;
    if !metadata.is_file() {
        let kind = std::io::Error::other("the database path is not a regular file");
        return Err(file_error(kind));
    }
    let mode = metadata.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{mode:o}"),
            "database file was open to other users; restricting it to its owner"
        );
        std::fs::set_permissions(path, Permissions::from_mode(PRIVATE_MODE)).map_err(file_error)?;
    }
    Ok(())
}
