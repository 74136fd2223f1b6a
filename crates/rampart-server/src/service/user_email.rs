//! A person's e-mail address: one bare address, checked once when the person is created.
//!
//! Rule upheld: the address a set-up token goes to is exactly one mailbox that
//! everyone involved can read at a glance. A display-name form
//! (`Bob <bob@bank.example>`), two addresses in one (`bob@x <eve@y>`), a quoted
//! or commented local part, whitespace, control characters and anything outside
//! ASCII (a Cyrillic `а` passing for a Latin `a`) are refused, and
//! so is an address outside `[auth.setup_delivery.smtp] allowed_domains` when
//! tokens are mailed. The address is parsed as a bare `lettre::Address`.

use lettre::Address;

/// The longest address accepted (RFC 5321's limit on a forward path).
const MAX_ADDRESS: usize = 254;

/// Characters that only appear in display-name, quoted, commented or literal forms.
const FORBIDDEN: &[char] = &['"', '<', '>', '(', ')', '[', ']', ',', ';', ':', '\\'];

/// Why an e-mail address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Not one bare address.
    #[error("`email` must be one bare address such as `name@bank.example`")]
    NotBare,
    /// Holds a character outside ASCII, so it could pass for another address.
    #[error("`email` must be ASCII only: letters that look alike from other scripts are refused")]
    NotAscii,
    /// Outside the domains set-up tokens may be mailed to.
    #[error("`email` must be in one of the domains set-up tokens may be mailed to")]
    DomainNotAllowed,
    /// Tokens are mailed and the person has no address.
    #[error("`email` is required: set-up tokens are delivered by mail")]
    Required,
}

/// Which addresses may receive set-up tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressRule {
    /// Whether every person needs an address (tokens are mailed).
    pub required: bool,
    /// When not empty, the only domains an address may be in.
    pub allowed_domains: Vec<String>,
}

impl AddressRule {
    /// Checks `email` against this rule; returns the address as parsed.
    pub fn check(&self, email: Option<&str>) -> Result<Option<Address>, EmailError> {
        let Some(text) = email else {
            return match self.required {
                true => Err(EmailError::Required),
                false => Ok(None),
            };
        };
        let address = parse_bare(text)?;
        let domain = address.domain();
        let allowed = &self.allowed_domains;
        if !allowed.is_empty() && !allowed.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
            return Err(EmailError::DomainNotAllowed);
        }
        Ok(Some(address))
    }
}

/// Parses `text` as one bare address, refusing every other form.
pub fn parse_bare(text: &str) -> Result<Address, EmailError> {
    if !text.is_ascii() {
        return Err(EmailError::NotAscii);
    }
    let plain = text.len() <= MAX_ADDRESS
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || FORBIDDEN.contains(&c));
    if !plain {
        return Err(EmailError::NotBare);
    }
    text.parse::<Address>().map_err(|_| EmailError::NotBare)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_address_is_accepted_as_written() {
        let address = parse_bare("kim.o'neil+desk@bank.example").unwrap();
        assert_eq!(address.to_string(), "kim.o'neil+desk@bank.example");
        assert_eq!(address.domain(), "bank.example");
    }

    #[test]
    fn display_names_second_addresses_and_odd_characters_are_refused() {
        for text in [
            "bob@x <eve@y>",
            "Bob <bob@bank.example>",
            "<bob@bank.example>",
            "\"bob smith\"@bank.example",
            "bob(comment)@bank.example",
            " bob@bank.example",
            "bob@bank.example\n",
            "bob@bank.example\u{7}",
            "bob@bank.example, eve@elsewhere.example",
            "bob@[127.0.0.1]",
            "bob",
            "@bank.example",
            "bob@",
        ] {
            assert_eq!(
                parse_bare(text).err(),
                Some(EmailError::NotBare),
                "{text:?}"
            );
        }
    }

    #[test]
    fn an_address_with_a_letter_from_another_script_is_refused_as_not_ascii() {
        assert_eq!(
            parse_bare("\u{430}dmin@bank.example").err(),
            Some(EmailError::NotAscii)
        );
        assert_eq!(
            parse_bare("admin@b\u{430}nk.example").err(),
            Some(EmailError::NotAscii)
        );
    }

    #[test]
    fn an_address_outside_the_allowed_domains_is_refused() {
        let rule = AddressRule {
            required: true,
            allowed_domains: vec!["bank.example".into()],
        };
        assert!(rule.check(Some("kim@BANK.example")).is_ok());
        let outside = rule.check(Some("kim@bank.example.evil"));
        assert_eq!(outside.err(), Some(EmailError::DomainNotAllowed));
        assert_eq!(rule.check(None).err(), Some(EmailError::Required));
    }

    #[test]
    fn without_a_rule_any_bare_address_or_none_is_accepted() {
        let rule = AddressRule::default();
        assert!(rule.check(None).unwrap().is_none());
        assert!(rule.check(Some("kim@anywhere.example")).unwrap().is_some());
    }
}
