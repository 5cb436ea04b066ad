//! A workqueue driving workers the way a client-go controller does (client-go's
//! `examples/workqueue`, with the informer replaced by a simulated stream of pod changes).
//!
//! Producers add `namespace/name` keys; repeated adds of a waiting key collapse into one. Two
//! workers `get` keys, "reconcile" them, and call `done`. A failing key is retried through the
//! rate limiter (5 ms, 10 ms, 20 ms, ... per key) up to five times, then dropped, exactly like
//! `handleErr` in client-go's example.
//!
//! Run: `cargo run --example workqueue` (add `RUST_LOG=debug` for the queue's own tracing).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clientgo::workqueue::{QueueConfig, RateLimitingQueue, default_controller_rate_limiter};

/// How many times a key is retried before it is dropped (`maxRetries` in client-go's examples).
const MAX_RETRIES: usize = 5;

/// The business logic: it only sees the key. `flaky` pods fail their first two attempts; `broken`
/// pods never succeed.
fn reconcile(key: &str, attempts: &Mutex<HashMap<String, usize>>) -> Result<(), String> {
    let mut attempts = attempts.lock().unwrap_or_else(|e| e.into_inner());
    let n = attempts.entry(key.to_string()).or_default();
    *n += 1;
    if key.contains("broken") {
        return Err("image pull failed".into());
    }
    if key.contains("flaky") && *n <= 2 {
        return Err(format!("transient error (attempt {n})"));
    }
    Ok(())
}

/// client-go's `handleErr`: forget on success, retry with back-off, give up after `MAX_RETRIES`.
fn handle_err(
    queue: &RateLimitingQueue<String>,
    key: &str,
    result: Result<(), String>,
    t0: Instant,
) {
    let at = t0.elapsed().as_millis();
    match result {
        Ok(()) => {
            println!("{at:>5} ms  reconciled {key}");
            queue.forget(&key.to_string());
        }
        Err(err) if queue.num_requeues(&key.to_string()) < MAX_RETRIES => {
            println!("{at:>5} ms  error syncing {key}: {err}; retrying with back-off");
            queue.add_rate_limited(key.to_string());
        }
        Err(err) => {
            println!(
                "{at:>5} ms  dropping {key} out of the queue after {MAX_RETRIES} retries: {err}"
            );
            queue.forget(&key.to_string());
        }
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();

    let queue: RateLimitingQueue<String> = RateLimitingQueue::new(
        default_controller_rate_limiter(),
        QueueConfig::named("pods"),
    );
    let attempts = Arc::new(Mutex::new(HashMap::new()));
    let t0 = Instant::now();

    // The "informer": a burst of changes before any worker runs; repeats collapse.
    for key in [
        "default/web-1",
        "default/web-2",
        "default/web-1",
        "default/flaky-1",
        "default/broken-1",
        "default/web-2",
    ] {
        println!(
            "{:>5} ms  add {key} (queue length {})",
            t0.elapsed().as_millis(),
            queue.len()
        );
        queue.add(key.to_string());
    }

    // Two workers, each looping processNextItem until the queue shuts down.
    let workers: Vec<_> = (0..2)
        .map(|id| {
            let queue = queue.clone();
            let attempts = attempts.clone();
            tokio::spawn(async move {
                while let Some(key) = queue.get().await {
                    println!("{:>5} ms  worker {id} got {key}", t0.elapsed().as_millis());
                    let result = reconcile(&key, &attempts);
                    handle_err(&queue, &key, result, t0);
                    queue.done(&key);
                }
            })
        })
        .collect();

    // Let retries play out (the broken pod needs 5 + 10 + 20 + 40 + 80 ms of back-off), then
    // stop: no new keys, wait for the workers to finish what they hold.
    tokio::time::sleep(Duration::from_millis(400)).await;
    queue.shut_down_with_drain().await;
    for w in workers {
        let _ = w.await;
    }
    let attempts = attempts.lock().unwrap_or_else(|e| e.into_inner());
    let mut summary: Vec<_> = attempts.iter().collect();
    summary.sort();
    println!("attempts per key: {summary:?}");
}
