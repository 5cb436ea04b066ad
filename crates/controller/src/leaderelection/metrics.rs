//! Port of tools/leaderelection/metrics.go: the hook through which an elector reports whether
//! it leads (Go: `LeaderMetric`, set process-wide through `leaderMetricsProvider`).
//!
//! The elector calls [`LeaderMetric::off`] when created, [`LeaderMetric::on`] when it acquires
//! the lease, [`LeaderMetric::off`] again when leading ends, and
//! [`LeaderMetric::slowpath_exercised`] each time a renewal had to read the lock first. Give
//! one to [`super::LeaderElector::with_metrics`]; with the `metrics` feature,
//! [`super::PrometheusLeaderMetrics`] exposes them under component-base's names.

/// Receives an elector's leadership changes, keyed by the lock's `name`.
///
/// Port of metrics.go: `LeaderMetric` (also `SwitchMetric`'s `On`/`Off` in older client-go).
/// Differs from Go: there is no `MetricsProvider`/`SetProvider` indirection; the elector holds
/// the hook itself. Implementations must be quick: they run inline in the election loop.
pub trait LeaderMetric: Send + Sync {
    /// This process now leads the lease `name`.
    fn on(&self, name: &str);
    /// This process does not lead the lease `name` (any more).
    fn off(&self, name: &str);
    /// A renewal of `name` fell back to reading the lock before writing it.
    fn slowpath_exercised(&self, name: &str);
}

const _: Option<&dyn LeaderMetric> = None; // object safe
