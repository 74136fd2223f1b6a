//! The `[audit]` section: signed checkpoints, retention and forwarding to a SIEM.
//!
//! Upholds the retention rule (MiFIR Article 25: five years at least, seven on
//! request): a retention below five years is refused at start-up, by name.
//! Every key is checked here, so that a forwarder or checkpoint setting that
//! could never work stops the gateway instead of silently losing events.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{ConfigError, invalid};

/// The shortest retention allowed, in years.
pub const MIN_RETENTION_YEARS: u32 = 5;

/// The retention when none is configured, in years.
pub const DEFAULT_RETENTION_YEARS: u32 = 7;

/// The checkpoint export directory inside the data directory, by default.
pub const DEFAULT_EXPORT_DIR: &str = "audit-checkpoints";

/// The longest RFC 5424 APP-NAME.
const MAX_APP_NAME: usize = 48;

/// The longest checkpoint origin line.
const MAX_ORIGIN: usize = 255;

/// The `[audit]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// A checkpoint is signed once this many events were appended since the last one.
    pub checkpoint_every_events: u64,
    /// A checkpoint is signed at least this often while events arrive, in seconds.
    pub checkpoint_every_seconds: u64,
    /// Where each checkpoint is also written, one file each; `<data>/audit-checkpoints`
    /// when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_dir: Option<PathBuf>,
    /// The log's name in every checkpoint; derived from the issuer URL when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// How long audit events are kept, in years (at least five).
    pub retention_years: u32,
    /// Where committed events are also streamed.
    pub forward: ForwardConfig,
}

/// The `[audit.forward]` section; nothing is forwarded when both are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForwardConfig {
    /// A file every committed event is appended to, as one JSON line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jsonl: Option<PathBuf>,
    /// A syslog collector every committed event is sent to (RFC 5424).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syslog: Option<SyslogConfig>,
}

/// The `[audit.forward.syslog]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    /// The collector's address, such as `127.0.0.1:5514`.
    pub address: SocketAddr,
    /// `udp` (RFC 5426) or `tcp` with octet counting (RFC 6587).
    #[serde(default)]
    pub transport: SyslogTransport,
    /// The APP-NAME of every message.
    #[serde(default = "default_app_name")]
    pub app_name: String,
}

/// How syslog messages travel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyslogTransport {
    /// One message per datagram.
    #[default]
    Udp,
    /// A stream of octet-counted frames.
    Tcp,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            checkpoint_every_events: 1000,
            checkpoint_every_seconds: 60,
            export_dir: None,
            origin: None,
            retention_years: DEFAULT_RETENTION_YEARS,
            forward: ForwardConfig::default(),
        }
    }
}

impl AuditConfig {
    /// The checkpoint export directory: configured, else inside `data_dir`.
    pub fn export_dir(&self, data_dir: &Path) -> PathBuf {
        self.export_dir
            .clone()
            .unwrap_or_else(|| data_dir.join(DEFAULT_EXPORT_DIR))
    }

    /// The checkpoint origin: configured, else the issuer's host and path with `/audit`.
    pub fn origin(&self, issuer: &str) -> String {
        if let Some(origin) = &self.origin {
            return origin.clone();
        }
        let bare = issuer
            .strip_prefix("https://")
            .unwrap_or(issuer)
            .trim_end_matches('/');
        format!("{bare}/audit")
    }

    /// Checks every value against its bounds, naming the first key that breaks one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=1_000_000).contains(&self.checkpoint_every_events) {
            let rule = "must be from 1 to 1000000";
            return Err(invalid("audit.checkpoint_every_events", rule));
        }
        if !(1..=86_400).contains(&self.checkpoint_every_seconds) {
            let rule = "must be from 1 to 86400";
            return Err(invalid("audit.checkpoint_every_seconds", rule));
        }
        if !(MIN_RETENTION_YEARS..=100).contains(&self.retention_years) {
            return Err(invalid("audit.retention_years", "must be from 5 to 100"));
        }
        if self
            .export_dir
            .as_ref()
            .is_some_and(|d| d.as_os_str().is_empty())
        {
            return Err(invalid("audit.export_dir", "must not be empty"));
        }
        if self.origin.as_deref().is_some_and(|o| !is_origin(o)) {
            let rule = "must be 1 to 255 printable ASCII characters without spaces";
            return Err(invalid("audit.origin", rule));
        }
        self.forward.validate()
    }
}

