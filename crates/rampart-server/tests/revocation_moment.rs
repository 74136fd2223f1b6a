//! Over real HTTPS: a subject revocation has one moment. The list in memory and
//! a restarted gateway (which loads the moment from the store) refuse and
//! accept exactly the same tokens around it, to the millisecond, even when the
//! revoking request waited for the store's writer in between.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::time::Duration as StdDuration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rampart_core::Role;
use rampart_testkit::TestGateway;
use rampart_testkit::forge::{Forge, claims_of};
use rampart_testkit::people::{Setup, TestUser};
use serde_json::{Value, json};

/// Milliseconds around the stored moment at which probe tokens claim to be issued.
const OFFSETS_MS: [i64; 5] = [-1, 0, 1, 2, 250];

/// How long the test keeps the store's writer from the revoking request.
const HOLD: StdDuration = StdDuration::from_millis(1000);

async fn admin_token(gw: &TestGateway) -> String {
    let admin = gw.add_user(&[Role::Admin], &[], Setup::READY).await;
    gw.login(&admin).await.0
}

/// Takes `trader` away from `person` while the test holds the store's writer for
/// [`HOLD`], so that the request waits between choosing its moment and committing.
async fn reduce_while_writer_is_held(gw: &TestGateway, admin: &str, person: &TestUser) {
    let (held, is_held) = tokio::sync::oneshot::channel();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let holder = gw.in_store(move |store| async move {
        let tx = store.begin().await?;
        let _ = held.send(());
        let _ = released.await;
        tx.commit().await
    });
    let reduce = async {
        is_held.await.unwrap();
        let body = json!({ "roles": ["auditor"] });
        let path = format!("/v1/users/{}", person.id);
        let request = gw
            .api()
            .request(reqwest::Method::PATCH, &path, Some(admin))
            .json(&body);
        let answer = tokio::spawn(rampart_testkit::api::Answer::of(request));
        tokio::time::sleep(HOLD).await;
        release.send(()).unwrap();
        answer.await.unwrap()
    };
    let (held_result, answer) = tokio::join!(holder, reduce);
    held_result.unwrap();
    answer.assert_json(200);
}

/// How far the test moves the gateway's clock while the revoking request waits.
const WAITED: Duration = Duration::seconds(90);

/// Sends `method` `path` (with `body`) while the test holds the store's writer; moves
/// the gateway's clock by [`WAITED`] during the wait, and answers the clock's time
/// just before the writer was released, with the request's status.
async fn revoke_across_a_clock_step(
    gw: &TestGateway,
    admin: &str,
    method: reqwest::Method,
    path: String,
    body: Option<Value>,
) -> (DateTime<Utc>, u16) {
    let (held, is_held) = tokio::sync::oneshot::channel();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let holder = gw.in_store(move |store| async move {
        let tx = store.begin().await?;
        let _ = held.send(());
        let _ = released.await;
        tx.commit().await
    });
    let revoke = async {
        is_held.await.unwrap();
        let mut request = gw.api().request(method, &path, Some(admin));
        if let Some(body) = &body {
            request = request.json(body);
        }
        let answer = tokio::spawn(rampart_testkit::api::Answer::of(request));
        tokio::time::sleep(StdDuration::from_millis(400)).await;
        gw.clock().advance(WAITED);
        let released_at = gw.clock().now();
        release.send(()).unwrap();
        (released_at, answer.await.unwrap())
    };
    let (held_result, (released_at, answer)) = tokio::join!(holder, revoke);
    held_result.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text);
    (released_at, answer.status)
}

/// Checks, in memory and after a restart, that the moment recorded for `person` is not
/// before `released_at`, that a token of theirs (shaped as `template`) issued a
/// millisecond before it is refused, and that one issued after the moment is accepted.
async fn refused_up_to_the_release(
    gw: TestGateway,
    person: &TestUser,
    template: &str,
    released_at: DateTime<Utc>,
) {
    let id = person.id.clone();
    let moment = gw
        .in_store(move |store| async move { store.subject_revoked_at(&id).await })
        .await
        .unwrap()
        .expect("the revocation is recorded");
    assert!(
        moment >= released_at,
        "the moment {moment} is read after the writer was released at {released_at}"
    );
    let probes = [
        released_at.timestamp_millis() - 1,
        moment.timestamp_millis() + 250,
    ];
    let key = gw.signing_key_der().await;
    let status_of = |gw: &TestGateway, issued_ms: i64, key: Vec<u8>| {
        let token = issued_at(template, issued_ms, gw.base_url(), &key);
        let api = gw.api();
        async move { api.get("/v1/kill-switch", Some(&token)).await.status }
    };
    let mut verdicts = Vec::new();
    for issued_ms in probes {
        verdicts.push(status_of(&gw, issued_ms, key.clone()).await);
    }
    assert_eq!(
        verdicts,
        [401, 200],
        "refused up to the release, accepted after, in memory"
    );
    let gw = gw.restart().await;
    let mut after_restart = Vec::new();
    for issued_ms in probes {
        after_restart.push(status_of(&gw, issued_ms, key.clone()).await);
    }
    assert_eq!(
        after_restart,
        [401, 200],
        "the restarted gateway refuses the same tokens"
    );
}

