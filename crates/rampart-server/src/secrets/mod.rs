//! The gateway's secrets: the configured store, its access audit, the signing keys, rotation.
//!
//! Rule upheld: no secret sits in the configuration or in a plain file, and
//! every access to the secret store is an audit event that names the secret,
//! its version and backend, never the value.
//!
//! - [`config`]: the `[secrets]` section and the references-only check.
//! - [`backend`]: opens the configured backend behind the access audit and a cache.
//! - [`broker`]: the `[broker]` section and the broker credential read at start.
//! - [`audit`]: turns every secret operation into an audit event, off the caller's path.
//! - [`signing`]: the token-signing key in the store, its migration and the keyring.
//! - [`checkpoint`]: the audit checkpoint key in the store, its migration and verifier file.
//! - [`rotation`]: rotating one secret: the signing key, the broker credential.
//! - [`managed`]: the secrets a running gateway rotates, one at a time, and their schedule.

pub mod audit;
pub mod backend;
pub mod broker;
pub mod checkpoint;
pub mod config;
pub mod managed;
mod remote;
pub mod rotation;
pub mod signing;

pub use backend::{GatewaySecrets, SecretsOpenError};
pub use managed::ManagedSecrets;

/// The name of the token-signing key in the secret store.
pub const SIGNING_KEY: &str = "token-signing-key";

/// The name of the audit checkpoint key in the secret store.
pub const CHECKPOINT_KEY: &str = "audit-checkpoint-key";

/// The name of the broker credential in the secret store.
pub const BROKER_CREDENTIAL: &str = "broker-api-key";
