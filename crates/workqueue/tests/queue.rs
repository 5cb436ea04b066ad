//! The behaviours of client-go's util/workqueue/queue_test.go, against the public API.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::timeout;
use workqueue::Queue;

/// "Does not finish within an hour" on a paused clock: tokio advances time only when every task is
/// idle, so this is deterministic, not a wall-clock wait.
async fn stays_pending<F: std::future::Future>(f: F) -> bool {
    timeout(Duration::from_secs(3600), f).await.is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_producers_and_consumers_process_every_item() {
    // Go's TestBasic: 50 producers add 50 items each, 10 consumers drain.
    let queue: Queue<usize> = Queue::default();
    let processed = Arc::new(Mutex::new(HashMap::<usize, usize>::new()));
    let producers: Vec<_> = (0..50)
        .map(|p| {
            let queue = queue.clone();
            tokio::spawn(async move {
                for i in 0..50 {
                    queue.add(p * 100 + i);
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..10)
        .map(|_| {
            let queue = queue.clone();
            let processed = processed.clone();
            tokio::spawn(async move {
                while let Some(item) = queue.get().await {
                    *processed.lock().unwrap().entry(item).or_default() += 1;
                    queue.done(&item);
                }
            })
        })
        .collect();
    for p in producers {
        p.await.unwrap();
    }
    queue.shut_down_with_drain().await;
    for c in consumers {
        c.await.unwrap();
    }
    let processed = processed.lock().unwrap();
    assert_eq!(processed.len(), 2500);
    assert_eq!(queue.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_added_while_processing_is_processed_again() {
    // Go's TestAddWhileProcessing: every consumer re-adds an item the first time it sees it.
    let queue: Queue<usize> = Queue::default();
    let counts = Arc::new(Mutex::new(HashMap::<usize, usize>::new()));
    for i in 0..100 {
        queue.add(i);
    }
    let consumers: Vec<_> = (0..10)
        .map(|_| {
            let queue = queue.clone();
            let counts = counts.clone();
            tokio::spawn(async move {
                while let Some(item) = queue.get().await {
                    let first = {
                        let mut counts = counts.lock().unwrap();
                        let n = counts.entry(item).or_default();
                        *n += 1;
                        *n == 1
                    };
                    if first {
                        queue.add(item);
                    }
                    queue.done(&item);
                    if counts.lock().unwrap().values().filter(|n| **n == 2).count() == 100 {
                        queue.shut_down();
                    }
                }
            })
        })
        .collect();
    for c in consumers {
        c.await.unwrap();
    }
    assert!(counts.lock().unwrap().values().all(|n| *n == 2));
}

#[tokio::test]
async fn len_counts_distinct_waiting_items() {
    let queue: Queue<&str> = Queue::default();
    queue.add("foo");
    assert_eq!(queue.len(), 1);
    queue.add("bar");
    assert_eq!(queue.len(), 2);
    queue.add("foo"); // already waiting: collapsed
    assert_eq!(queue.len(), 2);
    assert!(!queue.is_empty());
}

#[tokio::test]
async fn an_item_re_added_while_processing_is_queued_on_done() {
    // Go's TestReinsert.
    let queue: Queue<&str> = Queue::default();
    queue.add("foo");
    let item = queue.get().await.unwrap();
    queue.add(item);
    assert_eq!(queue.len(), 0, "not queued while a worker holds it");
    queue.done(&item);
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.get().await, Some("foo"));
    queue.done(&"foo");
    assert_eq!(queue.len(), 0);
}

#[tokio::test]
async fn adds_before_get_collapse_into_one() {
    // Go's TestCollapse.
    let queue: Queue<&str> = Queue::default();
    queue.add("bar");
    queue.add("bar");
    assert_eq!(queue.get().await, Some("bar"));
    queue.done(&"bar");
    assert_eq!(queue.len(), 0);
}

#[tokio::test]
async fn adds_while_processing_collapse_into_one_requeue() {
    // Go's TestCollapseWhileProcessing.
    let queue: Queue<&str> = Queue::default();
    queue.add("foo");
    let item = queue.get().await.unwrap();
    queue.add("foo");
    queue.add("foo");
    queue.done(&item);
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.get().await, Some("foo"));
    queue.done(&"foo");
    assert_eq!(queue.len(), 0);
}

#[tokio::test]
async fn items_come_out_in_the_order_they_went_in() {
    let queue: Queue<u32> = Queue::default();
    for i in [3, 1, 2, 1, 3] {
        queue.add(i);
    }
    let mut order = Vec::new();
    for _ in 0..3 {
        order.push(queue.get().await.unwrap());
    }
    assert_eq!(order, [3, 1, 2]);
}

#[tokio::test]
async fn get_keeps_returning_queued_items_after_shut_down_then_none() {
    let queue: Queue<&str> = Queue::default();
    queue.add("a");
    queue.add("b");
    queue.shut_down();
    assert!(queue.shutting_down());
    assert_eq!(queue.get().await, Some("a"));
    assert_eq!(queue.get().await, Some("b"));
    assert_eq!(queue.get().await, None);
}

#[tokio::test]
async fn add_after_shut_down_is_dropped() {
    let queue: Queue<&str> = Queue::default();
    queue.shut_down();
    queue.add("late");
    assert_eq!(queue.len(), 0);
    assert_eq!(queue.get().await, None);
}

#[tokio::test(start_paused = true)]
async fn shut_down_wakes_every_waiting_get() {
    let queue: Queue<&str> = Queue::default();
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.get().await })
        })
        .collect();
    tokio::task::yield_now().await;
    queue.shut_down();
    for w in waiters {
        assert_eq!(w.await.unwrap(), None);
    }
}

#[tokio::test(start_paused = true)]
async fn shut_down_with_drain_waits_for_items_being_processed() {
    // Go's TestQueueDrainageUsingShutDownWithDrain.
    let queue: Queue<&str> = Queue::default();
    queue.add("foo");
    queue.add("bar");
    let foo = queue.get().await.unwrap();
    let bar = queue.get().await.unwrap();

    let drain = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.shut_down_with_drain().await })
    };
    tokio::task::yield_now().await;
    assert!(queue.shutting_down());
    queue.add("baz"); // dropped: shutting down
    queue.done(&foo);
    assert!(!drain.is_finished());
    queue.done(&bar);
    timeout(Duration::from_secs(1), drain)
        .await
        .expect("drain finishes once every item is done")
        .unwrap();
    assert_eq!(queue.get().await, None, "baz was not accepted");
}

