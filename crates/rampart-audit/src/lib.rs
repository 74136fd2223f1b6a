//! Tamper-evident audit events for the Rampart gateway.
