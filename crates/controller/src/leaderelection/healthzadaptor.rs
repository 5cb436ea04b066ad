//! Port of tools/leaderelection/healthzadaptor.go: the leader election as a `/healthz` check.
//!
//! A program builds the [`HealthzAdaptor`] first (its `/healthz` handler needs it before any
//! election exists) and attaches the elector once created. From then on
//! [`HealthzAdaptor::check`] fails while this process believes it leads but has stopped
//! renewing its lease for longer than the lease duration plus the adaptor's timeout, so the
//! kubelet's liveness probe restarts a leader whose renewal loop is stuck instead of leaving
//! the controller headless.
//!
//! ```
//! # async fn demo(client: apiclient::RestClient) -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use controller::leaderelection::{HealthzAdaptor, LeaderElectionConfig, LeaderElector, LeaseLock};
//!
//! let healthz = HealthzAdaptor::new(Duration::from_secs(20));
//! assert!(healthz.check().is_ok()); // no election yet: healthy
//! let lock = LeaseLock::new(&client, "kube-system", "my-controller", "pod-a");
//! let elector = LeaderElector::new(LeaderElectionConfig::default(), lock)?;
//! healthz.set_leader_election(&elector);
//! # Ok(()) }
//! ```
//!
//! Differs from Go: there is no `LeaderElectionConfig.WatchDog`; attach the elector with
//! [`HealthzAdaptor::set_leader_election`] (what Go's `NewLeaderElector` does with it).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use apimachinery::util::sync::MutexExt;

use super::leader_election::{LeaderHealth, LeaseNotRenewed};

/// A health check over a leader election that may not exist yet.
///
/// Port of healthzadaptor.go: `HealthzAdaptor` (`NewLeaderHealthzAdaptor` is [`Self::new`],
/// `SetLeaderElection` is [`Self::set_leader_election`]). Clones share the elector they check.
/// Differs from Go: `check` takes no request (it never read it).
#[derive(Clone, Debug)]
#[doc(alias = "NewLeaderHealthzAdaptor")]
pub struct HealthzAdaptor {
    /// The elector's shared health state; `None` until an elector attaches.
    elector: Arc<Mutex<Option<LeaderHealth>>>,
    timeout: Duration,
}

impl HealthzAdaptor {
    /// An adaptor that tolerates `timeout` past the lease's expiry before reporting unhealthy.
    ///
    /// Port of healthzadaptor.go: `NewLeaderHealthzAdaptor`.
    pub fn new(timeout: Duration) -> Self {
        Self {
            elector: Arc::default(),
            timeout,
        }
    }

    /// The check's name in `/healthz` output: `leaderElection`, as in Go.
    ///
    /// Port of healthzadaptor.go: `HealthzAdaptor.Name`.
    pub fn name(&self) -> &'static str {
        "leaderElection"
    }

    /// Healthy (`Ok`) with no elector attached or when this process does not lead; an error when
    /// it leads on a lease it last renewed more than lease duration + timeout ago.
    ///
    /// Port of healthzadaptor.go: `HealthzAdaptor.Check`.
    pub fn check(&self) -> Result<(), LeaseNotRenewed> {
        match &*self.elector.lock_unpoisoned() {
            Some(health) => health.check(self.timeout),
            None => Ok(()),
        }
    }

    /// Attaches `elector`, replacing any earlier one; call it before [`super::LeaderElector::run`]
    /// takes the elector.
    ///
    /// Port of healthzadaptor.go: `HealthzAdaptor.SetLeaderElection`.
    pub fn set_leader_election<L: super::ResourceLock>(&self, elector: &super::LeaderElector<L>) {
        self.set_health(elector.health());
    }

    fn set_health(&self, health: LeaderHealth) {
        *self.elector.lock_unpoisoned() = Some(health);
    }
}