impl ForwardConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self
            .jsonl
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            return Err(invalid("audit.forward.jsonl", "must not be empty"));
        }
        match &self.syslog {
            Some(syslog) if !is_app_name(&syslog.app_name) => Err(invalid(
                "audit.forward.syslog.app_name",
                "must be 1 to 48 printable ASCII characters without spaces",
            )),
            _ => Ok(()),
        }
    }
}

fn default_app_name() -> String {
    "rampart".to_owned()
}

/// Printable US-ASCII without spaces (RFC 5424 PRINTUSASCII), `1..=max` long.
fn is_print_ascii(text: &str, max: usize) -> bool {
    (1..=max).contains(&text.len()) && text.bytes().all(|b| (33..=126).contains(&b))
}

/// Whether `name` is a valid RFC 5424 APP-NAME.
pub fn is_app_name(name: &str) -> bool {
    is_print_ascii(name, MAX_APP_NAME)
}

/// Whether `origin` fits on the origin line of a checkpoint.
pub fn is_origin(origin: &str) -> bool {
    is_print_ascii(origin, MAX_ORIGIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn refused_key(text: &str) -> String {
        match Config::from_toml(text) {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn defaults_keep_seven_years_and_checkpoint_every_thousand_events() {
        let config = AuditConfig::default();
        assert_eq!(config.retention_years, 7);
        assert_eq!(config.checkpoint_every_events, 1000);
        assert_eq!(config.checkpoint_every_seconds, 60);
        assert_eq!(
            config.export_dir(Path::new("/data")),
            PathBuf::from("/data/audit-checkpoints")
        );
        config.validate().unwrap();
    }

    #[test]
    fn retention_below_five_years_is_refused_by_name() {
        let key = refused_key("[audit]\nretention_years = 4\n");
        assert_eq!(key, "audit.retention_years");
    }

    #[test]
    fn retention_of_five_years_is_accepted() {
        let config = Config::from_toml("[audit]\nretention_years = 5\n").unwrap();
        assert_eq!(config.audit.retention_years, 5);
    }

    #[test]
    fn zero_checkpoint_interval_is_refused() {
        let key = refused_key("[audit]\ncheckpoint_every_events = 0\n");
        assert_eq!(key, "audit.checkpoint_every_events");
        let key = refused_key("[audit]\ncheckpoint_every_seconds = 0\n");
        assert_eq!(key, "audit.checkpoint_every_seconds");
    }

    #[test]
    fn origin_is_derived_from_the_issuer_without_its_scheme() {
        let config = AuditConfig::default();
        assert_eq!(
            config.origin("https://gw.example.com:8443/"),
            "gw.example.com:8443/audit"
        );
    }

    #[test]
    fn origin_with_a_space_or_newline_is_refused() {
        assert_eq!(refused_key("[audit]\norigin = \"a b\"\n"), "audit.origin");
        assert_eq!(refused_key("[audit]\norigin = \"a\\nb\"\n"), "audit.origin");
    }

    #[test]
    fn syslog_forwarding_is_read_with_its_transport() {
        let text = "[audit.forward.syslog]\naddress = \"127.0.0.1:5514\"\ntransport = \"tcp\"\n";
        let config = Config::from_toml(text).unwrap();
        let syslog = config.audit.forward.syslog.unwrap();
        assert_eq!(syslog.transport, SyslogTransport::Tcp);
        assert_eq!(syslog.app_name, "rampart");
    }

    #[test]
    fn unknown_syslog_transport_is_refused_by_name() {
        let text = "[audit.forward.syslog]\naddress = \"127.0.0.1:5514\"\ntransport = \"tls\"\n";
        assert_eq!(refused_key(text), "audit.forward.syslog.transport");
    }

    #[test]
    fn syslog_app_name_longer_than_the_rfc_allows_is_refused() {
        let name = "a".repeat(49);
        let text = format!(
            "[audit.forward.syslog]\naddress = \"127.0.0.1:5514\"\napp_name = \"{name}\"\n"
        );
        assert_eq!(refused_key(&text), "audit.forward.syslog.app_name");
    }

    #[test]
    fn unknown_audit_key_is_refused_by_name() {
        assert_eq!(refused_key("[audit]\nretention = 7\n"), "audit.retention");
    }
}
