//! Port of util/workqueue/metrics.go: what a queue reports about itself, through instruments a
//! [`MetricsProvider`] hands out. The Prometheus provider with the standard `workqueue_*` names is
//! in `prometheus.rs` (the `metrics` feature, on by default).
//!
//! # Data flow
//!
//! A [`MetricsProvider`] hands each *named* queue its own metric instruments (a depth gauge, an
//! adds counter, ...). The queue calls them as items move: `add` bumps depth and adds and stamps
//! the item's add time; `get` lowers depth and observes queue latency; `done` observes work
//! duration; a ticker sets the unfinished-work gauges from the start times of items still
//! processing; `add_after` on a delaying queue counts a retry.
//!
//! Differs from Go: there is no process-global provider set with `SetProvider`; the provider is
//! passed in [`QueueConfig`](crate::QueueConfig), so two queues (or two tests) never share state by
//! accident. As in Go, a queue without a name records nothing.

use std::hash::Hash;

use tokio::time::Instant;

use crate::queue::{HashMap, QueueConfig};

/// A gauge that goes up and down by one. Port of metrics.go: `GaugeMetric`.
pub trait GaugeMetric: Send + Sync {
    /// Adds one.
    fn inc(&self);
    /// Subtracts one.
    fn dec(&self);
}

/// A gauge set to a value. Port of metrics.go: `SettableGaugeMetric`.
pub trait SettableGaugeMetric: Send + Sync {
    /// Sets the value.
    fn set(&self, value: f64);
}

/// A counter. Port of metrics.go: `CounterMetric`.
pub trait CounterMetric: Send + Sync {
    /// Adds one.
    fn inc(&self);
}

/// A distribution of observed values (seconds). Port of metrics.go: `HistogramMetric`.
pub trait HistogramMetric: Send + Sync {
    /// Records one observation.
    fn observe(&self, value: f64);
}

/// Creates the instruments of one named queue.
///
/// Port of metrics.go: `MetricsProvider`. Each method is called once per named queue, with the
/// queue's name.
pub trait MetricsProvider: Send + Sync {
    /// Current number of items waiting (`workqueue_depth`).
    fn new_depth_metric(&self, name: &str) -> Box<dyn GaugeMetric>;
    /// Total adds that were not collapsed (`workqueue_adds_total`).
    fn new_adds_metric(&self, name: &str) -> Box<dyn CounterMetric>;
    /// Seconds an item waited between add and get (`workqueue_queue_duration_seconds`).
    fn new_latency_metric(&self, name: &str) -> Box<dyn HistogramMetric>;
    /// Seconds between get and done (`workqueue_work_duration_seconds`).
    fn new_work_duration_metric(&self, name: &str) -> Box<dyn HistogramMetric>;
    /// Sum of the ages of items still processing (`workqueue_unfinished_work_seconds`).
    fn new_unfinished_work_seconds_metric(&self, name: &str) -> Box<dyn SettableGaugeMetric>;
    /// Age of the oldest item still processing (`workqueue_longest_running_processor_seconds`).
    fn new_longest_running_processor_seconds_metric(
        &self,
        name: &str,
    ) -> Box<dyn SettableGaugeMetric>;
    /// Delayed re-adds (`workqueue_retries_total`).
    fn new_retries_metric(&self, name: &str) -> Box<dyn CounterMetric>;
}

/// The per-queue bookkeeping behind the instruments.
///
/// Port of metrics.go: `defaultQueueMetrics`. Lives inside the queue's lock, so it needs no lock
/// of its own.
pub(crate) struct QueueMetrics<T> {
    depth: Box<dyn GaugeMetric>,
    adds: Box<dyn CounterMetric>,
    latency: Box<dyn HistogramMetric>,
    work_duration: Box<dyn HistogramMetric>,
    unfinished_work_seconds: Box<dyn SettableGaugeMetric>,
    longest_running_processor: Box<dyn SettableGaugeMetric>,
    /// When each waiting item was first added (cleared by `get`).
    add_times: HashMap<T, Instant>,
    /// When each processing item was handed out (cleared by `done`).
    processing_start_times: HashMap<T, Instant>,
}

impl<T: Clone + Eq + Hash> QueueMetrics<T> {
    /// `Some` only for a named queue with a provider, as Go's `newQueueMetrics` returns
    /// `noMetrics` for an empty name.
    pub(crate) fn from_config(config: &QueueConfig) -> Option<Self> {
        let provider = config.metrics_provider.as_ref()?;
        if config.name.is_empty() {
            return None;
        }
        let name = config.name.as_str();
        Some(Self {
            depth: provider.new_depth_metric(name),
            adds: provider.new_adds_metric(name),
            latency: provider.new_latency_metric(name),
            work_duration: provider.new_work_duration_metric(name),
            unfinished_work_seconds: provider.new_unfinished_work_seconds_metric(name),
            longest_running_processor: provider.new_longest_running_processor_seconds_metric(name),
            add_times: HashMap::default(),
            processing_start_times: HashMap::default(),
        })
    }

    pub(crate) fn add(&mut self, item: &T) {
        self.adds.inc();
        self.depth.inc();
        if !self.add_times.contains_key(item) {
            self.add_times.insert(item.clone(), Instant::now());
        }
    }

    pub(crate) fn get(&mut self, item: &T) {
        self.depth.dec();
        let now = Instant::now();
        self.processing_start_times.insert(item.clone(), now);
        if let Some(added) = self.add_times.remove(item) {
            self.latency
                .observe(now.saturating_duration_since(added).as_secs_f64());
        }
    }

    pub(crate) fn done(&mut self, item: &T) {
        if let Some(started) = self.processing_start_times.remove(item) {
            self.work_duration.observe(started.elapsed().as_secs_f64());
        }
    }

    pub(crate) fn update_unfinished_work(&mut self) {
        let now = Instant::now();
        let mut total = 0.0;
        let mut oldest = 0.0_f64;
        for started in self.processing_start_times.values() {
            let age = now.saturating_duration_since(*started).as_secs_f64();
            total += age;
            oldest = oldest.max(age);
        }
        self.unfinished_work_seconds.set(total);
        self.longest_running_processor.set(oldest);
    }
}

/// Counts delayed re-adds of a named queue. Port of metrics.go: `retryMetrics`.
pub(crate) struct RetryMetrics {
    retries: Option<Box<dyn CounterMetric>>,
}

impl RetryMetrics {
    pub(crate) fn from_config(config: &QueueConfig) -> Self {
        let retries = match &config.metrics_provider {
            Some(provider) if !config.name.is_empty() => {
                Some(provider.new_retries_metric(&config.name))
            }
            _ => None,
        };
        Self { retries }
    }

    pub(crate) fn retry(&self) {
        if let Some(r) = &self.retries {
            r.inc();
        }
    }
}
