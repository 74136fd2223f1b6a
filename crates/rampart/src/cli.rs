//! The command-line grammar: global options and every subcommand's flags.
//!
//! Parsing only; what a command does lives in `commands`. Values that carry a
//! domain meaning (roles, accounts, decimals) are parsed again by the domain
//! types, so that the command line accepts exactly what the API accepts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::limits::LimitFlags;

/// Rampart: a security and compliance gateway for trading systems.
#[derive(Debug, Parser)]
#[command(name = "rampart", version, propagate_version = true)]
pub struct Cli {
    /// The configuration file; `./rampart.toml` is read when present.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// How log lines are written to standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable on a terminal, JSON otherwise.
    Auto,
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[expect(clippy::large_enum_variant, reason = "parsed once per process")]
pub enum Command {
    /// Runs the gateway until SIGINT or SIGTERM.
    Serve,
    /// Creates the data directory (database, TLS, keys, bootstrap admin) without serving.
    Init,
    /// Manages API clients (algorithms and services).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manages trading accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Reads the risk limits of an account: those in force and every version.
    #[command(subcommand)]
    Limits(crate::commands::limits::LimitsCommand),
    /// Manages people: users, their roles and their second factor.
    #[command(subcommand)]
    User(UserCommand),
    /// Operates the kill switch.
    #[command(subcommand, name = "killswitch")]
    KillSwitch(KillSwitchCommand),
    /// Works with the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Lists and rotates the gateway's secrets (metadata only, never a value).
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Replays real market data as two algorithms' order flow through a live gateway.
    Demo(DemoArgs),
    /// Benchmarks the gateway: N orders at concurrency C over HTTPS, every control on.
    Load(LoadArgs),
}

/// `rampart client ...`.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Registers a client and prints its id and secret, once.
    Add(ClientAddArgs),
    /// Lists the registered clients (never a secret).
    List,
    /// Disables a client; its tokens are refused from then on.
    Disable {
        /// The client id.
        id: String,
    },
}

/// `rampart client add`.
#[derive(Debug, Args)]
pub struct ClientAddArgs {
    /// A human-readable name, such as `momentum-algo`.
    #[arg(long)]
    pub name: String,
    /// Roles, comma separated: trader, risk_manager, compliance_officer, auditor, admin.
    #[arg(long, value_delimiter = ',', required = true)]
    pub roles: Vec<String>,
    /// Accounts the client may act on, comma separated.
    #[arg(long, value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// A public JWK (JSON file): the client authenticates with `private_key_jwt`, no secret.
    #[arg(long, value_name = "FILE")]
    pub jwk: Option<PathBuf>,
    /// The person answerable for the client (username or subject id), for four-eyes checks;
    /// required for `admin`, `risk_manager` and `compliance_officer`.
    #[arg(long, value_name = "USER")]
    pub owner: Option<String>,
}

/// `rampart user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates a user and delivers their set-up token to them, printing only how and until when.
    Add(UserAddArgs),
    /// Lists the users (no personal data).
    List,
    /// Disables a user; every session and token of theirs is refused from then on.
    Disable {
        /// The subject id, or the username.
        id: String,
    },
    /// Removes a user's second factor; they enrol again at their next sign-in.
    ResetMfa {
        /// The subject id, or the username.
        id: String,
    },
}

/// `rampart user add`.
#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// The sign-in name: 3 to 64 of `a-z 0-9 . _ -`.
    #[arg(long)]
    pub username: String,
    /// Roles, comma separated; admin, risk_manager and compliance_officer wait for approval.
    #[arg(long, value_delimiter = ',')]
    pub roles: Vec<String>,
    /// Accounts the user may act on, comma separated.
    #[arg(long, value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// The name shown to other people (personal data, kept apart).
    #[arg(long)]
    pub display_name: Option<String>,
    /// The e-mail address (personal data, kept apart).
    #[arg(long)]
    pub email: Option<String>,
}

