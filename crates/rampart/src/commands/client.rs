//! `rampart client`: register, list and disable API clients.
//!
//! A client's secret is generated here, printed once and stored only as its
//! argon2id hash; the record and its `client.created` audit event are written
//! in one transaction. Listing never shows a secret or a hash. Roles go
//! through `RoleSet`, so segregation-of-duties conflicts are refused.
//!
//! A client holding a privileged role (`admin`, `risk_manager`,
//! `compliance_officer`) must name its owner: an enabled person whose roles,
//! united with the client's, still respect segregation of duties. Whoever
//! holds the client's secret then acts as that person's side in every
//! four-eyes check, and no privileged client is answerable to no one.

use comfy_table::Table;
use rampart_audit::{NewEvent, Outcome, action};
use rampart_auth::secret::{generate_client_secret, hash_secret};
use rampart_core::{AccountId, Role, RoleSet};
use rampart_store::{ClientRecord, Store, WriteTx};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::cli::{ClientAddArgs, ClientCommand};
use crate::context::{Context, OPERATOR, request_id};

/// Why a client command failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A role name is unknown.
    #[error("{0}")]
    Role(rampart_core::FieldError),
    /// The roles break segregation of duties.
    #[error("segregation of duties: {0}")]
    Conflict(#[from] rampart_core::SodConflict),
    /// An account id is malformed.
    #[error("{0}")]
    Account(rampart_core::FieldError),
    /// A named account does not exist.
    #[error("account `{0}` does not exist; create it with `rampart account add`")]
    UnknownAccount(AccountId),
    /// The client name is empty or too long.
    #[error("`name` must be 1 to 100 printable characters")]
    Name,
    /// The client does not exist.
    #[error("client `{0}` does not exist")]
    UnknownClient(String),
    /// The secret could not be hashed.
    #[error("{0}")]
    Secret(#[from] rampart_auth::secret::SecretError),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] rampart_store::StoreError),
    /// The JWK file cannot be read or is not a public signature key.
    #[error("`--jwk` {0}")]
    Jwk(String),
    /// The owner named is no enabled user.
    #[error("`--owner` `{0}` is no enabled user; create the person with `rampart user add`")]
    UnknownOwner(String),
    /// A privileged client was registered without an owner.
    #[error("a client with role `{0}` needs `--owner`, the person answerable for it")]
    OwnerRequired(Role),
    /// The owner's roles and the client's may not be held by one person.
    #[error("segregation of duties between `--owner` and the client: {0}")]
    OwnerConflict(rampart_core::SodConflict),
}

/// The roles a client may hold only with an owner: they govern, approve or administer.
pub const PRIVILEGED: [Role; 3] = [Role::Admin, Role::RiskManager, Role::ComplianceOfficer];

/// A client just registered: its id and the secret, which exists nowhere else.
pub struct NewClient {
    /// The client id.
    pub id: String,
    /// The client secret, in clear, to hand to its owner once.
    pub secret: SecretString,
}

/// Runs `rampart client ...`.
pub async fn run(context: &Context, command: &ClientCommand) -> Result<(), crate::commands::Error> {
    match command {
        ClientCommand::Add(args) => add_command(context, args).await?,
        ClientCommand::List => list(&context.open_store().await?).await?,
        ClientCommand::Disable { id } => disable(&context.open_store().await?, id).await?,
    }
    Ok(())
}

async fn add_command(
    context: &Context,
    args: &ClientAddArgs,
) -> Result<(), crate::commands::Error> {
    // Refuse bad roles and accounts before touching the data directory.
    let roles = parse_roles(&args.roles)?;
    let accounts = parse_accounts(&args.accounts)?;
    let jwk = args.jwk.as_deref().map(read_jwk).transpose()?;
    let store = context.open_store().await?;
    let owner = match &args.owner {
        Some(name) => Some(resolve_owner(&store, name).await?),
        None => None,
    };
    if owner.is_none() && roles.contains(Role::Trader) {
        eprintln!(
            "warning: a trading client without `--owner` is answerable to no one; \
             four-eyes checks cannot tie it to a person"
        );
    }
    let wanted = Wanted { roles, accounts };
    let client = add_owned(&store, &args.name, wanted, jwk.as_ref(), owner.as_deref()).await?;
    println!("client_id:     {}", client.id);
    if let Some(owner) = &owner {
        println!("owner:         {owner}");
    }
    if jwk.is_some() {
        eprintln!("The client authenticates with `private_key_jwt` using its registered key.");
        return Ok(());
    }
    println!("client_secret: {}", client.secret.expose_secret());
    eprintln!("The secret is shown only this once; Rampart keeps only its hash.");
    Ok(())
}

/// Parses role names into a set that respects segregation of duties.
pub fn parse_roles(names: &[String]) -> Result<RoleSet, ClientError> {
    let roles: Result<Vec<Role>, _> = names.iter().map(|n| n.trim().parse()).collect();
    Ok(RoleSet::new(roles.map_err(ClientError::Role)?)?)
}

fn parse_accounts(ids: &[String]) -> Result<Vec<AccountId>, ClientError> {
    ids.iter()
        .filter(|id| !id.trim().is_empty())
        .map(|id| id.trim().parse().map_err(ClientError::Account))
        .collect()
}

/// Reads a client's public JWK from `path`, refusing private key material.
fn read_jwk(path: &std::path::Path) -> Result<serde_json::Value, ClientError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ClientError::Jwk(format!("cannot be read: {e}")))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| ClientError::Jwk("is not JSON".to_owned()))?;
    rampart_auth::assertion::parse_client_jwk(&value)
        .map_err(|e| ClientError::Jwk(e.to_string()))?;
    Ok(value)
}