#[tokio::test]
async fn an_access_change_waiting_for_the_writer_cuts_off_tokens_issued_while_it_waited() {
    let gw = TestGateway::start().await;
    let admin = admin_token(&gw).await;
    let person = gw
        .add_user(&[Role::Auditor, Role::Trader], &[], Setup::READY)
        .await;
    let path = format!("/v1/users/{}", person.id);
    let body = json!({ "roles": ["auditor"] });
    let (released_at, _) =
        revoke_across_a_clock_step(&gw, &admin, reqwest::Method::PATCH, path, Some(body)).await;
    let (template, _) = gw.login(&person).await;
    refused_up_to_the_release(gw, &person, &template, released_at).await;
}

#[tokio::test]
async fn a_reset_waiting_for_the_writer_cuts_off_tokens_issued_while_it_waited() {
    let gw = TestGateway::start().await;
    let admin = admin_token(&gw).await;
    let person = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let path = format!("/v1/users/{}/reset-mfa", person.id);
    let (released_at, _) =
        revoke_across_a_clock_step(&gw, &admin, reqwest::Method::POST, path, None).await;
    // The person must enrol again, so their tokens take the shape of a bystander's.
    let bystander = gw.add_user(&[Role::Auditor], &[], Setup::READY).await;
    let (theirs, _) = gw.login(&bystander).await;
    let key = gw.signing_key_der().await;
    let template = Forge::from_token(&theirs)
        .claim("sub", Value::from(person.id.clone()))
        .sign_eddsa(&key);
    refused_up_to_the_release(gw, &person, &template, released_at).await;
}

/// `template` re-signed as issued at `issued_ms` (its `jti` carries the milliseconds)
/// under issuer `iss`, with everything else unchanged.
fn issued_at(template: &str, issued_ms: i64, iss: &str, key: &[u8]) -> String {
    let claims = claims_of(template);
    let mut jti = URL_SAFE_NO_PAD
        .decode(claims["jti"].as_str().unwrap())
        .unwrap();
    assert_eq!(jti.len(), 16, "a token id of 16 bytes");
    let millis = u64::try_from(issued_ms).unwrap().to_be_bytes();
    jti[..6].copy_from_slice(&millis[2..]);
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    let iat = issued_ms.div_euclid(1000);
    Forge::from_token(template)
        .claim("jti", Value::from(URL_SAFE_NO_PAD.encode(&jti)))
        .claim("iat", Value::from(iat))
        .claim("exp", Value::from(iat + lifetime))
        .claim("iss", Value::from(iss))
        .sign_eddsa(key)
}

/// Which probe tokens the gateway accepts right now, in the order of [`OFFSETS_MS`].
async fn accepted(gw: &TestGateway, template: &str, moment_ms: i64) -> Vec<bool> {
    let key = gw.signing_key_der().await;
    let iss = gw.base_url().to_owned();
    let mut verdicts = Vec::new();
    for offset in OFFSETS_MS {
        let token = issued_at(template, moment_ms + offset, &iss, &key);
        let answer = gw.api().get("/v1/kill-switch", Some(&token)).await;
        assert!(
            matches!(answer.status, 200 | 401),
            "status {} for {offset} ms: {}",
            answer.status,
            answer.text
        );
        verdicts.push(answer.status == 200);
    }
    verdicts
}

#[tokio::test]
async fn memory_and_a_restarted_gateway_agree_on_every_token_at_the_revocation_millisecond() {
    let gw = TestGateway::start().await;
    let admin = admin_token(&gw).await;
    let person = gw
        .add_user(&[Role::Auditor, Role::Trader], &[], Setup::READY)
        .await;
    let (before, _) = gw.login(&person).await;

    reduce_while_writer_is_held(&gw, &admin, &person).await;
    let id = person.id.clone();
    let moment = gw
        .in_store(move |store| async move { store.subject_revoked_at(&id).await })
        .await
        .unwrap()
        .expect("the revocation is recorded");
    let moment_ms = moment.timestamp_millis();
    // A session begun after the revocation, whose tokens only the moment can refuse.
    let (template, _) = gw.login(&person).await;
    assert_eq!(claims_of(&template)["roles"], json!(["auditor"]));

    let in_memory = accepted(&gw, &template, moment_ms).await;
    assert_eq!(
        in_memory,
        [false, false, true, true, true],
        "tokens issued at or before the stored moment are refused, later ones accepted"
    );
    gw.api()
        .get("/v1/kill-switch", Some(&before))
        .await
        .assert_problem(401, "auth.invalid_token");

    let gw = gw.restart().await;
    let after_restart = accepted(&gw, &template, moment_ms).await;
    assert_eq!(
        after_restart, in_memory,
        "the restarted gateway agrees with memory"
    );
}
