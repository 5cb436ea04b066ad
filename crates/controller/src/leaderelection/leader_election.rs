//! Port of tools/leaderelection/leaderelection.go: one leader among many replicas, coordinated
//! through a lock object in the API server.
//!
//! # Data flow
//!
//! [`LeaderElector::run`] first *acquires*: every `retry_period` (jittered by up to 1.2×) it
//! tries to take the lock, until it succeeds or is shut down. Once leading it starts the
//! `on_started_leading` task and *renews*: every `retry_period` it rewrites the record, retrying
//! within `renew_deadline`; if no renewal succeeds in time, leadership is lost. Either way it then
//! stops the leading task, optionally releases the lock, and calls `on_stopped_leading`.
//!
//! # Invariant: observed time, not the holder's clock
//!
//! A candidate never compares the record's timestamps with its own clock. It remembers *when it
//! last saw the record change* (`observed_time`, on this process's monotonic clock) and considers
//! the lease held until `observed_time + lease_duration_seconds` of the record it saw. Another
//! holder's renewals change the record, which pushes the deadline out; a holder that stops
//! renewing lets it pass. Clock skew between machines therefore does not matter, only their clock
//! *rates* do.
//!
//! Like Go's, this does not fence: a leader that loses its lease keeps running until it notices
//! (at most `renew_deadline` later), so work guarded by the lease must tolerate a brief overlap.
//!
//! # Every request has a bound
//!
//! Go runs each attempt under a context: `renew` polls under `context.WithTimeout(ctx,
//! RenewDeadline)`, `release` under its own `context.WithTimeout(.., RenewDeadline)`, and every
//! attempt ends when the elector's context is cancelled. Here the same bounds are a deadline
//! and the shutdown token around each attempt's future: an attempt that outlives its bound is
//! dropped (which aborts its HTTP request), so a hung API server can delay shutdown by at most
//! one `renew_deadline` (the release), and never stalls acquiring or renewing past it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apimachinery::meta::MicroTime;
use apimachinery::util::sync::MutexExt;
use apimachinery::util::wait::jitter;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use super::metrics::LeaderMetric;
use super::resourcelock::{LeaderElectionRecord, ResourceLock};

/// How much the acquire period is jittered: each wait is `retry_period × (1 + rand × 1.2)`.
///
/// Port of leaderelection.go: `JitterFactor`.
pub const JITTER_FACTOR: f64 = 1.2;

/// How many times a release reads and writes the lock when the write conflicts.
const RELEASE_TRIES: usize = 3;

/// Timing of an election. Defaults are client-go's core clients': 15 s, 10 s, 2 s.
///
/// Port of leaderelection.go: `LeaderElectionConfig` (timings and options; the lock and callbacks
/// are passed separately).
#[derive(Clone, Debug)]
pub struct LeaderElectionConfig {
    /// How long non-leaders wait, after last seeing the record change, before taking over.
    pub lease_duration: Duration,
    /// How long the leader keeps retrying a renewal before giving up leadership.
    pub renew_deadline: Duration,
    /// How long to wait between attempts.
    pub retry_period: Duration,
    /// Release the lock when shut down, so another candidate takes over at once instead of
    /// waiting out the lease. Only safe if the leading task has stopped acting on the lease,
    /// which [`LeaderElector::run`] guarantees by waiting for it first.
    pub release_on_cancel: bool,
    /// The lock's name, for logs, the `name` label of [`LeaderMetric`] and health errors.
    pub name: String,
}

impl Default for LeaderElectionConfig {
    fn default() -> Self {
        Self {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            release_on_cancel: false,
            name: String::new(),
        }
    }
}

