//! `rampart audit verify`: recompute every hash of the audit log and check its checkpoints.
//!
//! Every leaf, the chain and the RFC 9162 tree are recomputed from the stored
//! fields, trusting no stored hash; every stored checkpoint must be signed by
//! the trusted key and match the recomputed root at its size. The checkpoints
//! exported outside the database are checked too, so that a log truncated or
//! rewritten together with its checkpoint rows is still caught. The first fault
//! is named and the command exits with status 1. Progress shows as a bar on a
//! terminal and as periodic log lines otherwise.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use rampart_audit::CheckpointVerifier;
use rampart_server::init::CHECKPOINT_VERIFIER_FILE;
use rampart_store::{AuditCheckError, Store, VerifySummary, verify_audit, verify_audit_signed};

use crate::cli::{AuditCommand, AuditVerifyArgs};
use crate::commands::audit_bundle;
use crate::context::Context;
use crate::logging::stderr_is_terminal;

/// How often progress is logged when there is no terminal.
const LOG_EVERY: Duration = Duration::from_secs(2);

/// The suffix of exported checkpoint files.
const EXPORTED_SUFFIX: &str = ".checkpoint";

/// Why the log could not be checked at all (a failed check is a verdict, not an error).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The store failed while reading the log.
    #[error("{0}")]
    Store(String),
    /// The verifier key could not be read.
    #[error("the checkpoint verifier key `{path}` is unusable: {reason}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The export directory could not be read.
    #[error("cannot read the exported checkpoints in `{path}`: {reason}")]
    Exported {
        /// The directory or file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A bundle could not be written, or a checkpoint could not be made.
    #[error("{0}")]
    Bundle(String),
}

/// The result of a verification run.
#[derive(Debug)]
pub enum Verdict {
    /// Every event and checkpoint verified.
    Intact(VerifySummary),
    /// The first fault, in words.
    Broken(String),
}

impl Verdict {
    /// One line for the operator.
    pub fn summary(&self) -> String {
        match self {
            Verdict::Intact(summary) => format!(
                "audit log verified: {} events, tree root {}, {} checkpoints, head hash {}",
                summary.events,
                hex_of(&summary.root_hash),
                summary.checkpoints,
                hex_of(&summary.head_hash)
            ),
            Verdict::Broken(fault) => format!("audit log verification FAILED: {fault}"),
        }
    }

    /// Whether everything verified.
    pub fn is_intact(&self) -> bool {
        matches!(self, Verdict::Intact(_))
    }
}

/// Runs `rampart audit ...`.
pub async fn run(
    context: &Context,
    command: &AuditCommand,
) -> Result<ExitCode, crate::commands::Error> {
    match command {
        AuditCommand::Verify(args) => verify_command(context, args).await,
        AuditCommand::Export(args) => audit_bundle::export(context, args).await,
        AuditCommand::VerifyBundle(args) => audit_bundle::verify(args).await,
        AuditCommand::Checkpoint => audit_bundle::checkpoint(context).await,
    }
}

