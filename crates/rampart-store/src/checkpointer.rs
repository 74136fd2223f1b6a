//! The checkpointer: signs a checkpoint of the audit tree every N events or T seconds.
//!
//! Each checkpoint covers only flushed (durable) events. It is recorded in the database,
//! then exported as one file, `<export_dir>/<tree_size, 20 digits>.checkpoint`, created
//! with `create_new` (a file is never overwritten) and fsynced together with its directory.
//! Point the export directory at storage the gateway cannot rewrite (an append-only or WORM
//! mount, or a directory another account ships away).
//!
//! It upholds that truncation and rollback of the log are detected: the checkpointer refuses
//! to start when the export directory holds a checkpoint the database does not, or holds a
//! different text for one, or when the database's latest checkpoint covers more events than
//! the log holds. A checkpoint recorded but not yet exported (a crash in between) is
//! exported at start.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use rampart_audit::{
    Checkpoint, CheckpointError, CheckpointSigner, MerkleAccumulator, MerkleError, SignedCheckpoint,
};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::error::StoreError;
use crate::store::Store;

/// How often the checkpointer looks at the log's length.
const POLL: Duration = Duration::from_millis(250);

/// How many leaf hashes are read at a time.
const LEAF_PAGE: u64 = 50_000;

/// The suffix of an exported checkpoint file.
const SUFFIX: &str = ".checkpoint";

/// When checkpoints are made, and where they are exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointPolicy {
    /// Make a checkpoint once this many events are not yet covered.
    pub every_events: u64,
    /// Make a checkpoint this long after the last one, if any event is not yet covered.
    pub every: Duration,
    /// Where each checkpoint is also written as a file, if anywhere.
    pub export_dir: Option<PathBuf>,
    /// The log's name, the first line of every checkpoint.
    pub origin: String,
}

/// Why the checkpointer could not start or make a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The checkpoint could not be signed, or an exported one cannot be read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The tree over the log cannot grow.
    #[error(transparent)]
    Tree(#[from] MerkleError),
    /// The policy is unusable.
    #[error("`{field}` {rule}")]
    Policy {
        /// The offending field.
        field: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// An exported checkpoint file cannot be written or read.
    #[error("cannot export the checkpoint `{path}`: {source}")]
    Export {
        /// The file or directory.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// The export directory holds a checkpoint the database does not: it was rolled back.
    #[error(
        "the exported checkpoint of tree size {tree_size} is not in the database: the audit \
         log was rolled back or replaced"
    )]
    RolledBack {
        /// The size of the exported checkpoint.
        tree_size: u64,
    },
    /// The database's latest checkpoint covers events the log no longer holds.
    #[error(
        "the audit log holds {len} events but was checkpointed at {tree_size}: it was truncated"
    )]
    Truncated {
        /// The checkpoint's size.
        tree_size: u64,
        /// The events the log holds.
        len: u64,
    },
}

/// Makes, records and exports signed checkpoints of the audit tree.
///
/// Clones share one state, so a clone can make a checkpoint while another runs.
#[derive(Debug, Clone)]
pub struct Checkpointer {
    store: Store,
    signer: Arc<CheckpointSigner>,
    policy: Arc<CheckpointPolicy>,
    state: Arc<Mutex<State>>,
}

/// The tree over the checkpointed log, and the latest checkpoint.
#[derive(Debug)]
struct State {
    tree: MerkleAccumulator,
    latest: Option<Checkpoint>,
    made_at: Instant,
}

impl Checkpointer {
    /// Checks the log against its checkpoints and the export directory, then loads the tree.
    pub async fn new(
        store: Store,
        signer: Arc<CheckpointSigner>,
        policy: CheckpointPolicy,
    ) -> Result<Self, CheckpointerError> {
        check_policy(&policy)?;
        let recorded = store.checkpoints().await?;
        let len = crate::audit::head_seq(&mut *store.reader().await?).await?;
        if let Some(last) = recorded.last() {
            if last.checkpoint.tree_size > len {
                return Err(CheckpointerError::Truncated {
                    tree_size: last.checkpoint.tree_size,
                    len,
                });
            }
        }
        if let Some(dir) = &policy.export_dir {
            reconcile_export(dir, &recorded)?;
        }
        let state = State {
            tree: MerkleAccumulator::new(),
            latest: recorded.last().map(|s| s.checkpoint.clone()),
            made_at: Instant::now(),
        };
        let checkpointer = Self {
            store,
            signer,
            policy: Arc::new(policy),
            state: Arc::new(Mutex::new(state)),
        };
        checkpointer
            .catch_up(&mut *checkpointer.state.lock().await)
            .await?;
        Ok(checkpointer)
    }

    /// The latest checkpoint recorded, if any.
    pub async fn latest(&self) -> Option<Checkpoint> {
        self.state.lock().await.latest.clone()
    }

