//! Port of client-go's `util/workqueue`: the queues every Kubernetes controller drains.
//! Semantics of client-go v0.35.
//!
//! # Data flow
//!
//! Informer event handlers turn object changes into keys (`namespace/name`) and [`Queue::add`]
//! them. Worker tasks loop on [`Queue::get`], reconcile the key, and call [`Queue::done`]. The
//! queue collapses repeated adds of a waiting key and never hands one key to two workers at once.
//! A worker that fails calls [`RateLimitingQueue::add_rate_limited`]: a [`RateLimiter`] decides
//! the delay and the [`DelayingQueue`] holds the key until then. On success it calls
//! [`RateLimitingQueue::forget`].
//!
//! | Rust | Go (`k8s.io/client-go/util/workqueue`) |
//! |---|---|
//! | [`Queue`] | `queue.go`: `Type`, `Interface` |
//! | [`DelayingQueue`] | `delaying_queue.go`: `delayingType`, `DelayingInterface` |
//! | [`RateLimitingQueue`] | `rate_limiting_queue.go`: `rateLimitingType` |
//! | [`RateLimiter`] and friends | `default_rate_limiters.go` |
//! | [`MetricsProvider`] | `metrics.go` |
//! | `PrometheusMetricsProvider` (feature `metrics`, on by default) | component-base's `metrics/prometheus/workqueue` |
//! | [`parallelize_until`] | `parallelizer.go`: `ParallelizeUntil` |
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use workqueue::RateLimitingQueue;
//!
//! let queue: RateLimitingQueue<String> = RateLimitingQueue::default();
//! queue.add("default/web-1".to_string());
//! queue.shut_down(); // no more adds; keys already queued are still handed out
//! while let Some(key) = queue.get().await {
//!     let ok = key.ends_with("web-1"); // reconcile(key)
//!     if ok {
//!         queue.forget(&key);
//!     } else {
//!         queue.add_rate_limited(key.clone());
//!     }
//!     queue.done(&key);
//! }
//! # }
//! ```

mod default_rate_limiters;
mod delaying_queue;
mod lock;
mod metrics;
mod parallelizer;
#[cfg(feature = "metrics")]
mod prometheus;
mod queue;
mod rate_limiting_queue;

#[cfg(test)]
mod proptests;

pub use default_rate_limiters::{
    BucketRateLimiter, ItemExponentialFailureRateLimiter, ItemFastSlowRateLimiter,
    MaxOfRateLimiter, RateLimiter, WithMaxWaitRateLimiter, default_controller_rate_limiter,
    default_item_based_rate_limiter,
};
pub use delaying_queue::DelayingQueue;
pub use metrics::{
    CounterMetric, GaugeMetric, HistogramMetric, MetricsProvider, SettableGaugeMetric,
};
pub use parallelizer::parallelize_until;
#[cfg(feature = "metrics")]
pub use prometheus::PrometheusMetricsProvider;
pub use queue::{DEFAULT_UNFINISHED_WORK_UPDATE_PERIOD, Queue, QueueConfig, QueueItem};
pub use rate_limiting_queue::RateLimitingQueue;

/// governor's rate description, re-exported for [`BucketRateLimiter::new`].
pub use governor::Quota;
