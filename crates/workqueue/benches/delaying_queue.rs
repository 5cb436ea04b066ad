//! client-go's BenchmarkDelayingQueue_AddAfter shape, on tokio's paused clock (Go uses a fake
//! clock). A separate bench binary, because pausing the clock once slows `Instant::now()` for the
//! rest of the process.
//!
//! Run with `cargo bench -p workqueue --bench delaying_queue`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand::Rng;
use workqueue::{DelayingQueue, QueueConfig};

/// Go: BenchmarkDelayingQueue_AddAfter: random delays below 10 minutes, then drain.
fn add_after(c: &mut Criterion) {
    const N: u64 = 10_000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("delaying_queue");
    g.throughput(Throughput::Elements(N));
    g.bench_function("add_after random delay < 10 min, then drain", |b| {
        b.iter_batched(
            || {
                let mut rng = rand::rng();
                (0..N)
                    .map(|i| (i, Duration::from_millis(rng.random_range(1..600_000))))
                    .collect::<Vec<_>>()
            },
            |items| {
                rt.block_on(async {
                    let q: DelayingQueue<u64> = DelayingQueue::new(QueueConfig::default());
                    for (item, delay) in items {
                        q.add_after(item, delay);
                    }
                    tokio::time::advance(Duration::from_secs(600)).await;
                    for _ in 0..N {
                        let item = q.get().await.unwrap();
                        q.done(&item);
                    }
                    q.shut_down();
                })
            },
            BatchSize::LargeInput,
        );
    });
    g.finish();
}

criterion_group!(benches, add_after);
criterion_main!(benches);
