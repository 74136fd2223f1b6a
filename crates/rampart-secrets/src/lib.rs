//! Named, versioned secrets for the Rampart gateway.
//!
//! Configuration holds references ([`SecretRef`]), never values; values live in a
//! [`SecretStore`] and travel only inside `secrecy` types that zeroise on drop and whose
//! `Debug` shows no value.
//!
//! - [`reference`]: the `env:`, `file:`, `vault:`, `aws-sm:`, `gcp-sm:` and `store:`
//!   reference syntax, and local resolution of `env:` and `file:`.
//! - [`inline`]: the heuristic that spots a secret pasted into configuration.
//! - [`store`]: the [`SecretStore`] trait, [`Secret`], [`SecretMeta`] and the
//!   current/pending/previous rotation model.
//! - [`observer`]: the [`AccessObserver`] hook and [`Observed`], which reports every
//!   operation (name, version, backend, outcome; never the value).
//! - [`cache`]: [`CachedStore`], a short-TTL cache refreshed before expiry.
//! - [`rotation`]: [`RotationPolicy`] and [`rotate`] (stage, verify, promote).
//! - Backends: [`file`] (the embedded AES-256-GCM store), [`vault`] (HashiCorp Vault and
//!   OpenBao, KV v1 and v2), [`gcp`] (GCP Secret Manager REST v1) and, with the `aws`
//!   feature, `aws` (AWS Secrets Manager through the official SDK).

pub mod cache;
pub mod file;
pub mod gcp;
mod http;
pub mod inline;
mod numbered;
pub mod observer;
pub mod reference;
pub mod rotation;
pub mod store;
pub mod vault;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use cache::{CacheConfig, CachedStore};
pub use file::{FileStore, MasterKey};
pub use inline::looks_like_inline_secret;
pub use observer::{
    AccessEvent, AccessObserver, AccessOutcome, FailureKind, Observed, Operation, Recorder,
};
pub use reference::{RefError, SecretRef};
pub use rotation::{RotationError, RotationPolicy, rotate};
pub use store::{Secret, SecretError, SecretMeta, SecretStore, SecretValue, Stage, Version};
