//! Serde defaults shared by the configuration sections of Rampart's crates.
//!
//! One definition of each, so that a setting defaulting "on" means the same
//! everywhere it is read.

/// Serde's default for a setting that is on unless a configuration turns it off.
pub fn default_true() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_defaulting_on_is_on() {
        assert!(default_true());
    }
}
