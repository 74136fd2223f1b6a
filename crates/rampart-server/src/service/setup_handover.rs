//! Handing over a set-up token once the change that issued it is durable.
//!
//! Rule upheld: a set-up token reaches only its person, and an answer only
//! says how and until when. Delivery runs after the issuing transaction has
//! committed, so a slow mail relay never holds the store's writer. A delivery
//! that succeeds is audited with its method; one that fails withdraws the token
//! (so no copy of a live token is left half-delivered) in the same transaction
//! as its audit event, and the caller is told to ask for a new one. A
//! [`Handover`] needs only the store, the delivery and the secret store, so the
//! command line hands tokens over exactly as the gateway does.

use chrono::{DateTime, Utc};
use rampart_audit::Outcome;
use rampart_store::{Store, StoreError, StoredUser};
use serde_json::{Value, json};

use crate::problem::ApiError;
use crate::secrets::GatewaySecrets;
use crate::service::identity_action as act;
use crate::service::identity_setup::{self, IssuedSetup};
use crate::service::setup_delivery::{DeliveryError, SetupDelivery, SetupLetter};
use crate::service::users::target;
use crate::service::{audit, internal};
use crate::state::AppState;

/// What a hand-over reads and writes: the store, the configured delivery, the secret store.
pub struct Handover<'a> {
    /// Where the outcome is audited and an undelivered token withdrawn.
    pub store: &'a Store,
    /// How tokens reach their person.
    pub delivery: &'a SetupDelivery,
    /// Where a relay password is read.
    pub secrets: &'a GatewaySecrets,
}

/// What became of a set-up token handed over; neither variant holds the token.
#[derive(Debug, Clone, PartialEq)]
pub enum Handed {
    /// It reached the person: how, and until when it is good.
    Delivered(Value),
    /// It could not be delivered and was withdrawn: how it was tried, and why it failed.
    Undelivered(Value),
}

/// Why the outcome of a hand-over could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The set-up token could not be issued.
    #[error(transparent)]
    Setup(#[from] identity_setup::SetupError),
}

impl<'a> Handover<'a> {
    /// The hand-over of the running gateway.
    pub fn of(state: &'a AppState) -> Self {
        Self {
            store: &state.store,
            delivery: &state.setup_delivery,
            secrets: &state.secrets.secrets,
        }
    }

    /// Delivers `setup`, issued to `user` by `actor`, to `email` (the address read in the
    /// issuing transaction), at `now`; withdraws it when that fails.
    pub async fn hand_over(
        &self,
        actor: &str,
        user: &StoredUser,
        email: Option<&str>,
        setup: IssuedSetup,
        now: DateTime<Utc>,
    ) -> Result<Handed, HandoverError> {
        let letter = SetupLetter {
            user_id: &user.id,
            username: &user.username,
            email,
            token: &setup.token,
            expires_at: setup.expires_at,
        };
        let method = self.delivery.method().as_str();
        match self.delivery.deliver(self.secrets, &letter).await {
            Ok(()) => Ok(self.delivered(actor, &user.id, method, &setup).await),
            Err(error) => self.withdraw(actor, &user.id, method, error, now).await,
        }
    }

    /// Records that `setup` reached the person `user_id` by `method`.
    async fn delivered(
        &self,
        actor: &str,
        user_id: &str,
        method: &str,
        setup: &IssuedSetup,
    ) -> Handed {
        let expires_at = rampart_audit::time::format(&setup.expires_at);
        let details = json!({ "delivery": method, "expires_at": expires_at });
        let event = audit::event(
            actor,
            act::SETUP_DELIVERED,
            &target(user_id),
            Outcome::Success,
        );
        audit::append_or_log(self.store, audit::stamp(event.details(details))).await;
        Handed::Delivered(
            json!({ "delivered": true, "delivery": method, "expires_at": expires_at }),
        )
    }

