//! `rampart serve`: run the gateway until SIGINT or SIGTERM.
//!
//! The data directory is prepared first, so that on the very first start the
//! bootstrap administrator's one-time password is shown once, in a box,
//! before the listener comes up; later starts show only where the CA file is.

use rampart_server::init::{BOOTSTRAP_ADMIN, DataDir};

use crate::banner::{FirstStart, print_first_start, print_reach};
use crate::context::Context;

/// Why the gateway stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The gateway failed to start or stopped on an error.
    #[error("gateway: {0}")]
    Gateway(String),
}

/// Runs `rampart serve`.
pub async fn run(context: Context) -> Result<(), crate::commands::Error> {
    let data_dir = context.ensure_data_dir().await?;
    announce(&context, &data_dir);
    // The gateway opens the database itself; one writer at a time keeps it simple.
    data_dir.store.close().await;
    drop(data_dir);
    rampart_server::run_until_signal(context.config().clone())
        .await
        .map_err(|error| ServeError::Gateway(error.to_string()))?;
    Ok(())
}

/// Shows the one-time password when the data directory was just created, else where the CA is.
pub fn announce(context: &Context, data_dir: &DataDir) {
    let url = context.config().public_url();
    let ca_file = data_dir.tls.dev_ca_file.as_deref();
    match &data_dir.bootstrap_password {
        Some(password) => print_first_start(&FirstStart {
            username: BOOTSTRAP_ADMIN,
            password,
            ca_file,
            url: &url,
        }),
        None => print_reach(ca_file, &url),
    }
}
