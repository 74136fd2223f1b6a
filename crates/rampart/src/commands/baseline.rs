//! The storage baseline of `rampart load`: how many durable writes a second the
//! disk under the data directory takes.
//!
//! Every accepted order costs durable commits of the store, so the gateway's
//! throughput is bounded by the disk's sync rate. Measuring that rate in the
//! same run, on the same directory, lets the benchmark report its throughput
//! as a ratio that means the same on a fast disk and a slow one.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// The name of the scratch file, removed again before the measurement returns.
const PROBE_FILE: &str = "storage-baseline.probe";

/// Appends 512-byte records to a scratch file in `dir`, each followed by a data
/// sync (as SQLite does for each commit of its write-ahead log), for `duration`,
/// and returns the syncs completed per second.
pub fn durable_writes_per_second(dir: &Path, duration: Duration) -> io::Result<f64> {
    let path = dir.join(PROBE_FILE);
    // `create_new`: a file of that name that is not ours is never written or removed.
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    let result = measure(file, duration);
    let removed = fs::remove_file(&path);
    let rate = result?;
    removed?;
    Ok(rate)
}

fn measure(mut file: fs::File, duration: Duration) -> io::Result<f64> {
    let record = [0x5a_u8; 512];
    let started = Instant::now();
    let mut syncs = 0_u32;
    while started.elapsed() < duration {
        file.write_all(&record)?;
        file.sync_data()?;
        syncs += 1;
    }
    Ok(f64::from(syncs) / started.elapsed().as_secs_f64().max(f64::EPSILON))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_positive_rate_and_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let rate = durable_writes_per_second(dir.path(), Duration::from_millis(50)).unwrap();
        assert!(rate > 0.0);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn leaves_an_existing_file_of_the_same_name_untouched() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(PROBE_FILE), b"keep").unwrap();
        assert!(durable_writes_per_second(dir.path(), Duration::from_millis(10)).is_err());
        assert_eq!(fs::read(dir.path().join(PROBE_FILE)).unwrap(), b"keep");
    }
}
