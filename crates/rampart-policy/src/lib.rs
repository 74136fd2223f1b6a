//! Cedar authorisation for the Rampart gateway.
