//! Gateway configuration: built-in defaults ▶ `rampart.toml` ▶ `RAMPART_*` environment.
//!
//! Every section refuses unknown keys, and every value is checked after it is
//! read, so that a typo or an unsafe setting stops the gateway at start-up with
//! an error that names the offending key instead of being silently ignored.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use rampart_core::decimal::strict;
use rampart_core::{Instrument, InstrumentCatalog, InstrumentId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub mod audit;

pub use audit::{AuditConfig, ForwardConfig, SyslogConfig, SyslogTransport};
pub mod execution_guard;
pub mod identity;
pub mod risk;
pub mod setup_delivery;

use crate::secrets::broker::BrokerConfig;
use crate::secrets::config::{SecretsConfig, check_references};
use identity::{ApprovalConfig, LoginConfig, OidcConfig, RefreshConfig};

/// The configuration file read when no path is given and it exists.
pub const DEFAULT_FILE: &str = "rampart.toml";

/// The prefix of configuration environment variables; `__` separates sections.
pub const ENV_PREFIX: &str = "RAMPART_";

/// The longest access-token lifetime allowed, in seconds.
pub const MAX_TOKEN_TTL_SECONDS: u64 = 900;

/// The largest clock leeway allowed when verifying tokens, in seconds.
pub const MAX_LEEWAY_SECONDS: u64 = 30;

/// Why the configuration could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file named explicitly does not exist.
    #[error("configuration file `{0}` does not exist")]
    MissingFile(PathBuf),
    /// A key is unknown, has the wrong type, or holds a value out of bounds.
    #[error("`{key}` {reason}")]
    Invalid {
        /// The dotted key, such as `auth.token_ttl_seconds`.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The whole gateway configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The listener and the data directory.
    pub server: ServerConfig,
    /// The TLS certificate and key.
    pub tls: TlsConfig,
    /// Access tokens.
    pub auth: AuthConfig,
    /// Market data replayed by the paper broker.
    pub market: MarketConfig,
    /// The instruments traded; the built-in ones when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instruments: Option<Vec<InstrumentConfig>>,
    /// The authorisation policies.
    pub policy: PolicyConfig,
    /// Checkpoints, retention and forwarding of the audit log.
    pub audit: AuditConfig,
    /// The secret store and rotation.
    pub secrets: SecretsConfig,
    /// Firm-wide caps and the governance of risk-limit changes.
    pub risk: risk::RiskConfig,
    /// The broker's credential.
    pub broker: BrokerConfig,
}

/// The `[server]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// The address of the HTTPS listener; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where the database, keys and development certificates live.
    pub data_dir: PathBuf,
    /// The URL clients reach the gateway at; `https://<listen>` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// How long a request may take before it is answered with 408.
    pub request_timeout_seconds: u64,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace_seconds: u64,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// How many connections are served at once; more are closed at accept.
    pub max_connections: usize,
    /// How long a connection may move no byte before it is closed.
    pub idle_timeout_seconds: u64,
}

/// The `[tls]` section; the development certificate in the data directory when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// The PEM certificate chain, leaf first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// The PEM private key of the leaf certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
}

/// The `[auth]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The `iss` of issued tokens; the public URL when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The `aud` of issued and accepted tokens.
    pub audience: String,
    /// The lifetime of an access token, at most 900 seconds.
    pub token_ttl_seconds: u64,
    /// The clock leeway when verifying a token, at most 30 seconds.
    pub leeway_seconds: u64,
    /// Refresh-token lifetimes.
    pub refresh: RefreshConfig,
    /// Failed sign-in delays and lockouts.
    pub login: LoginConfig,
    /// Four-eyes approvals.
    pub approvals: ApprovalConfig,
    /// Trusted outside OpenID Connect issuers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub oidc: Vec<OidcConfig>,
    /// How set-up tokens reach their person.
    pub setup_delivery: setup_delivery::SetupDeliveryConfig,
}

/// The `[market]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketConfig {
    /// The directory holding the market data CSV files.
    pub data_dir: PathBuf,
    /// The market time the replay starts at (RFC 3339); the start of the data when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<Utc>>,
    /// How many market seconds pass per wall-clock second.
    pub speed: u32,
}

/// One `[[instruments]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentConfig {
    /// The symbol, such as `BTC-USD`.
    pub id: InstrumentId,
    /// The price increment, as a decimal string.
    #[serde(with = "strict")]
    pub tick_size: Decimal,
    /// The quantity increment, as a decimal string.
    #[serde(with = "strict")]
    pub lot_size: Decimal,
    /// The ISO 4217 currency of prices, such as `USD`.
    pub currency: String,
}

