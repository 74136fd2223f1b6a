//! Taking back one failure reserved for a sign-in that then succeeded.
//!
//! The gateway counts a sign-in attempt as a failure before it checks the
//! password, so that parallel attempts cannot all pass the lockout check
//! first; a success gives its own reservation back here, and only its own:
//! the failures other attempts left against the same key stay counted.

use crate::error::StoreError;
use crate::throttle::ThrottleScope;
use crate::tx::WriteTx;

impl WriteTx<'_> {
    /// Takes one failure back from `key`; a lockout ends if the count falls under `max_failures`.
    pub async fn undo_login_failure(
        &mut self,
        scope: ThrottleScope,
        key: &str,
        max_failures: u32,
    ) -> Result<(), StoreError> {
        let scope = match scope {
            ThrottleScope::User => "user",
            ThrottleScope::Address => "address",
        };
        sqlx::query(
            "UPDATE login_failures SET failures = MAX(failures - 1, 0), \
             locked_until = CASE WHEN failures - 1 < ? THEN NULL ELSE locked_until END \
             WHERE scope = ? AND key = ?",
        )
        .bind(max_failures)
        .bind(scope)
        .bind(key)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
