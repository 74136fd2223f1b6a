//! The repeated-execution guard (MiFID II RTS 6, Article 15): too many fills
//! for one algorithm in a short window switch that algorithm off.
//!
//! [`ExecutionGuard`] counts fills per algorithm in a sliding window of the
//! times they arrived, and reports when the count reaches the threshold. It
//! decides only; the gateway engages the kill switch for the algorithm's
//! client and a designated person re-enables it. Counting is in memory; the
//! gateway seeds the window at start from the fills it booked, and the
//! engagement itself is durable.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

/// The threshold and window of the guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardLimits {
    /// How many fills within the window trip the guard.
    pub max_fills: u32,
    /// The length of the sliding window, in seconds.
    pub window_seconds: u32,
}

/// What a trip reports: the count of fills within the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trip {
    /// The fills counted within the window, the one that tripped included.
    pub fills: u32,
    /// The window, in seconds.
    pub window_seconds: u32,
}

/// Fill times per algorithm, shared by every task (clones share state).
#[derive(Debug, Clone)]
pub struct ExecutionGuard {
    limits: GuardLimits,
    windows: Arc<Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>>,
}

impl ExecutionGuard {
    /// A guard with nothing counted yet.
    pub fn new(limits: GuardLimits) -> Self {
        Self {
            limits,
            windows: Arc::default(),
        }
    }

    /// The threshold and window in force.
    pub fn limits(&self) -> GuardLimits {
        self.limits
    }

    /// Counts a fill of `algorithm` arriving at `at`; reports a trip when the
    /// window holds `max_fills` fills, and starts the window afresh.
    pub fn record(&self, algorithm: &str, at: DateTime<Utc>) -> Option<Trip> {
        let window = TimeDelta::seconds(i64::from(self.limits.window_seconds));
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let times = windows.entry(algorithm.to_owned()).or_default();
        times.push_back(at);
        while times.front().is_some_and(|first| at - *first >= window) {
            times.pop_front();
        }
        let fills = u32::try_from(times.len()).unwrap_or(u32::MAX);
        if fills < self.limits.max_fills {
            return None;
        }
        times.clear();
        Some(Trip {
            fills,
            window_seconds: self.limits.window_seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn guard(max_fills: u32, window_seconds: u32) -> ExecutionGuard {
        ExecutionGuard::new(GuardLimits {
            max_fills,
            window_seconds,
        })
    }

    fn at(millis: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap() + TimeDelta::milliseconds(millis)
    }

    #[test]
    fn the_fill_that_reaches_the_threshold_trips_the_guard() {
        let guard = guard(3, 10);
        assert_eq!(guard.record("algo-1", at(0)), None);
        assert_eq!(guard.record("algo-1", at(1_000)), None);
        let trip = guard.record("algo-1", at(2_000));
        assert_eq!(
            trip,
            Some(Trip {
                fills: 3,
                window_seconds: 10
            })
        );
    }

    #[test]
    fn fills_older_than_the_window_do_not_count() {
        let guard = guard(3, 10);
        guard.record("algo-1", at(0));
        guard.record("algo-1", at(5_000));
        assert_eq!(
            guard.record("algo-1", at(10_000)),
            None,
            "the first fell out"
        );
        assert!(guard.record("algo-1", at(14_999)).is_some());
    }

    #[test]
    fn each_algorithm_is_counted_apart() {
        let guard = guard(2, 10);
        assert_eq!(guard.record("algo-1", at(0)), None);
        assert_eq!(guard.record("algo-2", at(1)), None);
        assert!(guard.record("algo-1", at(2)).is_some());
        assert!(guard.record("algo-2", at(3)).is_some());
    }

    #[test]
    fn a_trip_starts_the_window_afresh() {
        let guard = guard(2, 10);
        guard.record("algo-1", at(0));
        assert!(guard.record("algo-1", at(1)).is_some());
        assert_eq!(guard.record("algo-1", at(2)), None);
        assert!(guard.record("algo-1", at(3)).is_some());
    }
}
