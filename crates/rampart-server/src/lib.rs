//! The HTTPS application of the Rampart gateway.
//!
//! [`Gateway::start`] wires the store, tokens, policies and the paper broker
//! behind a rustls listener (TLS 1.3 and 1.2 only; there is no plain-HTTP
//! listener) and returns a [`RunningGateway`]; [`run_until_signal`] is what
//! `rampart serve` runs. Every request passes the guards of [`middleware`],
//! authenticates in [`authn`], is authorised in [`service`] and is answered
//! with JSON or an RFC 9457 problem document from [`problem`].

pub mod audit_tasks;
pub mod authn;
pub mod clock;
pub mod config;
pub mod connection;
pub mod devcert;
pub mod extract;
mod files;
pub mod forward;
mod gateway;
pub mod init;
pub mod inputs;
pub mod middleware;
pub mod oidc;
pub mod problem;
pub mod request_id;
pub mod routes;
pub mod secrets;
pub mod service;
pub mod state;
pub mod telemetry;
pub mod tls;

pub use config::Config;
pub use gateway::{Gateway, RunningGateway, StartError, run_until_signal};
