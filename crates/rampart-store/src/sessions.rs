//! Refresh-token families, revoked access tokens and used client assertions.
//!
//! Refresh tokens are stored as hashes only. Rotation and reuse detection
//! (RFC 9700, section 4.14) happen inside the write transaction: the hash
//! presented is either the family's current one (rotated once, exactly) or a
//! hash already rotated, which revokes the whole family.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

use crate::codec::{self, RowKey};
use crate::error::StoreError;
use crate::rows::{get, key_of};
use crate::store::Store;
use crate::tx::WriteTx;

/// Why a refresh family was revoked when a rotated token came back.
pub const REUSE_REASON: &str = "reuse";

/// One sign-in (or client grant) and the refresh tokens it rotated through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshFamily {
    /// The family id, also the `sid` of its access tokens.
    pub id: String,
    /// The subject id of the user or the client id.
    pub subject: String,
    /// Whether the subject is a user (`false`: an API client).
    pub is_user: bool,
    /// The hash of the one refresh token that is valid now.
    pub current_hash: String,
    /// How the subject authenticated, such as `["pwd", "otp"]`.
    pub amr: Vec<String>,
    /// When the family began.
    pub created_at: DateTime<Utc>,
    /// When a token of the family was last used.
    pub last_used_at: DateTime<Utc>,
    /// When the family expires if it is not used.
    pub idle_expires_at: DateTime<Utc>,
    /// When the family expires whatever happens.
    pub absolute_expires_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it was revoked.
    pub revoked_reason: Option<String>,
}

impl RefreshFamily {
    /// Whether the family's current token may still be used at `now`.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.idle_expires_at && now < self.absolute_expires_at
    }
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    /// It was current: the family now holds the new hash.
    Rotated(RefreshFamily),
    /// It was rotated already: the whole family is now revoked.
    Reused(RefreshFamily),
    /// It belongs to a family that expired or was revoked.
    Inactive(RefreshFamily),
    /// No family knows it.
    Unknown,
}

const FAMILY_COLUMNS: &str = "id, subject, subject_kind, current_hash, amr, created_at, \
    last_used_at, idle_expires_at, absolute_expires_at, revoked_at, revoked_reason";

impl Store {
    /// The family whose current or rotated token has `hash`, and whether it is the current one.
    pub async fn refresh_family_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<(RefreshFamily, bool)>, StoreError> {
        family_by_hash(&mut *self.reader().await?, hash).await
    }

    /// The access-token ids revoked and not yet expired at `now`, with their expiry.
    pub async fn revoked_jtis(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let found = sqlx::query("SELECT jti, expires_at FROM revoked_jtis WHERE expires_at > ?")
            .bind(codec::time(&now))
            .fetch_all(&mut *self.reader().await?)
            .await?;
        found
            .iter()
            .map(|row| {
                let jti = key_of(row, "jti", "revoked_jtis")?;
                let key = RowKey {
                    table: "revoked_jtis",
                    key: &jti,
                };
                let expires = key.time(&get::<String>(row, "expires_at", key)?)?;
                Ok((jti, expires))
            })
            .collect()
    }
}

