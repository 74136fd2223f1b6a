//! Forwarding committed audit events to a firm's SIEM: a JSON-lines file and syslog.
//!
//! Upholds the rule that forwarding never touches the order path: each sink is
//! a task that tails the store by `seq`, so it only ever sees committed events
//! (readers see flushed data only) and misses none. A sink that fails is
//! counted in `/metrics`, logged and retried from the same `seq`; requests are
//! never delayed or failed by it.
//!
//! Delivery is at least once. Each sink keeps the last `seq` it delivered in a
//! small file (`<data>/audit-forward/<sink>.seq`, replaced atomically after each
//! batch), so a restart resumes where it stopped; events sent just before a
//! crash may be sent again, and the receiver drops duplicates by `seq`.

pub mod jsonl;
pub mod syslog;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rampart_audit::AuditEvent;
use rampart_store::{Store, StoreError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::ForwardConfig;
use crate::files::{self, PRIVATE_FILE};
use jsonl::JsonlSink;
use syslog::SyslogSink;

/// Events delivered, by sink.
pub const FORWARDED: &str = "rampart_audit_forwarded_total";

/// Failed deliveries (each retried), by sink.
pub const FORWARD_FAILURES: &str = "rampart_audit_forward_failures_total";

/// The directory of the sinks' positions inside the data directory.
pub const POSITION_DIR: &str = "audit-forward";

/// How many events one batch carries at most.
const BATCH: u32 = 500;

/// How often the store is looked at for new events.
const POLL: Duration = Duration::from_millis(200);

/// How long a failed sink waits before it tries again.
const RETRY: Duration = Duration::from_secs(1);

/// How many batches shutdown still delivers before it gives up (the rest is sent next start).
const DRAIN_BATCHES: usize = 100;

/// Why an event could not be forwarded.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// The sink refused or lost the events.
    #[error("forwarding to `{sink}` failed: {source}")]
    Sink {
        /// The sink's name.
        sink: &'static str,
        /// The cause.
        source: io::Error,
    },
    /// The position file could not be read or written.
    #[error("the forwarding position `{path}` is unusable: {reason}")]
    Position {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where events go.
#[derive(Debug)]
enum Sink {
    Jsonl(JsonlSink),
    Syslog(SyslogSink),
}

impl Sink {
    fn name(&self) -> &'static str {
        match self {
            Sink::Jsonl(_) => "jsonl",
            Sink::Syslog(_) => "syslog",
        }
    }

    async fn send(&mut self, events: &[AuditEvent]) -> io::Result<()> {
        match self {
            Sink::Jsonl(sink) => sink.send(events).await,
            Sink::Syslog(sink) => sink.send(events).await,
        }
    }
}

/// One sink tailing the store.
#[derive(Debug)]
pub struct Forwarder {
    store: Store,
    sink: Sink,
    position: Position,
}

/// Starts one forwarder task per configured sink; stop them with `shutdown`.
pub fn spawn(
    config: &ForwardConfig,
    data_dir: &Path,
    store: &Store,
    shutdown: &CancellationToken,
) -> Result<Vec<JoinHandle<()>>, ForwardError> {
    let mut sinks = Vec::new();
    if let Some(path) = &config.jsonl {
        sinks.push(Sink::Jsonl(JsonlSink::new(path)));
    }
    if let Some(syslog) = &config.syslog {
        sinks.push(Sink::Syslog(SyslogSink::new(syslog)));
    }
    let dir = data_dir.join(POSITION_DIR);
    let mut tasks = Vec::new();
    for sink in sinks {
        let position = Position::load(&dir, sink.name())?;
        let forwarder = Forwarder {
            store: store.clone(),
            sink,
            position,
        };
        tasks.push(tokio::spawn(forwarder.run(shutdown.clone())));
    }
    Ok(tasks)
}

impl Forwarder {
    /// Delivers events until `shutdown`, then delivers what was committed before it.
    pub async fn run(mut self, shutdown: CancellationToken) {
        loop {
            let pause = match self.deliver_batch().await {
                Ok(0) => POLL,
                Ok(_) => Duration::ZERO,
                Err(error) => self.failed(&error),
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        self.drain().await;
    }

    /// Delivers the events committed before shutdown, within a bound.
    async fn drain(&mut self) {
        for _ in 0..DRAIN_BATCHES {
            match self.deliver_batch().await {
                Ok(0) => return,
                Ok(_) => {}
                Err(error) => {
                    self.failed(&error);
                    return;
                }
            }
        }
    }

    /// Sends the next batch and records its last `seq`; returns how many were sent.
    async fn deliver_batch(&mut self) -> Result<usize, ForwardError> {
        let stored = self.store.audit_events(self.position.seq, BATCH).await?;
        let Some(last) = stored.last().map(|s| s.event.seq) else {
            return Ok(0);
        };
        let events: Vec<AuditEvent> = stored.into_iter().map(|s| s.event).collect();
        let sink = self.sink.name();
        self.sink
            .send(&events)
            .await
            .map_err(|source| ForwardError::Sink { sink, source })?;
        self.position.save(last)?;
        metrics::counter!(FORWARDED, "sink" => sink).increment(events.len() as u64);
        Ok(events.len())
    }

    fn failed(&self, error: &ForwardError) -> Duration {
        let sink = self.sink.name();
        metrics::counter!(FORWARD_FAILURES, "sink" => sink).increment(1);
        tracing::warn!(%error, sink, after_seq = self.position.seq, "audit forwarding failed");
        RETRY
    }
}

/// The last `seq` a sink delivered, kept in a file.
#[derive(Debug)]
struct Position {
    path: PathBuf,
    seq: u64,
}

impl Position {
    fn load(dir: &Path, name: &str) -> Result<Self, ForwardError> {
        let path = dir.join(format!("{name}.seq"));
        let failed = |reason: String| ForwardError::Position {
            path: path.clone(),
            reason,
        };
        files::private_dir(dir).map_err(|e| failed(e.to_string()))?;
        let seq = match std::fs::read_to_string(&path) {
            Ok(text) => text
                .trim()
                .parse()
                .map_err(|_| failed("does not hold a sequence number".to_owned()))?,
            Err(error) if error.kind() == io::ErrorKind::NotFound => 0,
            Err(error) => return Err(failed(error.to_string())),
        };
        Ok(Self { path, seq })
    }

    /// Replaces the file atomically: a crash leaves the old or the new position.
    fn save(&mut self, seq: u64) -> Result<(), ForwardError> {
        let failed = |error: io::Error| ForwardError::Position {
            path: self.path.clone(),
            reason: error.to_string(),
        };
        let temporary = self.path.with_extension("seq.new");
        let _ = std::fs::remove_file(&temporary);
        files::create_new(&temporary, PRIVATE_FILE, format!("{seq}\n").as_bytes())
            .map_err(failed)?;
        std::fs::rename(&temporary, &self.path).map_err(failed)?;
        self.seq = seq;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_starts_at_zero_and_survives_a_reload() {
        let temp = tempfile::tempdir().unwrap();
        let mut position = Position::load(temp.path(), "jsonl").unwrap();
        assert_eq!(position.seq, 0);
        position.save(41).unwrap();
        position.save(42).unwrap();
        assert_eq!(Position::load(temp.path(), "jsonl").unwrap().seq, 42);
        assert!(!temp.path().join("jsonl.seq.new").exists());
    }

    #[test]
    fn damaged_position_is_refused_not_reset() {
        let temp = tempfile::tempdir().unwrap();
        std::fs::write(temp.path().join("syslog.seq"), "forty-two").unwrap();
        let error = Position::load(temp.path(), "syslog").unwrap_err();
        assert!(error.to_string().contains("syslog.seq"), "{error}");
    }
}
