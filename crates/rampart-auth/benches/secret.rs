//! Client-secret checks: a wrong secret, an unknown client and a damaged hash cost the same.
//!
//! Run with `cargo bench -p rampart-auth --bench secret`; the three timings
//! should agree within noise, so that response time does not tell an unknown
//! client id from a wrong secret.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use rampart_auth::secret::{generate_client_secret, hash_secret, verify_dummy, verify_secret};

fn secret_checks(c: &mut Criterion) {
    let stored = hash_secret(&generate_client_secret()).unwrap();
    let wrong = generate_client_secret();

    let mut group = c.benchmark_group("client_secret");
    group.sample_size(20);
    group.bench_function("wrong_secret_for_known_client", |b| {
        b.iter(|| verify_secret(black_box(&stored), black_box(&wrong)))
    });
    group.bench_function("unknown_client", |b| {
        b.iter(|| verify_dummy(black_box(&wrong)))
    });
    group.bench_function("damaged_stored_hash", |b| {
        b.iter(|| verify_secret(black_box("not-a-phc-string"), black_box(&wrong)))
    });
    group.finish();
}

criterion_group!(benches, secret_checks);
criterion_main!(benches);
