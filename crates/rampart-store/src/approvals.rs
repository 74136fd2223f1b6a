//! Four-eyes approvals of any kind: a proposal, then one decision by someone else.
//!
//! `kind` is open-ended (`role.grant`, risk-limit changes, kill-switch
//! releases) and the payload opaque JSON, stored canonical (RFC 8785) so that
//! what was approved is exactly what was proposed. A decision is refused to
//! the proposer, to the owner of a proposing client and to a client owned by
//! the proposer; the status check and the update run in one write
//! transaction, so concurrent deciders get exactly one decision applied.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::codec::{self, RowKey};
use crate::error::StoreError;
use crate::rows::{get, key_of};
use crate::store::Store;
use crate::tx::WriteTx;

/// Where an approval stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalStatus {
    /// Waiting for a decision.
    Pending,
    /// Approved by a second person.
    Approved,
    /// Rejected by a second person.
    Rejected,
    /// Not decided before it expired.
    Expired,
}

impl ApprovalStatus {
    /// The status's name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }

    /// The status named `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Rejected, Self::Expired]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// A proposal as its proposer makes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApproval {
    /// What kind of change, such as `role.grant`.
    pub kind: String,
    /// What it applies to, such as `user:<id>`.
    pub target: String,
    /// The change itself, applied once approved.
    pub payload: serde_json::Value,
    /// Who proposed it (subject or client id).
    pub proposed_by: String,
    /// When it lapses if undecided.
    pub expires_at: DateTime<Utc>,
}

/// A stored approval.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRecord {
    /// The approval id (UUIDv7).
    pub id: Uuid,
    /// What kind of change.
    pub kind: String,
    /// What it applies to.
    pub target: String,
    /// The change, as canonical JSON.
    pub payload: serde_json::Value,
    /// Who proposed it.
    pub proposed_by: String,
    /// When it was proposed.
    pub proposed_at: DateTime<Utc>,
    /// When it lapses if undecided.
    pub expires_at: DateTime<Utc>,
    /// Where it stands (a pending approval past its expiry reads as expired).
    pub status: ApprovalStatus,
    /// Who decided it.
    pub decided_by: Option<String>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// The decider's comment.
    pub comment: Option<String>,
}

