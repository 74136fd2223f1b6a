//! Authentication methods (RFC 8176 `amr`): which lists show multi-factor authentication.
//!
//! One list of second factors serves every check, local sessions and outside
//! tokens alike: `mfa` says so outright; otherwise a knowledge method (`pwd`,
//! `pin`, `kba`) must come with a possession or inherence method, since each
//! RFC 8176 value on its own is a single method.

/// The `amr` value that states multi-factor authentication outright.
pub const MFA: &str = "mfa";

/// Methods of something the person knows.
pub const KNOWLEDGE_METHODS: [&str; 3] = ["pwd", "pin", "kba"];

/// Methods of something the person has or is: each a second factor beside a knowledge method.
pub const SECOND_FACTORS: [&str; 12] = [
    "otp", "hwk", "swk", "sms", "tel", "sc", "pop", "face", "fpt", "iris", "retina", "vbm",
];

/// Whether the methods in `amr` show multi-factor authentication.
pub fn shows_mfa<'a>(amr: impl IntoIterator<Item = &'a str>) -> bool {
    let (mut knows, mut has) = (false, false);
    for method in amr {
        if method == MFA {
            return true;
        }
        knows |= KNOWLEDGE_METHODS.contains(&method);
        has |= SECOND_FACTORS.contains(&method);
    }
    knows && has
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_method_is_not_multi_factor() {
        for method in ["sms", "pop", "otp", "pwd", "hwk"] {
            assert!(!shows_mfa([method]), "{method}");
        }
    }

    #[test]
    fn a_password_with_a_possession_method_or_mfa_itself_is_multi_factor() {
        assert!(shows_mfa(["pwd", "otp"]));
        assert!(shows_mfa(["pin", "hwk"]));
        assert!(shows_mfa(["mfa"]));
        assert!(!shows_mfa(["pwd", "pin"]));
        assert!(!shows_mfa(["otp", "hwk"]));
    }
}
