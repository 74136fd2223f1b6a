//! Regression: a bar stamped at the end of time is refused, not a panic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use rampart_trading::market::{MarketError, load_bars};

#[test]
fn a_bar_whose_end_is_past_the_last_representable_time_is_a_row_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bars.csv");
    std::fs::write(
        &path,
        "timestamp,open,high,low,close,volume\n+262142-12-31 23:59:30,1,1,1,1,1\n",
    )
    .unwrap();

    let loaded = std::panic::catch_unwind(|| load_bars(&path));

    match loaded {
        Ok(Err(MarketError::Row {
            line: 2, reason, ..
        })) => {
            assert!(reason.contains("timestamp"), "{reason}")
        }
        Ok(other) => panic!("expected a row error, got {other:?}"),
        Err(_) => panic!("loading the bar panicked"),
    }
}
