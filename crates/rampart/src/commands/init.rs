//! `rampart init`: create the data directory without serving.
//!
//! Creates the database, the development CA and server certificate, the secret
//! store with the token-signing key and the bootstrap administrator, with
//! owner-only permissions, and shows the one-time password exactly as `serve`
//! would. Running it again changes nothing and shows no password.

use crate::commands::serve::announce;
use crate::context::Context;

/// Runs `rampart init`.
pub async fn run(context: &Context) -> Result<(), crate::commands::Error> {
    let data_dir = context.ensure_data_dir().await?;
    announce(context, &data_dir);
    println!(
        "data directory ready: {}",
        context.config().server.data_dir.display()
    );
    data_dir.close().await;
    Ok(())
}