/// A configuration that cannot work.
///
/// Port of the errors of leaderelection.go: `NewLeaderElector`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `lease_duration` must be greater than `renew_deadline`.
    #[error("leaseDuration must be greater than renewDeadline")]
    LeaseNotLongerThanRenewDeadline,
    /// `renew_deadline` must be greater than `retry_period × 1.2`.
    #[error("renewDeadline must be greater than retryPeriod*JitterFactor")]
    RenewDeadlineTooShort,
    /// A duration is zero.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    /// The lock's identity is empty: nobody could tell this candidate's claim from a release.
    #[error("Lock identity is empty")]
    EmptyIdentity,
}

impl LeaderElectionConfig {
    /// Checks the rules of Go's `NewLeaderElector`: `lease > renew > 1.2 × retry > 0`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.lease_duration <= self.renew_deadline {
            return Err(ConfigError::LeaseNotLongerThanRenewDeadline);
        }
        if self.renew_deadline <= self.retry_period.mul_f64(JITTER_FACTOR) {
            return Err(ConfigError::RenewDeadlineTooShort);
        }
        if self.lease_duration.is_zero() {
            return Err(ConfigError::Zero("leaseDuration"));
        }
        if self.renew_deadline.is_zero() {
            return Err(ConfigError::Zero("renewDeadline"));
        }
        if self.retry_period.is_zero() {
            return Err(ConfigError::Zero("retryPeriod"));
        }
        Ok(())
    }
}

/// This candidate leads according to the record it last observed, but has not seen the record
/// (that is, renewed it) for longer than the lease duration plus the tolerance: something keeps
/// it from renewing without making it stop. Not retryable as such: restart the process.
///
/// Port of the error of leaderelection.go: `LeaderElector.Check`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed election to renew leadership on lease {name} (last renewed {since:?} ago)")]
pub struct LeaseNotRenewed {
    /// The config's `name`.
    pub name: String,
    /// How long ago this candidate last observed the record.
    pub since: Duration,
}

/// What [`LeaderElector::check`] needs, shared with the running elector: Go's
/// `observedRecord`/`observedTime` under `observedRecordLock`, reduced to whether the observed
/// holder is us and when it was observed.
///
/// Port of the parts of leaderelection.go: `LeaderElector` that `Check` reads. Differs from Go:
/// a separate handle, because [`LeaderElector::run`] consumes the elector.
#[derive(Clone, Debug)]
pub(super) struct LeaderHealth {
    name: String,
    lease_duration: Duration,
    /// `(observed holder is this candidate, when observed)`; `None` until a record is seen.
    observed: Arc<Mutex<Option<(bool, Instant)>>>,
}

impl LeaderHealth {
    /// Port of leaderelection.go: `LeaderElector.Check`: healthy unless the observed holder is
    /// us and more than `lease_duration + max_tolerable_expired_lease` has passed since.
    pub(super) fn check(
        &self,
        max_tolerable_expired_lease: Duration,
    ) -> Result<(), LeaseNotRenewed> {
        let Some((ours, seen)) = *self.observed.lock_unpoisoned() else {
            return Ok(());
        };
        if !ours {
            // A hot standby is healthy however long the leader has held the lease.
            return Ok(());
        }
        let since = Instant::now().saturating_duration_since(seen);
        if since
            > self
                .lease_duration
                .saturating_add(max_tolerable_expired_lease)
        {
            return Err(LeaseNotRenewed {
                name: self.name.clone(),
                since,
            });
        }
        Ok(())
    }
}

/// The `on_new_leader` callback.
type NewLeaderFn = dyn Fn(&str) + Send + Sync;

type LeadingFn =
    Box<dyn FnOnce(CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// What to do when leadership changes.
///
/// Port of leaderelection.go: `LeaderCallbacks`. Differs from Go: `on_started_leading` is
/// required by construction and `on_stopped_leading` is optional (Go rejects nil for both);
/// `on_new_leader` runs inline, so keep it quick.
pub struct LeaderCallbacks {
    on_started_leading: LeadingFn,
    on_stopped_leading: Option<Box<dyn FnOnce() + Send>>,
    on_new_leader: Option<Box<NewLeaderFn>>,
}

impl std::fmt::Debug for LeaderCallbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderCallbacks").finish_non_exhaustive()
    }
}

