//! What a start announces: the development-mode warning and the `gateway.started` event.
//!
//! Rule upheld: a development stand-in (a locally generated CA, a master key next to the
//! store) is never silent, and the start's policy version, signing key and checkpoint key
//! are in the audit log.

use std::net::SocketAddr;

use rampart_audit::{Outcome, action};
use serde_json::json;

use super::StartError;
use crate::config::Config;
use crate::init::{DataDir, SYSTEM_ACTOR};
use crate::request_id;
use crate::service::audit;
use crate::state::AppState;

/// Warns, once per start, about each development stand-in: the locally generated
/// CA, and the secret store's master key kept in a file next to the store.
pub(super) fn warn_if_development(data: &DataDir) {
    let ca = data
        .tls
        .dev_ca_file
        .as_ref()
        .map(|ca| ca.display().to_string());
    let master_key = data
        .secrets
        .dev_master_key()
        .map(|key| key.display().to_string());
    if ca.is_none() && master_key.is_none() {
        return;
    }
    let mut remedies = Vec::new();
    if ca.is_some() {
        remedies.push(
            "serving a certificate signed by a locally generated CA; configure \
             `tls.cert_file` and `tls.key_file`",
        );
    }
    if master_key.is_some() {
        remedies.push(
            "the secret store's master key is a file next to the store; set \
             `secrets.file.master_key` to a reference kept elsewhere, or use the \
             `vault`, `aws` or `gcp` secrets backend",
        );
    }
    tracing::warn!(
        ca = ca.as_deref().unwrap_or("-"),
        master_key = master_key.as_deref().unwrap_or("-"),
        "DEVELOPMENT MODE: {}; not for production",
        remedies.join("; and ")
    );
}

/// Records `gateway.started` with what this start is made of.
pub(super) async fn record_started(
    state: &AppState,
    config: &Config,
    addr: SocketAddr,
    issuer_url: &str,
    data: &DataDir,
    recovered: usize,
) -> Result<(), StartError> {
    crate::service::unowned_clients::report(state).await?;
    let details = json!({
        "addr": addr.to_string(),
        "issuer": issuer_url,
        "policy_version": state.authorizer.version(),
        "signing_key": state.issuer.current_kid(chrono::Utc::now().timestamp()),
        "secret_backend": state.secrets.secrets.backend(),
        "development_ca": data.tls.dev_ca_file.is_some(),
        "recovered_open_orders": recovered,
        "checkpoint_key": data.checkpoint_signer.verifier_key(),
        "audit_retention_years": config.audit.retention_years,
    });
    let event = request_id::scope(request_id::generate(), async {
        audit::event(
            SYSTEM_ACTOR,
            action::GATEWAY_STARTED,
            "gateway",
            Outcome::Success,
        )
        .policy(state.authorizer.version())
        .details(details)
    })
    .await;
    audit::append(&state.store, event).await?;
    tracing::info!(%addr, "gateway started");
    Ok(())
}
