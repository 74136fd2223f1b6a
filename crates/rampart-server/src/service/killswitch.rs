//! The kill switch in force (MiFID II RTS 6, Article 12), kept in memory and in the store.
//!
//! Orders are checked against the in-memory state, so an engagement stops new
//! orders at once. The store is the source of truth: the state is loaded from
//! it at start and reloaded every second, which is how a release made by the
//! operator's command line reaches a running gateway.

use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rampart_store::{KillSwitchRecord, Store, StoreError};
use rampart_trading::killswitch::KillSwitchError;
use rampart_trading::{Engagement, EngagementId, KillSwitch, KillSwitchScope, OrderContext};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// How often the state is reloaded from the store.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// The engagements in force, as the order path sees them.
#[derive(Debug, Default)]
pub struct KillSwitchState {
    current: RwLock<KillSwitch>,
    /// Serialises engagements and reloads, so that a reload never drops an
    /// engagement that is being written to the store.
    sync: Mutex<()>,
}

impl KillSwitchState {
    /// The state held in the store.
    pub async fn load(store: &Store) -> Result<Self, StoreError> {
        let state = Self::default();
        state.reload(store).await?;
        Ok(state)
    }

    /// The oldest engagement that stops `order`.
    pub fn blocking(&self, order: &OrderContext<'_>) -> Option<Engagement> {
        self.read().blocking(order)
    }

    /// The engagement in force with `id`.
    pub fn get(&self, id: EngagementId) -> Option<Engagement> {
        self.read().get(id)
    }

    /// Drops the engagement `id` from memory, once its release is durable in the store.
    pub async fn forget(&self, id: EngagementId) {
        let _guard = self.sync.lock().await;
        // A reload may already have dropped it; either way it is no longer in force.
        let _ = self.read().release(id);
    }

    /// Every engagement in force, oldest first.
    pub fn engaged(&self) -> Vec<Engagement> {
        self.read().engaged()
    }

    /// Replaces the in-memory state with the engagements active in the store.
    pub async fn reload(&self, store: &Store) -> Result<(), StoreError> {
        let _guard = self.sync.lock().await;
        let active = store.kill_switches(true).await?;
        let restored = KillSwitch::with_engagements(active.iter().filter_map(engagement_of));
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = restored;
        Ok(())
    }

    /// Engages `scope` in memory, then persists it with `persist`; undone if that fails.
    pub async fn engage<F, Fut, T>(
        &self,
        scope: KillSwitchScope,
        reason: &str,
        engaged_by: &str,
        now: DateTime<Utc>,
        persist: F,
    ) -> Result<Result<(Engagement, T), StoreError>, KillSwitchError>
    where
        F: FnOnce(Engagement) -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        let _guard = self.sync.lock().await;
        let engagement = self.read().engage(scope, reason, engaged_by, now)?;
        match persist(engagement.clone()).await {
            Ok(value) => Ok(Ok((engagement, value))),
            Err(error) => {
                let _ = self.read().release(engagement.id);
                Ok(Err(error))
            }
        }
    }

    /// Reloads every [`RELOAD_INTERVAL`] until `shutdown` fires.
    pub async fn run_reloader(&self, store: Store, shutdown: CancellationToken) {
        let mut interval = tokio::time::interval(RELOAD_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = interval.tick() => {
                    if let Err(error) = self.reload(&store).await {
                        tracing::warn!(%error, "kill switch state could not be reloaded");
                    }
                }
            }
        }
    }

    fn read(&self) -> KillSwitch {
        // KillSwitch is a shared handle: cloning it shares the same engagements.
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The store record of a new engagement.
pub fn record_of(engagement: &Engagement) -> KillSwitchRecord {
    KillSwitchRecord {
        id: engagement.id.as_uuid(),
        scope: engagement.scope.clone(),
        reason: engagement.reason.clone(),
        engaged_by: engagement.engaged_by.clone(),
        engaged_at: engagement.engaged_at,
        released_by: None,
        released_at: None,
    }
}

/// The engagement a stored record describes; `None` once released.
pub fn engagement_of(record: &KillSwitchRecord) -> Option<Engagement> {
    if record.released_at.is_some() {
        return None;
    }
    Some(Engagement {
        id: EngagementId::from_uuid(record.id),
        scope: record.scope.clone(),
        reason: record.reason.clone(),
        engaged_by: record.engaged_by.clone(),
        engaged_at: record.engaged_at,
    })
}

#[cfg(test)]
mod tests {
    use rampart_core::{AccountId, InstrumentId, PlacedByKind};

    use super::*;

    fn blocked(state: &KillSwitchState, account: &str) -> bool {
        let account: AccountId = account.parse().unwrap();
        let instrument: InstrumentId = "BTC-USD".parse().unwrap();
        let order = OrderContext {
            account: &account,
            instrument: &instrument,
            placed_by: "algo-1",
            kind: PlacedByKind::Client,
        };
        state.blocking(&order).is_some()
    }

    fn engagement(scope: KillSwitchScope) -> Engagement {
        Engagement {
            id: EngagementId::generate(),
            scope,
            reason: "market disorder".to_owned(),
            engaged_by: "risk-1".to_owned(),
            engaged_at: Utc::now(),
        }
    }

    #[test]
    fn stored_record_round_trips_to_the_same_engagement() {
        let scopes = [
            "global",
            "account:ACC-1",
            "instrument:BTC-USD",
            "client:c",
            "trader:u",
        ];
        for scope in scopes.map(|s| s.parse::<KillSwitchScope>().unwrap()) {
            let original = engagement(scope);
            assert_eq!(engagement_of(&record_of(&original)), Some(original));
        }
    }

    #[test]
    fn released_record_is_no_engagement() {
        let mut record = record_of(&engagement(KillSwitchScope::Global));
        record.released_by = Some("operator".to_owned());
        record.released_at = Some(Utc::now());
        assert_eq!(engagement_of(&record), None);
    }

    #[tokio::test]
    async fn failed_persistence_undoes_the_engagement_in_memory() {
        let state = KillSwitchState::default();
        let outcome = state
            .engage(
                KillSwitchScope::Global,
                "halt",
                "risk-1",
                Utc::now(),
                |_| async {
                    Err::<(), _>(StoreError::Invalid {
                        field: "test",
                        rule: "refused",
                    })
                },
            )
            .await;
        assert!(matches!(outcome, Ok(Err(_))));
        assert!(!blocked(&state, "ACC-1"));
    }

    #[tokio::test]
    async fn persisted_engagement_blocks_at_once() {
        let state = KillSwitchState::default();
        let scope = KillSwitchScope::Account("ACC-1".parse().unwrap());
        let outcome = state
            .engage(scope, "halt", "risk-1", Utc::now(), |_| async { Ok(()) })
            .await;
        assert!(matches!(outcome, Ok(Ok(_))));
        assert!(blocked(&state, "ACC-1"));
        assert!(!blocked(&state, "ACC-2"));
    }
}
