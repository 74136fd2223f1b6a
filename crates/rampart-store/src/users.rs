//! People: accounts, roles, TOTP state, recovery codes and their personal data.
//!
//! A user is known everywhere by an opaque subject id; the display name and
//! e-mail sit alone in `user_profiles`, so that they can be encrypted or
//! erased without touching anything else. Passwords and recovery codes are
//! stored as hashes only. A TOTP step is accepted once: the last used step
//! only moves forward, inside the write transaction.

use chrono::{DateTime, Utc};
use rampart_core::{AccountId, RoleSet};
use secrecy::{ExposeSecret, SecretString};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

use crate::codec::{self, RowKey};
use crate::error::StoreError;
use crate::identity_grant::decode_profile;
use crate::rows::{get, key_of};
use crate::store::Store;
use crate::tx::WriteTx;

/// A person who signs in, with everything the sign-in needs.
#[derive(Debug, Clone)]
pub struct StoredUser {
    /// The opaque subject id (a UUIDv7).
    pub id: String,
    /// The sign-in name, unique.
    pub username: String,
    /// The argon2id PHC string of the password.
    pub password_hash: String,
    /// The roles granted.
    pub roles: RoleSet,
    /// The accounts the user may act on.
    pub accounts: Vec<AccountId>,
    /// Whether the user is cut off.
    pub disabled: bool,
    /// Whether the password must be changed before anything else.
    pub must_change_password: bool,
    /// The confirmed TOTP seed (base32), once enrolled.
    pub mfa_secret: Option<SecretString>,
    /// A TOTP seed handed out at enrolment and not yet confirmed.
    pub mfa_pending_secret: Option<SecretString>,
    /// The last TOTP time step accepted, so that no code is accepted twice.
    pub mfa_last_step: Option<u64>,
    /// When the user was created (UTC).
    pub created_at: DateTime<Utc>,
}

impl StoredUser {
    /// Whether the user has a confirmed second factor.
    pub fn has_mfa(&self) -> bool {
        self.mfa_secret.is_some()
    }
}

/// The personal data of a user, kept apart from everything else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserProfile {
    /// The name shown to other people.
    pub display_name: Option<String>,
    /// The e-mail address.
    pub email: Option<String>,
}

/// One stored recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryCodeRecord {
    /// Its position in the set handed out.
    pub position: u32,
    /// The hash of the code.
    pub code_hash: String,
    /// Whether it was used already.
    pub used: bool,
}

const USER_COLUMNS: &str = "id, username, password_hash, roles, disabled, must_change_password, \
    mfa_secret, mfa_pending_secret, mfa_last_step, created_at";

impl Store {
    /// The user with subject id `id`, if any.
    pub async fn user(&self, id: &str) -> Result<Option<StoredUser>, StoreError> {
        user_where(&mut *self.reader().await?, "id", id).await
    }

    /// The user signing in as `username`, with its sign-in state, if any.
    pub async fn user_named(&self, username: &str) -> Result<Option<StoredUser>, StoreError> {
        user_where(&mut *self.reader().await?, "username", username).await
    }

    /// Every user, by username.
    pub async fn users(&self) -> Result<Vec<StoredUser>, StoreError> {
        let mut conn = self.reader().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        let found = sqlx::query(&sql).fetch_all(&mut *conn).await?;
        let mut users = Vec::with_capacity(found.len());
        for row in &found {
            let id = key_of(row, "id", "users")?;
            let accounts = user_accounts(&mut conn, &id).await?;
            users.push(decode_user(row, &accounts)?);
        }
        Ok(users)
    }

    /// The personal data of user `id`.
    pub async fn user_profile(&self, id: &str) -> Result<Option<UserProfile>, StoreError> {
        let row = sqlx::query("SELECT display_name, email FROM user_profiles WHERE user_id = ?")
            .bind(id)
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        row.map(|row| decode_profile(&row, id)).transpose()
    }

    /// The recovery codes of user `id`, in the order they were handed out.
    pub async fn recovery_codes(&self, id: &str) -> Result<Vec<RecoveryCodeRecord>, StoreError> {
        recovery_codes(&mut *self.reader().await?, id).await
    }
}

