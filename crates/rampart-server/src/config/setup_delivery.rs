//! The `[auth.setup_delivery]` section: how a set-up token reaches its person.
//!
//! Rule upheld: a set-up token goes to the person it is for, never back to the
//! administrator who asked for it. `pickup` (the default) writes one private
//! file per token for the firm's mail system or help desk; `smtp` mails it to
//! the person's registered address through a relay reached over verified TLS
//! only (STARTTLS or implicit TLS; there is no plain-text mode), whose password
//! is a `store:` reference into the secret store, never a value.

use std::path::{Path, PathBuf};

use rampart_secrets::SecretRef;
use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The directory under the data directory that holds pickup files by default.
pub const DEFAULT_PICKUP_DIR: &str = "setup-pickup";

/// How set-up tokens are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMethod {
    /// One private file per token in the pickup directory.
    #[default]
    Pickup,
    /// A message to the person's registered e-mail through an SMTP relay.
    Smtp,
}

impl DeliveryMethod {
    /// The method's name on the wire and in audit events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pickup => "pickup",
            Self::Smtp => "smtp",
        }
    }
}

/// How the SMTP relay protects the connection; both verify its certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// A plain connection upgraded with STARTTLS, which is required.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Implicit,
}

/// The `[auth.setup_delivery]` section.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SetupDeliveryConfig {
    /// `pickup` or `smtp`.
    pub method: DeliveryMethod,
    /// Where pickup files are written; `setup-pickup` under the data directory when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pickup_dir: Option<PathBuf>,
    /// The address the person is sent to; `<public url>/v1/auth/setup` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_url: Option<String>,
    /// The relay, required when `method = "smtp"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpConfig>,
}

/// The `[auth.setup_delivery.smtp]` section: the relay and the message's sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The relay's host name, which its certificate must name.
    pub host: String,
    /// The relay's port; 587 for STARTTLS and 465 for implicit TLS when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `starttls` or `implicit`.
    #[serde(default)]
    pub tls: SmtpTls,
    /// A PEM bundle of the CAs trusted for the relay; the system's roots when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The user name to authenticate with, if the relay asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// A `store:` reference to the relay password in the secret store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// The sender, such as `Rampart <rampart@bank.example>`.
    pub from: String,
    /// When not empty, only addresses in these domains receive set-up tokens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_domains: Vec<String>,
    /// How long one delivery may take, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_timeout() -> u64 {
    30
}

impl SetupDeliveryConfig {
    /// Checks the section, naming the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self
            .setup_url
            .as_deref()
            .is_some_and(|url| !url.starts_with("https://"))
        {
            return Err(invalid(
                "auth.setup_delivery.setup_url",
                "must be an `https://` URL",
            ));
        }
        match (self.method, &self.smtp) {
            (DeliveryMethod::Smtp, None) => Err(invalid(
                "auth.setup_delivery.smtp",
                "must be set when `method` is `smtp`",
            )),
            (_, Some(smtp)) => smtp.validate(),
            (DeliveryMethod::Pickup, None) => Ok(()),
        }
    }

    /// The pickup directory, given the gateway's data directory.
    pub fn pickup_dir(&self, data_dir: &Path) -> PathBuf {
        self.pickup_dir
            .clone()
            .unwrap_or_else(|| data_dir.join(DEFAULT_PICKUP_DIR))
    }
}

impl SmtpConfig {
    /// The port in use: the configured one, else the usual one for the TLS mode.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Implicit => 465,
        })
    }

    /// The name of the relay password in the secret store, if one is configured.
    pub fn password_name(&self) -> Result<Option<String>, ConfigError> {
        let Some(text) = self.password.as_deref() else {
            return Ok(None);
        };
        match SecretRef::parse(text) {
            Ok(SecretRef::Store(name)) => Ok(Some(name)),
            _ => Err(invalid(
                "auth.setup_delivery.smtp.password",
                "must be a `store:` reference to a secret in the secret store",
            )),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let key = |field: &str| format!("auth.setup_delivery.smtp.{field}");
        if self.host.trim().is_empty() || self.host.contains(char::is_whitespace) {
            return Err(invalid(&key("host"), "must be a host name"));
        }
        if self.port == Some(0) {
            return Err(invalid(&key("port"), "must be from 1 to 65535"));
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(&key("from"), "must be an e-mail address"));
        }
        if !(1..=300).contains(&self.timeout_seconds) {
            return Err(invalid(&key("timeout_seconds"), "must be from 1 to 300"));
        }
        if self.password.is_some() != self.username.is_some() {
            return Err(invalid(
                &key("password"),
                "must be set together with `username`",
            ));
        }
        self.password_name().map(|_| ())
    }
}

fn invalid(key: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp() -> SmtpConfig {
        SmtpConfig {
            host: "smtp.bank.example".into(),
            port: None,
            tls: SmtpTls::Starttls,
            ca_file: None,
            username: Some("rampart".into()),
            password: Some("store:smtp-relay-password".into()),
            from: "Rampart <rampart@bank.example>".into(),
            allowed_domains: vec![],
            timeout_seconds: 30,
        }
    }

    fn key_of(error: ConfigError) -> String {
        match error {
            ConfigError::Invalid { key, .. } => key,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn pickup_is_the_default_and_needs_no_relay() {
        let section = SetupDeliveryConfig::default();
        assert_eq!(section.method, DeliveryMethod::Pickup);
        assert!(section.validate().is_ok());
        let dir = section.pickup_dir(Path::new("/srv/rampart"));
        assert_eq!(dir, Path::new("/srv/rampart/setup-pickup"));
    }

    #[test]
    fn smtp_without_a_relay_is_refused_naming_the_section() {
        let section = SetupDeliveryConfig {
            method: DeliveryMethod::Smtp,
            ..SetupDeliveryConfig::default()
        };
        let key = key_of(section.validate().unwrap_err());
        assert_eq!(key, "auth.setup_delivery.smtp");
    }

    #[test]
    fn an_inline_relay_password_is_refused() {
        let mut relay = smtp();
        relay.password = Some("hunter2-hunter2".into()); // pragma: allowlist secret
        let key = key_of(relay.validate().unwrap_err());
        assert_eq!(key, "auth.setup_delivery.smtp.password");
        assert_eq!(
            smtp().password_name().unwrap().unwrap(),
            "smtp-relay-password"
        );
    }

    #[test]
    fn the_port_follows_the_tls_mode_unless_set() {
        let mut relay = smtp();
        assert_eq!(relay.port(), 587);
        relay.tls = SmtpTls::Implicit;
        assert_eq!(relay.port(), 465);
        relay.port = Some(2525);
        assert_eq!(relay.port(), 2525);
    }

    #[test]
    fn a_sender_that_is_no_address_is_refused() {
        let mut relay = smtp();
        relay.from = "not an address".into();
        let key = key_of(relay.validate().unwrap_err());
        assert_eq!(key, "auth.setup_delivery.smtp.from");
    }
}
