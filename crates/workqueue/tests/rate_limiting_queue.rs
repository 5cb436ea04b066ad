//! The behaviours of client-go's util/workqueue/rate_limiting_queue_test.go, on a paused clock.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tokio::time::advance;
use workqueue::{ItemExponentialFailureRateLimiter, QueueConfig, RateLimitingQueue};

async fn settle() {
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn rate_limited_adds_wait_longer_each_time_until_forgotten() {
    // Go's TestRateLimitingQueue.
    let limiter =
        ItemExponentialFailureRateLimiter::new(Duration::from_millis(1), Duration::from_secs(1));
    let queue: RateLimitingQueue<&str> = RateLimitingQueue::new(limiter, QueueConfig::default());

    queue.add_rate_limited("one");
    assert_eq!(queue.waiting_len(), 1);
    queue.add_rate_limited("one");
    assert_eq!(queue.waiting_len(), 1, "still one waiting entry");
    queue.add_rate_limited("two");
    assert_eq!(queue.waiting_len(), 2);
    assert_eq!(queue.num_requeues(&"one"), 2);
    assert_eq!(queue.num_requeues(&"two"), 1);

    queue.forget(&"one");
    assert_eq!(queue.num_requeues(&"one"), 0);
    assert_eq!(queue.waiting_len(), 2, "forget does not touch the queue");

    queue.add_rate_limited("one");
    assert_eq!(queue.num_requeues(&"one"), 1);

    advance(Duration::from_millis(1)).await;
    settle().await;
    assert_eq!(
        queue.len(),
        2,
        "both ready after 1 ms (one re-waits from 1 ms after forget)"
    );
}

#[tokio::test(start_paused = true)]
async fn the_delay_follows_the_limiter() {
    let limiter =
        ItemExponentialFailureRateLimiter::new(Duration::from_millis(10), Duration::from_secs(1));
    let queue: RateLimitingQueue<&str> = RateLimitingQueue::new(limiter, QueueConfig::default());
    queue.add_rate_limited("k"); // 10 ms
    advance(Duration::from_millis(10)).await;
    settle().await;
    let k = queue.get().await.unwrap();
    queue.add_rate_limited(k); // 20 ms
    queue.done(&k);
    advance(Duration::from_millis(19)).await;
    settle().await;
    assert_eq!(queue.len(), 0);
    advance(Duration::from_millis(1)).await;
    settle().await;
    assert_eq!(queue.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_default_queue_uses_the_controller_limiter() {
    let queue: RateLimitingQueue<&str> = RateLimitingQueue::default();
    queue.add_rate_limited("k");
    advance(Duration::from_millis(4)).await;
    settle().await;
    assert_eq!(queue.len(), 0);
    advance(Duration::from_millis(1)).await;
    settle().await;
    assert_eq!(queue.len(), 1, "5 ms base delay");
}
