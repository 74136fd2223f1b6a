//! Audit benchmarks: durable appends with group commit against one fsync per append, and
//! verification speed, measured in the same run on the same disk.
//!
//! `cargo bench -p rampart-store --bench audit`. The database lives under the target
//! directory (a real disk, not a tmpfs), with `synchronous=FULL`. After each append group
//! the number of appends that shared one fsync is printed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rampart_audit::{AuditEvent, GENESIS, LogVerifier, NewEvent, Outcome, StoredEvent, action};
use rampart_store::{FlushTimes, Store, flush_counts, flush_times, verify_audit};
use serde_json::json;
use tokio::runtime::Runtime;

/// How many events the verification benchmarks cover.
const VERIFY_EVENTS: u64 = 200_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// An event as the gateway writes it for an accepted order: the target is the order's
/// UUIDv7, so targets arrive in time order, as they do in the gateway.
fn new_event(n: u64) -> NewEvent {
    NewEvent::new(
        "client-7f3a",
        action::ORDER_ACCEPTED,
        format!("order:{}", uuid::Uuid::now_v7()),
        Outcome::Success,
        format!("req-{n}"),
    )
    .policy("9c1e5d0b7a") // pragma: allowlist secret
    .details(
        json!({"account_id": "ACC-1", "instrument": "BTC-USD", "quantity": "0.5",
        "price": "43000.10", "side": "buy"}),
    )
}

fn scratch_store(rt: &Runtime) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let store = rt
        .block_on(Store::open(&dir.path().join("bench.db")))
        .unwrap();
    (dir, store)
}

/// `appends` durable appends by `appenders` concurrent tasks, each append its own commit.
async fn append_concurrently(store: &Store, appenders: u64, appends: u64) -> Duration {
    let per_task = appends.div_ceil(appenders);
    let start = Instant::now();
    let tasks: Vec<_> = (0..appenders)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    // The caller's event is built before it takes the writer, as the
                    // gateway's handlers build theirs.
                    let event = new_event(t * per_task + i);
                    let mut tx = store.begin().await.unwrap();
                    tx.append(event).await.unwrap();
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    start.elapsed()
}

fn durable_appends(c: &mut Criterion) {
    let rt = runtime();
    let (_dir, store) = scratch_store(&rt);
    let mut group = c.benchmark_group("audit_durable_append");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(1));
    for appenders in [1u64, 64, 256, 1024] {
        let before = flush_counts();
        let (times_before, wall) = (flush_times(), std::cell::Cell::new(Duration::ZERO));
        group.bench_with_input(
            BenchmarkId::new("appenders", appenders),
            &appenders,
            |b, &n| {
                b.iter_custom(|iters| {
                    let appends = iters.max(n);
                    let elapsed = rt.block_on(append_concurrently(&store, n, appends));
                    wall.set(wall.get() + elapsed);
                    // Scale to the iterations criterion asked for.
                    elapsed.mul_f64(iters as f64 / (appends.div_ceil(n) * n) as f64)
                });
            },
        );
        let after = flush_counts();
        let (flushes, units) = (after.0 - before.0, after.1 - before.1);
        eprintln!(
            "appenders={appenders}: {units} appends in {flushes} fsynced commits, \
             {:.1} appends per fsync",
            units as f64 / flushes.max(1) as f64
        );
        report_writer_share(appenders, times_before, wall.get());
    }
    group.finish();
}

/// Prints which share of the wall time flushes held the writer inserting and committing:
/// the COMMIT share is what staging the next batch during it could win at most.
fn report_writer_share(appenders: u64, before: FlushTimes, wall: Duration) {
    let after = flush_times();
    let share = |d: Duration| 100.0 * d.as_secs_f64() / wall.as_secs_f64().max(f64::EPSILON);
    eprintln!(
        "appenders={appenders}: flushes inserting {:.1}% and committing {:.1}% of the wall time",
        share(after.inserting - before.inserting),
        share(after.committing - before.committing)
    );
}

