//! Per-account serialisation of the order path.
//!
//! An order is decided in one transaction and its immediate fill recorded in a
//! second; holding the account's lock across both means the next order on the
//! account sees the fill, so concurrent orders cannot together break a limit
//! that each alone respects. Locks are striped: memory stays bounded whatever
//! account ids arrive.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rampart_core::AccountId;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How many locks the accounts share.
pub const STRIPES: usize = 64;

/// A fixed set of locks, one chosen per account by hash.
#[derive(Debug)]
pub struct AccountLocks {
    stripes: Vec<Arc<Mutex<()>>>,
}

impl Default for AccountLocks {
    fn default() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| Arc::new(Mutex::new(()))).collect(),
        }
    }
}

impl AccountLocks {
    /// Waits for the lock of `account`.
    pub async fn lock(&self, account: &AccountId) -> Option<OwnedMutexGuard<()>> {
        let mut hasher = DefaultHasher::new();
        account.hash(&mut hasher);
        let index = usize::try_from(hasher.finish() % STRIPES as u64).unwrap_or_default();
        let stripe = self.stripes.get(index)?;
        Some(stripe.clone().lock_owned().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_account_is_held_by_one_order_at_a_time() {
        let locks = AccountLocks::default();
        let account: AccountId = "ACC-1".parse().unwrap();
        let held = locks.lock(&account).await.unwrap();
        let waiting =
            tokio::time::timeout(std::time::Duration::from_millis(50), locks.lock(&account));
        assert!(waiting.await.is_err(), "a second holder must wait");
        drop(held);
        assert!(locks.lock(&account).await.is_some());
    }
}
