//! Port of k8s.io/component-base/metrics/prometheus/workqueue/metrics.go: a [`MetricsProvider`]
//! that exposes every named queue's instruments under the standard `workqueue_*` names.
//!
//! # Data flow
//!
//! [`PrometheusMetricsProvider`] owns one metric family per instrument, labelled by queue name.
//! Each named queue built with it gets its own series in every family; a program registers the
//! families in its `prometheus-client` registry, or calls [`PrometheusMetricsProvider::encode`].
//!
//! Only with the `metrics` feature (on by default): without it the crate does not depend on
//! `prometheus-client`, and [`MetricsProvider`] is still there for providers of your own.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::metrics::{
    CounterMetric, GaugeMetric, HistogramMetric, MetricsProvider, SettableGaugeMetric,
};

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
