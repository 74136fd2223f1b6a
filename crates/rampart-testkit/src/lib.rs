//! Test helpers for the Rampart gateway; used by tests only.
