//! Port of client-go tools/leaderelection: run one active replica of a controller, with the
//! others on standby, coordinated through a Lease in the API server.
//!
//! | Rust | Go |
//! |---|---|
//! | [`LeaderElector`], [`LeaderElectionConfig`], [`LeaderCallbacks`] | `leaderelection.go` |
//! | [`ResourceLock`], [`LeaderElectionRecord`], [`LeaseLock`] | `resourcelock/interface.go`, `resourcelock/leaselock.go` |
//! | [`Lease`], [`LeaseSpec`] (re-exported from `api::coordination::v1`) | `k8s.io/api/coordination/v1` |
//! | [`HealthzAdaptor`], [`LeaderElector::check`], [`LeaseNotRenewed`] | `healthzadaptor.go`, `LeaderElector.Check` |
//! | [`LeaderMetric`] | `metrics.go` |
//! | [`PrometheusLeaderMetrics`] (feature `metrics`) | component-base `metrics/prometheus/clientgo/leaderelection` |
//! | [`run_while_leading`] | `RunOrDie` with a controller in `OnStartedLeading` |

mod healthzadaptor;
mod leader_election;
mod metrics;
#[cfg(feature = "metrics")]
mod prometheus;
mod resourcelock;

pub use healthzadaptor::HealthzAdaptor;
pub use leader_election::{
    ConfigError, JITTER_FACTOR, LeaderCallbacks, LeaderElectionConfig, LeaderElector,
    LeaseNotRenewed,
};
pub use metrics::LeaderMetric;
#[cfg(feature = "metrics")]
pub use prometheus::PrometheusLeaderMetrics;
pub use resourcelock::{LeaderElectionRecord, LeaseLock, ResourceLock};

/// The Lease a [`LeaseLock`] keeps its record in, from the `api` crate (k8s.io/api), re-exported
/// at its former path.
pub use api::coordination::v1::{Lease, LeaseSpec};

use std::future::Future;

use tokio_util::sync::CancellationToken;

/// Runs `work` only while this candidate leads, until `shutdown` is cancelled or leadership is
/// lost; `work` gets a token cancelled when leadership ends and must return then.
///
/// The usual way to scale a controller past one replica: every replica calls this with the same
/// lock name and its own identity. Port of leaderelection.go: `RunOrDie` with the controller's
/// `Run` as `OnStartedLeading`. Returns a config error instead of panicking.
///
/// # Cancel safety
///
/// Not cancel safe (see [`LeaderElector::run`]): cancel `shutdown` instead of dropping it.
pub async fn run_while_leading<L, F, Fut>(
    config: LeaderElectionConfig,
    lock: L,
    shutdown: CancellationToken,
    work: F,
) -> Result<(), ConfigError>
where
    L: ResourceLock,
    F: FnOnce(CancellationToken) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let elector = LeaderElector::new(config, lock)?;
    elector.run(shutdown, LeaderCallbacks::new(work)).await;
    Ok(())
}