impl WriteTx<'_> {
    /// Creates a user with its assigned accounts and personal data.
    pub async fn create_user(
        &mut self,
        user: &StoredUser,
        profile: &UserProfile,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, username, password_hash, roles, must_change_password, \
             created_at, disabled, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&user.id)
        .bind(&user.username)
        .bind(&user.password_hash)
        .bind(codec::json(&user.roles, "roles")?)
        .bind(user.must_change_password)
        .bind(codec::time(&user.created_at))
        .bind(user.disabled)
        .bind(codec::time(&user.created_at))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| StoreError::on_insert(e, "user", &user.username))?;
        self.set_mfa_secret(&user.id, user.mfa_secret.as_ref())
            .await?;
        self.replace_user_accounts(&user.id, &user.accounts).await?;
        sqlx::query("INSERT INTO user_profiles (user_id, display_name, email) VALUES (?, ?, ?)")
            .bind(&user.id)
            .bind(profile.display_name.as_deref())
            .bind(profile.email.as_deref())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// The user `id`, as this transaction sees it.
    pub async fn user(&mut self, id: &str) -> Result<Option<StoredUser>, StoreError> {
        user_where(&mut self.tx, "id", id).await
    }

    /// Replaces the roles and assigned accounts of user `id`.
    pub async fn set_user_access(
        &mut self,
        id: &str,
        roles: &RoleSet,
        accounts: &[AccountId],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE users SET roles = ?, updated_at = ? WHERE id = ?")
            .bind(codec::json(roles, "roles")?)
            .bind(codec::time(&now))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        require_user(done.rows_affected(), id)?;
        self.replace_user_accounts(id, accounts).await
    }

    /// Disables or re-enables user `id`; false if there is no such user.
    pub async fn set_user_disabled(
        &mut self,
        id: &str,
        disabled: bool,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE users SET disabled = ? WHERE id = ?")
            .bind(disabled)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces the password hash of user `id` and whether it must be changed again.
    pub async fn set_password(
        &mut self,
        id: &str,
        password_hash: &str,
        must_change: bool,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = ?, must_change_password = ? WHERE id = ?",
        )
        .bind(password_hash)
        .bind(must_change)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        require_user(done.rows_affected(), id)
    }

    /// Stores a TOTP seed handed out at enrolment, until it is confirmed.
    pub async fn set_pending_mfa(
        &mut self,
        id: &str,
        secret: &SecretString,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE users SET mfa_pending_secret = ? WHERE id = ?")
            .bind(secret.expose_secret())
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        require_user(done.rows_affected(), id)
    }

    /// Makes the pending seed the user's second factor, `step` being the code just checked
    /// against `checked`; false if the pending seed is no longer the one checked.
    pub async fn confirm_mfa(
        &mut self,
        id: &str,
        checked: &SecretString,
        step: u64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET mfa_secret = mfa_pending_secret, mfa_pending_secret = NULL, \
             mfa_last_step = ? WHERE id = ? AND mfa_pending_secret = ?",
        )
        .bind(step_value(step)?)
        .bind(id)
        .bind(checked.expose_secret())
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records `step` as used; false if it (or a later one) was used already.
    pub async fn use_totp_step(&mut self, id: &str, step: u64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET mfa_last_step = ? \
             WHERE id = ? AND (mfa_last_step IS NULL OR mfa_last_step < ?)",
        )
        .bind(step_value(step)?)
        .bind(id)
        .bind(step_value(step)?)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes the second factor and every recovery code of user `id`.
    pub async fn reset_mfa(&mut self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET mfa_secret = NULL, mfa_pending_secret = NULL, \
             mfa_last_step = NULL WHERE id = ?",
        )
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        self.replace_recovery_codes(id, &[]).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces the recovery codes of user `id` with `hashes`.
    pub async fn replace_recovery_codes(
        &mut self,
        id: &str,
        hashes: &[String],
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = ?")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        for (position, hash) in (0u32..).zip(hashes) {
            sqlx::query(
                "INSERT INTO recovery_codes (user_id, position, code_hash) VALUES (?, ?, ?)",
            )
            .bind(id)
            .bind(position)
            .bind(hash)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| StoreError::on_insert(e, "recovery code", id))?;
        }
        Ok(())
    }

    /// The recovery codes of user `id`, as this transaction sees them.
    pub async fn recovery_codes(
        &mut self,
        id: &str,
    ) -> Result<Vec<RecoveryCodeRecord>, StoreError> {
        recovery_codes(&mut self.tx, id).await
    }

    /// Marks a recovery code used; false if it was used already.
    pub async fn use_recovery_code(
        &mut self,
        id: &str,
        position: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = ? \
             WHERE user_id = ? AND position = ? AND used_at IS NULL",
        )
        .bind(codec::time(&now))
        .bind(id)
        .bind(position)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_mfa_secret(
        &mut self,
        id: &str,
        secret: Option<&SecretString>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET mfa_secret = ? WHERE id = ?")
            .bind(secret.map(|s| s.expose_secret().to_owned()))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn replace_user_accounts(
        &mut self,
        id: &str,
        accounts: &[AccountId],
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM user_accounts WHERE user_id = ?")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        for account in accounts {
            sqlx::query("INSERT INTO user_accounts (user_id, account_id) VALUES (?, ?)")
                .bind(id)
                .bind(account.as_str())
                .execute(&mut *self.tx)
                .await
                .map_err(|e| StoreError::on_insert(e, "user account", account.as_str()))?;
        }
        Ok(())
    }
}

