//! The `rampart` command line: a thin shell over the Rampart crates.
//!
//! Parsing, logging and exit codes live here; each subcommand is a module
//! under `commands`. Nothing secret is logged: the only secrets this binary
//! ever prints are the ones it was asked to create (a client secret, the
//! bootstrap password), once, on purpose.

mod api;
mod banner;
mod cli;
mod commands;
mod context;
mod limits;
mod logging;
mod sandbox;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format, default_filter(&cli.command));

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The gateway logs at `info`; the demo tells its own story and only warns;
/// other commands warn, besides their own progress.
fn default_filter(command: &Command) -> &'static str {
    match command {
        Command::Serve => "info",
        Command::Demo(_) => "warn",
        _ => "warn,rampart::commands=info",
    }
}
