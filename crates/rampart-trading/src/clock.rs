//! The source of wall-clock time for the trading services.
//!
//! Everything that needs "now" takes a [`Clock`], so that the replay of the
//! paper broker can be driven deterministically: the system clock in
//! production, any closure returning a time elsewhere.

use chrono::{DateTime, Utc};

/// Gives the current time (UTC).
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

impl<F> Clock for F
where
    F: Fn() -> DateTime<Utc> + Send + Sync,
{
    fn now(&self) -> DateTime<Utc> {
        self()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_closure_is_a_clock() {
        let fixed = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
        let clock = move || fixed;
        assert_eq!(Clock::now(&clock), fixed);
    }

    #[test]
    fn the_system_clock_moves_forward() {
        let first = SystemClock.now();
        let second = SystemClock.now();
        assert!(second >= first);
    }
}
