//! Persistence of the Rampart gateway.
//!
//! A SQLite database (WAL, `synchronous=FULL`) holds clients, users, accounts,
//! orders, positions, cash, kill switch engagements and the audit log. Every
//! write goes through one [`WriteTx`] on a single writer connection, and the
//! audit event of a change is written in the same transaction as the change.
//! Money is exact decimal text, never floating point; a row that cannot be
//! read back becomes [`StoreError::Corrupt`], never a panic.

mod audit;
mod codec;
mod error;
mod notional;
mod position;
mod pretrade;
mod queries;
mod records;
mod rows;
mod store;
mod tx;

pub use audit::{AuditCheckError, VerifySummary, verify_audit};
pub use error::StoreError;
pub use records::{
    AccountRecord, AccountSnapshot, ClientRecord, FillRecord, KillSwitchRecord,
    KillSwitchScopeRecord, OrderFilter, Position, UserRecord,
};
pub use store::{Durability, Store};
pub use tx::WriteTx;
