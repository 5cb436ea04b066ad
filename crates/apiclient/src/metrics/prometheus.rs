//! Port of component-base `metrics/prometheus/restclient/metrics.go`: client-go's REST client
//! metrics as prometheus-client families (`rest_client_requests_total`,
//! `rest_client_request_duration_seconds`, …), under the same names, labels and buckets, so
//! dashboards and alerts written for Go components work unchanged.
//!
//! Data flow: [`RestClientMetrics::new`] registers the families in your
//! [`Registry`]; [`RestClientMetrics::install`] hands them to [`super::register`] as the
//! process's hooks; requests then update them, and your `/metrics` handler encodes the
//! registry as usual.
//!
//! ```
//! use prometheus_client::registry::Registry;
//! use apiclient::metrics::prometheus::RestClientMetrics;
//!
//! let mut registry = Registry::default();
//! RestClientMetrics::new(&mut registry).install();
//! let mut text = String::new();
//! prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
//! assert!(text.contains("rest_client_request_duration_seconds"));
//! ```
//!
//! Differs from Go: families are registered in the registry you pass, not in a global
//! legacy registry; counters are registered without their `_total` suffix because
//! prometheus-client appends it, so the exposed names are Go's. Go's
//! `rest_client_dns_resolution_duration_seconds` and the transport cache families are
//! absent (see [`super`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use apimachinery::util::sync::MutexExt as _;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::{
    CallsMetric, DurationMetric, ExpiryMetric, LatencyMetric, RegisterOpts, ResultMetric,
    RetryMetric, SizeMetric,
};
use crate::http::Url;

/// Buckets of the request and rate-limiter latency histograms, in seconds.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0,
];
/// Buckets of the request and response size histograms, in bytes.
pub const SIZE_BUCKETS: [f64; 11] = [
    64.0, 256.0, 512.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0,
];
/// Buckets of the exec client certificate rotation age histogram, in seconds (10 minutes
/// to 4 years).
pub const ROTATION_AGE_BUCKETS: [f64; 11] = [
    600.0,
    1800.0,
    3600.0,
    14400.0,
    86400.0,
    604800.0,
    2592000.0,
    7776000.0,
    15552000.0,
    31104000.0,
    124416000.0,
];

type Labels = Vec<(&'static str, String)>;
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn size_histogram() -> Histogram {
    Histogram::new(SIZE_BUCKETS)
}

/// The families of component-base's restclient metrics. Port of its package variables and
/// adapters (`latencyAdapter`, `sizeAdapter`, `resultAdapter`, `retryAdapter`,
/// `callsAdapter`, `expiryToTTLAdapter`, `rotationAdapter`).
#[derive(Clone, Debug)]
#[doc(alias = "restclient")]
pub struct RestClientMetrics {
    request_latency: HistogramFamily,
    request_size: HistogramFamily,
    response_size: HistogramFamily,
    rate_limiter_latency: HistogramFamily,
    request_result: Family<Labels, Counter>,
    request_retry: Family<Labels, Counter>,
    exec_plugin_calls: Family<Labels, Counter>,
    exec_cert_ttl: ExpiryGauge,
    exec_cert_rotation_age: Histogram,
}

impl RestClientMetrics {
    /// Registers every family in `registry`. Port of the package's `init`.
    pub fn new(registry: &mut Registry) -> Self {
        let m = RestClientMetrics {
            request_latency: Family::new_with_constructor(latency_histogram),
            request_size: Family::new_with_constructor(size_histogram),
            response_size: Family::new_with_constructor(size_histogram),
            rate_limiter_latency: Family::new_with_constructor(latency_histogram),
            request_result: Family::default(),
            request_retry: Family::default(),
            exec_plugin_calls: Family::default(),
            exec_cert_ttl: ExpiryGauge::default(),
            exec_cert_rotation_age: Histogram::new(ROTATION_AGE_BUCKETS),
        };
        registry.register(
            "rest_client_request_duration_seconds",
            "Request latency in seconds. Broken down by verb, and host",
            m.request_latency.clone(),
        );
        registry.register(
            "rest_client_request_size_bytes",
            "Request size in bytes. Broken down by verb and host",
            m.request_size.clone(),
        );
        registry.register(
            "rest_client_response_size_bytes",
            "Response size in bytes. Broken down by verb and host",
            m.response_size.clone(),
        );
        registry.register(
            "rest_client_rate_limiter_duration_seconds",
            "Client side rate limiter latency in seconds. Broken down by verb, and host",
            m.rate_limiter_latency.clone(),
        );
        registry.register(
            "rest_client_requests",
            "Number of HTTP requests, partitioned by status code, method, and host",
            m.request_result.clone(),
        );
        registry.register(
            "rest_client_request_retries",
            "Number of request retries, partitioned by status code, verb, and host",
            m.request_retry.clone(),
        );
        registry.register(
            "rest_client_exec_plugin_ttl_seconds",
            "Gauge of the shortest TTL (time-to-live) of the client certificate(s) managed by \
             the auth exec plugin. The value is in seconds until certificate expiry (negative \
             if already expired). If auth exec plugins are unused or manage no TLS \
             certificates, the value will be +INF",
            m.exec_cert_ttl.clone(),
        );
        registry.register(
            "rest_client_exec_plugin_certificate_rotation_age",
            "Histogram of the number of seconds the last auth exec plugin client certificate \
             lived before being rotated. If auth exec plugin client certificates are unused, \
             histogram will contain no data",
            m.exec_cert_rotation_age.clone(),
        );
        registry.register(
            "rest_client_exec_plugin_call",
            "Number of calls to an exec plugin, partitioned by the type of event encountered \
             (no_error, plugin_execution_error, plugin_not_found_error, client_internal_error) \
             and an optional exit code. The exit code will be set to 0 if and only if the \
             plugin call was successful",
            m.exec_plugin_calls.clone(),
        );
        m
    }

    /// These families as hooks, for [`super::register`].
    pub fn register_opts(&self) -> RegisterOpts {
        let me = Arc::new(self.clone());
        RegisterOpts {
            client_cert_expiry: Some(me.clone()),
            client_cert_rotation_age: Some(me.clone()),
            request_latency: Some(Arc::new(Latency(self.request_latency.clone()))),
            request_size: Some(Arc::new(Size(self.request_size.clone()))),
            response_size: Some(Arc::new(Size(self.response_size.clone()))),
            rate_limiter_latency: Some(Arc::new(Latency(self.rate_limiter_latency.clone()))),
            request_result: Some(me.clone()),
            request_retry: Some(me.clone()),
            exec_plugin_calls: Some(me),
        }
    }

    /// Installs these families as the process's hooks; `false` if hooks were already
    /// installed (see [`super::register`]).
    pub fn install(&self) -> bool {
        super::register(self.register_opts())
    }
}

/// A latency histogram family labelled `verb`, `host`. Port of latencyAdapter.
struct Latency(HistogramFamily);

impl LatencyMetric for Latency {
    fn observe(&self, verb: &str, url: &Url, latency: Duration) {
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => String::new(),
        };
        self.0
            .get_or_create(&vec![("verb", verb.to_owned()), ("host", host)])
            .observe(latency.as_secs_f64());
    }
}

