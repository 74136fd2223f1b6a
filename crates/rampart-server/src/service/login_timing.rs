//! The sign-in checks that must cost the same whatever the answer: password and recovery code.
//!
//! Rule upheld: an unknown user and a wrong password get the same answer in
//! the same time. An unknown username costs the same argon2id verification as
//! a known one; a recovery code costs the same fixed number of verifications
//! whether the password was right, wrong, or the user unknown. Both run on the
//! blocking pool, outside any transaction, so no argon2id runs while the
//! store's writer is held.

use rampart_auth::password::{verify_dummy_password, verify_password};
use rampart_auth::recovery::{DEFAULT_CODES, verify_recovery_code_in_slots};
use rampart_store::StoredUser;
use secrecy::SecretString;

use crate::problem::ApiError;
use crate::service::internal;
use crate::state::AppState;

/// A recovery code that matched one of the user's unused codes.
pub(super) struct RecoveryMatch {
    /// Its position among the user's codes.
    pub(super) position: u32,
    /// How many unused codes are left once it is spent.
    pub(super) remaining: usize,
}

/// One argon2id verification whether or not the user exists.
pub(super) async fn check_password(user: Option<&StoredUser>, password: &SecretString) -> bool {
    let hash = user.map(|u| u.password_hash.clone());
    let password = password.clone();
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&hash, &password),
        None => {
            verify_dummy_password(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// A subject id no user has (ids are never empty): whose codes an unknown user's check reads.
const NO_ONE: &str = "";

/// Which unused recovery code of `user` matches `code`, at a fixed cost.
///
/// Every unused code is checked, padded with dummy checks up to the codes a
/// user gets, so an unknown user, a wrong password and a right one cost the same.
pub(super) async fn check_recovery(
    state: &AppState,
    user: Option<&StoredUser>,
    code: &SecretString,
) -> Result<Option<RecoveryMatch>, ApiError> {
    // An unknown user's codes are read too (under an id no one has), so that the
    // read itself does not tell a known username from an unknown one.
    let id = user.map_or(NO_ONE, |user| user.id.as_str());
    let stored = state
        .store
        .recovery_codes(id)
        .await
        .map_err(|e| internal("recovery codes", &e))?;
    let slots = stored.len().max(DEFAULT_CODES);
    let unused: Vec<_> = stored.into_iter().filter(|c| !c.used).collect();
    let hashes: Vec<String> = unused.iter().map(|c| c.code_hash.clone()).collect();
    let code = code.clone();
    let matched =
        tokio::task::spawn_blocking(move || verify_recovery_code_in_slots(&hashes, &code, slots))
            .await
            .map_err(|e| internal("recovery check", &e))?;
    Ok(matched
        .and_then(|index| unused.get(index))
        .map(|c| RecoveryMatch {
            position: c.position,
            remaining: unused.len().saturating_sub(1),
        }))
}
