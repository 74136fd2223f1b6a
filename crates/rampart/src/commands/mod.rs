//! The subcommands, one module each, and the error every one of them can return.
//!
//! A command reads its arguments, calls the library crates and prints what
//! the operator asked for; every rule it relies on (roles, limits, the audit
//! chain) is decided by those crates, not here.

pub mod account;
pub mod audit;
pub mod audit_bundle;
pub mod baseline;
pub mod client;
pub mod demo;
pub mod init;
pub mod killswitch;
pub mod limits;
pub mod load;
pub mod secrets;
pub mod serve;
pub mod user;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::context::{Context, ContextError};

/// Why a command failed; shown as `error: <message>` with exit status 1.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Configuration or data directory.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// `rampart client`.
    #[error(transparent)]
    Client(#[from] client::ClientError),
    /// `rampart account`.
    #[error(transparent)]
    Account(#[from] account::AccountError),
    /// `rampart killswitch`.
    #[error(transparent)]
    KillSwitch(#[from] killswitch::KillSwitchError),
    /// `rampart limits`.
    #[error(transparent)]
    Limits(#[from] limits::LimitsCommandError),
    /// `rampart audit`.
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    /// `rampart serve` and `rampart init`.
    #[error(transparent)]
    Serve(#[from] serve::ServeError),
    /// `rampart demo`.
    #[error(transparent)]
    Demo(#[from] demo::DemoError),
    /// `rampart load`.
    #[error(transparent)]
    Load(#[from] load::LoadError),
    /// `rampart user`.
    #[error(transparent)]
    User(#[from] rampart_server::service::users::UserError),
    /// `rampart user` arguments.
    #[error(transparent)]
    UserArgs(#[from] user::UserArgError),
    /// `rampart secrets`.
    #[error(transparent)]
    Secrets(#[from] secrets::SecretsError),
}

/// Runs the parsed command line; the exit code says whether it succeeded.
pub async fn run(cli: Cli) -> Result<ExitCode, Error> {
    let context = Context::load(cli.config.as_deref())?;
    match &cli.command {
        Command::Serve => serve::run(context).await?,
        Command::Init => init::run(&context).await?,
        Command::Client(command) => client::run(&context, command).await?,
        Command::Account(command) => account::run(&context, command).await?,
        Command::Limits(command) => limits::run(&context, command).await?,
        Command::User(command) => user::run(&context, command).await?,
        Command::KillSwitch(command) => killswitch::run(&context, command).await?,
        Command::Audit(command) => return audit::run(&context, command).await,
        Command::Secrets(command) => secrets::run(&context, command).await?,
        Command::Demo(args) => return demo::run(&context, args).await,
        Command::Load(args) => load::run(&context, args).await?,
    }
    Ok(ExitCode::SUCCESS)
}
