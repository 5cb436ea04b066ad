//! Micro-benchmarks of the queue and the rate limiters, in the shapes of client-go's
//! util/workqueue benchmarks, plus throughput runs on `u64` keys through a plain [`Queue`].
//!
//! The `u64` throughput runs are not client-go's shape (client-go's queues hold string keys and
//! its figure uses a rate-limiting queue): they isolate the queue's own cost and must not be set
//! next to a client-go figure. For that, see `benches/client_go_shape.rs`.
//!
//! Run with `cargo bench -p workqueue --bench workqueue`. Figures are recorded in
//! docs/benchmarks.md.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use workqueue::{Queue, RateLimiter, RateLimitingQueue, default_controller_rate_limiter};

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap()
}

/// Go: BenchmarkQueue-style, a fresh queue and 100 add/get/done cycles per iteration.
fn add_get_done(c: &mut Criterion) {
    let rt = current_thread();
    let mut g = c.benchmark_group("queue");
    g.throughput(Throughput::Elements(100));
    g.bench_function("fresh queue, 100 x add/get/done", |b| {
        b.iter(|| {
            rt.block_on(async {
                let q: Queue<u64> = Queue::default();
                for i in 0..100u64 {
                    q.add(i);
                    let item = q.get().await.unwrap();
                    q.done(&item);
                }
                black_box(q.len())
            })
        });
    });
    g.finish();
}

/// Go: the default controller rate limiter's When, and AddRateLimited over 10k keys.
fn rate_limiting(c: &mut Criterion) {
    let mut g = c.benchmark_group("rate_limiter");
    let keys: Vec<String> = (0..10_000).map(|i| format!("default/pod-{i}")).collect();
    g.throughput(Throughput::Elements(1));
    g.bench_function("default controller limiter when", |b| {
        let limiter = default_controller_rate_limiter::<String>();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % keys.len();
            black_box(limiter.when(&keys[i]))
        });
    });
    let rt = current_thread();
    g.bench_function("add_rate_limited over 10k keys", |b| {
        // One long-lived queue cycling over 10k keys, as client-go's benchmark does.
        let _guard = rt.enter();
        let q: RateLimitingQueue<String> = RateLimitingQueue::default();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % keys.len();
            q.add_rate_limited(keys[i].clone());
        });
        q.shut_down();
    });
    g.finish();
}

/// Runs `adds` adds of `key(i)` from one producer against `workers` workers; returns the wall
/// time until every item is processed, the number processed, and how long the adds alone took.
fn throughput_run(workers: usize, adds: u64, key: fn(u64) -> u64) -> (Duration, u64, Duration) {
    let rt = multi_thread();
    rt.block_on(async move {
        let q: Queue<u64> = Queue::default();
        let start = Instant::now();
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let q = q.clone();
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while let Some(item) = q.get().await {
                        q.done(&item);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let producer = {
            let q = q.clone();
            tokio::spawn(async move {
                // The producer yields every 1,024 adds, as an informer's handler task awaits
                // between events; workers then also run on the producer's thread.
                for i in 0..adds {
                    q.add(key(i));
                    if i % 1024 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
                let adds_took = start.elapsed();
                q.shut_down_with_drain().await;
                adds_took
            })
        };
        let adds_took = producer.await.unwrap();
        let mut processed = 0;
        for h in handles {
            processed += h.await.unwrap();
        }
        (start.elapsed(), processed, adds_took)
    })
}

/// 1 M distinct `u64` keys through 1 or 4 workers, and 1 M adds over 1,000 hot `u64` keys, on a
/// plain `Queue` (not client-go's shape: see `benches/client_go_shape.rs`).
fn throughput(c: &mut Criterion) {
    const ADDS: u64 = 1_000_000;
    let mut g = c.benchmark_group("throughput, u64 keys, plain queue");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ADDS));
    for workers in [1, 4] {
        g.bench_function(
            format!("1M distinct u64 keys, 1 producer, {workers} workers"),
            |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| throughput_run(workers, ADDS, |i| i).0)
                        .sum()
                });
            },
        );
    }
    g.bench_function("1M adds over 1000 hot u64 keys, 4 workers", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (elapsed, processed, _) = throughput_run(4, ADDS, |i| i % 1000);
                total += elapsed;
                black_box(processed);
            }
            total
        });
    });
    g.finish();
    let (elapsed, processed, adds_took) = throughput_run(4, ADDS, |i| i % 1000);
    println!(
        "hot u64 keys, plain queue, 4 workers: 1M adds in {adds_took:?} ({:.2} M adds/s); {processed} processed in \
         {elapsed:?} ({:.2} M processed/s)",
        ADDS as f64 / adds_took.as_secs_f64() / 1e6,
        processed as f64 / elapsed.as_secs_f64() / 1e6
    );
}

criterion_group!(benches, add_get_done, rate_limiting, throughput);
criterion_main!(benches);