#[tokio::test(start_paused = true)]
async fn shut_down_does_not_wait_for_items_being_processed() {
    // Go's TestNoQueueDrainageUsingShutDown.
    let queue: Queue<&str> = Queue::default();
    queue.add("foo");
    let _held = queue.get().await.unwrap();
    queue.shut_down();
    assert_eq!(queue.get().await, None);
}

#[tokio::test(start_paused = true)]
async fn shut_down_with_drain_returns_at_once_when_nothing_is_processing() {
    let queue: Queue<&str> = Queue::default();
    queue.add("queued-but-not-taken");
    assert!(!stays_pending(queue.shut_down_with_drain()).await);
    assert_eq!(queue.get().await, Some("queued-but-not-taken"));
}

#[tokio::test(start_paused = true)]
async fn shut_down_ends_a_blocked_shut_down_with_drain() {
    // Go's TestForceQueueShutdownUsingShutDown.
    let queue: Queue<&str> = Queue::default();
    queue.add("foo");
    let _held = queue.get().await.unwrap();
    assert!(stays_pending(queue.shut_down_with_drain()).await);
    let drain = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.shut_down_with_drain().await })
    };
    tokio::task::yield_now().await;
    queue.shut_down();
    timeout(Duration::from_secs(1), drain)
        .await
        .expect("shut_down forces the drain to end")
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn drain_waits_for_a_dirty_item_to_be_processed_again() {
    // Go's TestQueueDrainageUsingShutDownWithDrainWithDirtyItem.
    let queue: Queue<&str> = Queue::default();
    queue.add("foo");
    let foo = queue.get().await.unwrap();
    queue.add("foo"); // dirty while processing
    let drain = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.shut_down_with_drain().await })
    };
    tokio::task::yield_now().await;
    queue.done(&foo); // requeued even though shutting down
    assert_eq!(queue.len(), 1);
    let again = queue.get().await.unwrap();
    assert!(!drain.is_finished());
    queue.done(&again);
    timeout(Duration::from_secs(1), drain)
        .await
        .expect("drain finishes")
        .unwrap();
    assert_eq!(queue.get().await, None);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_get_loses_no_item() {
    let queue: Queue<&str> = Queue::default();
    // A get that gives up before an item arrives...
    assert!(stays_pending(queue.get()).await);
    // ...and one cancelled after being woken, before it could run.
    let waiter = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.get().await })
    };
    tokio::task::yield_now().await;
    queue.add("foo");
    waiter.abort();
    let _ = waiter.await;
    let item = timeout(Duration::from_secs(1), queue.get())
        .await
        .expect("the item is still there");
    assert_eq!(item, Some("foo"));
}