/// The cost of an append alone: many appends in one transaction, one commit.
fn append_cost(c: &mut Criterion) {
    let rt = runtime();
    let (_dir, store) = scratch_store(&rt);
    let mut group = c.benchmark_group("audit_append_in_one_transaction");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1000));
    group.bench_function("1000_appends", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut tx = store.begin().await.unwrap();
                for n in 0..1000 {
                    tx.append(new_event(n)).await.unwrap();
                }
                tx.commit().await.unwrap();
            })
        });
    });
    group.finish();
}

fn sealed_log(n: u64) -> Vec<StoredEvent> {
    let mut prev = GENESIS;
    (1..=n)
        .map(|seq| {
            let time = Utc
                .timestamp_opt(1_767_000_000, (seq % 1_000_000) as u32 * 1000)
                .unwrap();
            let stored = StoredEvent::seal(AuditEvent::from_new(seq, time, new_event(seq)), &prev);
            prev = stored.chain_hash;
            stored
        })
        .collect()
}

/// The verification benchmarks; each builds its log only when it is selected to run.
fn verification(c: &mut Criterion) {
    let log = std::cell::OnceCell::new();
    let log = || log.get_or_init(|| sealed_log(VERIFY_EVENTS));
    let lines = std::cell::OnceCell::new();
    let lines = || -> &Vec<Vec<u8>> {
        lines.get_or_init(|| log().iter().map(|s| s.event.canonical_json()).collect())
    };
    let mut group = c.benchmark_group("audit_verify");
    group.sample_size(10);
    group.throughput(Throughput::Elements(VERIFY_EVENTS));

    group.bench_function("canonical_lines_tree", |b| {
        let lines = lines();
        b.iter(|| {
            let mut verifier = LogVerifier::new();
            for (seq, line) in (1..).zip(lines) {
                verifier.push_canonical(seq, line).unwrap();
            }
            verifier.finish().unwrap()
        });
    });
    group.bench_function("stored_events_chain_and_tree", |b| {
        let log = log();
        b.iter(|| {
            let mut verifier = LogVerifier::new();
            for stored in log {
                verifier.push_stored(stored).unwrap();
            }
            verifier.finish().unwrap()
        });
    });

    let rt = runtime();
    let store = std::cell::OnceCell::new();
    group.bench_function("store_verify_audit", |b| {
        let (_dir, store) = store.get_or_init(|| filled_store(&rt));
        b.iter(|| rt.block_on(verify_audit(store, |_, _| {})).unwrap());
    });
    group.finish();
    if let Some((_dir, store)) = store.get() {
        report_verify_memory(&rt, store);
    }
}

/// Prints how far the resident set grows over one verification: the kernel's peak (VmHWM)
/// is reset first (`/proc/self/clear_refs`), then read after.
fn report_verify_memory(rt: &Runtime, store: &Store) {
    let kib = |field: &str| -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|line| line.starts_with(field))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    if std::fs::write("/proc/self/clear_refs", "5").is_err() {
        eprintln!("verify memory: /proc/self/clear_refs is not writable here");
        return;
    }
    let before = kib("VmRSS:").unwrap_or(0);
    rt.block_on(verify_audit(store, |_, _| {})).unwrap();
    let peak = kib("VmHWM:").unwrap_or(0);
    eprintln!(
        "verify of {VERIFY_EVENTS} events: peak resident {peak} KiB, {} KiB above the {before} \
         KiB before",
        peak.saturating_sub(before)
    );
}

/// A store holding [`VERIFY_EVENTS`] events, appended 5,000 per transaction.
fn filled_store(rt: &Runtime) -> (tempfile::TempDir, Store) {
    let (dir, store) = scratch_store(rt);
    rt.block_on(async {
        for chunk in (1..=VERIFY_EVENTS).collect::<Vec<_>>().chunks(5000) {
            let mut tx = store.begin().await.unwrap();
            for n in chunk {
                tx.append(new_event(*n)).await.unwrap();
            }
            tx.commit().await.unwrap();
        }
    });
    (dir, store)
}

criterion_group!(benches, durable_appends, append_cost, verification);
criterion_main!(benches);