/// A size histogram family labelled `verb`, `host`. Port of sizeAdapter.
struct Size(HistogramFamily);

impl SizeMetric for Size {
    fn observe(&self, verb: &str, host: &str, size: f64) {
        self.0
            .get_or_create(&vec![("verb", verb.to_owned()), ("host", host.to_owned())])
            .observe(size);
    }
}

impl ResultMetric for RestClientMetrics {
    fn increment(&self, code: &str, method: &str, host: &str) {
        self.request_result
            .get_or_create(&vec![
                ("code", code.to_owned()),
                ("method", method.to_owned()),
                ("host", host.to_owned()),
            ])
            .inc();
    }
}

impl RetryMetric for RestClientMetrics {
    fn increment_retry(&self, code: &str, method: &str, host: &str) {
        // component-base labels the retry counter `verb`, the result counter `method`.
        self.request_retry
            .get_or_create(&vec![
                ("code", code.to_owned()),
                ("verb", method.to_owned()),
                ("host", host.to_owned()),
            ])
            .inc();
    }
}

impl CallsMetric for RestClientMetrics {
    fn increment(&self, exit_code: i32, call_status: &str) {
        self.exec_plugin_calls
            .get_or_create(&vec![
                ("code", exit_code.to_string()),
                ("call_status", call_status.to_owned()),
            ])
            .inc();
    }
}

impl ExpiryMetric for RestClientMetrics {
    fn set(&self, expiry: Option<SystemTime>) {
        *self.exec_cert_ttl.0.lock_unpoisoned() = expiry;
    }
}

impl DurationMetric for RestClientMetrics {
    fn observe(&self, duration: Duration) {
        self.exec_cert_rotation_age.observe(duration.as_secs_f64());
    }
}

/// Seconds until the earliest exec client certificate expires, computed when scraped; +Inf
/// without one. Port of component-base's `execPluginCertTTL` GaugeFunc.
#[derive(Clone, Debug, Default)]
struct ExpiryGauge(Arc<Mutex<Option<SystemTime>>>);

impl EncodeMetric for ExpiryGauge {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let ttl = match *self.0.lock_unpoisoned() {
            None => f64::INFINITY,
            Some(exp) => match exp.duration_since(SystemTime::now()) {
                Ok(left) => left.as_secs_f64(),
                Err(past) => -past.duration().as_secs_f64(),
            },
        };
        encoder.encode_gauge(&ttl)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }
}