async fn user_where(
    conn: &mut SqliteConnection,
    column: &'static str,
    value: &str,
) -> Result<Option<StoredUser>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = ?");
    let Some(row) = sqlx::query(&sql)
        .bind(value)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let id = key_of(&row, "id", "users")?;
    let accounts = user_accounts(conn, &id).await?;
    decode_user(&row, &accounts).map(Some)
}

async fn user_accounts(conn: &mut SqliteConnection, id: &str) -> Result<Vec<String>, StoreError> {
    let accounts = sqlx::query_scalar(
        "SELECT account_id FROM user_accounts WHERE user_id = ? ORDER BY account_id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(accounts)
}

async fn recovery_codes(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Vec<RecoveryCodeRecord>, StoreError> {
    let found = sqlx::query(
        "SELECT position, code_hash, used_at FROM recovery_codes \
         WHERE user_id = ? ORDER BY position",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    let key = RowKey {
        table: "recovery_codes",
        key: id,
    };
    found
        .iter()
        .map(|row| {
            Ok(RecoveryCodeRecord {
                position: get(row, "position", key)?,
                code_hash: get(row, "code_hash", key)?,
                used: get::<Option<String>>(row, "used_at", key)?.is_some(),
            })
        })
        .collect()
}

fn decode_user(row: &SqliteRow, accounts: &[String]) -> Result<StoredUser, StoreError> {
    let id = key_of(row, "id", "users")?;
    let key = RowKey {
        table: "users",
        key: &id,
    };
    let text = |name: &str| get::<String>(row, name, key);
    let secret =
        |name: &str| get::<Option<String>>(row, name, key).map(|s| s.map(SecretString::from));
    let last_step = get::<Option<i64>>(row, "mfa_last_step", key)?
        .map(|step| u64::try_from(step).map_err(|_| key.corrupt()))
        .transpose()?;
    Ok(StoredUser {
        username: text("username")?,
        password_hash: text("password_hash")?,
        roles: key.json::<RoleSet>(&text("roles")?)?,
        accounts: accounts
            .iter()
            .map(|a| key.parse(a))
            .collect::<Result<_, _>>()?,
        disabled: key.flag(get(row, "disabled", key)?)?,
        must_change_password: key.flag(get(row, "must_change_password", key)?)?,
        mfa_secret: secret("mfa_secret")?,
        mfa_pending_secret: secret("mfa_pending_secret")?,
        mfa_last_step: last_step,
        created_at: key.time(&text("created_at")?)?,
        id,
    })
}

fn require_user(rows: u64, id: &str) -> Result<(), StoreError> {
    match rows {
        1 => Ok(()),
        _ => Err(StoreError::NotFound {
            what: "user",
            key: id.to_owned(),
        }),
    }
}

fn step_value(step: u64) -> Result<i64, StoreError> {
    i64::try_from(step).map_err(|_| StoreError::Overflow {
        field: "mfa_last_step",
    })
}
