//! Over real HTTPS: an unknown username and a wrong password take the same
//! time. Statistical, over many tries: the two middle halves (interquartile
//! ranges) of the response times must overlap, and the medians must be
//! within a generous factor of each other, so that scheduling noise on a
//! busy machine cannot fail it but a skipped password check would.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use rampart_core::Role;
use rampart_testkit::TestGateway;
use rampart_testkit::people::Setup;
use serde_json::json;

const TRIES: usize = 24;

fn quartiles(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let at = |q: usize| samples[(samples.len() - 1) * q / 4];
    (at(1), at(2), at(3))
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
