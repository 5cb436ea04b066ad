//! Many producers, many workers, hot keys: exclusivity and "processed after the last add".
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use workqueue::Queue;

const KEYS: usize = 50;
const PRODUCERS: usize = 4;
const ADDS_PER_PRODUCER: usize = 20_000;
const WORKERS: usize = 6;

struct Key {
    /// Set while a worker holds the key: two workers at once would find it already set.
    busy: AtomicBool,
    /// Version stamped by a producer just before each `add`.
    last_add: Mutex<u64>,
    /// The newest add version a worker had seen when it got the key.
    last_seen: Mutex<u64>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_is_processed_twice_at_once_and_every_add_is_followed_by_processing() {
    let queue: Queue<usize> = Queue::default();
    let keys: Arc<Vec<Key>> = Arc::new(
        (0..KEYS)
            .map(|_| Key {
                busy: AtomicBool::new(false),
                last_add: Mutex::new(0),
                last_seen: Mutex::new(0),
            })
            .collect(),
    );
    let version = Arc::new(AtomicU64::new(1));
    let processed = Arc::new(AtomicUsize::new(0));

    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (queue, keys, processed) = (queue.clone(), keys.clone(), processed.clone());
            tokio::spawn(async move {
                while let Some(k) = queue.get().await {
                    let key = &keys[k];
                    assert!(
                        !key.busy.swap(true, Ordering::AcqRel),
                        "key {k} handed to two workers at once"
                    );
                    let seen = *key.last_add.lock().unwrap();
                    {
                        let mut last_seen = key.last_seen.lock().unwrap();
                        *last_seen = (*last_seen).max(seen);
                    }
                    if processed.fetch_add(1, Ordering::Relaxed) % 7 == 0 {
                        tokio::task::yield_now().await; // let others pile up on hot keys
                    }
                    key.busy.store(false, Ordering::Release);
                    queue.done(&k);
                }
            })
        })
        .collect();

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (queue, keys, version) = (queue.clone(), keys.clone(), version.clone());
            tokio::spawn(async move {
                for i in 0..ADDS_PER_PRODUCER {
                    let k = (i * 31 + p * 7) % KEYS;
                    // Stamp the version before adding: a worker that gets the key after this add
                    // then reads at least this version. (Stamping after the add would race with
                    // a worker that takes the key in between and reads the older stamp.)
                    let v = version.fetch_add(1, Ordering::Relaxed);
                    {
                        let mut last_add = keys[k].last_add.lock().unwrap();
                        *last_add = (*last_add).max(v);
                    }
                    queue.add(k);
                    if i % 64 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.await.unwrap();
    }

    // Wait until everything added has been processed: nothing queued, nothing processing. A lost
    // re-queue would make this wait forever, so it is bounded (a failure detector, not a sleep).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "some key's last add was never followed by processing"
        );
        let all_seen = keys
            .iter()
            .all(|k| *k.last_seen.lock().unwrap() >= *k.last_add.lock().unwrap());
        if all_seen && queue.is_empty() {
            break;
        }
        tokio::task::yield_now().await;
    }

    // A lost re-queue would leave a key marked dirty forever, so a fresh add would be collapsed.
    let before = processed.load(Ordering::Relaxed);
    for k in 0..KEYS {
        queue.add(k);
    }
    queue.shut_down_with_drain().await;
    for w in workers {
        w.await.unwrap();
    }
    assert_eq!(
        processed.load(Ordering::Relaxed) - before,
        KEYS,
        "every key accepted one more add after the churn"
    );
    let total = processed.load(Ordering::Relaxed);
    assert!(
        total < PRODUCERS * ADDS_PER_PRODUCER,
        "hot keys collapse: {total} processings for {} adds",
        PRODUCERS * ADDS_PER_PRODUCER
    );
}