#[tokio::test]
async fn done_for_an_unknown_item_does_nothing() {
    let queue: Queue<&str> = Queue::default();
    queue.done(&"never-got");
    assert_eq!(queue.len(), 0);
    queue.add("a");
    assert_eq!(queue.get().await, Some("a"));
}

#[tokio::test(start_paused = true)]
async fn done_for_a_waiting_item_that_is_not_processing_does_not_queue_it_twice() {
    // Go's Type.Done pushes a dirty item onto the queue even when it was not being processed, so
    // Go would now hold "a" twice and hand it to two workers at once. This port ignores such a
    // done (see Queue::done): "a" is handed out once, and stays exclusive.
    let queue: Queue<&str> = Queue::default();
    queue.add("a");
    queue.done(&"a");
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.get().await, Some("a"));
    assert!(
        stays_pending(queue.get()).await,
        "a is processing: no second copy"
    );
    queue.done(&"a");
    assert!(
        stays_pending(queue.get()).await,
        "and not re-queued by done"
    );
}

#[tokio::test(start_paused = true)]
async fn items_added_at_once_reach_every_parked_get() {
    // Adds wake one parked get at a time; the get that takes an item wakes the next. Both items
    // must still reach both parked gets with no further add.
    let queue: Queue<u32> = Queue::default();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let getters: Vec<_> = (0..2)
        .map(|_| {
            let (queue, tx) = (queue.clone(), tx.clone());
            tokio::spawn(async move {
                let item = queue.get().await.unwrap();
                tx.send(item).unwrap();
                // Hold the item: this getter does not come back for the other one.
                std::future::pending::<()>().await;
            })
        })
        .collect();
    tokio::task::yield_now().await;
    queue.add(1);
    queue.add(2);
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(
            timeout(Duration::from_secs(1), rx.recv())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    got.sort_unstable();
    assert_eq!(got, [1, 2]);
    for g in getters {
        g.abort();
    }
}

#[tokio::test(start_paused = true)]
async fn a_woken_get_dropped_before_it_runs_passes_the_wake_up_on() {
    // One wake-up is in flight at a time, so losing it would strand the item.
    let queue: Queue<&str> = Queue::default();
    let mut first = Box::pin(queue.get());
    assert!(futures_poll_once(first.as_mut()).is_none(), "parked");
    let second = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.get().await })
    };
    tokio::task::yield_now().await;
    queue.add("foo"); // wakes the first, longest-parked get...
    drop(first); // ...which is dropped without running
    let got = timeout(Duration::from_secs(1), second)
        .await
        .expect("the second get is woken in its place")
        .unwrap();
    assert_eq!(got, Some("foo"));
}

/// Polls a future once with a no-op waker.
fn futures_poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> Option<F::Output> {
    let waker = std::task::Waker::noop();
    match f.poll(&mut std::task::Context::from_waker(waker)) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}

#[tokio::test(start_paused = true)]
async fn a_wake_up_taken_by_a_cancelled_get_passes_to_another() {
    let queue: Queue<&str> = Queue::default();
    let first = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.get().await })
    };
    tokio::task::yield_now().await;
    let second = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.get().await })
    };
    tokio::task::yield_now().await;
    queue.add("foo"); // wakes the first waiter...
    first.abort(); // ...which is cancelled before it runs
    assert!(first.await.unwrap_err().is_cancelled());
    let got = timeout(Duration::from_secs(1), second)
        .await
        .expect("the second waiter is woken in its place")
        .unwrap();
    assert_eq!(got, Some("foo"));
}
