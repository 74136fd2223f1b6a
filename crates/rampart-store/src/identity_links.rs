//! Finding the local person an outside identity is linked to, by e-mail.
//!
//! Used when a trusted issuer is configured with `link_by = "email"`, so that
//! the person behind an outside token is the same subject for four-eyes
//! checks. An address shared by two people links to neither.

use crate::error::StoreError;
use crate::store::Store;

impl Store {
    /// The subject id of the one user whose e-mail is `email` (ignoring ASCII case).
    pub async fn user_id_by_email(&self, email: &str) -> Result<Option<String>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT user_id FROM user_profiles WHERE email IS NOT NULL \
             AND lower(email) = lower(?) LIMIT 2",
        )
        .bind(email)
        .fetch_all(&mut *self.reader().await?)
        .await?;
        Ok(match ids.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        })
    }
}
