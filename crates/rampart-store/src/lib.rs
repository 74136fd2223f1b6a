//! Persistence of the Rampart gateway.