    /// Signs, records and exports a checkpoint of every flushed event, unless the latest
    /// checkpoint already covers them all.
    pub async fn checkpoint_now(&self) -> Result<Option<SignedCheckpoint>, CheckpointerError> {
        let mut state = self.state.lock().await;
        self.catch_up(&mut state).await?;
        let size = state.tree.len();
        if state
            .latest
            .as_ref()
            .map_or(size == 0, |c| c.tree_size >= size)
        {
            return Ok(None);
        }
        // The time never goes back, even if the clock does.
        let time = state
            .latest
            .as_ref()
            .map_or(Utc::now(), |c| c.time.max(Utc::now()));
        let checkpoint = Checkpoint::new(&self.policy.origin, size, state.tree.root(), time);
        let signed = self.signer.sign(&checkpoint)?;
        self.store.record_checkpoint(&signed).await?;
        if let Some(dir) = &self.policy.export_dir {
            export(dir, &signed)?;
        }
        tracing::info!(tree_size = size, "audit checkpoint signed");
        state.latest = Some(checkpoint);
        state.made_at = Instant::now();
        Ok(Some(signed))
    }

    /// Makes checkpoints by the policy until `shutdown`, then makes a last one; meanwhile
    /// back-fills the stored subtree hashes of an old log (see `audit_backfill`).
    pub async fn run(self, shutdown: CancellationToken) {
        let back_fill = tokio::spawn(back_fill(self.store.clone(), shutdown.clone()));
        let mut tick = tokio::time::interval(POLL.min(self.policy.every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            match self.due().await {
                Ok(true) => self.checkpoint_logged().await,
                Ok(false) => {}
                Err(error) => tracing::error!(%error, "cannot read the audit log's length"),
            }
        }
        self.checkpoint_logged().await;
        // It stops at its next step once `shutdown` is cancelled.
        let _ = back_fill.await;
    }

    async fn checkpoint_logged(&self) {
        if let Err(error) = self.checkpoint_now().await {
            tracing::error!(%error, "audit checkpoint failed; retrying on the next tick");
        }
    }

    /// Whether the policy calls for a checkpoint now.
    async fn due(&self) -> Result<bool, StoreError> {
        let len = crate::audit::head_seq(&mut *self.store.reader().await?).await?;
        let state = self.state.lock().await;
        let covered = state.latest.as_ref().map_or(0, |c| c.tree_size);
        let pending = len.saturating_sub(covered);
        Ok(pending >= self.policy.every_events
            || (pending > 0 && state.made_at.elapsed() >= self.policy.every))
    }

    /// Adds every flushed leaf the tree does not hold yet.
    async fn catch_up(&self, state: &mut State) -> Result<(), CheckpointerError> {
        loop {
            let start = state.tree.len();
            let end = start.saturating_add(LEAF_PAGE);
            let leaves = self.store.audit_leaf_hashes(start..end).await?;
            let full = leaves.len() as u64 == LEAF_PAGE;
            for leaf in leaves {
                state.tree.push(leaf)?;
            }
            if !full {
                return Ok(());
            }
        }
    }
}

/// Back-fills the stored subtree hashes until done or `shutdown`; a failed step
/// is retried inside, so only what no retry mends (see `back_fill_audit_tree`)
/// ends it early, logged.
async fn back_fill(store: Store, shutdown: CancellationToken) {
    if let Err(error) = store.back_fill_audit_tree(&shutdown).await {
        tracing::error!(%error, "audit tree back-fill stopped; proofs hash missing nodes instead");
    }
}

fn check_policy(policy: &CheckpointPolicy) -> Result<(), CheckpointerError> {
    let bad = |field, rule| Err(CheckpointerError::Policy { field, rule });
    if policy.every_events == 0 {
        return bad("every_events", "must be at least 1");
    }
    if policy.every.is_zero() {
        return bad("every", "must be longer than zero");
    }
    if policy.origin.is_empty() || policy.origin.chars().any(char::is_control) {
        return bad("origin", "must be a non-empty line of printable text");
    }
    Ok(())
}

/// The file of the checkpoint of `tree_size` events in `dir`.
pub fn export_path(dir: &Path, tree_size: u64) -> PathBuf {
    dir.join(format!("{tree_size:020}{SUFFIX}"))
}

/// Refuses an export directory ahead of the database; exports what it lacks.
fn reconcile_export(dir: &Path, recorded: &[SignedCheckpoint]) -> Result<(), CheckpointerError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| CheckpointerError::Export { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        let Some(size) = exported_size(&path) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let known = recorded
            .iter()
            .find(|s| s.checkpoint.tree_size == size)
            .is_some_and(|s| s.text == text);
        if !known {
            return Err(CheckpointerError::RolledBack { tree_size: size });
        }
    }
    for signed in recorded {
        if !export_path(dir, signed.checkpoint.tree_size).exists() {
            export(dir, signed)?;
        }
    }
    Ok(())
}

/// The tree size named by an exported checkpoint file, if `path` is one.
fn exported_size(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?;
    let digits = name.strip_suffix(SUFFIX)?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Writes `signed` as a new file in `dir`, durably; an existing file is never replaced.
fn export(dir: &Path, signed: &SignedCheckpoint) -> Result<(), CheckpointerError> {
    let path = export_path(dir, signed.checkpoint.tree_size);
    let failed = |source| CheckpointerError::Export {
        path: path.clone(),
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(failed)?;
    file.write_all(signed.text.as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| CheckpointerError::Export {
            path: dir.to_owned(),
            source,
        })
}
