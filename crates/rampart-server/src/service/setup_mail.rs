//! Mailing a set-up token to the person's registered address through an SMTP relay.
//!
//! Rule upheld: the relay is reached over TLS only, STARTTLS being required
//! (never opportunistic) or TLS from the first byte, and its certificate is
//! always verified: against the configured CA file, or the system's roots.
//! The relay password is read from the secret store for each delivery, so a
//! rotation takes effect; it is never in the configuration, a log line or an
//! error.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rampart_secrets::SecretStore;
use secrecy::ExposeSecret;

use crate::config::ConfigError;
use crate::config::setup_delivery::{SmtpConfig, SmtpTls};
use crate::secrets::GatewaySecrets;
use crate::service::setup_delivery::SetupLetter;

/// Why a set-up mail could not be sent; nothing here holds the token or the password.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The person has no registered e-mail address.
    #[error("the person has no registered e-mail address")]
    NoAddress,
    /// The registered address is not a valid mailbox.
    #[error("the registered e-mail address is not valid")]
    BadAddress,
    /// The registered address is outside `allowed_domains`.
    #[error("the registered e-mail address is outside the allowed domains")]
    DomainNotAllowed,
    /// The relay password could not be read from the secret store.
    #[error("the relay password could not be read from the secret store")]
    Password,
    /// The message could not be built.
    #[error("the message could not be built")]
    Build,
    /// The TLS settings of the relay were refused.
    #[error("the TLS settings of the relay were refused")]
    Tls,
    /// The relay could not be reached or refused the message.
    #[error("the relay did not accept the message ({0})")]
    Relay(&'static str),
}

/// A configured relay: where it is, how TLS is verified, who sends.
pub struct SmtpRelay {
    config: SmtpConfig,
    sender: Mailbox,
    roots: Vec<Certificate>,
}

impl SmtpRelay {
    /// The relay `config` describes; its CA file, if any, is read and parsed now.
    pub fn new(config: &SmtpConfig) -> Result<Self, ConfigError> {
        let invalid = |key: &str, reason: &str| ConfigError::Invalid {
            key: format!("auth.setup_delivery.smtp.{key}"),
            reason: reason.to_owned(),
        };
        let sender = config
            .from
            .parse::<Mailbox>()
            .map_err(|_| invalid("from", "must be an e-mail address"))?;
        let roots = match &config.ca_file {
            None => Vec::new(),
            Some(path) => {
                let pem = std::fs::read(path).map_err(|_| invalid("ca_file", "cannot be read"))?;
                let certificate = Certificate::from_pem(&pem)
                    .map_err(|_| invalid("ca_file", "holds no usable PEM certificate"))?;
                vec![certificate]
            }
        };
        Ok(Self {
            config: config.clone(),
            sender,
            roots,
        })
    }

    /// Sends `letter` to the person's registered address.
    pub async fn send(
        &self,
        secrets: &GatewaySecrets,
        letter: &SetupLetter<'_>,
        setup_url: &str,
    ) -> Result<(), MailError> {
        let recipient = self.recipient(letter.email)?;
        let message = Message::builder()
            .from(self.sender.clone())
            .to(recipient)
            .subject("Your Rampart set-up token")
            .header(ContentType::TEXT_PLAIN)
            .body(body_of(letter, setup_url))
            .map_err(|_| MailError::Build)?;
        let transport = self.transport(secrets).await?;
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|error| MailError::Relay(kind_of(&error)))
    }

    fn recipient(&self, email: Option<&str>) -> Result<Mailbox, MailError> {
        let email = email.ok_or(MailError::NoAddress)?;
        let mailbox = email
            .parse::<Mailbox>()
            .map_err(|_| MailError::BadAddress)?;
        let domain = mailbox.email.domain().to_ascii_lowercase();
        let allowed = &self.config.allowed_domains;
        if !allowed.is_empty() && !allowed.iter().any(|d| d.eq_ignore_ascii_case(&domain)) {
            return Err(MailError::DomainNotAllowed);
        }
        Ok(mailbox)
    }

    async fn transport(
        &self,
        secrets: &GatewaySecrets,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
        let host = self.config.host.clone();
        let mut tls = TlsParameters::builder(host.clone());
        if !self.roots.is_empty() {
            tls = tls.certificate_store(CertificateStore::None);
        }
        for root in &self.roots {
            tls = tls.add_root_certificate(root.clone());
        }
        let tls = tls.build_rustls().map_err(|_| MailError::Tls)?;
        let tls = match self.config.tls {
            SmtpTls::Starttls => Tls::Required(tls),
            SmtpTls::Implicit => Tls::Wrapper(tls),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(self.config.port())
            .tls(tls)
            .timeout(Some(Duration::from_secs(self.config.timeout_seconds)));
        if let Some(credentials) = self.credentials(secrets).await? {
            builder = builder.credentials(credentials);
        }
        Ok(builder.build())
    }

    async fn credentials(
        &self,
        secrets: &GatewaySecrets,
    ) -> Result<Option<Credentials>, MailError> {
        let (Some(username), Ok(Some(name))) = (&self.config.username, self.config.password_name())
        else {
            return Ok(None);
        };
        let secret = secrets
            .store()
            .get(&name)
            .await
            .map_err(|_| MailError::Password)?;
        let password = secret.value.expose_str().ok_or(MailError::Password)?;
        Ok(Some(Credentials::new(
            username.clone(),
            password.to_owned(),
        )))
    }
}

/// The plain-text message: who it is for, the token, until when, and what to do.
fn body_of(letter: &SetupLetter<'_>, setup_url: &str) -> String {
    format!(
        "Hello {username},\n\n\
         A Rampart set-up token was issued for you. It works once, until {expires}.\n\n\
         Set-up token:\n\
         {token}\n\n\
         Where to use it:\n\
         {setup_url}\n\n\
         Send the token there with a new password of your own choosing; nobody else\n\
         learns that password. Then sign in and enrol your second factor.\n\n\
         If you did not expect this message, tell your security team at once.\n",
        username = letter.username,
        expires = rampart_audit::time::format(&letter.expires_at),
        token = letter.token.expose_secret(),
    )
}

/// A fixed description of a relay failure: the relay's own text is not repeated.
fn kind_of(error: &lettre::transport::smtp::Error) -> &'static str {
    if error.is_timeout() {
        "timed out"
    } else if error.is_tls() {
        "TLS failed, the certificate may not be trusted"
    } else if error.is_permanent() {
        "refused permanently"
    } else if error.is_transient() {
        "refused for now"
    } else {
        "connection failed"
    }
}