impl LeaderCallbacks {
    /// `on_started_leading` runs as a task while this candidate leads; its token is cancelled
    /// when leadership ends, and the elector waits for the task to return.
    pub fn new<F, Fut>(on_started_leading: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            on_started_leading: Box::new(move |token| Box::pin(on_started_leading(token))),
            on_stopped_leading: None,
            on_new_leader: None,
        }
    }

    /// Called once `run` ends, whether or not this candidate ever led.
    #[must_use]
    pub fn on_stopped_leading(mut self, f: impl FnOnce() + Send + 'static) -> Self {
        self.on_stopped_leading = Some(Box::new(f));
        self
    }

    /// Called with the identity of each newly observed leader, including the first one seen.
    #[must_use]
    pub fn on_new_leader(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_new_leader = Some(Box::new(f));
        self
    }
}

/// A leader-election candidate.
///
/// Port of leaderelection.go: `LeaderElector`.
///
/// # Examples
///
/// ```no_run
/// # async fn demo(client: apiclient::RestClient) -> Result<(), Box<dyn std::error::Error>> {
/// use controller::leaderelection::{LeaderCallbacks, LeaderElectionConfig, LeaderElector, LeaseLock};
/// use tokio_util::sync::CancellationToken;
///
/// let lock = LeaseLock::new(&client, "kube-system", "my-controller", "pod-a");
/// let elector = LeaderElector::new(LeaderElectionConfig::default(), lock)?;
/// let shutdown = CancellationToken::new();
/// elector
///     .run(shutdown, LeaderCallbacks::new(|leading| async move {
///         // run the controller until `leading` is cancelled
///         leading.cancelled().await;
///     }))
///     .await;
/// # Ok(()) }
/// ```
pub struct LeaderElector<L> {
    config: LeaderElectionConfig,
    lock: L,
    /// The record as last seen (read or written), and when it was seen on our clock.
    observed: Option<(LeaderElectionRecord, Instant)>,
    /// The leader last reported to `on_new_leader`.
    reported_leader: String,
    leader_tx: watch::Sender<String>,
    /// `observed` as [`LeaderElector::check`] sees it; written only by `observe`.
    health: LeaderHealth,
    metrics: Option<Arc<dyn LeaderMetric>>,
}

impl<L: ResourceLock> std::fmt::Debug for LeaderElector<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderElector")
            .field("config", &self.config)
            .field("leader", &self.leader())
            .finish_non_exhaustive()
    }
}

impl<L: ResourceLock> LeaderElector<L> {
    /// Validates the config (see [`LeaderElectionConfig::validate`]) and that the lock has an
    /// identity.
    ///
    /// Port of leaderelection.go: `NewLeaderElector`.
    pub fn new(config: LeaderElectionConfig, lock: L) -> Result<Self, ConfigError> {
        config.validate()?;
        if lock.identity().is_empty() {
            return Err(ConfigError::EmptyIdentity);
        }
        let health = LeaderHealth {
            name: config.name.clone(),
            lease_duration: config.lease_duration,
            observed: Arc::default(),
        };
        Ok(Self {
            config,
            lock,
            observed: None,
            reported_leader: String::new(),
            leader_tx: watch::Sender::new(String::new()),
            health,
            metrics: None,
        })
    }