    /// Ends every set-up token of `user_id` after a failed delivery, and records why.
    async fn withdraw(
        &self,
        actor: &str,
        user_id: &str,
        method: &str,
        error: DeliveryError,
        now: DateTime<Utc>,
    ) -> Result<Handed, HandoverError> {
        tracing::warn!(principal = actor, user = user_id, delivery = method, %error,
            "set-up token not delivered; withdrawn");
        let reason = error.to_string();
        let details = json!({ "delivery": method, "reason": reason });
        let event = audit::event(
            actor,
            act::SETUP_UNDELIVERED,
            &target(user_id),
            Outcome::Failed,
        );
        let mut tx = self.store.begin().await?;
        tx.end_setup_tokens(user_id, now).await?;
        tx.append(audit::stamp(event.details(details))).await?;
        tx.commit().await?;
        Ok(Handed::Undelivered(json!({
            "delivered": false,
            "delivery": method,
            "reason": error.public_detail(),
            "withdrawn": true,
        })))
    }
}

/// Delivers `setup` for a change the caller asked for; a failed delivery answers 502
/// (the change is made, the token withdrawn, and the caller asks for a new one).
pub async fn hand_over(
    state: &AppState,
    actor: &str,
    user: &StoredUser,
    email: Option<&str>,
    setup: IssuedSetup,
) -> Result<Value, ApiError> {
    let handed = Handover::of(state)
        .hand_over(actor, user, email, setup, state.clock.now())
        .await;
    match handed.map_err(|e| internal("setup hand-over", &e))? {
        Handed::Delivered(answer) => Ok(answer),
        Handed::Undelivered(answer) => Err(ApiError::SetupUndelivered(format!(
            "the set-up token could not be delivered: {}",
            answer
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
        ))),
    }
}

/// Delivers `setup` to `email` after an approval committed: the decision stands whatever
/// happens, so a failed delivery, or a failure to record it, is part of the answer
/// (`delivered: false`), never an error.
pub async fn hand_over_decided(
    state: &AppState,
    actor: &str,
    user: &StoredUser,
    email: Option<&str>,
    setup: IssuedSetup,
) -> Value {
    let handed = Handover::of(state)
        .hand_over(actor, user, email, setup, state.clock.now())
        .await;
    match handed {
        Ok(Handed::Delivered(answer) | Handed::Undelivered(answer)) => answer,
        Err(error) => unrecorded(state, actor, &user.id, &error),
    }
}

/// Issues a fresh set-up token for `user_id` in its own transaction, then hands it, to the
/// address read in that transaction, over as part of a committed decision.
pub async fn issue_and_hand_over(state: &AppState, actor: &str, user_id: &str) -> Value {
    match issue_after_decision(state, user_id).await {
        Ok(Some((user, email, setup))) => {
            hand_over_decided(state, actor, &user, email.as_deref(), setup).await
        }
        Ok(None) => {
            let event = audit::event(
                actor,
                act::SETUP_WITHHELD,
                &target(user_id),
                Outcome::Denied,
            )
            .details(json!({ "reason": "disabled" }));
            audit::append_or_log(&state.store, audit::stamp(event)).await;
            let method = state.setup_delivery.method().as_str();
            json!({ "delivered": false, "issued": false, "delivery": method, "reason": "disabled" })
        }
        Err(error) => unrecorded(state, actor, user_id, &error),
    }
}

/// The person, their address and a set-up token just issued to them, committed; none to
/// a person disabled since the decision (the token would work once they are enabled).
async fn issue_after_decision(
    state: &AppState,
    user_id: &str,
) -> Result<Option<(StoredUser, Option<String>, IssuedSetup)>, HandoverError> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let user = tx.user(user_id).await?;
    let user = user.ok_or_else(|| StoreError::NotFound {
        what: "user",
        key: user_id.to_owned(),
    })?;
    if user.disabled {
        return Ok(None);
    }
    let profile = tx.user_profile(user_id).await?.unwrap_or_default();
    let setup = identity_setup::issue(&mut tx, user_id, now).await?;
    tx.commit().await?;
    Ok(Some((user, profile.email, setup)))
}

/// The answer when what became of a set-up token could not be recorded; the cause is logged.
fn unrecorded(state: &AppState, actor: &str, user_id: &str, error: &HandoverError) -> Value {
    let method = state.setup_delivery.method().as_str();
    tracing::error!(principal = actor, user = user_id, delivery = method, %error,
        "set-up hand-over after a decision could not be recorded");
    json!({ "delivered": false, "recorded": false, "delivery": method })
}
