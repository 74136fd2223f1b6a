//! The `[risk]` section: firm-wide caps on risk limits and how limit changes are governed.
//!
//! Caps are hard ceilings no proposal may exceed; `tighten_at_once` decides
//! whether a change that only tightens applies without a second person
//! (loosening always waits for one). Unknown keys are refused.

use rampart_core::LimitCaps;
use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The longest a risk-limit proposal may wait for its second person, in hours.
pub const MAX_APPROVAL_TTL_HOURS: u64 = 24 * 30;

/// The longest pause between two runs of the approval expiry task, in seconds.
pub const MAX_EXPIRY_INTERVAL_SECONDS: u64 = 3_600;

/// The `[risk]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Firm-wide hard caps per limit (`[risk.caps]`).
    pub caps: LimitCaps,
    /// How long a risk-limit proposal waits for a decision, in hours.
    pub approval_ttl_hours: u64,
    /// Whether a change that only tightens limits applies at once (still reviewable).
    pub tighten_at_once: bool,
    /// How often lapsed approvals are marked expired, with their audit events, in seconds.
    pub approval_expiry_interval_seconds: u64,
    /// The repeated-execution guard (`[risk.execution_guard]`).
    pub execution_guard: super::execution_guard::ExecutionGuardConfig,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            caps: LimitCaps::default(),
            approval_ttl_hours: 24,
            tighten_at_once: false,
            approval_expiry_interval_seconds: 30,
            execution_guard: super::execution_guard::ExecutionGuardConfig::default(),
        }
    }
}

impl RiskConfig {
    /// Checks the section, naming the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_APPROVAL_TTL_HOURS).contains(&self.approval_ttl_hours) {
            return Err(ConfigError::Invalid {
                key: "risk.approval_ttl_hours".to_owned(),
                reason: format!("must be from 1 to {MAX_APPROVAL_TTL_HOURS}"),
            });
        }
        let interval = self.approval_expiry_interval_seconds;
        if !(1..=MAX_EXPIRY_INTERVAL_SECONDS).contains(&interval) {
            return Err(ConfigError::Invalid {
                key: "risk.approval_expiry_interval_seconds".to_owned(),
                reason: format!("must be from 1 to {MAX_EXPIRY_INTERVAL_SECONDS}"),
            });
        }
        self.execution_guard.validate()?;
        if let Some(field) = self.caps.first_invalid() {
            return Err(ConfigError::Invalid {
                key: format!("risk.caps.{field}"),
                reason: "must be greater than zero".to_owned(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_key(config: &RiskConfig) -> String {
        match config.validate() {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected an invalid key, got {other:?}"),
        }
    }

    #[test]
    fn the_approval_expiry_interval_defaults_to_thirty_seconds() {
        let config = RiskConfig::default();
        assert_eq!(config.approval_expiry_interval_seconds, 30);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn an_approval_expiry_interval_out_of_range_is_refused_by_key() {
        for seconds in [0, MAX_EXPIRY_INTERVAL_SECONDS + 1] {
            let config = RiskConfig {
                approval_expiry_interval_seconds: seconds,
                ..RiskConfig::default()
            };
            assert_eq!(
                invalid_key(&config),
                "risk.approval_expiry_interval_seconds"
            );
        }
    }
}