impl WriteTx<'_> {
    /// Starts a refresh family.
    pub async fn insert_refresh_family(
        &mut self,
        family: &RefreshFamily,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO refresh_families ({FAMILY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        sqlx::query(&sql)
            .bind(&family.id)
            .bind(&family.subject)
            .bind(if family.is_user { "user" } else { "client" })
            .bind(&family.current_hash)
            .bind(codec::json(&family.amr, "amr")?)
            .bind(codec::time(&family.created_at))
            .bind(codec::time(&family.last_used_at))
            .bind(codec::time(&family.idle_expires_at))
            .bind(codec::time(&family.absolute_expires_at))
            .bind(family.revoked_at.as_ref().map(codec::time))
            .bind(family.revoked_reason.as_deref())
            .execute(&mut *self.tx)
            .await
            .map_err(|e| StoreError::on_insert(e, "refresh family", &family.id))?;
        Ok(())
    }

    /// Presents the refresh token with `presented` hash; rotates it to `next` if it is current.
    ///
    /// The idle expiry moves to `idle_until`, never past the absolute expiry.
    pub async fn use_refresh_token(
        &mut self,
        presented: &str,
        next: &str,
        now: DateTime<Utc>,
        idle_until: DateTime<Utc>,
    ) -> Result<RefreshUse, StoreError> {
        let Some((family, current)) = family_by_hash(&mut self.tx, presented).await? else {
            return Ok(RefreshUse::Unknown);
        };
        if !current {
            if family.revoked_at.is_none() {
                self.revoke_refresh_family(&family.id, REUSE_REASON, now)
                    .await?;
            }
            let revoked = family_by_id(&mut self.tx, &family.id).await?;
            return Ok(RefreshUse::Reused(revoked.unwrap_or(family)));
        }
        if !family.is_active(now) {
            return Ok(RefreshUse::Inactive(family));
        }
        self.rotate(&family, next, now, idle_until).await?;
        let rotated = family_by_id(&mut self.tx, &family.id).await?;
        Ok(rotated.map_or(RefreshUse::Unknown, RefreshUse::Rotated))
    }

    /// Revokes family `id`; false if it is unknown or revoked already.
    pub async fn revoke_refresh_family(
        &mut self,
        id: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE refresh_families SET revoked_at = ?, revoked_reason = ? \
             WHERE id = ? AND revoked_at IS NULL",
        )
        .bind(codec::time(&now))
        .bind(reason)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes every family of `subject`; returns the ids it revoked.
    pub async fn revoke_refresh_families_of(
        &mut self,
        subject: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM refresh_families WHERE subject = ? AND revoked_at IS NULL ORDER BY id",
        )
        .bind(subject)
        .fetch_all(&mut *self.tx)
        .await?;
        for id in &ids {
            self.revoke_refresh_family(id, reason, now).await?;
        }
        Ok(ids)
    }

    /// Records access token `jti` as revoked until it expires at `expires_at`.
    pub async fn revoke_jti(
        &mut self,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO revoked_jtis (jti, expires_at, revoked_at) VALUES (?, ?, ?) \
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(codec::time(&expires_at))
        .bind(codec::time(&now))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Forgets revoked tokens and used assertions that expired before `now`; returns how many.
    pub async fn prune_expired_jtis(&mut self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let now = codec::time(&now);
        let revoked = sqlx::query("DELETE FROM revoked_jtis WHERE expires_at <= ?")
            .bind(&now)
            .execute(&mut *self.tx)
            .await?;
        let assertions = sqlx::query("DELETE FROM assertion_jtis WHERE expires_at <= ?")
            .bind(&now)
            .execute(&mut *self.tx)
            .await?;
        Ok(revoked.rows_affected() + assertions.rows_affected())
    }

    /// Records a client assertion's `jti` as used; false if it was used before (a replay).
    pub async fn use_assertion_jti(
        &mut self,
        client_id: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO assertion_jtis (client_id, jti, expires_at) VALUES (?, ?, ?) \
             ON CONFLICT (client_id, jti) DO NOTHING",
        )
        .bind(client_id)
        .bind(jti)
        .bind(codec::time(&expires_at))
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn rotate(
        &mut self,
        family: &RefreshFamily,
        next: &str,
        now: DateTime<Utc>,
        idle_until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO refresh_rotated (token_hash, family_id, rotated_at) VALUES (?, ?, ?)",
        )
        .bind(&family.current_hash)
        .bind(&family.id)
        .bind(codec::time(&now))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| StoreError::on_insert(e, "rotated refresh token", &family.id))?;
        let idle = idle_until.min(family.absolute_expires_at);
        sqlx::query(
            "UPDATE refresh_families SET current_hash = ?, last_used_at = ?, idle_expires_at = ? \
             WHERE id = ?",
        )
        .bind(next)
        .bind(codec::time(&now))
        .bind(codec::time(&idle))
        .bind(&family.id)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| StoreError::on_insert(e, "refresh token", &family.id))?;
        Ok(())
    }
}

async fn family_by_hash(
    conn: &mut SqliteConnection,
    hash: &str,
) -> Result<Option<(RefreshFamily, bool)>, StoreError> {
    let sql = format!("SELECT {FAMILY_COLUMNS} FROM refresh_families WHERE current_hash = ?");
    if let Some(row) = sqlx::query(&sql)
        .bind(hash)
        .fetch_optional(&mut *conn)
        .await?
    {
        return decode_family(&row).map(|family| Some((family, true)));
    }
    let family_id: Option<String> =
        sqlx::query_scalar("SELECT family_id FROM refresh_rotated WHERE token_hash = ?")
            .bind(hash)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(family_id) = family_id else {
        return Ok(None);
    };
    Ok(family_by_id(conn, &family_id).await?.map(|f| (f, false)))
}

async fn family_by_id(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<RefreshFamily>, StoreError> {
    let sql = format!("SELECT {FAMILY_COLUMNS} FROM refresh_families WHERE id = ?");
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(decode_family).transpose()
}

fn decode_family(row: &SqliteRow) -> Result<RefreshFamily, StoreError> {
    let id = key_of(row, "id", "refresh_families")?;
    let key = RowKey {
        table: "refresh_families",
        key: &id,
    };
    let text = |name: &str| get::<String>(row, name, key);
    let is_user = match text("subject_kind")?.as_str() {
        "user" => true,
        "client" => false,
        _ => return Err(key.corrupt()),
    };
    Ok(RefreshFamily {
        subject: text("subject")?,
        is_user,
        current_hash: text("current_hash")?,
        amr: key.json(&text("amr")?)?,
        created_at: key.time(&text("created_at")?)?,
        last_used_at: key.time(&text("last_used_at")?)?,
        idle_expires_at: key.time(&text("idle_expires_at")?)?,
        absolute_expires_at: key.time(&text("absolute_expires_at")?)?,
        revoked_at: key.opt_time(get::<Option<String>>(row, "revoked_at", key)?.as_deref())?,
        revoked_reason: get(row, "revoked_reason", key)?,
        id,
    })
}

impl Store {
    /// The ids of refresh families revoked at or after `since`.
    pub async fn revoked_family_ids(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let ids =
            sqlx::query_scalar("SELECT id FROM refresh_families WHERE revoked_at >= ? ORDER BY id")
                .bind(codec::time(&since))
                .fetch_all(&mut *self.reader().await?)
                .await?;
        Ok(ids)
    }
}
