//! `rampart secrets`: list the gateway's secrets (metadata only) and rotate one.
//!
//! The command works on the configured secret store directly, as the operator;
//! every read and the rotation's outcome are audit events, as from the API. A
//! running gateway publishes a signing key rotated here at its next rotation
//! check (`secrets.check_interval_seconds`), before the key starts signing
//! (`secrets.publish_delay_seconds`); keep the check interval shorter than the
//! delay. A broker credential rotates through the running gateway only
//! (`POST /v1/secrets/{name}/rotate`), since the broker must take it first.

use chrono::{DateTime, Utc};
use comfy_table::Table;
use rampart_secrets::SecretMeta;
use rampart_server::secrets::GatewaySecrets;
use rampart_server::secrets::audit::as_actor;
use rampart_server::secrets::rotation::{self, RotateError, Rotation};

use crate::cli::SecretsCommand;
use crate::context::{Context, OPERATOR};

/// Why a secrets command failed.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The secret store could not be opened.
    #[error("{0}")]
    Open(#[from] rampart_server::secrets::SecretsOpenError),
    /// The store failed while listing.
    #[error("{0}")]
    Store(#[from] rampart_secrets::SecretError),
    /// The rotation was refused or failed; the current version stays in use.
    #[error("{0}")]
    Rotate(#[from] RotateError),
}

/// Runs `rampart secrets ...`.
pub async fn run(
    context: &Context,
    command: &SecretsCommand,
) -> Result<(), crate::commands::Error> {
    let store = context.open_store().await?;
    let secrets = GatewaySecrets::open(context.config(), &store)
        .await
        .map_err(SecretsError::from)?;
    let outcome = as_actor(OPERATOR, execute(context, &secrets, command)).await;
    secrets.close().await;
    store.close().await;
    Ok(outcome?)
}

async fn execute(
    context: &Context,
    secrets: &GatewaySecrets,
    command: &SecretsCommand,
) -> Result<(), SecretsError> {
    let config = context.config();
    match command {
        SecretsCommand::List => {
            let managed = rotation::managed(config, false);
            print_metadata(&rotation::list(secrets, &managed).await?);
        }
        SecretsCommand::Rotate { name } => {
            let rotation = Rotation {
                secrets,
                keyring: None,
                broker: None,
                timing: rotation::timing(config),
            };
            let meta = rotation.rotate(name, Utc::now()).await?;
            println!(
                "rotated `{}`: version {} is current, the previous version is kept",
                meta.name, meta.version
            );
        }
    }
    Ok(())
}

fn print_metadata(listed: &[SecretMeta]) {
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header([
        "name",
        "version",
        "backend",
        "created",
        "rotated",
        "next rotation",
    ]);
    for meta in listed {
        table.add_row([
            meta.name.clone(),
            meta.version.to_string(),
            meta.backend.to_owned(),
            time(Some(meta.created_at)),
            time(meta.rotated_at),
            time(meta.next_rotation),
        ]);
    }
    println!("{table}");
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}
