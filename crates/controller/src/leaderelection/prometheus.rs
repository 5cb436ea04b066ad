//! Port of k8s.io/component-base/metrics/prometheus/clientgo/leaderelection/metrics.go: a
//! [`LeaderMetric`] on `prometheus-client`, under the names Go components expose.
//!
//! - `leader_election_master_status{name}`: 1 while this process leads the lease `name`, 0
//!   otherwise.
//! - `leader_election_slowpath_total{name}`: renewals that read the lock before writing it.
//!
//! Only with the `metrics` feature (on by default).
//!
//! ```
//! use std::sync::Arc;
//! use controller::leaderelection::{LeaderMetric, PrometheusLeaderMetrics};
//! use prometheus_client::registry::Registry;
//!
//! let metrics = PrometheusLeaderMetrics::new();
//! let mut registry = Registry::default();
//! metrics.register(&mut registry);
//! metrics.on("pod-controller");
//! let mut text = String::new();
//! prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
//! assert!(text.contains(r#"leader_election_master_status{name="pod-controller"} 1"#));
//! ```

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::metrics::LeaderMetric;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LeaseLabel {
    name: String,
}

/// `leader_election_master_status` and `leader_election_slowpath_total`, labelled by lease
/// name. Clones share the same series.
///
/// Port of component-base clientgo/leaderelection: `leaderGauge`, `leaderSlowpathCounter` and
/// `prometheusMetricsProvider`. Differs from Go: registered in the registry you pass
/// ([`Self::register`]), not in the legacy global one.
#[derive(Clone, Debug, Default)]
pub struct PrometheusLeaderMetrics {
    master_status: Family<LeaseLabel, Gauge>,
    slowpath: Family<LeaseLabel, Counter>,
}

impl PrometheusLeaderMetrics {
    /// Empty families; nothing is exposed until an elector reports.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds both families to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "leader_election_master_status",
            "Gauge of if the reporting system is master of the relevant lease, 0 indicates \
             backup, 1 indicates master. 'name' is the string used to identify the lease. \
             Please make sure to group by name.",
            self.master_status.clone(),
        );
        // prometheus-client appends `_total` to counters.
        registry.register(
            "leader_election_slowpath",
            "Total number of slow path exercised in renewing leader leases. 'name' is the \
             string used to identify the lease. Please make sure to group by name.",
            self.slowpath.clone(),
        );
    }

    fn label(name: &str) -> LeaseLabel {
        LeaseLabel {
            name: name.to_owned(),
        }
    }
}

impl LeaderMetric for PrometheusLeaderMetrics {
    fn on(&self, name: &str) {
        self.master_status.get_or_create(&Self::label(name)).set(1);
    }

    fn off(&self, name: &str) {
        self.master_status.get_or_create(&Self::label(name)).set(0);
    }

    fn slowpath_exercised(&self, name: &str) {
        self.slowpath.get_or_create(&Self::label(name)).inc();
    }
}
