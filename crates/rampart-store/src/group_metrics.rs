//! Counters of the group commit's flushes: how many, how many units, how long they held
//! the writer.
//!
//! A measurement aid for benchmarks and load commands: totals over every store of the
//! process, read before and after a run and subtracted. Nothing in the gateway reads them;
//! they only count, so that a run can be explained without a profiler.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static FLUSHES: AtomicU64 = AtomicU64::new(0);
static FLUSHED_UNITS: AtomicU64 = AtomicU64::new(0);
static INSERTING_NANOS: AtomicU64 = AtomicU64::new(0);
static COMMITTING_NANOS: AtomicU64 = AtomicU64::new(0);

/// How long flushes held the writer since the process began, in two parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlushTimes {
    /// Inserting the staged audit events and the subtree hashes they complete.
    pub inserting: Duration,
    /// The durable `COMMIT` itself, with its fsync, during which no unit can begin.
    pub committing: Duration,
}

/// How long flushes spent inserting and committing, since the process began.
pub fn flush_times() -> FlushTimes {
    FlushTimes {
        inserting: Duration::from_nanos(INSERTING_NANOS.load(Ordering::Relaxed)),
        committing: Duration::from_nanos(COMMITTING_NANOS.load(Ordering::Relaxed)),
    }
}

/// How many batches were committed and how many units they carried, since the process
/// began.
pub fn flush_counts() -> (u64, u64) {
    (
        FLUSHES.load(Ordering::Relaxed),
        FLUSHED_UNITS.load(Ordering::Relaxed),
    )
}

/// Counts a flush of a batch of `units`.
pub(crate) fn count_flush(units: u64) {
    FLUSHES.fetch_add(1, Ordering::Relaxed);
    FLUSHED_UNITS.fetch_add(units, Ordering::Relaxed);
}

/// Adds the time a flush spent inserting and committing.
pub(crate) fn add_flush_times(inserting: Duration, committing: Duration) {
    add_nanos(&INSERTING_NANOS, inserting);
    add_nanos(&COMMITTING_NANOS, committing);
}

fn add_nanos(total: &AtomicU64, elapsed: Duration) {
    let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
    total.fetch_add(nanos, Ordering::Relaxed);
}
