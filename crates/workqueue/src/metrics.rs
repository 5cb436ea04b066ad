//! Port of util/workqueue/metrics.go: what a queue reports about itself, and a Prometheus
//! provider with the standard `workqueue_*` names.
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
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabel {
    name: String,
}

fn duration_histogram() -> Histogram {
    // 10 ns to 1000 s, as component-base's workqueue metrics: ExponentialBuckets(10e-9, 10, 12).
    Histogram::new(exponential_buckets(10e-9, 10.0, 12))
}

type GaugeF64 = Gauge<f64, std::sync::atomic::AtomicU64>;

/// A [`MetricsProvider`] backed by `prometheus-client`, exposing the standard names
/// (`workqueue_depth`, `workqueue_adds_total`, `workqueue_queue_duration_seconds`,
/// `workqueue_work_duration_seconds`, `workqueue_unfinished_work_seconds`,
/// `workqueue_longest_running_processor_seconds`, `workqueue_retries_total`), each labelled with
/// the queue's `name`.
///
/// Port of k8s.io/component-base/metrics/prometheus/workqueue: `workqueueMetricsProvider`. Clones
/// share the same metrics.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::sync::Arc;
/// use workqueue::{PrometheusMetricsProvider, Queue, QueueConfig};
///
/// let metrics = PrometheusMetricsProvider::new();
/// let queue: Queue<String> =
///     Queue::new(QueueConfig::named("pods").metrics_provider(Arc::new(metrics.clone())));
/// queue.add("default/web-1".into());
/// assert!(metrics.encode().contains(r#"workqueue_depth{name="pods"} 1"#));
/// # }
/// ```
#[derive(Clone)]
pub struct PrometheusMetricsProvider {
    depth: Family<QueueLabel, Gauge>,
    adds: Family<QueueLabel, Counter>,
    latency: Family<QueueLabel, Histogram>,
    work_duration: Family<QueueLabel, Histogram>,
    unfinished_work_seconds: Family<QueueLabel, GaugeF64>,
    longest_running_processor: Family<QueueLabel, GaugeF64>,
    retries: Family<QueueLabel, Counter>,
}

impl Default for PrometheusMetricsProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for PrometheusMetricsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusMetricsProvider")
            .finish_non_exhaustive()
    }
}

impl PrometheusMetricsProvider {
    /// Creates the metric families (empty until a named queue uses them).
    pub fn new() -> Self {
        Self {
            depth: Family::default(),
            adds: Family::default(),
            latency: Family::new_with_constructor(duration_histogram),
            work_duration: Family::new_with_constructor(duration_histogram),
            unfinished_work_seconds: Family::default(),
            longest_running_processor: Family::default(),
            retries: Family::default(),
        }
    }

    /// Registers every family in `registry`, to expose them with the rest of a program's metrics.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "workqueue_depth",
            "Current depth of workqueue",
            self.depth.clone(),
        );
        // prometheus-client appends `_total` to counters.
        registry.register(
            "workqueue_adds",
            "Total number of adds handled by workqueue",
            self.adds.clone(),
        );
        registry.register(
            "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in workqueue before being requested.",
            self.latency.clone(),
        );
        registry.register(
            "workqueue_work_duration_seconds",
            "How long in seconds processing an item from workqueue takes.",
            self.work_duration.clone(),
        );
        registry.register(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has done that is in progress and hasn't been observed by \
             work_duration. Large values indicate stuck threads. One can deduce the number of \
             stuck threads by observing the rate at which this increases.",
            self.unfinished_work_seconds.clone(),
        );
        registry.register(
            "workqueue_longest_running_processor_seconds",
            "How many seconds has the longest running processor for workqueue been running.",
            self.longest_running_processor.clone(),
        );
        registry.register(
            "workqueue_retries",
            "Total number of retries handled by workqueue",
            self.retries.clone(),
        );
    }

    /// The Prometheus text exposition of every family.
    pub fn encode(&self) -> String {
        let mut registry = Registry::default();
        self.register(&mut registry);
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

fn label(name: &str) -> QueueLabel {
    QueueLabel {
        name: name.to_string(),
    }
}

impl GaugeMetric for Gauge {
    fn inc(&self) {
        Gauge::inc(self);
    }
    fn dec(&self) {
        Gauge::dec(self);
    }
}

impl SettableGaugeMetric for GaugeF64 {
    fn set(&self, value: f64) {
        Gauge::set(self, value);
    }
}

impl CounterMetric for Counter {
    fn inc(&self) {
        Counter::inc(self);
    }
}

impl HistogramMetric for Histogram {
    fn observe(&self, value: f64) {
        Histogram::observe(self, value);
    }
}

impl MetricsProvider for PrometheusMetricsProvider {
    fn new_depth_metric(&self, name: &str) -> Box<dyn GaugeMetric> {
        Box::new(self.depth.get_or_create(&label(name)).clone())
    }
    fn new_adds_metric(&self, name: &str) -> Box<dyn CounterMetric> {
        Box::new(self.adds.get_or_create(&label(name)).clone())
    }
    fn new_latency_metric(&self, name: &str) -> Box<dyn HistogramMetric> {
        Box::new(self.latency.get_or_create(&label(name)).clone())
    }
    fn new_work_duration_metric(&self, name: &str) -> Box<dyn HistogramMetric> {
        Box::new(self.work_duration.get_or_create(&label(name)).clone())
    }
    fn new_unfinished_work_seconds_metric(&self, name: &str) -> Box<dyn SettableGaugeMetric> {
        Box::new(
            self.unfinished_work_seconds
                .get_or_create(&label(name))
                .clone(),
        )
    }
    fn new_longest_running_processor_seconds_metric(
        &self,
        name: &str,
    ) -> Box<dyn SettableGaugeMetric> {
        Box::new(
            self.longest_running_processor
                .get_or_create(&label(name))
                .clone(),
        )
    }
    fn new_retries_metric(&self, name: &str) -> Box<dyn CounterMetric> {
        Box::new(self.retries.get_or_create(&label(name)).clone())
    }
}

/// Keeps the trait objects honest: a provider must be shareable across queues and threads.
const _: fn() = || {
    fn assert_provider<P: MetricsProvider + Clone + 'static>() {}
    assert_provider::<PrometheusMetricsProvider>();
    let _: Option<Arc<dyn MetricsProvider>> = None;
};
