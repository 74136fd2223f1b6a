//! Persistence of the Rampart gateway.
//!
//! A SQLite database (WAL, `synchronous=FULL`) holds clients, users, accounts,
//! orders, positions, cash, kill switch engagements and the audit log. Every
//! write goes through one [`WriteTx`] on a single writer connection, and the
//! audit event of a change is written in the same transaction as the change.
//! Money is exact decimal text, never floating point; a row that cannot be
//! read back becomes [`StoreError::Corrupt`], never a panic.

mod approvals;
mod approvals_page;
mod attribution;
mod audit;
mod audit_backfill;
mod audit_leaves;
mod audit_packed;
mod audit_query;
mod audit_scan;
mod audit_snapshot;
mod audit_tree;
mod audit_verify;
mod bundle_export;
mod checkpointer;
mod checkpoints;
mod client_keys;
mod client_owners;
mod codec;
mod error;
mod group;
mod group_metrics;
mod guard_fills;
mod identity_grant;
mod identity_links;
mod identity_revocations;
mod identity_setup;
mod identity_throttle;
mod kill_scope;
mod notional;
mod position;
mod pretrade;
mod queries;
mod records;
mod risk_limits;
mod rows;
mod sessions;
mod store;
mod store_clock;
mod throttle;
mod tx;
mod unowned_clients;
mod users;
mod wal_checkpoint;

pub use approvals::{ApprovalError, ApprovalFilter, ApprovalRecord, ApprovalStatus, NewApproval};
pub use attribution::AttributionFilter;
pub use audit::{AuditCheckError, VerifySummary, verify_audit, verify_audit_signed};
pub use audit_backfill::BackFillReport;
pub use audit_query::{AuditFilter, MAX_AUDIT_PAGE};
pub use bundle_export::ExportError;
pub use checkpointer::{CheckpointPolicy, Checkpointer, CheckpointerError, export_path};
pub use checkpoints::InclusionProof;
pub use error::StoreError;
pub use group_metrics::{FlushTimes, flush_counts, flush_times};
pub use guard_fills::ClientFill;
pub use records::{
    AccountRecord, AccountSnapshot, ClientRecord, FillRecord, KillSwitchRecord, OrderFilter,
    Position, UserRecord,
};
pub use risk_limits::{LimitsVersion, NewLimitsVersion};
pub use sessions::{REUSE_REASON, RefreshFamily, RefreshUse};
pub use store::{Durability, Store};
pub use store_clock::ClockFn;
pub use throttle::{LoginFailures, ThrottleScope};
pub use tx::WriteTx;
pub use users::{RecoveryCodeRecord, StoredUser, UserProfile};
