//! Throughput in client-go's own shape, so the figure compares with client-go's:
//! 1 M distinct `bench/bench-N` `String` keys, a [`RateLimitingQueue`] with the default controller
//! rate limiter, every item `forget` + `done`, one producer task, 1 or 4 worker tasks, on a tokio
//! runtime with 2 threads (Go runs with `GOMAXPROCS=2`).
//!
//! The producer formats each key as it adds it (Go's `fmt.Sprintf`), and yields to the runtime
//! every 1,024 adds: a tokio task is not preempted the way a goroutine is, and an informer's
//! handler task awaits between events.
//!
//! Run with `cargo bench -p workqueue --bench client_go_shape`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use workqueue::RateLimitingQueue;

const KEYS: u64 = 1_000_000;

/// One run: returns the wall time from the first add until every worker has exited, and how many
/// items the workers processed.
fn run(workers: usize) -> (Duration, u64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async move {
        let queue: RateLimitingQueue<String> = RateLimitingQueue::default();
        let start = Instant::now();
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let queue = queue.clone();
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while let Some(key) = queue.get().await {
                        queue.forget(&key);
                        queue.done(&key);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let producer = {
            let queue = queue.clone();
            tokio::spawn(async move {
                for i in 0..KEYS {
                    queue.add(format!("bench/bench-{i}"));
                    if i % 1024 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
                queue.shut_down_with_drain().await;
            })
        };
        producer.await.unwrap();
        let mut processed = 0;
        for h in handles {
            processed += h.await.unwrap();
        }
        (start.elapsed(), processed)
    })
}

fn throughput(c: &mut Criterion) {
    let mut g = c.benchmark_group("client-go shape");
    g.sample_size(10);
    g.throughput(Throughput::Elements(KEYS));
    for workers in [1, 4] {
        g.bench_function(
            format!("1M distinct String keys, rate-limiting queue, forget+done, {workers} workers"),
            |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            let (elapsed, processed) = run(workers);
                            assert_eq!(processed, KEYS, "every distinct key is processed once");
                            elapsed
                        })
                        .sum()
                });
            },
        );
    }
    g.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