    /// Reports leadership to `metrics` (`leader_election_master_status` and
    /// `leader_election_slowpath_total` with [`super::PrometheusLeaderMetrics`]), starting with
    /// "not leading".
    ///
    /// Port of leaderelection.go: `NewLeaderElector`'s `globalMetricsFactory.newLeaderMetrics()`
    /// and `leaderOff`. Differs from Go: the hook is given per elector, not set process-wide
    /// with `leaderelection.SetProvider`, so two electors (or two tests) never share one by
    /// accident.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<dyn LeaderMetric>) -> Self {
        metrics.off(&self.config.name);
        self.metrics = Some(metrics);
        self
    }

    /// Whether leader election is healthy: an error when this candidate believes it leads but
    /// has not renewed for longer than the lease duration plus `max_tolerable_expired_lease`
    /// (a renewal loop that is stuck or failing without ending leadership). A candidate that
    /// does not lead is always healthy.
    ///
    /// Port of leaderelection.go: `LeaderElector.Check`. To check while [`Self::run`] owns the
    /// elector, attach a [`super::HealthzAdaptor`] first
    /// ([`super::HealthzAdaptor::set_leader_election`]).
    pub fn check(&self, max_tolerable_expired_lease: Duration) -> Result<(), LeaseNotRenewed> {
        self.health.check(max_tolerable_expired_lease)
    }

    /// The shared state [`HealthzAdaptor`] checks.
    pub(super) fn health(&self) -> LeaderHealth {
        self.health.clone()
    }

    /// The identity of the last observed leader, `""` if none.
    ///
    /// Port of leaderelection.go: `LeaderElector.GetLeader`.
    pub fn leader(&self) -> String {
        self.observed
            .as_ref()
            .map(|(r, _)| r.holder_identity.clone())
            .unwrap_or_default()
    }

    /// Whether the last observed leader is this candidate.
    ///
    /// Port of leaderelection.go: `LeaderElector.IsLeader`.
    pub fn is_leader(&self) -> bool {
        self.observed
            .as_ref()
            .is_some_and(|(r, _)| r.holder_identity == self.lock.identity())
    }

    /// Follows the observed leader's identity (`""` for none) while `run` goes on: for health
    /// checks and status pages.
    pub fn subscribe(&self) -> watch::Receiver<String> {
        self.leader_tx.subscribe()
    }

    /// Runs the election until `shutdown` is cancelled or leadership is lost.
    ///
    /// Port of leaderelection.go: `LeaderElector.Run`. Differs from Go: when leadership ends the
    /// leading task is cancelled **and awaited** before the lock is released and
    /// `on_stopped_leading` runs, so released work never overlaps the next leader.
    ///
    /// Once `shutdown` is cancelled, `run` returns as soon as the leading task has stopped plus
    /// at most one `renew_deadline` for the release, however slow the API server is: the
    /// attempt in flight is dropped at once (see the module docs).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future skips the release and `on_stopped_leading`; the
    /// leading task it spawned is aborted with it. Cancel `shutdown` instead.
    pub async fn run(mut self, shutdown: CancellationToken, callbacks: LeaderCallbacks) {
        let LeaderCallbacks {
            on_started_leading,
            on_stopped_leading,
            on_new_leader,
        } = callbacks;
        if self.acquire(&shutdown, on_new_leader.as_deref()).await {
            self.metric(|m, name| m.on(name));
            let leading = shutdown.child_token();
            let task = AbortOnDropHandle::new(tokio::spawn(on_started_leading(leading.clone())));
            self.renew(&leading, on_new_leader.as_deref()).await;
            // Go: `renew`'s `defer le.config.Lock.RecordEvent("stopped leading")`.
            self.lock.record_event("stopped leading");
            // Differs from Go: off whenever leading ends; Go's `renew` leaves the gauge at 1
            // when shut down between two renewals.
            self.metric(|m, name| m.off(name));
            leading.cancel();
            if let Err(err) = task.await {
                tracing::error!(lock = %self.lock.describe(), error = %apimachinery::api::errors::error_chain(&err), "leading task failed");
            }
            if self.config.release_on_cancel {
                self.release().await;
            }
        }
        if let Some(f) = on_stopped_leading {
            f();
        }
    }

    /// Port of leaderelection.go: `acquire` (`wait.JitterUntil` with sliding period): tries
    /// until it holds the lock (true) or `shutdown` is cancelled (false).
    ///
    /// Each attempt ends at `renew_deadline` or on shutdown, whichever comes first. Differs from
    /// Go: Go bounds an acquire attempt only by cancellation and by the client's timeout (which
    /// `resourcelock.NewFromKubeconfig` sets to half the renew deadline); the lock here brings its
    /// own client, so the elector bounds the attempt itself.
    async fn acquire(
        &mut self,
        shutdown: &CancellationToken,
        on_new_leader: Option<&NewLeaderFn>,
    ) -> bool {
        let desc = self.lock.describe();
        tracing::info!(lock = %desc, "attempting to acquire leader lease");
        loop {
            let deadline = Instant::now() + self.config.renew_deadline;
            let attempt = bounded(deadline, shutdown, self.try_acquire_or_renew()).await;
            self.maybe_report_transition(on_new_leader);
            match attempt {
                Attempt::Done(true) => {
                    self.lock.record_event("became leader");
                    tracing::info!(lock = %desc, "successfully acquired lease");
                    return true;
                }
                Attempt::Done(false) => tracing::debug!(lock = %desc, "failed to acquire lease"),
                Attempt::TimedOut => tracing::info!(
                    lock = %desc, timeout = ?self.config.renew_deadline,
                    "acquire attempt timed out"
                ),
                Attempt::Cancelled => return false,
            }
            let wait = jitter(self.config.retry_period, JITTER_FACTOR);
            tokio::select! {
                _ = shutdown.cancelled() => return false,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Port of leaderelection.go: `renew`: every `retry_period`, renew, retrying until
    /// `renew_deadline`; returns when a renewal fails or on shutdown.
    async fn renew(&mut self, leading: &CancellationToken, on_new_leader: Option<&NewLeaderFn>) {
        let desc = self.lock.describe();
        loop {
            let deadline = Instant::now() + self.config.renew_deadline;
            let renewed = self.renew_until(deadline, leading).await;
            self.maybe_report_transition(on_new_leader);
            if !renewed {
                if leading.is_cancelled() {
                    tracing::info!(lock = %desc, "shutting down: stopped leading");
                } else {
                    tracing::info!(lock = %desc, "failed to renew lease: stopped leading");
                }
                return;
            }
            tracing::trace!(lock = %desc, "successfully renewed lease");
            tokio::select! {
                _ = leading.cancelled() => return,
                _ = tokio::time::sleep(self.config.retry_period) => {}
            }
        }
    }

    /// `wait.PollUntilContextTimeout(ctx, retry_period, renew_deadline, immediate)` around
    /// `try_acquire_or_renew`: attempts every `retry_period` until one succeeds (true), the
    /// deadline passes or `leading` is cancelled (false). The attempt in flight is dropped at
    /// either bound, as Go's request ends with its context; the lock may then hold a stale
    /// resourceVersion, which the next attempt's conflict and [`Self::release`]'s read repair.
    async fn renew_until(&mut self, deadline: Instant, leading: &CancellationToken) -> bool {
        loop {
            match bounded(deadline, leading, self.try_acquire_or_renew()).await {
                Attempt::Done(true) => return true,
                Attempt::Done(false) => {}
                Attempt::TimedOut | Attempt::Cancelled => return false,
            }
            let next = Instant::now() + self.config.retry_period;
            if next >= deadline {
                return false;
            }
            tokio::select! {
                _ = leading.cancelled() => return false,
                _ = tokio::time::sleep_until(next) => {}
            }
        }
    }

    fn observe(&mut self, record: LeaderElectionRecord) {
        let now = Instant::now();
        let ours = record.holder_identity == self.lock.identity();
        *self.health.observed.lock_unpoisoned() = Some((ours, now));
        self.observed = Some((record, now));
    }

    /// Calls `f` with the metric hook and the lock's name, if there is a hook.
    fn metric(&self, f: impl FnOnce(&dyn LeaderMetric, &str)) {
        if let Some(metrics) = &self.metrics {
            f(metrics.as_ref(), &self.config.name);
        }
    }

    /// Port of leaderelection.go: `isLeaseValid`: the observed record's lease, counted from when
    /// we observed it.
    fn is_lease_valid(&self, now: Instant) -> bool {
        self.observed.as_ref().is_some_and(|(record, seen)| {
            let secs = u64::try_from(record.lease_duration_seconds).unwrap_or(0);
            *seen + Duration::from_secs(secs) > now
        })
    }

    /// Tries to take or keep the lock; true on success.
    ///
    /// Port of leaderelection.go: `tryAcquireOrRenew`, including the leader's fast path (update
    /// straight from the observed record while its lease is valid).
    async fn try_acquire_or_renew(&mut self) -> bool {
        let now = Instant::now();
        let stamp = MicroTime::now();
        let lease_duration_seconds =
            i32::try_from(self.config.lease_duration.as_secs()).unwrap_or(i32::MAX);
        let mut record = LeaderElectionRecord {
            holder_identity: self.lock.identity().to_owned(),
            lease_duration_seconds,
            acquire_time: Some(stamp),
            renew_time: Some(stamp),
            leader_transitions: 0,
        };

        // 1. Fast path: the leader renews from what it saw last, without a read.
        if self.is_leader() && self.is_lease_valid(now) {
            if let Some((old, _)) = &self.observed {
                record.acquire_time = old.acquire_time;
                record.leader_transitions = old.leader_transitions;
            }
            match self.lock.update(&record).await {
                Ok(()) => {
                    self.observe(record);
                    return true;
                }
                Err(err) => tracing::warn!(
                    lock = %self.lock.describe(), error = %apimachinery::api::errors::error_chain(&err),
                    "failed to update lock optimistically, falling back to slow path"
                ),
            }
        }

        // 2. Read the record, or create it.
        let old = match self.lock.get().await {
            Ok(old) => old,
            Err(err) if err.is_not_found() => {
                return match self.lock.create(&record).await {
                    Ok(()) => {
                        self.observe(record);
                        true
                    }
                    Err(err) => {
                        tracing::error!(error = %apimachinery::api::errors::error_chain(&err), "error initially creating leader election record");
                        false
                    }
                };
            }
            Err(err) => {
                tracing::error!(lock = %self.lock.describe(), error = %apimachinery::api::errors::error_chain(&err), "error retrieving resource lock");
                return false;
            }
        };

        // 3. A changed record restarts the observed lease.
        if self.observed.as_ref().map(|(r, _)| r) != Some(&old) {
            self.observe(old.clone());
        }
        if !old.holder_identity.is_empty() && self.is_lease_valid(now) && !self.is_leader() {
            tracing::debug!(holder = %old.holder_identity, "lock is held and has not yet expired");
            return false;
        }

        // 4. Take it over (or keep it), counting a transition when the holder changes.
        if self.is_leader() {
            record.acquire_time = old.acquire_time;
            record.leader_transitions = old.leader_transitions;
            self.metric(|m, name| m.slowpath_exercised(name));
        } else {
            record.leader_transitions = old.leader_transitions.saturating_add(1);
        }
        match self.lock.update(&record).await {
            Ok(()) => {
                self.observe(record);
                true
            }
            Err(err) => {
                tracing::debug!(lock = %self.lock.describe(), error = %apimachinery::api::errors::error_chain(&err), "failed to update lock");
                false
            }
        }
    }

    /// Gives the lock up so the next candidate need not wait out the lease; true if released
    /// (or there was nothing to release).
    ///
    /// Port of leaderelection.go: `release`: [`Self::try_release`] under a `renew_deadline`
    /// timeout. Differs from Go: returns at once, without a request, when this candidate did not
    /// last see itself leading (Go reads the lock first, then checks).
    async fn release(&mut self) -> bool {
        if !self.is_leader() {
            return true;
        }
        let deadline = Instant::now() + self.config.renew_deadline;
        match tokio::time::timeout_at(deadline, self.try_release()).await {
            Ok(released) => released,
            Err(_elapsed) => {
                tracing::error!(
                    lock = %self.lock.describe(), timeout = ?self.config.renew_deadline,
                    "failed to release lock: timed out"
                );
                false
            }
        }
    }

    /// Port of leaderelection.go: `tryRelease`: reads the lock (an abandoned renewal may have
    /// changed it), then writes an empty holder with a 1 s lease, reading again on conflict.
    ///
    /// Differs from Go: a lock the server shows held by another candidate is left alone (Go
    /// checks only the record it observed last, and would overwrite the new holder); it makes at
    /// most [`RELEASE_TRIES`] read-and-write rounds, where Go retries conflicts until its
    /// timeout, so a lock that answers at once cannot spin past that timeout.
    async fn try_release(&mut self) -> bool {
        let desc = self.lock.describe();
        for attempt in 1..=RELEASE_TRIES {
            let old = match self.lock.get().await {
                Ok(old) => old,
                Err(err) if err.is_not_found() => {
                    tracing::info!(lock = %desc, "lease lock not found");
                    return false;
                }
                Err(err) => {
                    tracing::error!(lock = %desc, error = %apimachinery::api::errors::error_chain(&err), "error retrieving resource lock");
                    return false;
                }
            };
            if old.holder_identity != self.lock.identity() {
                tracing::info!(lock = %desc, holder = %old.holder_identity, "lock no longer ours: nothing to release");
                return true;
            }
            let stamp = MicroTime::now();
            let record = LeaderElectionRecord {
                holder_identity: String::new(),
                lease_duration_seconds: 1,
                acquire_time: Some(stamp),
                renew_time: Some(stamp),
                leader_transitions: old.leader_transitions,
            };
            match self.lock.update(&record).await {
                Ok(()) => {
                    tracing::info!(lock = %desc, "released leader lease");
                    self.observe(record);
                    return true;
                }
                // A renewal abandoned at shutdown may have landed after the read: read again.
                Err(err) if err.is_conflict() && attempt < RELEASE_TRIES => {
                    tracing::debug!(lock = %desc, "conflict when releasing lease, retrying");
                }
                Err(err) => {
                    tracing::error!(lock = %desc, error = %apimachinery::api::errors::error_chain(&err), "failed to release lock");
                    return false;
                }
            }
        }
        false
    }

    /// Port of leaderelection.go: `maybeReportTransition`.
    fn maybe_report_transition(&mut self, on_new_leader: Option<&NewLeaderFn>) {
        let leader = self.leader();
        if leader == self.reported_leader {
            return;
        }
        tracing::info!(lock = %self.lock.describe(), new_leader = %leader, "new leader observed");
        self.reported_leader.clone_from(&leader);
        if let Some(f) = on_new_leader {
            f(&leader);
        }
        self.leader_tx.send_replace(leader);
    }
}

/// How one bounded attempt ended.
enum Attempt {
    /// It ran to completion with this result.
    Done(bool),
    /// The deadline passed first; the attempt was dropped.
    TimedOut,
    /// The token was cancelled first; the attempt was dropped.
    Cancelled,
}

/// Runs `attempt` until it finishes, `deadline` passes or `cancel` is cancelled: Go's
/// `context.WithTimeout(ctx, deadline)` around a call that honours its context. Cancellation
/// wins a tie, so a stopped elector never starts acting on an attempt's late success.
async fn bounded(
    deadline: Instant,
    cancel: &CancellationToken,
    attempt: impl Future<Output = bool>,
) -> Attempt {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Attempt::Cancelled,
        done = tokio::time::timeout_at(deadline, attempt) => match done {
            Ok(result) => Attempt::Done(result),
            Err(_elapsed) => Attempt::TimedOut,
        },
    }
}