/// The `[policy]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// A directory of Cedar policies replacing the built-in ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            data_dir: PathBuf::from("./rampart-data"),
            public_url: None,
            request_timeout_seconds: 10,
            shutdown_grace_seconds: 30,
            max_body_bytes: 65_536,
            max_connections: 1024,
            idle_timeout_seconds: 60,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer: None,
            audience: "rampart".to_owned(),
            token_ttl_seconds: MAX_TOKEN_TTL_SECONDS,
            leeway_seconds: MAX_LEEWAY_SECONDS,
            refresh: RefreshConfig::default(),
            login: LoginConfig::default(),
            approvals: ApprovalConfig::default(),
            oidc: Vec::new(),
            setup_delivery: Default::default(),
        }
    }
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data/market"),
            start: None,
            speed: 60,
        }
    }
}

impl Config {
    /// Reads defaults ▶ the file (`path`, or `./rampart.toml` if present) ▶ `RAMPART_*`.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::new();
        match path {
            Some(path) if !path.is_file() => return Err(ConfigError::MissingFile(path.into())),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_FILE).is_file() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_FILE));
            }
            None => {}
        }
        Self::extract(figment.merge(environment()))
    }

    /// Reads configuration from TOML text and the environment (no file lookup).
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        Self::extract(
            Figment::new()
                .merge(Toml::string(text))
                .merge(environment()),
        )
    }

    /// A configuration for tests: a free loopback port, `data_dir`, the repository's market data.
    pub fn for_tests(data_dir: &Path) -> Config {
        let mut config = Config::default();
        config.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.server.data_dir = data_dir.to_path_buf();
        config.server.shutdown_grace_seconds = 5;
        config.market.data_dir = repository_market_data();
        config
    }

    /// The URL clients reach the gateway at.
    pub fn public_url(&self) -> String {
        self.server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("https://{}", self.server.listen))
    }

    /// The `iss` of issued tokens.
    pub fn issuer(&self) -> String {
        self.auth
            .issuer
            .clone()
            .unwrap_or_else(|| self.public_url())
    }

    /// The configured instruments, or `None` for the built-in ones.
    pub fn instrument_catalog(&self) -> Option<InstrumentCatalog> {
        self.instruments.as_ref().map(|list| {
            InstrumentCatalog::new(list.iter().map(|i| Instrument {
                id: i.id.clone(),
                tick_size: i.tick_size,
                lot_size: i.lot_size,
                currency: i.currency.clone(),
            }))
        })
    }

    /// Checks every value against its bounds, naming the first key that breaks one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_server()?;
        self.validate_tls()?;
        self.validate_auth()?;
        if !(1..=100_000).contains(&self.market.speed) {
            return Err(invalid("market.speed", "must be from 1 to 100000"));
        }
        self.validate_instruments()?;
        self.audit.validate()?;
        self.secrets.validate()?;
        self.risk.validate()?;
        self.broker.validate(&self.secrets)?;
        check_references(self)
    }

    fn extract(figment: Figment) -> Result<Config, ConfigError> {
        let config: Config = figment.extract().map_err(from_figment)?;
        config.validate()?;
        Ok(config)
    }

    fn validate_server(&self) -> Result<(), ConfigError> {
        let server = &self.server;
        if !(1..=300).contains(&server.request_timeout_seconds) {
            return Err(invalid(
                "server.request_timeout_seconds",
                "must be from 1 to 300",
            ));
        }
        if server.shutdown_grace_seconds > 600 {
            return Err(invalid(
                "server.shutdown_grace_seconds",
                "must be at most 600",
            ));
        }
        if !(1024..=16 * 1024 * 1024).contains(&server.max_body_bytes) {
            return Err(invalid(
                "server.max_body_bytes",
                "must be from 1024 to 16777216",
            ));
        }
        if !(1..=65_536).contains(&server.max_connections) {
            return Err(invalid("server.max_connections", "must be from 1 to 65536"));
        }
        if !(server.request_timeout_seconds..=3600).contains(&server.idle_timeout_seconds) {
            let rule = "must be from `server.request_timeout_seconds` to 3600";
            return Err(invalid("server.idle_timeout_seconds", rule));
        }
        if server.data_dir.as_os_str().is_empty() {
            return Err(invalid("server.data_dir", "must not be empty"));
        }
        match &server.public_url {
            Some(url) if !is_https_url(url) => {
                Err(invalid("server.public_url", "must be an `https://` URL"))
            }
            _ => Ok(()),
        }
    }

    fn validate_tls(&self) -> Result<(), ConfigError> {
        match (&self.tls.cert_file, &self.tls.key_file) {
            (Some(_), None) => Err(invalid("tls.key_file", "must be set with `tls.cert_file`")),
            (None, Some(_)) => Err(invalid("tls.cert_file", "must be set with `tls.key_file`")),
            _ => Ok(()),
        }
    }

    fn validate_auth(&self) -> Result<(), ConfigError> {
        let auth = &self.auth;
        if auth.token_ttl_seconds == 0 {
            return Err(invalid("auth.token_ttl_seconds", "must be at least 1"));
        }
        if auth.token_ttl_seconds > MAX_TOKEN_TTL_SECONDS {
            return Err(invalid("auth.token_ttl_seconds", "must be at most 900"));
        }
        if auth.leeway_seconds > MAX_LEEWAY_SECONDS {
            return Err(invalid("auth.leeway_seconds", "must be at most 30"));
        }
        if auth.audience.trim().is_empty() {
            return Err(invalid("auth.audience", "must not be empty"));
        }
        auth.refresh.validate()?;
        auth.login.validate()?;
        auth.approvals.validate()?;
        identity::validate_oidc(&auth.oidc)?;
        auth.setup_delivery.validate()?;
        match &auth.issuer {
            Some(issuer) if issuer.trim().is_empty() => {
                Err(invalid("auth.issuer", "must not be empty"))
            }
            _ => Ok(()),
        }
    }

    fn validate_instruments(&self) -> Result<(), ConfigError> {
        let Some(list) = &self.instruments else {
            return Ok(());
        };
        if list.is_empty() {
            return Err(invalid("instruments", "must list at least one instrument"));
        }
        for (index, instrument) in list.iter().enumerate() {
            let key = |field: &str| format!("instruments[{index}].{field}");
            if instrument.tick_size.is_zero() {
                return Err(invalid(&key("tick_size"), "must be greater than zero"));
            }
            if instrument.lot_size.is_zero() {
                return Err(invalid(&key("lot_size"), "must be greater than zero"));
            }
            if !is_currency_code(&instrument.currency) {
                return Err(invalid(&key("currency"), "must be three capital letters"));
            }
            if list
                .iter()
                .take(index)
                .any(|earlier| earlier.id == instrument.id)
            {
                return Err(invalid(&key("id"), "repeats an earlier instrument"));
            }
        }
        Ok(())
    }
}