/// Why a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// No approval has that id.
    #[error("the approval does not exist")]
    NotFound,
    /// The decider proposed it, or owns (or is owned by) the proposer.
    #[error("an approval must be decided by someone other than its proposer")]
    SelfApproval,
    /// The proposer or the decider is a privileged client no person owns.
    #[error("client `{0}` holds a privileged role but has no owner; assign one first")]
    UnownedPrivilegedClient(String),
    /// It was decided already.
    #[error("the approval is already `{}`", .0.as_str())]
    AlreadyDecided(ApprovalStatus),
    /// It lapsed before this decision.
    #[error("the approval has expired")]
    Expired,
    /// Its proposer has been disabled since: it can only be rejected.
    #[error("`{0}`, who proposed it, is disabled; it can only be rejected")]
    ProposerDisabled(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which approvals to list; an absent field matches every approval.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalFilter {
    /// Only approvals in this status (as of the listing time).
    pub status: Option<ApprovalStatus>,
    /// Only approvals of this kind.
    pub kind: Option<String>,
    /// Only approvals of this exact target, such as `account:ACC-1`.
    pub target: Option<String>,
}

pub(crate) const APPROVAL_COLUMNS: &str = "id, kind, target, payload, proposed_by, proposed_at, \
    expires_at, status, decided_by, decided_at, comment";

impl Store {
    /// The approval `id`, its status as of `now`.
    pub async fn approval(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<ApprovalRecord>, StoreError> {
        approval(&mut *self.reader().await?, id, now).await
    }

    /// Approvals in `status` (all when none) as of `now`, of `kind` if given, oldest first.
    pub async fn approvals(
        &self,
        status: Option<ApprovalStatus>,
        kind: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        let sql = format!("SELECT {APPROVAL_COLUMNS} FROM approvals ORDER BY proposed_at, id");
        let found = sqlx::query(&sql)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        let mut list = Vec::new();
        for row in &found {
            let record = decode(row, now)?;
            let wanted_status = status.is_none_or(|s| s == record.status);
            let wanted_kind = kind.is_none_or(|k| k == record.kind);
            if wanted_status && wanted_kind {
                list.push(record);
            }
        }
        Ok(list)
    }

    /// Approvals matching `filter` as of `now`, oldest first.
    pub async fn approvals_matching(
        &self,
        filter: &ApprovalFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        let sql = format!(
            "SELECT {APPROVAL_COLUMNS} FROM approvals \
             WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR target = ?2) \
             ORDER BY proposed_at, id"
        );
        let found = sqlx::query(&sql)
            .bind(filter.kind.as_deref())
            .bind(filter.target.as_deref())
            .fetch_all(&mut *self.reader().await?)
            .await?;
        let mut list = Vec::new();
        for row in &found {
            let record = decode(row, now)?;
            if filter.status.is_none_or(|s| s == record.status) {
                list.push(record);
            }
        }
        Ok(list)
    }
}

impl WriteTx<'_> {
    /// Records a proposal, pending, and returns it as stored.
    pub async fn propose(
        &mut self,
        proposal: &NewApproval,
        now: DateTime<Utc>,
    ) -> Result<ApprovalRecord, StoreError> {
        if proposal.expires_at <= now {
            return Err(StoreError::Invalid {
                field: "expires_at",
                rule: "must be later than the proposal",
            });
        }
        let payload = serde_json_canonicalizer::to_string(&proposal.payload).map_err(|_| {
            StoreError::Invalid {
                field: "payload",
                rule: "cannot be encoded",
            }
        })?;
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO approvals (id, kind, target, payload, proposed_by, proposed_at, \
             expires_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
        )
        .bind(id.to_string())
        .bind(&proposal.kind)
        .bind(&proposal.target)
        .bind(payload)
        .bind(&proposal.proposed_by)
        .bind(codec::time(&now))
        .bind(codec::time(&proposal.expires_at))
        .execute(&mut *self.tx)
        .await
        .map_err(|e| StoreError::on_insert(e, "approval", &id.to_string()))?;
        approval(&mut self.tx, id, now)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "approval",
                key: id.to_string(),
            })
    }

    /// The approval `id`, as this transaction sees it.
    pub async fn approval(
        &mut self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<ApprovalRecord>, StoreError> {
        approval(&mut self.tx, id, now).await
    }

    /// Approves (or rejects) approval `id` as `decider`; returns it as decided.
    ///
    /// Refused to anyone on the proposer's side, when the proposer or the decider is a
    /// privileged client with no owner, for an approval that is decided or expired as
    /// of `now`, and, when approving, if the proposer has been disabled since (a person
    /// or client cut off must not get a change through a colleague's inattention).
    /// Read `now` once this transaction holds the writer, never before waiting for it,
    /// so that an approval lapsing meanwhile reads as expired. Commit the transaction
    /// to keep the decision.
    pub async fn decide(
        &mut self,
        id: Uuid,
        decider: &str,
        approve: bool,
        comment: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ApprovalRecord, ApprovalError> {
        let record = approval(&mut self.tx, id, now)
            .await?
            .ok_or(ApprovalError::NotFound)?;
        match record.status {
            ApprovalStatus::Pending => {}
            ApprovalStatus::Expired => return Err(ApprovalError::Expired),
            decided => return Err(ApprovalError::AlreadyDecided(decided)),
        }
        for identity in [record.proposed_by.as_str(), decider] {
            if self.is_unowned_privileged_client(identity).await? {
                return Err(ApprovalError::UnownedPrivilegedClient(identity.to_owned()));
            }
        }
        if self.same_side(&record.proposed_by, decider).await? {
            return Err(ApprovalError::SelfApproval);
        }
        if approve && self.is_disabled(&record.proposed_by).await? {
            return Err(ApprovalError::ProposerDisabled(record.proposed_by));
        }

        let status = if approve {
            ApprovalStatus::Approved
        } else {
            ApprovalStatus::Rejected
        };
        let done = sqlx::query(
            "UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, comment = ? \
             WHERE id = ? AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(decider)
        .bind(codec::time(&now))
        .bind(comment)
        .bind(id.to_string())
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from)?;
        // INVARIANT: the status was read as pending in this transaction, which holds the
        // write lock, so this update applies; anything else is a concurrent decision.
        if done.rows_affected() != 1 {
            return Err(ApprovalError::AlreadyDecided(ApprovalStatus::Approved));
        }
        approval(&mut self.tx, id, now)
            .await?
            .ok_or(ApprovalError::NotFound)
    }

    /// Whether `id` names a disabled person or API client.
    async fn is_disabled(&mut self, id: &str) -> Result<bool, StoreError> {
        let disabled: Option<i64> = sqlx::query_scalar(
            "SELECT disabled FROM users WHERE id = ?1 \
             UNION ALL SELECT disabled FROM clients WHERE id = ?1 LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(disabled == Some(1))
    }

    /// Marks every pending approval whose expiry has passed by `now` as expired; returns them.
    ///
    /// The caller records an `approval.expired` audit event for each, in this transaction.
    pub async fn expire_approvals(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        let sql = format!(
            "SELECT {APPROVAL_COLUMNS} FROM approvals \
             WHERE status = 'pending' AND expires_at <= ? ORDER BY proposed_at, id"
        );
        let found = sqlx::query(&sql)
            .bind(codec::time(&now))
            .fetch_all(&mut *self.tx)
            .await?;
        let lapsed = found
            .iter()
            .map(|row| decode(row, now))
            .collect::<Result<Vec<_>, _>>()?;
        for record in &lapsed {
            sqlx::query(
                "UPDATE approvals SET status = 'expired' WHERE id = ? AND status = 'pending'",
            )
            .bind(record.id.to_string())
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(lapsed)
    }

    /// The pending approval of `kind` for `target` as of `now`, oldest first, if any.
    pub async fn pending_approval(
        &mut self,
        kind: &str,
        target: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApprovalRecord>, StoreError> {
        let sql = format!(
            "SELECT {APPROVAL_COLUMNS} FROM approvals \
             WHERE status = 'pending' AND kind = ? AND target = ? ORDER BY proposed_at, id"
        );
        let found = sqlx::query(&sql)
            .bind(kind)
            .bind(target)
            .fetch_all(&mut *self.tx)
            .await?;
        for row in &found {
            let record = decode(row, now)?;
            if record.status == ApprovalStatus::Pending {
                return Ok(Some(record));
            }
        }
        Ok(None)
    }

    /// Whether `a` and `b` are the same person, directly or through a client one of them owns.
    pub async fn same_side(&mut self, a: &str, b: &str) -> Result<bool, StoreError> {
        if a == b {
            return Ok(true);
        }
        let owner_a = self.client_owner(a).await?;
        let owner_b = self.client_owner(b).await?;
        Ok(owner_a.as_deref() == Some(b)
            || owner_b.as_deref() == Some(a)
            || (owner_a.is_some() && owner_a == owner_b))
    }
}

async fn approval(
    conn: &mut SqliteConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<ApprovalRecord>, StoreError> {
    let sql = format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE id = ?");
    let row = sqlx::query(&sql)
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    row.map(|row| decode(&row, now)).transpose()
}

pub(crate) fn decode(row: &SqliteRow, now: DateTime<Utc>) -> Result<ApprovalRecord, StoreError> {
    let id = key_of(row, "id", "approvals")?;
    let key = RowKey {
        table: "approvals",
        key: &id,
    };
    let text = |name: &str| get::<String>(row, name, key);
    let expires_at = key.time(&text("expires_at")?)?;
    let status = match key.named(&text("status")?, ApprovalStatus::parse)? {
        ApprovalStatus::Pending if expires_at <= now => ApprovalStatus::Expired,
        status => status,
    };
    Ok(ApprovalRecord {
        id: key.parse(&id)?,
        kind: text("kind")?,
        target: text("target")?,
        payload: key.json(&text("payload")?)?,
        proposed_by: text("proposed_by")?,
        proposed_at: key.time(&text("proposed_at")?)?,
        expires_at,
        status,
        decided_by: get(row, "decided_by", key)?,
        decided_at: key.opt_time(get::<Option<String>>(row, "decided_at", key)?.as_deref())?,
        comment: get(row, "comment", key)?,
    })
}
