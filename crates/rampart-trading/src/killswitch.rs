//! The kill switch (MiFID II RTS 6, Article 12): engagements that stop trading.
//!
//! `KillSwitch` owns the engagements in force, in memory, shared by every task
//! of the gateway (it is cheap to clone; clones share state). The store keeps
//! the durable record; at start-up the gateway restores the active engagements
//! with [`KillSwitch::with_engagements`]. A new order is refused while any
//! engagement's scope ([`KillSwitchScope`]) covers it.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use rampart_core::kill_scope::{KillSwitchScope, OrderContext};
pub use rampart_core::printable::is_hidden_char;

/// The longest reason accepted, in characters.
pub const MAX_REASON_LEN: usize = 500;

/// The id of an engagement: a time-ordered UUID (version 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EngagementId(Uuid);

impl EngagementId {
    /// A new, unique, time-ordered id.
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps an existing UUID.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The id as a UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for EngagementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for EngagementId {
    type Err = KillSwitchError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::try_parse(text)
            .map(Self)
            .map_err(|_| KillSwitchError::InvalidId)
    }
}

/// One engagement of the kill switch, in force until released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    /// The engagement's id.
    pub id: EngagementId,
    /// What it stops.
    pub scope: KillSwitchScope,
    /// Why, as given by the person who engaged it.
    pub reason: String,
    /// The opaque id of the person or client who engaged it.
    pub engaged_by: String,
    /// When it was engaged (UTC).
    pub engaged_at: DateTime<Utc>,
}

/// What went wrong with a kill-switch request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KillSwitchError {
    /// The reason is empty, too long or holds control or format characters.
    #[error("`reason` must be 1 to {MAX_REASON_LEN} printable characters")]
    InvalidReason,
    /// The id is not a UUID.
    #[error("`id` must be a UUID")]
    InvalidId,
    /// The scope is already covered by an engagement in force.
    #[error("the kill switch is already engaged for this scope as `{0}`")]
    AlreadyEngaged(EngagementId),
    /// No engagement in force has this id or scope.
    #[error("no engagement of the kill switch is in force for this id or scope")]
    NotEngaged,
}

/// The engagements in force, shared across tasks.
#[derive(Debug, Clone, Default)]
pub struct KillSwitch {
    engagements: Arc<RwLock<Vec<Engagement>>>,
}

impl KillSwitch {
    /// A kill switch with nothing engaged.
    pub fn new() -> Self {
        Self::default()
    }

    /// A kill switch holding engagements restored from the store.
    pub fn with_engagements(engagements: impl IntoIterator<Item = Engagement>) -> Self {
        let mut engagements: Vec<Engagement> = engagements.into_iter().collect();
        engagements.sort_by_key(|e| (e.engaged_at, e.id));
        Self {
            engagements: Arc::new(RwLock::new(engagements)),
        }
    }

    /// Engages the kill switch for `scope`; refuses a scope already engaged.
    pub fn engage(
        &self,
        scope: KillSwitchScope,
        reason: &str,
        engaged_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Engagement, KillSwitchError> {
        check_reason(reason)?;
        let mut engagements = self
            .engagements
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = engagements.iter().find(|e| e.scope == scope) {
            return Err(KillSwitchError::AlreadyEngaged(existing.id));
        }

        let engagement = Engagement {
            id: EngagementId::generate(),
            scope,
            reason: reason.to_owned(),
            engaged_by: engaged_by.to_owned(),
            engaged_at: now,
        };
        engagements.push(engagement.clone());
        Ok(engagement)
    }

    /// Releases the engagement with `id` and returns it.
    pub fn release(&self, id: EngagementId) -> Result<Engagement, KillSwitchError> {
        self.remove(|e| e.id == id)
    }

    /// Releases the engagement of `scope` and returns it.
    pub fn release_scope(&self, scope: &KillSwitchScope) -> Result<Engagement, KillSwitchError> {
        self.remove(|e| e.scope == *scope)
    }

    /// The oldest engagement in force that stops `order`, if any.
    pub fn blocking(&self, order: &OrderContext<'_>) -> Option<Engagement> {
        let engagements = self
            .engagements
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        engagements.iter().find(|e| e.scope.covers(order)).cloned()
    }

    /// The engagement in force with `id`, if any.
    pub fn get(&self, id: EngagementId) -> Option<Engagement> {
        let engagements = self
            .engagements
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        engagements.iter().find(|e| e.id == id).cloned()
    }

    /// Every engagement in force, oldest first.
    pub fn engaged(&self) -> Vec<Engagement> {
        self.engagements
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn remove(&self, matches: impl Fn(&Engagement) -> bool) -> Result<Engagement, KillSwitchError> {
        let mut engagements = self
            .engagements
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let index = engagements
            .iter()
            .position(matches)
            .ok_or(KillSwitchError::NotEngaged)?;
        Ok(engagements.remove(index))
    }
}

/// Checks a reason: 1 to [`MAX_REASON_LEN`] characters, not blank, and free of
/// control and format characters, so that it prints as what it says.
pub fn check_reason(reason: &str) -> Result<(), KillSwitchError> {
    let length = reason.chars().count();
    let printable = !reason.chars().any(is_hidden_char);
    if (1..=MAX_REASON_LEN).contains(&length) && printable && !reason.trim().is_empty() {
        return Ok(());
    }
    Err(KillSwitchError::InvalidReason)
}

#[cfg(test)]
#[path = "killswitch_tests.rs"]
mod tests;
