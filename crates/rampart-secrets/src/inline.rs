//! The heuristic that spots a secret pasted into configuration instead of a reference.
//!
//! Rule upheld: configuration holds references only. [`looks_like_inline_secret`] flags
//! PEM blocks, well-known token formats, URLs with a password and long high-entropy
//! strings, so that start-up can refuse them and name the key (never the value).

use crate::reference::SecretRef;

/// Prefixes of well-known credential formats, each with the shortest plausible length.
const TOKEN_PREFIXES: &[(&str, usize)] = &[
    ("ghp_", 30),
    ("gho_", 30),
    ("ghs_", 30),
    ("ghr_", 30),
    ("github_pat_", 40),
    ("glpat-", 20),
    ("xoxb-", 20),
    ("xoxp-", 20),
    ("xoxa-", 20),
    ("sk_live_", 20),
    ("rk_live_", 20),
    ("sk-", 24),
    ("AKIA", 20),
    ("ASIA", 20),
    ("AIza", 35),
    ("hvs.", 24),
    ("hvb.", 24),
    ("hvr.", 24),
    ("npm_", 36),
    ("ya29.", 30),
];

/// Whether `value` looks like a secret rather than a reference or an ordinary setting.
pub fn looks_like_inline_secret(value: &str) -> bool {
    let value = value.trim();
    if value.is_empty() || SecretRef::parse(value).is_ok() {
        return false;
    }
    value.contains("-----BEGIN ")
        || has_token_prefix(value)
        || is_jwt(value)
        || url_with_password(value)
        || is_high_entropy(value)
}

fn has_token_prefix(value: &str) -> bool {
    TOKEN_PREFIXES.iter().any(|(prefix, min_len)| {
        value.starts_with(prefix) && value.len() >= *min_len && !value.contains(char::is_whitespace)
    })
}

fn is_jwt(value: &str) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    let segment = |s: &&str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    value.starts_with("eyJ") && parts.len() == 3 && parts.iter().all(segment)
}

fn url_with_password(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.split_once(':').is_some_and(|(_, p)| !p.is_empty()))
}

fn is_high_entropy(value: &str) -> bool {
    let token_char = |c: char| c.is_ascii_alphanumeric() || "+/=_-.~".contains(c);
    if value.len() < 20 || !value.chars().all(token_char) || looks_like_plain_setting(value) {
        return false;
    }
    let hex = value.chars().all(|c| c.is_ascii_hexdigit());
    let has_digit = value.chars().any(|c| c.is_ascii_digit());
    let has_alpha = value.chars().any(|c| c.is_ascii_alphabetic());
    let bits = shannon_entropy(value);
    if hex {
        return value.len() >= 32 && has_digit && has_alpha && bits >= 3.0;
    }
    has_digit && has_alpha && (bits >= 4.0 || (value.len() >= 32 && bits >= 3.5))
}

/// Paths, dotted host names and UUIDs are settings, not secrets.
fn looks_like_plain_setting(value: &str) -> bool {
    let uuid = value.len() == 36
        && value.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    let path = value.starts_with('/') || value.starts_with("./");
    let dotted_words = value.contains('.')
        && value
            .split('.')
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()));
    uuid || path || dotted_words
}

/// Bits of entropy per character of `value`.
fn shannon_entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in value.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
    }
    let len = f64::from(u32::try_from(value.chars().count()).unwrap_or(u32::MAX));
    counts
        .values()
        .map(|&n| {
            let p = f64::from(n) / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_ordinary_settings_are_not_secrets() {
        for value in [
            "env:RAMPART_MASTER_KEY",
            "vault:secret/rampart/broker#api_key",
            "https://vault.internal:8200",
            "/var/lib/rampart/secrets.master-key",
            "127.0.0.1:8443",
            "rampart-gateway",
            "0191b8d4-7f1e-7c3a-9a8e-2f1d3c4b5a69",
            "eu-west-2",
            "info,rampart=debug",
            "",
        ] {
            assert!(!looks_like_inline_secret(value), "{value}");
        }
    }

    #[test]
    fn pasted_secrets_are_spotted() {
        for value in [
            // pragma: allowlist nextline secret
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----",
            // pragma: allowlist nextline secret
            "ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5",
            // pragma: allowlist nextline secret
            "AKIAIOSFODNN7EXAMPLE",
            "hvs.CAESIJ3l0aGQ5b2x4ZmF3eGNtbGJ6ZWx5",
            // pragma: allowlist nextline secret
            "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz",
            // pragma: allowlist nextline secret
            "postgres://rampart:s3cr3t-pass@db.internal/rampart",
            // pragma: allowlist nextline secret
            "Zt8q1XbV0pR4mN7wK2yL9sD6fH3jG5aE",
            // pragma: allowlist nextline secret
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ] {
            assert!(looks_like_inline_secret(value), "{value}");
        }
    }
}
