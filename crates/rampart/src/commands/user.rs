//! `rampart user`: create, list, disable people and reset their second factor.
//!
//! The same rules as `/v1/users`, through `rampart_server::service::users`:
//! segregation-of-duties conflicts are refused, privileged roles become a
//! `role.grant` approval for an administrator to decide, and a single-use
//! set-up token is printed once (stored only as its hash), so that the operator
//! never learns the person's password. Listing shows no personal data.

use chrono::{Duration, Utc};
use comfy_table::Table;
use rampart_core::{AccountId, Role};
use rampart_server::request_id;
use rampart_server::service::users::{self, NewUser, UserError};
use rampart_store::UserProfile;
use secrecy::ExposeSecret;

use crate::cli::{UserAddArgs, UserCommand};
use crate::context::{self, Context, OPERATOR};

/// Runs `rampart user ...`.
pub async fn run(context: &Context, command: &UserCommand) -> Result<(), crate::commands::Error> {
    let scope = request_id::scope(context::request_id(), async {
        match command {
            UserCommand::Add(args) => add(context, args).await,
            UserCommand::List => list(context).await,
            UserCommand::Disable { id } => disable(context, id).await,
            UserCommand::ResetMfa { id } => reset_mfa(context, id).await,
        }
    });
    scope.await
}

async fn add(context: &Context, args: &UserAddArgs) -> Result<(), crate::commands::Error> {
    let roles = parse(&args.roles, "roles")?;
    let accounts: Vec<AccountId> = parse(&args.accounts, "accounts")?;
    let store = context.open_store().await?;
    let request = NewUser {
        username: args.username.clone(),
        roles,
        accounts,
        profile: UserProfile {
            display_name: args.display_name.clone(),
            email: args.email.clone(),
        },
    };
    let ttl_seconds = context.config().auth.approvals.ttl_seconds;
    let ttl = Duration::seconds(rampart_server::clock::signed(ttl_seconds));
    let created = users::create(&store, OPERATOR, request, Utc::now(), ttl).await?;
    println!("user_id:            {}", created.user.id);
    println!(
        "setup_token:        {}",
        created.setup.token.expose_secret()
    );
    println!(
        "setup_expires_at:   {}",
        rampart_audit::time::format(&created.setup.expires_at)
    );
    if let Some(approval) = &created.approval {
        println!(
            "pending_approval:   {} (privileged roles wait for an administrator)",
            approval.id
        );
    }
    eprintln!(
        "Hand the set-up token to the person, once: with it they choose their own password \
         at POST /v1/auth/setup; it works once and expires."
    );
    Ok(())
}

async fn list(context: &Context) -> Result<(), crate::commands::Error> {
    let store = context.open_store().await?;
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["id", "username", "roles", "accounts", "mfa", "disabled"]);
    for user in store.users().await.map_err(UserError::from)? {
        let roles: Vec<&str> = user.roles.iter().map(Role::as_str).collect();
        let accounts: Vec<&str> = user.accounts.iter().map(AccountId::as_str).collect();
        table.add_row([
            user.id.as_str(),
            user.username.as_str(),
            &roles.join(","),
            &accounts.join(","),
            if user.has_mfa() { "yes" } else { "no" },
            if user.disabled { "yes" } else { "no" },
        ]);
    }
    println!("{table}");
    Ok(())
}

async fn disable(context: &Context, id: &str) -> Result<(), crate::commands::Error> {
    let store = context.open_store().await?;
    let revoked = users::disable(&store, OPERATOR, id, Utc::now()).await?;
    println!("user `{id}` disabled; {} session(s) revoked", revoked.len());
    Ok(())
}

async fn reset_mfa(context: &Context, id: &str) -> Result<(), crate::commands::Error> {
    let store = context.open_store().await?;
    let revoked = users::reset_mfa(&store, OPERATOR, id, Utc::now()).await?;
    println!(
        "second factor of `{id}` removed; {} session(s) revoked",
        revoked.len()
    );
    Ok(())
}

fn parse<T: std::str::FromStr>(
    values: &[String],
    field: &'static str,
) -> Result<Vec<T>, UserArgError> {
    values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.trim().parse().map_err(|_| UserArgError(field)))
        .collect()
}

/// A role or account name on the command line is not valid.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` holds a value that is not valid")]
pub struct UserArgError(&'static str);
