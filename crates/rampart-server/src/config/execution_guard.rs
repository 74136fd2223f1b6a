//! The `[risk.execution_guard]` section: how many fills of one algorithm in how
//! short a window switch it off (MiFID II RTS 6, Article 15).
//!
//! Both values are bounded, so a typo cannot disable the guard by making its
//! threshold unreachable or its window empty. Unknown keys are refused.

use rampart_trading::execution_guard::GuardLimits;
use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The largest threshold accepted.
pub const MAX_FILLS: u32 = 100_000;

/// The longest window accepted, in seconds.
pub const MAX_WINDOW_SECONDS: u32 = 3_600;

/// The `[risk.execution_guard]` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecutionGuardConfig {
    /// How many fills within the window switch the algorithm off.
    pub max_fills: u32,
    /// The sliding window, in seconds.
    pub window_seconds: u32,
}

impl Default for ExecutionGuardConfig {
    fn default() -> Self {
        Self {
            max_fills: 50,
            window_seconds: 10,
        }
    }
}

impl ExecutionGuardConfig {
    /// Checks the section, naming the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_FILLS).contains(&self.max_fills) {
            return Err(ConfigError::Invalid {
                key: "risk.execution_guard.max_fills".to_owned(),
                reason: format!("must be from 1 to {MAX_FILLS}"),
            });
        }
        if !(1..=MAX_WINDOW_SECONDS).contains(&self.window_seconds) {
            return Err(ConfigError::Invalid {
                key: "risk.execution_guard.window_seconds".to_owned(),
                reason: format!("must be from 1 to {MAX_WINDOW_SECONDS}"),
            });
        }
        Ok(())
    }

    /// The limits the guard runs with.
    pub fn limits(&self) -> GuardLimits {
        GuardLimits {
            max_fills: self.max_fills,
            window_seconds: self.window_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_fifty_fills_in_ten_seconds_and_valid() {
        let config = ExecutionGuardConfig::default();
        assert_eq!((config.max_fills, config.window_seconds), (50, 10));
        assert!(config.validate().is_ok());
    }

    #[test]
    fn a_zero_or_oversized_value_is_refused_by_key() {
        let bad = [
            (
                ExecutionGuardConfig {
                    max_fills: 0,
                    window_seconds: 10,
                },
                "max_fills",
            ),
            (
                ExecutionGuardConfig {
                    max_fills: MAX_FILLS + 1,
                    window_seconds: 10,
                },
                "max_fills",
            ),
            (
                ExecutionGuardConfig {
                    max_fills: 5,
                    window_seconds: 0,
                },
                "window_seconds",
            ),
            (
                ExecutionGuardConfig {
                    max_fills: 5,
                    window_seconds: 3_601,
                },
                "window_seconds",
            ),
        ];
        for (config, key) in bad {
            let error = config.validate().unwrap_err().to_string();
            assert!(
                error.contains(&format!("risk.execution_guard.{key}")),
                "{error}"
            );
        }
    }
}
