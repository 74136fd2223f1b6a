//! The tasks that run beside the listener: the replay, the fill recorder, the kill switch
//! reloader, secret rotation, approval expiry and the purge of sign-in failure counts.
//!
//! Rule upheld: on stop the replay ends first and the recorder last, so every fill the
//! broker reported is recorded before the store closes.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::service::fills;
use crate::state::AppState;

/// The tasks that run beside the listener: the replay, the fill recorder, the reloader.
pub(super) struct Background {
    shutdown: CancellationToken,
    recorder_stop: CancellationToken,
    broker: JoinHandle<()>,
    reloader: JoinHandle<()>,
    recorder: JoinHandle<()>,
    rotation: JoinHandle<()>,
    expiry: JoinHandle<()>,
    throttle_purge: JoinHandle<()>,
}

impl Background {
    pub(super) fn spawn(state: &AppState, fills: mpsc::Receiver<rampart_trading::Fill>) -> Self {
        let shutdown = CancellationToken::new();
        let recorder_stop = CancellationToken::new();
        let recorder = fills::run_recorder(state.clone(), fills, recorder_stop.clone());
        Self {
            broker: spawn_broker(state, shutdown.clone()),
            reloader: spawn_reloader(state, shutdown.clone()),
            rotation: spawn_rotation(state, shutdown.clone()),
            expiry: spawn_expiry(state, shutdown.clone()),
            throttle_purge: tokio::spawn(crate::service::login_throttle::run_purge(
                state.clone(),
                shutdown.clone(),
            )),
            recorder: tokio::spawn(recorder),
            shutdown,
            recorder_stop,
        }
    }

    /// Stops the replay first, then drains and records every fill it already reported.
    pub(super) async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.broker.await;
        let _ = self.reloader.await;
        let _ = self.rotation.await;
        let _ = self.expiry.await;
        let _ = self.throttle_purge.await;
        self.recorder_stop.cancel();
        let _ = self.recorder.await;
    }
}

fn spawn_broker(state: &AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    let broker = state.broker.clone();
    tokio::spawn(async move { broker.run(shutdown).await })
}

fn spawn_rotation(state: &AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let secrets = &state.secrets;
        secrets
            .run_scheduler(&state.issuer, state.broker(), shutdown)
            .await;
    })
}

fn spawn_expiry(state: &AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    let every = Duration::from_secs(state.risk.approval_expiry_interval_seconds);
    let task = crate::service::approval_expiry::run(state.clone(), every, shutdown);
    tokio::spawn(task)
}

fn spawn_reloader(state: &AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        state
            .kill_switch
            .run_reloader(state.store.clone(), shutdown)
            .await;
    })
}
