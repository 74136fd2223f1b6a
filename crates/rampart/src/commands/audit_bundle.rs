//! `rampart audit export`, `verify-bundle` and `checkpoint`: the log taken outside.
//!
//! An export writes events `from..=to` with the checkpoints that prove them (the
//! smallest covering `to`, and the one at or before `from - 1`), the leaf hashes of
//! the checkpointed tree and the public key, as `rampart_audit::bundle` lays out.
//! `verify-bundle` checks one offline, with no database: it reads only the bundle
//! (and a trusted key, when given) and names the file or event at fault.

use std::process::ExitCode;

use rampart_audit::{AuditEvent, BundleReport, SignedCheckpoint, verify_bundle_with_key};
use rampart_server::audit_tasks;
use rampart_server::init::{CHECKPOINT_VERIFIER_FILE, ensure_checkpoint_key};
use rampart_store::{Checkpointer, Store};

use crate::cli::{AuditExportArgs, AuditVerifyBundleArgs};
use crate::commands::audit::{AuditError, Progress, hex_of, read_verifier};
use crate::context::Context;

/// How many events are read at a time.
const PAGE: u32 = 1000;

/// Writes the bundle of `--from..=--to` into `--out`.
pub async fn export(
    context: &Context,
    args: &AuditExportArgs,
) -> Result<ExitCode, crate::commands::Error> {
    if args.from > args.to {
        return Err(bundle_error("`--from` must not be after `--to`"));
    }
    let data_dir = &context.config().server.data_dir;
    let store = context.open_store().await?;
    let verifier = read_verifier(&data_dir.join(CHECKPOINT_VERIFIER_FILE))?;
    let checkpoints = proving_checkpoints(&store, args.from, args.to).await?;
    let tree_size = checkpoints.last().map_or(0, |c| c.checkpoint.tree_size);
    let leaves = store
        .audit_leaf_hashes(0..tree_size)
        .await
        .map_err(store_error)?;
    let events = events_between(&store, args.from, args.to).await?;

    let owned = OwnedBundle {
        checkpoints,
        leaves,
        verifier,
    };
    let out = args.out.clone();
    let written = tokio::task::spawn_blocking(move || bundle_write(&owned, &out, events))
        .await
        .map_err(|e| bundle_error(&e.to_string()))?;
    let (from, to) = written?;
    println!(
        "audit bundle written to {}: events {from} to {to}, proven by the checkpoint of tree \
         size {tree_size}",
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Verifies the bundle in `DIR` offline.
pub async fn verify(args: &AuditVerifyBundleArgs) -> Result<ExitCode, crate::commands::Error> {
    let trusted = args.key.as_deref().map(read_verifier).transpose()?;
    let dir = args.dir.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut progress = Progress::new("verifying bundle");
        let result = match &trusted {
            Some(key) => verify_bundle_with_key(&dir, key, |d, t| progress.update(d, t)),
            None => rampart_audit::verify_bundle(&dir, |d, t| progress.update(d, t)),
        };
        progress.finish();
        result
    })
    .await
    .map_err(|e| bundle_error(&e.to_string()))?;
    match result {
        Ok(report) => {
            println!("{}", report_line(&report, args.key.is_some()));
            Ok(ExitCode::SUCCESS)
        }
        Err(fault) => {
            println!("audit bundle verification FAILED: {fault}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Signs a checkpoint of every event not yet covered.
pub async fn checkpoint(context: &Context) -> Result<ExitCode, crate::commands::Error> {
    let config = context.config();
    let data_dir = &config.server.data_dir;
    let store = context.open_store().await?;
    let key = ensure_checkpoint_key(config, &store)
        .await
        .map_err(|e| bundle_error(&e.to_string()))?;
    let policy = audit_tasks::policy(config, data_dir);
    let made = async {
        let checkpointer = Checkpointer::new(store.clone(), key.signer.clone(), policy).await?;
        checkpointer.checkpoint_now().await
    };
    let made = made.await;
    // The key's audited reads follow the checkpoint they signed.
    key.record_reads().await;
    let made = made.map_err(|e| bundle_error(&e.to_string()))?;
    store.close().await;
    match made {
        Some(signed) => println!(
            "audit checkpoint signed: tree size {}, root {}",
            signed.checkpoint.tree_size,
            hex_of(&signed.checkpoint.root_hash)
        ),
        None => println!("audit checkpoint not needed: the latest one covers every event"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The smallest checkpoint covering `to`, after the one at or before `from - 1` if any.
async fn proving_checkpoints(
    store: &Store,
    from: u64,
    to: u64,
) -> Result<Vec<SignedCheckpoint>, AuditError> {
    let all = store.checkpoints().await.map_err(store_error)?;
    let covering = all
        .iter()
        .find(|c| c.checkpoint.tree_size >= to)
        .cloned()
        .ok_or_else(|| {
            bundle_error_of(&format!(
                "no checkpoint covers event {to} yet; run `rampart audit checkpoint` first"
            ))
        })?;
    let before = all
        .iter()
        .rev()
        .find(|c| c.checkpoint.tree_size < from && c.checkpoint.tree_size > 0)
        .cloned();
    Ok(before.into_iter().chain([covering]).collect())
}

async fn events_between(store: &Store, from: u64, to: u64) -> Result<Vec<AuditEvent>, AuditError> {
    let mut events = Vec::new();
    let mut after = from - 1;
    while after < to {
        let page = store.audit_events(after, PAGE).await.map_err(store_error)?;
        let Some(last) = page.last().map(|s| s.event.seq) else {
            break;
        };
        events.extend(page.into_iter().map(|s| s.event).filter(|e| e.seq <= to));
        after = last;
    }
    Ok(events)
}

/// What the bundle writer needs, owned, so that writing runs off the runtime.
struct OwnedBundle {
    checkpoints: Vec<SignedCheckpoint>,
    leaves: Vec<[u8; 32]>,
    verifier: rampart_audit::CheckpointVerifier,
}

fn bundle_write(
    owned: &OwnedBundle,
    out: &std::path::Path,
    events: Vec<AuditEvent>,
) -> Result<(u64, u64), AuditError> {
    let bundle = rampart_audit::Bundle {
        checkpoints: &owned.checkpoints,
        leaves: &owned.leaves,
        verifier: &owned.verifier,
    };
    bundle
        .write(out, events)
        .map_err(|e| bundle_error_of(&e.to_string()))
}

fn report_line(report: &BundleReport, trusted: bool) -> String {
    let key = if trusted {
        "the trusted key".to_owned()
    } else {
        format!(
            "the bundle's own key {} (compare it with one obtained elsewhere)",
            report.verifier_key
        )
    };
    format!(
        "audit bundle verified: events {} to {}, {} checkpoints up to tree size {}, root {}, \
         signed by {key}",
        report.from,
        report.to,
        report.checkpoints,
        report.tree_size,
        hex_of(&report.latest.root_hash)
    )
}

fn store_error(error: rampart_store::StoreError) -> AuditError {
    AuditError::Store(error.to_string())
}

fn bundle_error_of(message: &str) -> AuditError {
    AuditError::Bundle(message.to_owned())
}

fn bundle_error(message: &str) -> crate::commands::Error {
    bundle_error_of(message).into()
}
