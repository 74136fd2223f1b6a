//! An in-process gateway in a temporary data directory, for `demo` and `load`.
//!
//! The gateway is the real one (`rampart_server::Gateway`) with every control
//! on, listening on a free loopback port, with a freshly generated CA. Callers
//! reach it over HTTPS through `api::Api`, trusting that CA only. Accounts and
//! clients are created through the same functions as `rampart account add` and
//! `rampart client add`, before the gateway starts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use rampart_core::RoleSet;
use rampart_server::config::Config;
use rampart_server::service::users::{self, NewUser};
use rampart_server::{Gateway, RunningGateway};
use rampart_store::{Store, UserProfile};
use secrecy::SecretString;
use tempfile::TempDir;

use crate::api::{Api, ApiError};
use crate::commands::account::{self, AccountError, NewAccount};
use crate::commands::client::{self, ClientError};
use crate::context::{Context, ContextError, OPERATOR};

/// Why the sandbox could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The temporary directory could not be created.
    #[error("cannot create a temporary data directory: {0}")]
    TempDir(std::io::Error),
    /// Configuration, data directory or store.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// An account was refused.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// A client was refused.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The gateway did not start.
    #[error("gateway: {0}")]
    Gateway(String),
    /// The sandbox's data directory has no development CA to trust.
    #[error("the temporary data directory has no development CA")]
    NoDevelopmentCa,
    /// The HTTPS client could not be built.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A person was refused.
    #[error("user: {0}")]
    User(String),
}

/// A client's credentials, held only in memory.
pub struct Credentials {
    /// The client id.
    pub id: String,
    /// The client secret.
    pub secret: SecretString,
}

/// A data directory being prepared; the gateway is not running yet.
pub struct Sandbox {
    // Fields drop in order: the database closes before its directory is removed.
    store: Store,
    context: Context,
    ca_file: PathBuf,
    dir: TempDir,
}

impl Sandbox {
    /// Creates a temporary data directory with a configuration derived from `base`.
    pub async fn create(
        base: &Config,
        market_data: PathBuf,
        speed: u32,
    ) -> Result<Self, SandboxError> {
        let dir = tempfile::Builder::new()
            .prefix("rampart-")
            .tempdir()
            .map_err(SandboxError::TempDir)?;
        let mut config = base.clone();
        config.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.server.data_dir = dir.path().join("data");
        config.server.public_url = None;
        config.auth.issuer = None;
        config.tls = Default::default();
        config.market.data_dir = market_data;
        config.market.start = None;
        config.market.speed = speed;

        let context = Context::from_config(config);
        let data_dir = context.ensure_data_dir().await?;
        let ca_file = data_dir
            .tls
            .dev_ca_file
            .ok_or(SandboxError::NoDevelopmentCa)?;
        Ok(Self {
            dir,
            context,
            ca_file,
            store: data_dir.store,
        })
    }

    /// The temporary data directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The configuration in force.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Creates an account, exactly as `rampart account add` does.
    pub async fn add_account(&self, account: &NewAccount) -> Result<(), SandboxError> {
        Ok(account::add(&self.store, account).await?)
    }

    /// Registers a client, exactly as `rampart client add` does.
    pub async fn add_client(
        &self,
        name: &str,
        roles: &[&str],
        accounts: &[&str],
    ) -> Result<Credentials, SandboxError> {
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let roles: RoleSet = client::parse_roles(&roles)?;
        let accounts = accounts.iter().filter_map(|a| a.parse().ok()).collect();
        let created = client::add(&self.store, name, roles, accounts).await?;
        Ok(Credentials {
            id: created.id,
            secret: created.secret,
        })
    }

    /// Registers a client answerable to `owner` (a subject id), as `client add --owner` does.
    pub async fn add_owned_client(
        &self,
        name: &str,
        roles: &[&str],
        owner: &str,
    ) -> Result<Credentials, SandboxError> {
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let wanted = client::Wanted {
            roles: client::parse_roles(&roles)?,
            accounts: Vec::new(),
        };
        let created = client::add_owned(&self.store, name, wanted, None, Some(owner)).await?;
        Ok(Credentials {
            id: created.id,
            secret: created.secret,
        })
    }

    /// Creates a person with no roles, as `rampart user add` does; returns the subject id.
    pub async fn add_person(&self, username: &str) -> Result<String, SandboxError> {
        let request = NewUser {
            username: username.to_owned(),
            roles: Vec::new(),
            accounts: Vec::new(),
            profile: UserProfile::default(),
        };
        let ttl = chrono::Duration::hours(24);
        let rule = rampart_server::service::user_email::AddressRule::default();
        let now = chrono::Utc::now();
        let created = users::create_within(&self.store, OPERATOR, request, now, ttl, &rule)
            .await
            .map_err(|error| SandboxError::User(error.to_string()))?;
        Ok(created.user.id)
    }

    /// Starts the gateway and an HTTPS client that trusts its CA.
    pub async fn start(self) -> Result<Running, SandboxError> {
        let gateway = Gateway::start(self.context.config().clone())
            .await
            .map_err(|error| SandboxError::Gateway(error.to_string()))?;
        let url = format!("https://127.0.0.1:{}", gateway.addr().port());
        let api = Api::new(&url, &self.ca_file)?;
        Ok(Running {
            sandbox: self,
            gateway,
            api,
            url,
        })
    }
}

/// A running in-process gateway.
pub struct Running {
    sandbox: Sandbox,
    gateway: RunningGateway,
    /// The HTTPS client.
    pub api: Api,
    /// The gateway's URL.
    pub url: String,
}

impl Running {
    /// The operator's own connection to the database, as the command line has.
    pub fn store(&self) -> &Store {
        &self.sandbox.store
    }

    /// Stops the gateway gracefully; returns the sandbox so its store can still be read.
    pub async fn stop(self) -> Result<Stopped, SandboxError> {
        self.gateway
            .shutdown()
            .await
            .map_err(|error| SandboxError::Gateway(error.to_string()))?;
        Ok(Stopped {
            sandbox: self.sandbox,
        })
    }
}

/// A gateway that has stopped; its data directory lives until this is dropped.
pub struct Stopped {
    sandbox: Sandbox,
}

impl Stopped {
    /// The store.
    pub fn store(&self) -> &Store {
        &self.sandbox.store
    }

    /// Keeps the data directory on disk and returns where it is.
    pub fn keep(self) -> PathBuf {
        self.sandbox.dir.keep()
    }
}
