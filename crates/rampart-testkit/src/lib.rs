//! Test helpers for the Rampart gateway; nothing but tests depends on this crate.
//!
//! [`TestGateway`] runs the real gateway (`rampart_server::Gateway`) on a free
//! loopback port with its own temporary data directory, and talks to it over
//! real HTTPS with a client that trusts only the CA the gateway generated:
//! certificate verification stays on. Accounts and API clients are written
//! straight into the store, the way the `rampart` command line does, so that
//! each test names exactly the identities it needs.
//!
//! - [`gateway`]: a gateway per test, or one shared by a test binary; store access.
//! - [`identity`]: accounts, API clients, tokens and kill-switch release.
//! - [`api`]: the HTTPS client and whole answers, with problem-document checks.
//! - [`desk`]: a trader with a fresh account, the fixture most order tests start from.
//! - [`order`]: order bodies; [`market`]: the replayed market and its prices.
//! - [`forge`]: hostile tokens for the attack tests.
//! - [`audit`]: the published checkpoint key, waiting for checkpoints, proof hashes.
//! - [`people`]: users with passwords and TOTP, sign-in and refresh.
//! - [`pickup`]: set-up tokens read from the pickup directory, as their person reads them.
//! - [`smtp`]: a real SMTP server (`aiosmtpd`) on loopback, keeping what it receives.
//! - [`staff`]: signed-in people who propose and decide, and clients they own.
//! - [`oidc`]: a real `oidc-provider` on loopback, for trusted-issuer tests.
//!
//! A helper that cannot do its job panics: in a test, that is a failure with
//! a message, which is what a test helper is for.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a test helper reports a broken precondition by failing the test"
)]

pub mod api;
pub mod audit;
pub mod desk;
pub mod forge;
pub mod gateway;
pub mod identity;
pub mod market;
pub mod oidc;
pub mod order;
pub mod people;
pub mod pickup;
mod service;
pub mod smtp;
pub mod staff;

pub use api::{Answer, Api};
pub use gateway::TestGateway;
pub use identity::{ApiClient, generous_limits};
pub use staff::Person;
