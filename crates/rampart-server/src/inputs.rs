//! The inputs a gateway cannot run without: the market data and the policies.
//!
//! They are loaded before the data directory is touched, so that a start that
//! is bound to fail creates nothing, and in particular does not show a
//! one-time administrator password for a gateway that never comes up.

use std::path::{Path, PathBuf};

use rampart_policy::{Authorizer, PolicyError};
use rampart_trading::MarketData;

use crate::config::Config;

/// Why the market data or the policies could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The market data could not be loaded.
    #[error("market data could not be loaded from `{dir}`: {reason}")]
    Market {
        /// The directory.
        dir: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The policies could not be loaded.
    #[error("policies could not be loaded: {0}")]
    Policy(#[from] PolicyError),
}

/// The loaded inputs of a gateway.
#[derive(Debug)]
pub struct Inputs {
    /// The market data the paper broker replays.
    pub market: MarketData,
    /// The policies in force.
    pub authorizer: Authorizer,
}

/// Loads the policies and the market data named by `config`.
pub async fn load(config: &Config) -> Result<Inputs, InputError> {
    let authorizer = match &config.policy.dir {
        Some(dir) => Authorizer::from_dir(dir)?,
        None => Authorizer::with_default_policies()?,
    };
    let market = load_market(&config.market.data_dir).await?;
    Ok(Inputs { market, authorizer })
}

async fn load_market(dir: &Path) -> Result<MarketData, InputError> {
    let owned = dir.to_path_buf();
    let loaded = tokio::task::spawn_blocking(move || MarketData::load_dir(&owned)).await;
    let failed = |reason: String| InputError::Market {
        dir: dir.to_path_buf(),
        reason,
    };
    loaded
        .map_err(|e| failed(e.to_string()))?
        .map_err(|e| failed(e.to_string()))
}
