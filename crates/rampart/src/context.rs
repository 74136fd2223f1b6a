//! What every command starts from: the configuration and the data directory.
//!
//! The configuration is read once by `rampart_server::config::Config::load`
//! (defaults ▶ `rampart.toml` ▶ `RAMPART_*`). Commands that change the store
//! refuse to run on a data directory that was never initialised, rather than
//! creating one silently without showing its bootstrap password.

use std::path::{Path, PathBuf};

use rampart_core::InstrumentCatalog;
use rampart_server::config::{Config, ConfigError};
use rampart_server::init::{DATABASE_FILE, DataDir, InitError, ensure_data_dir};
use rampart_store::{Store, StoreError};

/// The audit actor of every change made from the command line.
pub const OPERATOR: &str = "operator";

/// Why the configuration or the data directory is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The configuration was refused.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// The data directory has no database yet.
    #[error("data directory `{0}` is not initialised; run `rampart init` first")]
    NotInitialised(PathBuf),
    /// The data directory could not be created or read.
    #[error("data directory: {0}")]
    Init(#[from] InitError),
    /// The database could not be opened.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// The loaded configuration.
#[derive(Debug, Clone)]
pub struct Context {
    config: Config,
}

impl Context {
    /// Loads the configuration from `path`, or `./rampart.toml` when present.
    pub fn load(path: Option<&Path>) -> Result<Self, ContextError> {
        Ok(Self {
            config: Config::load(path)?,
        })
    }

    /// Wraps a configuration built in-process (the demo's, the load generator's).
    pub fn from_config(config: Config) -> Self {
        Self { config }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Creates the data directory if needed; the bootstrap password is set only the first time.
    pub async fn ensure_data_dir(&self) -> Result<DataDir, ContextError> {
        Ok(ensure_data_dir(&self.config).await?)
    }

    /// Opens the store of an initialised data directory.
    pub async fn open_store(&self) -> Result<Store, ContextError> {
        let path = self.config.server.data_dir.join(DATABASE_FILE);
        if !path.is_file() {
            return Err(ContextError::NotInitialised(
                self.config.server.data_dir.clone(),
            ));
        }
        Ok(Store::open(&path).await?)
    }

    /// The instruments of this gateway: the configured ones, else the built-in ones.
    pub fn catalog(&self) -> InstrumentCatalog {
        self.config.instrument_catalog().unwrap_or_else(|| {
            InstrumentCatalog::new(rampart_trading::market::default_instruments())
        })
    }
}

/// A fresh request id for the audit events of one command.
pub fn request_id() -> String {
    format!("cli-{}", uuid::Uuid::now_v7())
}
