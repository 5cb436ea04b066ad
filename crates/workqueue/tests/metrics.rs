//! Metrics: what a named queue records, and that unnamed queues record nothing.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::advance;
use workqueue::{
    CounterMetric, DelayingQueue, GaugeMetric, HistogramMetric, MetricsProvider,
    PrometheusMetricsProvider, Queue, QueueConfig, SettableGaugeMetric,
};

/// Records every call as `"<metric> <value>"`.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

struct Instrument(&'static str, Recorder);

impl Recorder {
    fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
    fn instrument(&self, what: &'static str) -> Box<Instrument> {
        Box::new(Instrument(what, self.clone()))
    }
}

impl GaugeMetric for Instrument {
    fn inc(&self) {
        self.1.push(format!("{} +1", self.0));
    }
    fn dec(&self) {
        self.1.push(format!("{} -1", self.0));
    }
}
impl CounterMetric for Instrument {
    fn inc(&self) {
        self.1.push(format!("{} +1", self.0));
    }
}
impl SettableGaugeMetric for Instrument {
    fn set(&self, v: f64) {
        self.1.push(format!("{} ={v}", self.0));
    }
}
impl HistogramMetric for Instrument {
    fn observe(&self, v: f64) {
        self.1.push(format!("{} {v}", self.0));
    }
}

impl MetricsProvider for Recorder {
    fn new_depth_metric(&self, _: &str) -> Box<dyn GaugeMetric> {
        self.instrument("depth")
    }
    fn new_adds_metric(&self, _: &str) -> Box<dyn CounterMetric> {
        self.instrument("adds")
    }
    fn new_latency_metric(&self, _: &str) -> Box<dyn HistogramMetric> {
        self.instrument("latency")
    }
    fn new_work_duration_metric(&self, _: &str) -> Box<dyn HistogramMetric> {
        self.instrument("work")
    }
    fn new_unfinished_work_seconds_metric(&self, _: &str) -> Box<dyn SettableGaugeMetric> {
        self.instrument("unfinished")
    }
    fn new_longest_running_processor_seconds_metric(
        &self,
        _: &str,
    ) -> Box<dyn SettableGaugeMetric> {
        self.instrument("longest")
    }
    fn new_retries_metric(&self, _: &str) -> Box<dyn CounterMetric> {
        self.instrument("retries")
    }
}

#[tokio::test(start_paused = true)]
async fn a_named_queue_records_depth_adds_latency_and_work_duration() {
    let recorder = Recorder::default();
    let queue: Queue<&str> =
        Queue::new(QueueConfig::named("test").metrics_provider(Arc::new(recorder.clone())));
    queue.add("foo");
    queue.add("foo"); // collapsed: not counted
    assert_eq!(recorder.take(), ["adds +1", "depth +1"]);

    advance(Duration::from_millis(250)).await;
    let foo = queue.get().await.unwrap();
    assert_eq!(recorder.take(), ["depth -1", "latency 0.25"]);

    queue.add("foo"); // dirty while processing: counted as an add
    assert_eq!(recorder.take(), ["adds +1", "depth +1"]);

    advance(Duration::from_millis(500)).await;
    queue.done(&foo);
    let recorded = recorder.take();
    assert!(recorded.contains(&"work 0.5".to_string()), "{recorded:?}");

    // The re-queued foo waited since its re-add, 500 ms ago.
    let _ = queue.get().await.unwrap();
    assert_eq!(recorder.take(), ["depth -1", "latency 0.5"]);
    queue.shut_down();
}

#[tokio::test(start_paused = true)]
async fn unfinished_work_is_refreshed_while_items_are_processing() {
    let recorder = Recorder::default();
    let queue: Queue<&str> =
        Queue::new(QueueConfig::named("test").metrics_provider(Arc::new(recorder.clone())));
    queue.add("a");
    queue.add("b");
    let _a = queue.get().await.unwrap();
    advance(Duration::from_secs(1)).await;
    let _b = queue.get().await.unwrap();
    recorder.take();
    // The next 500 ms tick sees a (1.5 s old) and b (0.5 s old).
    advance(Duration::from_millis(500)).await;
    tokio::task::yield_now().await;
    let recorded = recorder.take();
    assert!(
        recorded.contains(&"unfinished =2".to_string()),
        "{recorded:?}"
    );
    assert!(
        recorded.contains(&"longest =1.5".to_string()),
        "{recorded:?}"
    );
    queue.shut_down();
}

#[tokio::test(start_paused = true)]
async fn add_after_counts_a_retry_on_a_named_delaying_queue() {
    let recorder = Recorder::default();
    let queue: DelayingQueue<&str> =
        DelayingQueue::new(QueueConfig::named("test").metrics_provider(Arc::new(recorder.clone())));
    queue.add_after("foo", Duration::from_secs(1));
    assert_eq!(recorder.take(), ["retries +1"]);
    queue.shut_down();
}

#[tokio::test(start_paused = true)]
async fn an_unnamed_queue_records_nothing_even_with_a_provider() {
    let recorder = Recorder::default();
    let config = QueueConfig {
        name: String::new(),
        metrics_provider: Some(Arc::new(recorder.clone())),
    };
    let queue: DelayingQueue<&str> = DelayingQueue::new(config);
    queue.add("foo");
    queue.add_after("bar", Duration::from_secs(1));
    let foo = queue.get().await.unwrap();
    queue.done(&foo);
    advance(Duration::from_secs(2)).await;
    assert!(recorder.take().is_empty());
}

#[tokio::test(start_paused = true)]
async fn prometheus_exposition_uses_the_standard_names_and_the_name_label() {
    let provider = PrometheusMetricsProvider::new();
    let queue: DelayingQueue<String> =
        DelayingQueue::new(QueueConfig::named("pods").metrics_provider(Arc::new(provider.clone())));
    queue.add("a".into());
    queue.add("b".into());
    queue.add_after("c".into(), Duration::from_secs(5));
    advance(Duration::from_millis(100)).await;
    let a = queue.get().await.unwrap();
    queue.done(&a);

    let text = provider.encode();
    for expected in [
        r#"workqueue_depth{name="pods"} 1"#,
        r#"workqueue_adds_total{name="pods"} 2"#,
        r#"workqueue_retries_total{name="pods"} 1"#,
        r#"workqueue_queue_duration_seconds_count{name="pods"} 1"#,
        r#"workqueue_work_duration_seconds_count{name="pods"} 1"#,
        r#"workqueue_unfinished_work_seconds{name="pods"}"#,
        r#"workqueue_longest_running_processor_seconds{name="pods"}"#,
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    queue.shut_down();
}

#[test]
fn a_named_queue_built_outside_a_runtime_refreshes_unfinished_work_once_used_in_one() {
    let recorder = Recorder::default();
    let queue: Queue<&str> =
        Queue::new(QueueConfig::named("test").metrics_provider(Arc::new(recorder.clone())));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        queue.add("a"); // the first use inside a runtime starts the ticker
        let _a = queue.get().await.unwrap();
        recorder.take();
        advance(Duration::from_millis(500)).await;
        tokio::task::yield_now().await;
        let recorded = recorder.take();
        assert!(
            recorded.contains(&"unfinished =0.5".to_string()),
            "{recorded:?}"
        );
        queue.shut_down();
    });
}
