//! The gateway's clock: the system time, or the system time moved by an offset in tests.
//!
//! Every identity decision that depends on time (token lifetimes, lockouts,
//! refresh expiry, approval expiry) reads this clock, so that a test can move
//! time forward without waiting. The offset only ever moves forward.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// A clock shared by the whole gateway.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// The current time.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Acquire))
    }

    /// The current time in seconds since the Unix epoch.
    pub fn now_unix(&self) -> i64 {
        self.now().timestamp()
    }

    /// Moves this clock (and every copy of it) forward by `by`; a negative step is ignored.
    pub fn advance(&self, by: Duration) {
        let step = by.num_milliseconds().max(0);
        self.offset_ms.fetch_add(step, Ordering::AcqRel);
    }
}

/// A count of seconds (or any `u64` setting) as `i64`, saturating at `i64::MAX`.
pub fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_a_copy_moves_every_copy_forward() {
        let clock = Clock::system();
        let copy = clock.clone();
        let before = clock.now();
        copy.advance(Duration::minutes(20));
        assert!(clock.now() - before >= Duration::minutes(20));
    }

    #[test]
    fn a_negative_step_does_not_move_the_clock_back() {
        let clock = Clock::system();
        clock.advance(Duration::minutes(-5));
        assert!(clock.now() >= Utc::now() - Duration::seconds(1));
    }
}
