//! `rampart killswitch`: list engagements and release them, with a reason.
//!
//! Release here is the operator's break-glass path on the store, beside the
//! two-person release of the HTTP API: it needs access to the data directory,
//! and each engagement is marked released with a `killswitch.released` audit
//! event, actor `operator`, `break_glass: true`, in the same transaction. The
//! demo releases through this same function.

use chrono::Utc;
use comfy_table::Table;
use rampart_audit::{NewEvent, Outcome, action};
use rampart_core::KillSwitchScope;
use rampart_store::{KillSwitchRecord, Store};
use rampart_trading::killswitch::{MAX_REASON_LEN, check_reason, is_hidden_char};
use serde_json::json;
use uuid::Uuid;

use crate::cli::{KillSwitchCommand, ReleaseArgs};
use crate::context::{Context, OPERATOR, request_id};

/// Why a kill-switch command failed.
#[derive(Debug, thiserror::Error)]
pub enum KillSwitchError {
    /// The engagement id is not a UUID.
    #[error("`id` must be an engagement id (a UUID)")]
    Id,
    /// The reason is empty, too long or holds control or format characters.
    #[error("`reason` must be 1 to {MAX_REASON_LEN} printable characters")]
    Reason,
    /// No active engagement has that id.
    #[error("no active kill-switch engagement `{0}`")]
    NotActive(Uuid),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] rampart_store::StoreError),
}

/// Which engagements to release.
#[derive(Debug, Clone, Copy)]
pub enum Selection {
    /// One engagement.
    One(Uuid),
    /// Every active engagement.
    All,
}

/// Runs `rampart killswitch ...`.
pub async fn run(
    context: &Context,
    command: &KillSwitchCommand,
) -> Result<(), crate::commands::Error> {
    let store = context.open_store().await?;
    match command {
        KillSwitchCommand::List => print_active(&store).await?,
        KillSwitchCommand::Release(args) => {
            let selection = selection(args)?;
            let released = release(&store, selection, &args.reason).await?;
            if released.is_empty() {
                println!("no kill-switch engagement is active");
            }
            for record in released {
                println!(
                    "released kill-switch engagement {} ({})",
                    record.id,
                    scope_text(&record.scope)
                );
            }
        }
    }
    Ok(())
}

fn selection(args: &ReleaseArgs) -> Result<Selection, KillSwitchError> {
    match (&args.id, args.all) {
        (_, true) => Ok(Selection::All),
        (Some(id), false) => Uuid::try_parse(id.trim())
            .map(Selection::One)
            .map_err(|_| KillSwitchError::Id),
        (None, false) => Err(KillSwitchError::Id),
    }
}

/// Releases the selected active engagements; returns those released.
pub async fn release(
    store: &Store,
    selection: Selection,
    reason: &str,
) -> Result<Vec<KillSwitchRecord>, KillSwitchError> {
    let reason = reason.trim();
    check_reason(reason).map_err(|_| KillSwitchError::Reason)?;
    let active = store.kill_switches(true).await?;
    let chosen: Vec<KillSwitchRecord> = match selection {
        Selection::All => active,
        Selection::One(id) => {
            let found = active.into_iter().find(|r| r.id == id);
            vec![found.ok_or(KillSwitchError::NotActive(id))?]
        }
    };
    if chosen.is_empty() {
        return Ok(chosen);
    }

    let request_id = request_id();
    let now = Utc::now();
    let mut tx = store.begin().await?;
    for record in &chosen {
        tx.release_kill_switch(record.id, OPERATOR, now).await?;
        tx.append(released_event(record, reason, &request_id))
            .await?;
    }
    tx.commit().await?;
    tracing::info!(
        count = chosen.len(),
        action = action::KILLSWITCH_RELEASED,
        "kill switch released"
    );
    Ok(chosen)
}

fn released_event(record: &KillSwitchRecord, reason: &str, request_id: &str) -> NewEvent {
    let target = record.id.to_string();
    NewEvent::new(
        OPERATOR,
        action::KILLSWITCH_RELEASED,
        target,
        Outcome::Success,
        request_id,
    )
    .details(json!({
        "engagement_id": record.id,
        "scope": scope_text(&record.scope),
        "engaged_by": record.engaged_by,
        "reason": reason,
        "break_glass": true,
        "old": { "engaged": true },
        "new": { "engaged": false },
    }))
}

async fn print_active(store: &Store) -> Result<(), KillSwitchError> {
    let active = store.kill_switches(true).await?;
    if active.is_empty() {
        println!("no kill-switch engagement is active");
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["id", "scope", "reason", "engaged by", "engaged at"]);
    for record in active {
        table.add_row([
            record.id.to_string(),
            scope_text(&record.scope),
            shown(&record.reason),
            record.engaged_by.clone(),
            record
                .engaged_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        ]);
    }
    println!("{table}");
    Ok(())
}

/// The reason as it is safe to print: control and format characters, which
/// could reorder or hide what the operator reads, are shown as `\u{...}`.
fn shown(reason: &str) -> String {
    reason
        .chars()
        .map(|c| {
            if is_hidden_char(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn scope_text(scope: &KillSwitchScope) -> String {
    match scope.target() {
        None => scope.kind().to_owned(),
        Some(target) => format!("{} {target}", scope.kind()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_reason_with_bidi_controls_is_listed_with_them_escaped() {
        let listed = shown("halt \u{202E}1-ksir\u{202C} now");
        assert_eq!(listed, "halt \\u{202e}1-ksir\\u{202c} now");
        assert!(!listed.chars().any(is_hidden_char));
    }
}
