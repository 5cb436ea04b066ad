//! The behaviours of client-go's util/workqueue/delaying_queue_test.go, on a paused clock.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tokio::time::{advance, timeout};
use workqueue::{DelayingQueue, RateLimitingQueue};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Lets the waiting task run after the clock moved.
async fn settle() {
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn an_item_appears_only_after_its_delay() {
    // Go's TestSimpleQueue.
    let queue: DelayingQueue<&str> = DelayingQueue::default();
    queue.add_after("foo", ms(50));
    settle().await;
    assert_eq!(queue.len(), 0);
    assert_eq!(queue.waiting_len(), 1);

    advance(ms(49)).await;
    settle().await;
    assert_eq!(queue.len(), 0, "not ready one millisecond early");

    advance(ms(1)).await;
    settle().await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.waiting_len(), 0);
    assert_eq!(queue.get().await, Some("foo"));
    queue.done(&"foo");

    advance(Duration::from_secs(10)).await;
    settle().await;
    assert_eq!(queue.len(), 0, "fires once");
}

#[tokio::test(start_paused = true)]
async fn a_waiting_item_keeps_its_earlier_ready_time() {
    // Go's TestDeduping: later-then-earlier and earlier-then-later both fire at the earlier time.
    let queue: DelayingQueue<&str> = DelayingQueue::default();
    queue.add_after("foo", ms(50));
    queue.add_after("foo", ms(70));
    assert_eq!(queue.waiting_len(), 1);
    advance(ms(50)).await;
    settle().await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.get().await, Some("foo"));
    queue.done(&"foo");
    advance(ms(30)).await;
    settle().await;
    assert_eq!(queue.len(), 0, "the superseded 70 ms entry does not fire");

    queue.add_after("foo", ms(70));
    queue.add_after("foo", ms(50));
    advance(ms(50)).await;
    settle().await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.get().await, Some("foo"));
    queue.done(&"foo");
    advance(ms(30)).await;
    settle().await;
    assert_eq!(queue.len(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_new_earlier_item_fires_before_an_older_later_one() {
    // Go's TestAddTwoFireEarly.
    let queue: DelayingQueue<&str> = DelayingQueue::default();
    queue.add_after("foo", Duration::from_secs(1));
    queue.add_after("bar", ms(50));
    advance(ms(60)).await;
    settle().await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.get().await, Some("bar"));

    queue.add_after("foo", ms(50)); // pulls foo forward from 1 s
    advance(ms(60)).await;
    settle().await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue.get().await, Some("foo"));
}

#[tokio::test(start_paused = true)]
async fn ready_items_enter_the_queue_in_ready_time_order() {
    // Go's TestCopyShifting.
    let queue: DelayingQueue<&str> = DelayingQueue::default();
    queue.add_after("foo", Duration::from_secs(1));
    queue.add_after("bar", ms(500));
    queue.add_after("baz", Duration::from_millis(250));
    advance(Duration::from_secs(2)).await;
    settle().await;
    assert_eq!(queue.len(), 3);
    let mut order = Vec::new();
    for _ in 0..3 {
        order.push(queue.get().await.unwrap());
    }
    assert_eq!(order, ["baz", "bar", "foo"]);
}

#[tokio::test(start_paused = true)]
async fn a_zero_delay_adds_at_once() {
    let queue: DelayingQueue<&str> = DelayingQueue::default();
    queue.add_after("now", Duration::ZERO);
    assert_eq!(
        queue.len(),
        1,
        "added synchronously, without the waiting task"
    );
}

#[tokio::test(start_paused = true)]
async fn add_after_shut_down_is_dropped() {
    let queue: DelayingQueue<&str> = DelayingQueue::default();
    queue.shut_down();
    queue.add_after("late", ms(10));
    queue.add_after("now", Duration::ZERO);
    assert_eq!(queue.waiting_len(), 0);
    assert_eq!(queue.get().await, None);
}

#[tokio::test(start_paused = true)]
async fn a_delayed_item_wakes_a_waiting_get() {
    let queue: DelayingQueue<&str> = DelayingQueue::default();
    queue.add_after("foo", Duration::from_secs(30));
    // The paused clock jumps to the deadline because everything else is idle.
    let got = timeout(Duration::from_secs(31), queue.get()).await.unwrap();
    assert_eq!(got, Some("foo"));
}

#[tokio::test(start_paused = true)]
async fn items_waiting_at_shut_down_never_arrive() {
    let queue: DelayingQueue<&str> = DelayingQueue::default();
    queue.add_after("foo", ms(10));
    queue.shut_down();
    advance(ms(20)).await;
    settle().await;
    assert_eq!(queue.get().await, None);
}

#[tokio::test(start_paused = true)]
async fn a_delayed_item_still_being_processed_is_requeued_on_done() {
    // The controller pattern: add_rate_limited happens before done.
    let queue: DelayingQueue<&str> = DelayingQueue::default();
    queue.add("foo");
    let foo = queue.get().await.unwrap();
    queue.add_after("foo", ms(5));
    advance(ms(5)).await;
    settle().await;
    assert_eq!(queue.len(), 0, "dirty while processing, not queued yet");
    queue.done(&foo);
    assert_eq!(queue.get().await, Some("foo"));
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

#[test]
fn a_queue_built_outside_a_runtime_delivers_delayed_items_inside_one() {
    // Built with no runtime at all (a controller constructed before `main` starts one)...
    let queue: RateLimitingQueue<&str> = RateLimitingQueue::default();
    let delaying: DelayingQueue<&str> = DelayingQueue::default();
    // ...then used inside one: the waiting task starts with the first add_after.
    paused_runtime().block_on(async {
        queue.add_after("foo", ms(50));
        delaying.add_after("bar", ms(50));
        let got = timeout(Duration::from_secs(1), queue.get()).await.unwrap();
        assert_eq!(got, Some("foo"));
        let got = timeout(Duration::from_secs(1), delaying.get())
            .await
            .unwrap();
        assert_eq!(got, Some("bar"));
    });
}

#[test]
fn an_item_delayed_outside_a_runtime_arrives_once_a_get_runs_inside_one() {
    let queue: DelayingQueue<&str> = DelayingQueue::default();
    queue.add_after("foo", ms(50));
    assert_eq!(queue.waiting_len(), 1, "recorded even without a runtime");
    paused_runtime().block_on(async {
        // No add_after inside the runtime: get itself starts the waiting task.
        let got = timeout(Duration::from_secs(1), queue.get()).await.unwrap();
        assert_eq!(got, Some("foo"));
    });
}