/// `RAMPART_SECTION__KEY` variables; prefixed names without `__` (such as `RAMPART_LOG`)
/// belong to other tools and are left alone.
fn environment() -> Env {
    Env::prefixed(ENV_PREFIX)
        .filter(|key| key.as_str().contains("__"))
        .split("__")
}

/// The market data shipped with the repository, found from this crate's source directory.
fn repository_market_data() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let in_repository = manifest.join("../../data/market");
    if in_repository.is_dir() {
        return in_repository;
    }
    manifest.join("../../../shared/data/market")
}

fn from_figment(error: figment::Error) -> ConfigError {
    let mut path = error.path.clone();
    let reason = match &error.kind {
        figment::error::Kind::UnknownField(field, _) => {
            push_once(&mut path, field);
            "is not a known setting".to_owned()
        }
        figment::error::Kind::MissingField(field) => {
            push_once(&mut path, field);
            "is required".to_owned()
        }
        kind => reason_of(kind),
    };
    let key = if path.is_empty() {
        "configuration".to_owned()
    } else {
        path.join(".")
    };
    ConfigError::Invalid { key, reason }
}

/// What is wrong with a key, naming the expected type and never the value found.
///
/// figment's own messages quote the value (`found string "..."`); a secret put
/// under the wrong key would be echoed to a terminal or a log.
fn reason_of(kind: &figment::error::Kind) -> String {
    use figment::error::Kind;
    match kind {
        Kind::InvalidType(_, expected)
        | Kind::InvalidValue(_, expected)
        | Kind::InvalidLength(_, expected) => format!("must be {}", expected_type(expected)),
        Kind::UnknownVariant(_, variants) => {
            let names: Vec<String> = variants.iter().map(|v| format!("`{v}`")).collect();
            format!("must be one of {}", names.join(", "))
        }
        Kind::DuplicateField(_) => "appears more than once".to_owned(),
        Kind::ISizeOutOfRange(_) | Kind::USizeOutOfRange(_) => "is out of range".to_owned(),
        Kind::Unsupported(_) | Kind::UnsupportedKey(..) => "has an unsupported type".to_owned(),
        _ => "does not hold a valid value".to_owned(),
    }
}

/// serde's "expected" phrase in the terms of a TOML file, without Rust type names.
fn expected_type(expected: &str) -> &str {
    const INTEGERS: [&str; 12] = [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
    ];
    let first = expected.split_whitespace().next().unwrap_or_default();
    if INTEGERS.contains(&first) {
        return "a whole number";
    }
    match first {
        "struct" | "map" => "a table",
        "tuple" | "sequence" => "an array",
        "f32" | "f64" => "a number",
        "bool" | "boolean" => "`true` or `false`",
        _ if expected.starts_with("a map") => "a table",
        _ if expected.starts_with("a sequence") => "an array",
        _ if expected.contains("::") || expected.chars().any(char::is_uppercase) => {
            "of the documented form"
        }
        _ => expected,
    }
}

/// Appends `field` to `path` unless figment already put it there.
fn push_once(path: &mut Vec<String>, field: &str) {
    if path.last().is_none_or(|last| last != field) {
        path.push(field.to_owned());
    }
}

fn invalid(key: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}

fn is_https_url(url: &str) -> bool {
    url.strip_prefix("https://")
        .is_some_and(|rest| !rest.is_empty() && !rest.chars().any(char::is_whitespace))
}

fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

#[cfg(test)]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail closures return figment's error"
)]
mod tests;
