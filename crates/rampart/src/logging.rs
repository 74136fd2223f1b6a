//! Log output: human lines on a terminal, JSON lines otherwise.
//!
//! Logs go to standard error so that standard output carries only what a
//! command prints on purpose (ids, tables, the one-time secret). `RUST_LOG`
//! overrides the default filter.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Installs the global subscriber; `default_filter` applies when `RUST_LOG` is unset.
pub fn init(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);

    // A second installation can only happen in-process (never from the binary):
    // it is harmless, so its error is ignored.
    let _ = if json_wanted(format) {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder.with_target(false).try_init()
    };
}

/// Whether standard error is a terminal (for progress bars and log format).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

fn json_wanted(format: LogFormat) -> bool {
    match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !stderr_is_terminal(),
    }
}