async fn verify_command(
    context: &Context,
    args: &AuditVerifyArgs,
) -> Result<ExitCode, crate::commands::Error> {
    let data_dir = &context.config().server.data_dir;
    let store = context.open_store().await?;
    let key = args
        .key
        .clone()
        .unwrap_or_else(|| data_dir.join(CHECKPOINT_VERIFIER_FILE));
    let verifier = read_verifier(&key)?;
    let export_dir = context.config().audit.export_dir(data_dir);
    let verdict = verify_signed(&store, &verifier, &export_dir).await?;
    println!("{}", verdict.summary());
    Ok(if verdict.is_intact() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Reads a verifier key file (`name+<key id>+<base64 key>`).
pub fn read_verifier(path: &Path) -> Result<CheckpointVerifier, AuditError> {
    let failed = |reason: String| AuditError::Key {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    CheckpointVerifier::from_verifier_key(text.trim_end()).map_err(|e| failed(e.to_string()))
}

/// Verifies the chain and the tree with the checkpoints unchecked for signature, showing progress.
pub async fn verify(store: &Store) -> Result<Verdict, AuditError> {
    let mut progress = Progress::new("verifying");
    let result = verify_audit(store, |done, total| progress.update(done, total)).await;
    progress.finish();
    verdict_of(result)
}

/// Verifies everything: chain, tree, stored checkpoints signed by `verifier`, and the
/// checkpoints exported to `export_dir`.
pub async fn verify_signed(
    store: &Store,
    verifier: &CheckpointVerifier,
    export_dir: &Path,
) -> Result<Verdict, AuditError> {
    let mut progress = Progress::new("verifying");
    let result = verify_audit_signed(store, verifier, |d, t| progress.update(d, t)).await;
    progress.finish();
    let verdict = verdict_of(result)?;
    let Verdict::Intact(summary) = &verdict else {
        return Ok(verdict);
    };
    match check_exported(store, verifier, export_dir, summary.events).await? {
        Some(fault) => Ok(Verdict::Broken(fault)),
        None => Ok(verdict),
    }
}

fn verdict_of(result: Result<VerifySummary, AuditCheckError>) -> Result<Verdict, AuditError> {
    match result {
        Ok(summary) => Ok(Verdict::Intact(summary)),
        Err(AuditCheckError::Store(error)) => Err(AuditError::Store(error.to_string())),
        Err(fault) => Ok(Verdict::Broken(fault.to_string())),
    }
}

/// Checks every exported checkpoint against the log; returns the first fault.
async fn check_exported(
    store: &Store,
    verifier: &CheckpointVerifier,
    dir: &Path,
    events: u64,
) -> Result<Option<String>, AuditError> {
    for (path, text) in exported(dir)? {
        let file = path.display();
        let checkpoint = match verifier.verify(&text) {
            Ok(checkpoint) => checkpoint,
            Err(error) => return Ok(Some(format!("exported checkpoint `{file}`: {error}"))),
        };
        let size = checkpoint.tree_size;
        if path.file_name() != rampart_store::export_path(dir, size).file_name() {
            return Ok(Some(format!(
                "exported checkpoint `{file}` is not of its file's size"
            )));
        }
        if size > events {
            return Ok(Some(format!(
                "the log was truncated: events {} to {size} are missing but the exported \
                 checkpoint of tree size {size} covers them",
                events + 1
            )));
        }
        let root = store
            .audit_root(size)
            .await
            .map_err(|e| AuditError::Store(e.to_string()))?;
        if root != checkpoint.root_hash {
            return Ok(Some(format!(
                "the first {size} events are not those the exported checkpoint of tree size \
                 {size} signed: the log was rewritten"
            )));
        }
    }
    Ok(None)
}

/// The exported checkpoint files of `dir` and their texts, smallest first.
fn exported(dir: &Path) -> Result<Vec<(PathBuf, String)>, AuditError> {
    let failed = |path: &Path, e: std::io::Error| AuditError::Exported {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(failed(dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| failed(dir, e))?.path();
        if path.to_string_lossy().ends_with(EXPORTED_SUFFIX) {
            let text = std::fs::read_to_string(&path).map_err(|e| failed(&path, e))?;
            files.push((path, text));
        }
    }
    files.sort();
    Ok(files)
}

/// A bar on a terminal, log lines every few seconds otherwise.
pub struct Progress {
    bar: Option<ProgressBar>,
    what: &'static str,
    last_log: Instant,
}

impl Progress {
    /// Progress of `what` (such as `verifying`), shown on standard error.
    pub fn new(what: &'static str) -> Self {
        let bar = stderr_is_terminal().then(|| {
            let template = format!("{what} {{bar:40}} {{pos}}/{{len}} events");
            let style = ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            ProgressBar::new(0).with_style(style)
        });
        Self {
            bar,
            what,
            last_log: Instant::now(),
        }
    }

    /// `done` of `total` events are through.
    pub fn update(&mut self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
        } else if self.last_log.elapsed() >= LOG_EVERY || done == total {
            self.last_log = Instant::now();
            tracing::info!(done, total, step = self.what, "audit log progress");
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Lower-case hexadecimal of a hash.
pub fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
