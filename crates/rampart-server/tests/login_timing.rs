//! Over real HTTPS: an unknown username and a wrong password take the same
//! time, and so do a right and a wrong password sent with a recovery code.
//! Statistical, over many tries: the two middle halves (interquartile ranges)
//! of the response times must overlap, and the medians must be within a
//! generous factor of each other, so that scheduling noise on a busy machine
//! cannot fail it but a skipped password check (or recovery-code check) would.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use rampart_auth::recovery::{DEFAULT_CODES, generate_codes, hash_recovery_code};
use rampart_core::Role;
use rampart_testkit::TestGateway;
use rampart_testkit::people::{PASSWORD, Setup, TestUser};
use serde_json::json;

const TRIES: usize = 24;

/// Fewer tries for the recovery path: each costs a dozen argon2id checks.
const RECOVERY_TRIES: usize = 10;

fn quartiles(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let at = |q: usize| samples[(samples.len() - 1) * q / 4];
    (at(1), at(2), at(3))
}

/// Overlapping middle halves and medians within a factor of two.
fn assert_overlap(first: Vec<Duration>, second: Vec<Duration>) {
    let (a1, a_median, a3) = quartiles(first);
    let (b1, b_median, b3) = quartiles(second);
    assert!(a1 <= b3 && b1 <= a3, "{a1:?}..{a3:?} vs {b1:?}..{b3:?}");
    let ratio = a_median.as_secs_f64() / b_median.as_secs_f64();
    assert!(
        (0.5..2.0).contains(&ratio),
        "medians {a_median:?} and {b_median:?}"
    );
}

async fn give_recovery_codes(gw: &TestGateway, user: &TestUser) {
    let codes = generate_codes(DEFAULT_CODES).unwrap();
    let hashes = tokio::task::spawn_blocking(move || {
        codes
            .iter()
            .map(|c| hash_recovery_code(c).unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let id = user.id.clone();
    gw.in_store(move |store| async move {
        let mut tx = store.begin().await?;
        tx.replace_recovery_codes(&id, &hashes).await?;
        tx.commit().await
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_right_and_a_wrong_password_with_a_recovery_code_take_overlapping_times() {
    let gw = TestGateway::start_with(|config| {
        config.auth.login.max_failures = 100;
        config.auth.login.delay_base_ms = 0;
    })
    .await;
    let user = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    give_recovery_codes(&gw, &user).await;
    let code = "AAAAA-AAAAA"; // pragma: allowlist secret
    let right = json!({ "username": user.username, "password": PASSWORD, "recovery_code": code });
    let wrong =
        json!({ "username": user.username, "password": "a wrong password", "recovery_code": code }); // pragma: allowlist secret
    let unknown = json!({ "username": "no-such-person", "password": "a wrong password", "recovery_code": code }); // pragma: allowlist secret

    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    let bodies = [&right, &wrong, &unknown];
    for round in 0..RECOVERY_TRIES {
        // Each kind goes first, second and third in turn, so that no kind always
        // pays for whatever the previous round left behind.
        for turn in 0..bodies.len() {
            let kind = (round + turn) % bodies.len();
            let started = Instant::now();
            gw.login_with(bodies[kind])
                .await
                .assert_problem(401, "auth.login_failed");
            times[kind].push(started.elapsed());
        }
    }

    let [right_times, wrong_times, unknown_times] = times;
    assert_overlap(right_times, wrong_times.clone());
    assert_overlap(unknown_times, wrong_times);
}

#[tokio::test]
async fn unknown_user_and_wrong_password_take_overlapping_times() {
    let gw = TestGateway::start_with(|config| {
        config.auth.login.max_failures = 100;
        config.auth.login.delay_base_ms = 0;
    })
    .await;
    let user = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let unknown = json!({ "username": "no-such-person", "password": "a wrong password", "totp_code": "123456" }); // pragma: allowlist secret
    let wrong =
        json!({ "username": user.username, "password": "a wrong password", "totp_code": "123456" }); // pragma: allowlist secret

    let mut unknown_times = Vec::new();
    let mut wrong_times = Vec::new();
    for _ in 0..TRIES {
        for (body, times) in [(&unknown, &mut unknown_times), (&wrong, &mut wrong_times)] {
            let started = Instant::now();
            gw.login_with(body)
                .await
                .assert_problem(401, "auth.login_failed");
            times.push(started.elapsed());
        }
    }

    let (u1, u_median, u3) = quartiles(unknown_times);
    let (w1, w_median, w3) = quartiles(wrong_times);
    assert!(
        u1 <= w3 && w1 <= u3,
        "unknown {u1:?}..{u3:?} vs wrong {w1:?}..{w3:?}"
    );
    let ratio = u_median.as_secs_f64() / w_median.as_secs_f64();
    assert!(
        (0.5..2.0).contains(&ratio),
        "medians {u_median:?} and {w_median:?}"
    );
}
