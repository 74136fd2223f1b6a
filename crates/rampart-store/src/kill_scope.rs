//! How a kill switch scope is stored (a scope name and, except for the global
//! scope, the target it names), and reading one engagement.
//!
//! The `kill_switches` CHECK allows exactly these names; a stored pair that
//! does not decode is reported as corrupt, never guessed at.

use rampart_core::{AccountId, InstrumentId};
use uuid::Uuid;

use crate::error::StoreError;
use crate::records::{KillSwitchRecord, KillSwitchScopeRecord};
use crate::rows;
use crate::store::Store;
use crate::tx::WriteTx;

impl Store {
    /// The engagement `id`, released or not.
    pub async fn kill_switch(&self, id: Uuid) -> Result<Option<KillSwitchRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM kill_switches WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        row.as_ref().map(rows::kill_switch).transpose()
    }
}

impl WriteTx<'_> {
    /// The engagement `id`, released or not, as this transaction sees it.
    pub async fn kill_switch(&mut self, id: Uuid) -> Result<Option<KillSwitchRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM kill_switches WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(rows::kill_switch).transpose()
    }
}

impl KillSwitchScopeRecord {
    /// The stored scope name: `global`, `account`, `instrument`, `client` or `trader`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Account(_) => "account",
            Self::Instrument(_) => "instrument",
            Self::Client(_) => "client",
            Self::Trader(_) => "trader",
        }
    }

    /// The account, instrument, client or trader named; none for the global scope.
    pub fn target(&self) -> Option<&str> {
        match self {
            Self::Global => None,
            Self::Account(id) => Some(id.as_str()),
            Self::Instrument(id) => Some(id.as_str()),
            Self::Client(id) | Self::Trader(id) => Some(id),
        }
    }

    /// The scope stored as `name` and `target`, if the pair is well formed.
    pub fn from_parts(name: &str, target: Option<&str>) -> Option<Self> {
        match (name, target) {
            ("global", None) => Some(Self::Global),
            ("account", Some(id)) => id.parse::<AccountId>().ok().map(Self::Account),
            ("instrument", Some(id)) => id.parse::<InstrumentId>().ok().map(Self::Instrument),
            ("client", Some(id)) if !id.is_empty() => Some(Self::Client(id.to_owned())),
            ("trader", Some(id)) if !id.is_empty() => Some(Self::Trader(id.to_owned())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips_through_its_stored_parts() {
        let scopes = [
            KillSwitchScopeRecord::Global,
            KillSwitchScopeRecord::Account("ACC-1".parse().unwrap()),
            KillSwitchScopeRecord::Instrument("BTC-USD".parse().unwrap()),
            KillSwitchScopeRecord::Client("algo-7".into()),
            KillSwitchScopeRecord::Trader("u-42".into()),
        ];
        for scope in scopes {
            let back = KillSwitchScopeRecord::from_parts(scope.name(), scope.target());
            assert_eq!(back, Some(scope));
        }
    }

    #[test]
    fn malformed_stored_parts_do_not_decode() {
        assert_eq!(KillSwitchScopeRecord::from_parts("global", Some("x")), None);
        assert_eq!(KillSwitchScopeRecord::from_parts("account", None), None);
        assert_eq!(KillSwitchScopeRecord::from_parts("client", Some("")), None);
        assert_eq!(KillSwitchScopeRecord::from_parts("desk", Some("x")), None);
    }
}