/// Registers a client: generates its secret, stores the hash and the audit event together.
pub async fn add(
    store: &Store,
    name: &str,
    roles: RoleSet,
    accounts: Vec<AccountId>,
) -> Result<NewClient, ClientError> {
    add_with_key(store, name, roles, accounts, None).await
}

/// The subject id of the enabled user named `name` (a username or a subject id).
pub async fn resolve_owner(store: &Store, name: &str) -> Result<String, ClientError> {
    let user = match store.user(name).await? {
        Some(user) => Some(user),
        None => store.user_named(name).await?,
    };
    user.filter(|u| !u.disabled)
        .map(|u| u.id)
        .ok_or_else(|| ClientError::UnknownOwner(name.to_owned()))
}

/// The access a new client is registered with.
pub struct Wanted {
    /// Its roles.
    pub roles: RoleSet,
    /// The accounts it may act on.
    pub accounts: Vec<AccountId>,
}

/// Registers a client, with the public JWK it signs assertions with when given.
///
/// A client registered with a key still gets a random secret hash, which no
/// one is shown, so that it can authenticate only with `private_key_jwt`.
pub async fn add_with_key(
    store: &Store,
    name: &str,
    roles: RoleSet,
    accounts: Vec<AccountId>,
    jwk: Option<&serde_json::Value>,
) -> Result<NewClient, ClientError> {
    add_owned(store, name, Wanted { roles, accounts }, jwk, None).await
}

/// Registers a client answerable to `owner` (a subject id), recorded in the same transaction.
pub async fn add_owned(
    store: &Store,
    name: &str,
    wanted: Wanted,
    jwk: Option<&serde_json::Value>,
    owner: Option<&str>,
) -> Result<NewClient, ClientError> {
    let Wanted { roles, accounts } = wanted;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ClientError::Name);
    }
    let secret = generate_client_secret();
    let record = ClientRecord {
        id: format!("cl-{}", uuid::Uuid::new_v4().simple()),
        name: name.to_owned(),
        secret_hash: hash_secret(&secret)?,
        roles,
        accounts,
        disabled: false,
        created_at: chrono::Utc::now(),
    };

    let mut tx = store.begin().await?;
    check_owner(&mut tx, &record.roles, owner).await?;
    for account in &record.accounts {
        if tx.account(account).await?.is_none() {
            return Err(ClientError::UnknownAccount(account.clone()));
        }
    }
    tx.insert_client(&record).await?;
    if let Some(jwk) = jwk {
        tx.set_client_jwk(&record.id, jwk, record.created_at)
            .await?;
    }
    if let Some(owner) = owner {
        tx.set_client_owner(&record.id, owner).await?;
    }
    tx.append(created_event(&record, owner)).await?;
    tx.commit().await?;
    tracing::info!(client_id = %record.id, action = action::CLIENT_CREATED, "client registered");
    Ok(NewClient {
        id: record.id,
        secret,
    })
}

/// Refuses a privileged client with no owner, an owner who is no enabled person, and an
/// owner whose roles together with the client's break segregation of duties.
async fn check_owner(
    tx: &mut WriteTx<'_>,
    roles: &RoleSet,
    owner: Option<&str>,
) -> Result<(), ClientError> {
    let Some(owner) = owner else {
        return match PRIVILEGED.into_iter().find(|role| roles.contains(*role)) {
            Some(role) => Err(ClientError::OwnerRequired(role)),
            None => Ok(()),
        };
    };
    let person = tx.user(owner).await?.filter(|user| !user.disabled);
    let person = person.ok_or_else(|| ClientError::UnknownOwner(owner.to_owned()))?;
    let together = person.roles.iter().chain(roles.iter());
    RoleSet::new(together).map_err(ClientError::OwnerConflict)?;
    Ok(())
}

fn created_event(record: &ClientRecord, owner: Option<&str>) -> NewEvent {
    let roles: Vec<&str> = record.roles.iter().map(Role::as_str).collect();
    let accounts: Vec<&str> = record.accounts.iter().map(AccountId::as_str).collect();
    NewEvent::new(
        OPERATOR,
        action::CLIENT_CREATED,
        &record.id,
        Outcome::Success,
        request_id(),
    )
    .details(json!({
        "name": record.name, "roles": roles, "accounts": accounts, "owner": owner,
    }))
}

async fn list(store: &Store) -> Result<(), ClientError> {
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["id", "name", "roles", "accounts", "disabled"]);
    for client in store.clients().await? {
        let roles: Vec<&str> = client.roles.iter().map(Role::as_str).collect();
        let accounts: Vec<&str> = client.accounts.iter().map(AccountId::as_str).collect();
        let disabled = if client.disabled { "yes" } else { "no" };
        table.add_row([
            &client.id,
            &client.name,
            &roles.join(","),
            &accounts.join(","),
            disabled,
        ]);
    }
    println!("{table}");
    Ok(())
}

async fn disable(store: &Store, id: &str) -> Result<(), ClientError> {
    let mut tx = store.begin().await?;
    if !tx.set_client_disabled(id, true).await? {
        // Dropping the transaction rolls it back.
        return Err(ClientError::UnknownClient(id.to_owned()));
    }
    let event = NewEvent::new(
        OPERATOR,
        action::CLIENT_DISABLED,
        id,
        Outcome::Success,
        request_id(),
    );
    tx.append(event).await?;
    tx.commit().await?;
    println!("client `{id}` disabled");
    Ok(())
}