/// `rampart account ...`.
#[derive(Debug, Subcommand)]
#[expect(clippy::large_enum_variant, reason = "parsed once per process")]
pub enum AccountCommand {
    /// Creates an account with its cash and risk limits.
    Add(AccountAddArgs),
    /// Lists the accounts.
    List,
}

/// `rampart account add`.
#[derive(Debug, Args)]
pub struct AccountAddArgs {
    /// The account id, such as `ACC-1`.
    pub id: String,
    /// The account currency (ISO 4217), such as `USD`.
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// The starting cash, as a decimal.
    #[arg(long, default_value = "1000000")]
    pub cash: String,
    /// A TOML or JSON file of risk limits; flags below override its values.
    #[arg(long, value_name = "FILE")]
    pub limits: Option<PathBuf>,
    /// The trading desk the account belongs to, such as `rates-eu`.
    #[arg(long)]
    pub desk: Option<String>,
    /// One flag per limit.
    #[command(flatten)]
    pub limit_flags: LimitFlags,
}

/// `rampart killswitch ...`.
#[derive(Debug, Subcommand)]
pub enum KillSwitchCommand {
    /// Lists the kill-switch engagements still in force.
    List,
    /// Releases one engagement, or every active one with `--all`.
    Release(ReleaseArgs),
}

/// `rampart killswitch release`.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The engagement id.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub id: Option<String>,
    /// Release every active engagement.
    #[arg(long)]
    pub all: bool,
    /// Why trading may resume; recorded in the audit log.
    #[arg(long)]
    pub reason: String,
}

/// `rampart audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recomputes every leaf, the chain and the Merkle tree, checks every checkpoint's
    /// signature (stored and exported), and names the first event that does not match.
    Verify(AuditVerifyArgs),
    /// Writes a self-contained bundle of events `--from..=--to` for offline verification.
    Export(AuditExportArgs),
    /// Verifies a bundle offline, with no database, and names what is wrong.
    VerifyBundle(AuditVerifyBundleArgs),
    /// Signs a checkpoint of the log now (run it against a stopped gateway's data directory).
    Checkpoint,
}

/// `rampart audit verify`.
#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// The checkpoint verifier key file to trust; the data directory's published key by default.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
}

/// `rampart audit export`.
#[derive(Debug, Args)]
pub struct AuditExportArgs {
    /// The first event's `seq`.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub from: u64,
    /// The last event's `seq`; a checkpoint must cover it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub to: u64,
    /// The directory to write, which must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `rampart audit verify-bundle`.
#[derive(Debug, Args)]
pub struct AuditVerifyBundleArgs {
    /// The bundle directory.
    pub dir: PathBuf,
    /// A verifier key file obtained elsewhere; the bundle's own key is used, and shown, otherwise.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
}

/// `rampart secrets ...`.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Lists the managed secrets: name, version, backend, rotation times.
    List,
    /// Rotates a secret now: stage, verify, promote; the previous version is kept.
    Rotate {
        /// The secret's name, such as `token-signing-key`.
        name: String,
    },
}

/// `rampart demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Orders each algorithm sends before the kill switch, and again after its release.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(6..=5000))]
    pub orders: u32,
    /// The folder holding the market-data CSV files.
    #[arg(long, value_name = "DIR")]
    pub market_data: Option<PathBuf>,
    /// Keep the temporary data directory and print where it is.
    #[arg(long)]
    pub keep: bool,
}

/// `rampart load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// How many orders to send in all.
    #[arg(long, short = 'n', default_value_t = 5000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub orders: u64,
    /// How many requests are in flight at once.
    #[arg(long, short = 'c', default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// How many trader clients (and accounts) share the load.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub clients: u32,
    /// The folder holding the market-data CSV files.
    #[arg(long, value_name = "DIR")]
    pub market_data: Option<PathBuf>,
}
