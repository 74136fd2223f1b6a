//! The store's clock: the time a write records when the moment must be read under the writer.
//!
//! Some moments only mean something when read while the writer is held: a
//! subject revocation refuses every token issued up to its moment, and only a
//! moment read after `begin` is sure to follow every sign-in already committed.
//! The clock defaults to the system time; the gateway injects its own, so that
//! a test moving the gateway's time moves this one too.

use std::fmt;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use crate::store::Store;
use crate::tx::WriteTx;

/// A source of the current time, shared by every clone of a store.
pub type ClockFn = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The clock a store and its transactions read; replacing it affects every clone.
#[derive(Clone)]
pub(crate) struct StoreClock(Arc<RwLock<ClockFn>>);

impl Default for StoreClock {
    fn default() -> StoreClock {
        StoreClock(Arc::new(RwLock::new(Arc::new(Utc::now))))
    }
}

impl fmt::Debug for StoreClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreClock")
    }
}

impl StoreClock {
    /// The current time of the clock in force.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        let current = match self.0.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        };
        current()
    }

    fn set(&self, clock: ClockFn) {
        match self.0.write() {
            Ok(mut guard) => *guard = clock,
            Err(poisoned) => *poisoned.into_inner() = clock,
        }
    }
}

impl Store {
    /// Makes this store, and every clone of it, read the current time from `clock`.
    pub fn set_clock(&self, clock: ClockFn) {
        self.clock.set(clock);
    }

    /// This store (and every clone of it) reading the current time from `clock`.
    pub fn with_clock(self, clock: ClockFn) -> Store {
        self.set_clock(clock);
        self
    }
}

impl WriteTx<'_> {
    /// The store clock's current time, read while this transaction holds the writer.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_replaced_clock_is_read_by_every_clone() {
        let clock = StoreClock::default();
        let copy = clock.clone();
        let fixed = Utc::now() + Duration::days(3);
        copy.set(Arc::new(move || fixed));
        assert_eq!(clock.now(), fixed);
    }

    #[test]
    fn the_default_clock_is_the_system_time() {
        let before = Utc::now();
        let read = StoreClock::default().now();
        assert!(read >= before && read <= Utc::now());
    }
}
