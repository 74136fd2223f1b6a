//! `rampart user`: create, list, disable people and reset their second factor.
//!
//! The same rules as `/v1/users`, through `rampart_server::service::users`:
//! segregation-of-duties conflicts are refused, the e-mail address is one bare
//! address (in `allowed_domains` when tokens are mailed), and privileged roles
//! become a `role.grant` approval for an administrator to decide. The
//! single-use set-up token is never printed: it goes to the person through the
//! configured `[auth.setup_delivery]`, exactly as the gateway delivers it, and
//! only the method and expiry are shown, so that the operator never learns the
//! person's password. While privileged roles wait, no token exists: approving
//! the grant issues and delivers it. Listing shows no personal data.

use chrono::{Duration, Utc};
use comfy_table::Table;
use rampart_core::{AccountId, Role};
use rampart_server::request_id;
use rampart_server::secrets::GatewaySecrets;
use rampart_server::secrets::audit::as_actor;
use rampart_server::service::setup_delivery::SetupDelivery;
use rampart_server::service::setup_handover::{Handed, Handover, HandoverError};
use rampart_server::service::users::{self, CreatedUser, NewUser, UserError};
use rampart_store::{Store, UserProfile};
use serde_json::Value;

use crate::cli::{UserAddArgs, UserCommand};
use crate::commands::secrets::SecretsError;
use crate::context::{self, Context, ContextError, OPERATOR};

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
    let store = context.open_store().await?;
    let delivery = SetupDelivery::new(context.config()).map_err(ContextError::from)?;
    let secrets = GatewaySecrets::open(context.config(), &store)
        .await
        .map_err(SecretsError::from)?;
    let outcome = as_actor(OPERATOR, create(context, args, &store, &delivery, &secrets)).await;
    secrets.close().await;
    store.close().await;
    outcome
}

/// Creates the person, then hands their set-up token over, if one was issued.
async fn create(
    context: &Context,
    args: &UserAddArgs,
    store: &Store,
    delivery: &SetupDelivery,
    secrets: &GatewaySecrets,
) -> Result<(), crate::commands::Error> {
    let roles = parse(&args.roles, "roles")?;
    let accounts: Vec<AccountId> = parse(&args.accounts, "accounts")?;
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
    let rule = delivery.address_rule();
    let created = users::create_within(store, OPERATOR, request, Utc::now(), ttl, rule).await?;
    println!("user_id:            {}", created.user.id);
    if let Some(approval) = &created.approval {
        println!(
            "pending_approval:   {} (privileged roles wait for an administrator)",
            approval.id
        );
    }
    let handover = Handover {
        store,
        delivery,
        secrets,
    };
    hand_over(&handover, created).await
}

/// Delivers the new person's set-up token and prints how, never the token itself.
async fn hand_over(
    handover: &Handover<'_>,
    created: CreatedUser,
) -> Result<(), crate::commands::Error> {
    let CreatedUser {
        user,
        setup,
        address,
        ..
    } = created;
    let Some(setup) = setup else {
        println!("setup_delivery:     none yet (issued and delivered once the grant is approved)");
        return Ok(());
    };
    let email = address.as_ref().map(AsRef::as_ref);
    let handed = handover
        .hand_over(OPERATOR, &user, email, setup, Utc::now())
        .await;
    let recorded = handed.map_err(|error| match error {
        HandoverError::Store(error) => UserError::Store(error),
        HandoverError::Setup(error) => UserError::Setup(error),
    });
    match recorded? {
        Handed::Delivered(answer) => {
            println!("setup_delivery:     {}", text(&answer, "delivery"));
            println!("setup_expires_at:   {}", text(&answer, "expires_at"));
            eprintln!(
                "The set-up token went to the person only: with it they choose their own \
                 password at POST /v1/auth/setup; it works once and expires."
            );
            Ok(())
        }
        Handed::Undelivered(answer) => Err(UserArgError::Undelivered {
            user_id: user.id,
            reason: text(&answer, "reason").to_owned(),
        }
        .into()),
    }
}

fn text<'a>(answer: &'a Value, key: &str) -> &'a str {
    answer.get(key).and_then(Value::as_str).unwrap_or_default()
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

/// The subject id of the user `name` names: a subject id, or else a username.
async fn subject_of(store: &Store, name: &str) -> Result<String, UserError> {
    let user = match store.user(name).await? {
        Some(user) => Some(user),
        None => store.user_named(name).await?,
    };
    user.map(|user| user.id).ok_or(UserError::UnknownUser)
}

async fn disable(context: &Context, name: &str) -> Result<(), crate::commands::Error> {
    let store = context.open_store().await?;
    let id = &subject_of(&store, name).await?;
    let revoked = users::disable(&store, OPERATOR, id, Utc::now()).await?;
    println!("user `{id}` disabled; {} session(s) revoked", revoked.len());
    Ok(())
}

async fn reset_mfa(context: &Context, name: &str) -> Result<(), crate::commands::Error> {
    let store = context.open_store().await?;
    let id = &subject_of(&store, name).await?;
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
        .map(|v| v.trim().parse().map_err(|_| UserArgError::Invalid(field)))
        .collect()
}

/// Why `rampart user` refused its arguments or could not finish.
#[derive(Debug, thiserror::Error)]
pub enum UserArgError {
    /// A role or account name on the command line is not valid.
    #[error("`{0}` holds a value that is not valid")]
    Invalid(&'static str),
    /// The person was created, but their set-up token could not be delivered.
    #[error(
        "user `{user_id}` was created, but the set-up token could not be delivered \
         ({reason}); it was withdrawn: ask for a new one once delivery works"
    )]
    Undelivered {
        /// The person created.
        user_id: String,
        /// Why the delivery failed.
        reason: String,
    },
}
