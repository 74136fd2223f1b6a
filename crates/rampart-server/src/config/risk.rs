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
    /// The repeated-execution guard (`[risk.execution_guard]`).
    pub execution_guard: super::execution_guard::ExecutionGuardConfig,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            caps: LimitCaps::default(),
            approval_ttl_hours: 24,
            tighten_at_once: false,
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
