//! Handing a set-up token to its person: a private pickup file, or a mail (`setup_mail`).
//!
//! Rule upheld: a set-up token reaches only the person it is for. No API
//! answer, log line or audit event carries it; the answer says how it went
//! and until when it is good. A pickup file is written atomically (a private
//! temporary file, synced, then renamed) with mode 0600 in a directory of
//! mode 0700, one file per token, for the firm's mail system or help desk to
//! hand over. The pickup directory is a [`PrivateDir`]: a symbolic link, a
//! non-directory or a directory of another user is refused, and no file is ever
//! created through a link. The log and the audit event name the path and the
//! uids; the API answer gives only [`DeliveryError::public_detail`].

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use uuid::Uuid;

use crate::config::setup_delivery::DeliveryMethod;
use crate::config::{Config, ConfigError};
use crate::files::{DirError, PRIVATE_FILE, PrivateDir};
use crate::secrets::GatewaySecrets;
use crate::service::setup_mail::{MailError, SmtpRelay};
use crate::service::user_email::AddressRule;

/// What a person is sent: who they are, the token, until when, and where to use it.
pub struct SetupLetter<'a> {
    /// The person's subject id.
    pub user_id: &'a str,
    /// The person's sign-in name.
    pub username: &'a str,
    /// The person's registered e-mail, if any.
    pub email: Option<&'a str>,
    /// The set-up token itself.
    pub token: &'a SecretString,
    /// When the token stops being good.
    pub expires_at: DateTime<Utc>,
}

/// Why a set-up token could not be delivered; nothing here holds the token.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The pickup directory or file could not be written.
    #[error("the pickup file could not be written: {0}")]
    Pickup(#[source] io::Error),
    /// The pickup directory is not one the gateway may trust with a token.
    #[error("the pickup directory cannot be used: {0}")]
    PickupDir(#[from] DirError),
    /// The mail could not be sent.
    #[error(transparent)]
    Mail(#[from] MailError),
}

impl DeliveryError {
    /// What an API answer may say of this failure: no path, uid or relay detail,
    /// which stay in the log and the audit event.
    pub fn public_detail(&self) -> &'static str {
        match self {
            DeliveryError::Pickup(_) => "the pickup file could not be written",
            DeliveryError::PickupDir(_) => {
                "the pickup directory is not one the gateway may trust with a token"
            }
            DeliveryError::Mail(_) => "the mail could not be sent",
        }
    }
}

/// The configured way set-up tokens reach their person.
pub struct SetupDelivery {
    method: DeliveryMethod,
    pickup_dir: PathBuf,
    setup_url: String,
    smtp: Option<SmtpRelay>,
    address_rule: AddressRule,
}

impl SetupDelivery {
    /// The delivery `config` describes; a relay's CA file is read now.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        let section = &config.auth.setup_delivery;
        let (smtp, address_rule) = match (section.method, &section.smtp) {
            (DeliveryMethod::Smtp, Some(relay)) => (
                Some(SmtpRelay::new(relay)?),
                AddressRule {
                    required: true,
                    allowed_domains: relay.allowed_domains.clone(),
                },
            ),
            _ => (None, AddressRule::default()),
        };
        let setup_url = section
            .setup_url
            .clone()
            .unwrap_or_else(|| format!("{}/v1/auth/setup", config.public_url()));
        Ok(Self {
            method: section.method,
            pickup_dir: section.pickup_dir(&config.server.data_dir),
            setup_url,
            smtp,
            address_rule,
        })
    }

    /// Which addresses a new person may have: mailed tokens need one in an allowed domain.
    pub fn address_rule(&self) -> &AddressRule {
        &self.address_rule
    }

    /// How tokens are delivered.
    pub fn method(&self) -> DeliveryMethod {
        self.method
    }

    /// Delivers `letter` to its person, reading a relay password from `secrets`.
    pub async fn deliver(
        &self,
        secrets: &GatewaySecrets,
        letter: &SetupLetter<'_>,
    ) -> Result<(), DeliveryError> {
        match &self.smtp {
            Some(relay) => Ok(relay.send(secrets, letter, &self.setup_url).await?),
            None => self.write_pickup(letter).await,
        }
    }

    async fn write_pickup(&self, letter: &SetupLetter<'_>) -> Result<(), DeliveryError> {
        let contents = pickup_contents(letter, &self.setup_url);
        let name = format!("{}-{}.json", Uuid::now_v7(), letter.username);
        let dir = self.pickup_dir.clone();
        tokio::task::spawn_blocking(move || write_atomically(&dir, &name, contents.as_bytes()))
            .await
            .map_err(|e| DeliveryError::Pickup(io::Error::other(e)))
            .and_then(|written| written)
    }
}

/// The pickup file: a JSON document the mail system or help desk reads.
fn pickup_contents(letter: &SetupLetter<'_>, setup_url: &str) -> zeroize::Zeroizing<String> {
    let document = json!({
        "username": letter.username,
        "user_id": letter.user_id,
        "email": letter.email,
        "setup_token": letter.token.expose_secret(),
        "expires_at": rampart_audit::time::format(&letter.expires_at),
        "setup_url": setup_url,
        "how": "send `setup_token` and a new password of the person's choosing, \
                as `{\"setup_token\", \"new_password\"}`, to `setup_url`",
    });
    zeroize::Zeroizing::new(format!("{document:#}\n"))
}

/// Writes `name` in `dir` (a [`PrivateDir`]) with mode 0600: a temporary file, synced, renamed.
fn write_atomically(dir: &Path, name: &str, contents: &[u8]) -> Result<(), DeliveryError> {
    let dir = PrivateDir::open(dir)?;
    let temporary = format!(".{name}.partial");
    let mut file = dir
        .create_new(&temporary, PRIVATE_FILE)
        .map_err(DeliveryError::Pickup)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if let Err(error) = written {
        let _ = dir.remove(&temporary);
        return Err(DeliveryError::Pickup(error));
    }
    dir.rename(&temporary, name)
        .and_then(|()| dir.sync())
        .map_err(DeliveryError::Pickup)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{PRIVATE_DIR, mode_of};

    #[test]
    fn a_pickup_file_is_private_and_holds_the_token_with_its_expiry() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("pickup");
        let token = SecretString::from("canary-token-value");
        let letter = SetupLetter {
            user_id: "u-1",
            username: "carol",
            email: None,
            token: &token,
            expires_at: Utc::now(),
        };
        let contents = pickup_contents(&letter, "https://gw.example/v1/auth/setup");
        write_atomically(&dir, "one-carol.json", contents.as_bytes()).unwrap();

        assert_eq!(mode_of(&dir).unwrap(), PRIVATE_DIR);
        let file = dir.join("one-carol.json");
        assert_eq!(mode_of(&file).unwrap(), PRIVATE_FILE);
        let read: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(read["setup_token"], "canary-token-value");
        assert_eq!(read["username"], "carol");
        assert_eq!(read["setup_url"], "https://gw.example/v1/auth/setup");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_pickup_file_is_never_overwritten() {
        let temp = tempfile::tempdir().unwrap();
        write_atomically(temp.path(), "a.json", b"first").unwrap();
        std::fs::write(temp.path().join(".b.json.partial"), b"stale").unwrap();
        assert!(write_atomically(temp.path(), "b.json", b"second").is_err());
        assert_eq!(std::fs::read(temp.path().join("a.json")).unwrap(), b"first");
    }
}
