//! Handing over a set-up token once the change that issued it is durable.
//!
//! Rule upheld: a set-up token reaches only its person, and an answer only
//! says how and until when. Delivery runs after the issuing transaction has
//! committed, so a slow mail relay never holds the store's writer. A delivery
//! that succeeds is audited with its method; one that fails withdraws the token
//! (so no copy of a live token is left half-delivered) in the same transaction
//! as its audit event, and the caller is told to ask for a new one.

use chrono::{DateTime, Utc};
use rampart_audit::Outcome;
use rampart_store::StoredUser;
use serde_json::{Value, json};

use crate::problem::ApiError;
use crate::service::identity_action as act;
use crate::service::identity_setup::{self, IssuedSetup};
use crate::service::setup_delivery::{DeliveryError, SetupLetter};
use crate::service::users::target;
use crate::service::{audit, internal};
use crate::state::AppState;

/// Delivers `setup`, issued to `user` by `actor`; answers how and until when.
pub async fn hand_over(
    state: &AppState,
    actor: &str,
    user: &StoredUser,
    setup: IssuedSetup,
) -> Result<Value, ApiError> {
    let delivery = &state.setup_delivery;
    let method = delivery.method().as_str();
    let profile = state.store.user_profile(&user.id).await;
    let profile = profile.map_err(|e| internal("user profile", &e))?;
    let letter = SetupLetter {
        user_id: &user.id,
        username: &user.username,
        email: profile.as_ref().and_then(|p| p.email.as_deref()),
        token: &setup.token,
        expires_at: setup.expires_at,
    };
    match delivery.deliver(&state.secrets.secrets, &letter).await {
        Ok(()) => {
            let details = json!({ "delivery": method, "expires_at": expiry(&setup.expires_at) });
            let event = audit::event(
                actor,
                act::SETUP_DELIVERED,
                &target(&user.id),
                Outcome::Success,
            );
            audit::append_or_log(&state.store, audit::stamp(event.details(details.clone()))).await;
            Ok(details)
        }
        Err(error) => Err(withdraw(state, actor, &user.id, method, error).await),
    }
}

/// Issues a fresh set-up token for `user_id` in its own transaction, then hands it over.
pub async fn issue_and_hand_over(
    state: &AppState,
    actor: &str,
    user_id: &str,
) -> Result<Value, ApiError> {
    let failed = |e: rampart_store::StoreError| internal("setup token", &e);
    let now = state.clock.now();
    let mut tx = state.store.begin().await.map_err(failed)?;
    let user = tx.user(user_id).await.map_err(failed)?;
    let user = user.ok_or(ApiError::NotFound)?;
    let setup = identity_setup::issue(&mut tx, user_id, now).await;
    let setup = setup.map_err(|e| internal("setup token", &e))?;
    tx.commit().await.map_err(failed)?;
    hand_over(state, actor, &user, setup).await
}

/// Ends every set-up token of `user_id` after a failed delivery, and records why.
async fn withdraw(
    state: &AppState,
    actor: &str,
    user_id: &str,
    method: &str,
    error: DeliveryError,
) -> ApiError {
    tracing::warn!(principal = actor, user = user_id, delivery = method, %error,
        "set-up token not delivered; withdrawn");
    let reason = error.to_string();
    let now = state.clock.now();
    let details = json!({ "delivery": method, "reason": reason });
    let event = audit::event(
        actor,
        act::SETUP_UNDELIVERED,
        &target(user_id),
        Outcome::Failed,
    );
    let recorded = async {
        let mut tx = state.store.begin().await?;
        tx.end_setup_tokens(user_id, now).await?;
        tx.append(audit::stamp(event.details(details))).await?;
        tx.commit().await
    };
    if let Err(error) = recorded.await {
        return internal("setup withdrawal", &error);
    }
    let public = error.public_detail();
    ApiError::SetupUndelivered(format!("the set-up token could not be delivered: {public}"))
}

fn expiry(at: &DateTime<Utc>) -> String {
    rampart_audit::time::format(at)
}
