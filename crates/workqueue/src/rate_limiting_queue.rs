//! Port of util/workqueue/rate_limiting_queue.go: a [`DelayingQueue`] whose re-adds are paced by
//! a [`RateLimiter`].
//!
//! # Data flow
//!
//! A worker that fails on a key calls [`RateLimitingQueue::add_rate_limited`]: the limiter says
//! how long to wait (`when`, which also records the failure), and the key goes through
//! [`DelayingQueue::add_after`]. On success the worker calls [`RateLimitingQueue::forget`], which
//! clears the limiter's memory of the key; it still calls `done` as always.

use std::ops::Deref;
use std::sync::Arc;

use crate::default_rate_limiters::{RateLimiter, default_controller_rate_limiter};
use crate::delaying_queue::DelayingQueue;
use crate::queue::{QueueConfig, QueueItem};

/// A work queue with rate-limited re-adds.
///
/// Port of rate_limiting_queue.go: `rateLimitingType` (`NewRateLimitingQueueWithConfig`). Like Go's
/// embedding, it dereferences to [`DelayingQueue`] (and through it to [`Queue`](crate::Queue)).
/// Cloning the handle is cheap.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use workqueue::RateLimitingQueue;
///
/// let queue: RateLimitingQueue<String> = RateLimitingQueue::default();
/// queue.add("default/web-1".to_string());
/// let key = queue.get().await.unwrap();
/// // Reconciling failed: try again later, a little later each time.
/// queue.add_rate_limited(key.clone());
/// assert_eq!(queue.num_requeues(&key), 1);
/// queue.done(&key);
/// // ... and once it succeeds, forget its failures.
/// queue.forget(&key);
/// assert_eq!(queue.num_requeues(&key), 0);
/// # }
/// ```
#[doc(alias = "RateLimitingInterface")]
#[doc(alias = "TypedRateLimitingInterface")]
pub struct RateLimitingQueue<T: QueueItem> {
    queue: DelayingQueue<T>,
    limiter: Arc<dyn RateLimiter<T>>,
}

impl<T: QueueItem> Clone for RateLimitingQueue<T> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            limiter: Arc::clone(&self.limiter),
        }
    }
}

impl<T: QueueItem> Default for RateLimitingQueue<T> {
    /// An unnamed queue with [`default_controller_rate_limiter`].
    fn default() -> Self {
        Self::new(default_controller_rate_limiter(), QueueConfig::default())
    }
}

impl<T: QueueItem> std::fmt::Debug for RateLimitingQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitingQueue")
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl<T: QueueItem> Deref for RateLimitingQueue<T> {
    type Target = DelayingQueue<T>;

    fn deref(&self) -> &DelayingQueue<T> {
        &self.queue
    }
}

impl<T: QueueItem> RateLimitingQueue<T> {
    /// Creates a rate-limiting queue.
    ///
    /// Port of rate_limiting_queue.go: `NewRateLimitingQueueWithConfig`. Works outside a tokio
    /// runtime: the delaying queue's task starts later (see [`DelayingQueue::new`]).
    pub fn new(limiter: impl RateLimiter<T> + 'static, config: QueueConfig) -> Self {
        Self {
            queue: DelayingQueue::new(config),
            limiter: Arc::new(limiter),
        }
    }

    /// Adds `item` after the limiter says it is ok. Port of rate_limiting_queue.go:
    /// `rateLimitingType.AddRateLimited`.
    pub fn add_rate_limited(&self, item: T) {
        let delay = self.limiter.when(&item);
        self.queue.add_after(item, delay);
    }

    /// Stops tracking `item`'s failures. It does not remove the item from the queue: the caller
    /// still calls `done`. Port of rate_limiting_queue.go: `rateLimitingType.Forget`.
    pub fn forget(&self, item: &T) {
        self.limiter.forget(item);
    }

    /// How many times `item` has been rate-limited since it was last forgotten. Port of
    /// rate_limiting_queue.go: `rateLimitingType.NumRequeues`.
    pub fn num_requeues(&self, item: &T) -> usize {
        self.limiter.num_requeues(item)
    }
}
