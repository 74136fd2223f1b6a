//! What a privileged grant reads inside its decision: the person's set-up history and profile.
//!
//! Rule upheld: a set-up token issued when a grant is approved goes only to a
//! person who has never had one, and the address it goes to is the one the
//! approver saw. Both reads run in the decision's write transaction, so they
//! agree with what that transaction writes.

use crate::codec::RowKey;
use crate::error::StoreError;
use crate::rows::get;
use crate::tx::WriteTx;
use crate::users::UserProfile;

impl WriteTx<'_> {
    /// Whether any set-up token, live or ended, was ever issued to `user_id`.
    pub async fn has_had_setup_token(&mut self, user_id: &str) -> Result<bool, StoreError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM setup_tokens WHERE user_id = ? LIMIT 1")
                .bind(user_id)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(found.is_some())
    }

    /// The personal data of user `id`, as this transaction sees it.
    pub async fn user_profile(&mut self, id: &str) -> Result<Option<UserProfile>, StoreError> {
        let row = sqlx::query("SELECT display_name, email FROM user_profiles WHERE user_id = ?")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        let key = RowKey {
            table: "user_profiles",
            key: id,
        };
        row.map(|row| {
            Ok(UserProfile {
                display_name: get(&row, "display_name", key)?,
                email: get(&row, "email", key)?,
            })
        })
        .transpose()
    }
}
