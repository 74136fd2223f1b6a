//! `rampart audit verify`: recompute every hash of the audit chain.
//!
//! The store's `verify_audit` reads every event in `seq` order and trusts no
//! stored hash; the first event that does not match is named with what is
//! wrong, and the command exits with status 1. Progress shows as a bar on a
//! terminal and as periodic log lines otherwise.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use rampart_store::{AuditCheckError, Store, VerifySummary, verify_audit};

use crate::cli::AuditCommand;
use crate::context::Context;
use crate::logging::stderr_is_terminal;

/// How often progress is logged when there is no terminal.
const LOG_EVERY: Duration = Duration::from_secs(2);

/// Why the log could not be checked at all (a failed check is a verdict, not an error).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The store failed while reading the log.
    #[error("{0}")]
    Store(String),
}

/// The result of a verification run.
#[derive(Debug)]
pub enum Verdict {
    /// Every event verified.
    Intact(VerifySummary),
    /// The first bad event, in words.
    Broken(String),
}

impl Verdict {
    /// One line for the operator.
    pub fn summary(&self) -> String {
        match self {
            Verdict::Intact(summary) => format!(
                "audit log verified: {} events, head hash {}",
                summary.events,
                hex_of(&summary.head_hash)
            ),
            Verdict::Broken(fault) => format!("audit log verification FAILED: {fault}"),
        }
    }

    /// Whether every event verified.
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
        AuditCommand::Verify => {
            let store = context.open_store().await?;
            let verdict = verify(&store).await?;
            println!("{}", verdict.summary());
            Ok(if verdict.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// Verifies the whole chain, showing progress.
pub async fn verify(store: &Store) -> Result<Verdict, AuditError> {
    let mut progress = Progress::new();
    let result = verify_audit(store, |done, total| progress.update(done, total)).await;
    progress.finish();
    match result {
        Ok(summary) => Ok(Verdict::Intact(summary)),
        Err(AuditCheckError::Store(error)) => Err(AuditError::Store(error.to_string())),
        Err(fault) => Ok(Verdict::Broken(fault.to_string())),
    }
}

/// A bar on a terminal, log lines every few seconds otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    last_log: Instant,
}

impl Progress {
    fn new() -> Self {
        let bar = stderr_is_terminal().then(|| {
            let style = ProgressStyle::with_template("verifying {bar:40} {pos}/{len} events")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            ProgressBar::new(0).with_style(style)
        });
        Self {
            bar,
            last_log: Instant::now(),
        }
    }

    fn update(&mut self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
        } else if self.last_log.elapsed() >= LOG_EVERY || done == total {
            self.last_log = Instant::now();
            tracing::info!(verified = done, total, "verifying audit log");
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Lower-case hexadecimal of a hash.
pub fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
