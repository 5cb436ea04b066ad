//! Leader election on a paused clock, against an in-memory lock with the API server's optimistic
//! concurrency (a stale update is a 409): the behaviours of client-go's leaderelection_test.go.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apiclient::{Error, Status};
use controller::leaderelection::{
    ConfigError, HealthzAdaptor, LeaderCallbacks, LeaderElectionConfig, LeaderElectionRecord,
    LeaderElector, LeaderMetric, ResourceLock,
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

fn status_error(code: i32, reason: &str) -> Error {
    Error::from_status(Status {
        code,
        reason: reason.into(),
        status: "Failure".into(),
        ..Status::default()
    })
}

/// The lock object: a record and a version standing in for resourceVersion.
#[derive(Default)]
struct Store {
    object: Mutex<Option<(LeaderElectionRecord, u64)>>,
}

/// One candidate's view of the store. `cut` makes every call fail, like a network partition;
/// `lose_next_reply` makes the next update apply and then never answer, like a response lost
/// on the way back.
#[derive(Clone)]
struct FakeLock {
    store: Arc<Store>,
    identity: String,
    seen_version: Arc<Mutex<Option<u64>>>,
    cut: Arc<AtomicBool>,
    lose_next_reply: Arc<AtomicBool>,
}

impl FakeLock {
    fn new(store: &Arc<Store>, identity: &str) -> Self {
        Self {
            store: store.clone(),
            identity: identity.into(),
            seen_version: Arc::default(),
            cut: Arc::default(),
            lose_next_reply: Arc::default(),
        }
    }

    fn check_reachable(&self) -> Result<(), Error> {
        if self.cut.load(Ordering::SeqCst) {
            return Err(status_error(503, "ServiceUnavailable"));
        }
        Ok(())
    }
}

impl ResourceLock for FakeLock {
    async fn get(&self) -> Result<LeaderElectionRecord, Error> {
        self.check_reachable()?;
        let object = self.store.object.lock().unwrap();
        let Some((record, version)) = object.as_ref() else {
            return Err(status_error(404, "NotFound"));
        };
        *self.seen_version.lock().unwrap() = Some(*version);
        Ok(record.clone())
    }

    async fn create(&self, record: &LeaderElectionRecord) -> Result<(), Error> {
        self.check_reachable()?;
        let mut object = self.store.object.lock().unwrap();
        if object.is_some() {
            return Err(status_error(409, "AlreadyExists"));
        }
        *object = Some((record.clone(), 1));
        *self.seen_version.lock().unwrap() = Some(1);
        Ok(())
    }

    async fn update(&self, record: &LeaderElectionRecord) -> Result<(), Error> {
        self.check_reachable()?;
        let result = {
            let mut object = self.store.object.lock().unwrap();
            let seen = *self.seen_version.lock().unwrap();
            match object.as_mut() {
                Some((stored, version)) if Some(*version) == seen => {
                    *stored = record.clone();
                    *version += 1;
                    Ok(*version)
                }
                Some(_) => Err(status_error(409, "Conflict")),
                None => Err(status_error(404, "NotFound")),
            }
        };
        if result.is_ok() && self.lose_next_reply.swap(false, Ordering::SeqCst) {
            // Written, but this caller never learns it (nor the new version).
            std::future::pending::<()>().await;
        }
        *self.seen_version.lock().unwrap() = Some(result?);
        Ok(())
    }

    fn identity(&self) -> &str {
        &self.identity
    }

    fn describe(&self) -> String {
        "test/lock".into()
    }
}

/// Who is leading right now, as the leading tasks themselves report it.
#[derive(Default)]
struct Leadership {
    current: Mutex<Option<String>>,
    history: Mutex<Vec<(String, Instant)>>,
}

fn candidate(
    store: &Arc<Store>,
    identity: &str,
    leadership: &Arc<Leadership>,
    config: LeaderElectionConfig,
) -> (FakeLock, CancellationToken, tokio::task::JoinHandle<()>) {
    candidate_with(store, identity, leadership, config, |elector| elector)
}

/// [`candidate`], with `attach` given the elector before it runs (for metrics and health).
fn candidate_with(
    store: &Arc<Store>,
    identity: &str,
    leadership: &Arc<Leadership>,
    config: LeaderElectionConfig,
    attach: impl FnOnce(LeaderElector<FakeLock>) -> LeaderElector<FakeLock>,
) -> (FakeLock, CancellationToken, tokio::task::JoinHandle<()>) {
    let lock = FakeLock::new(store, identity);
    let shutdown = CancellationToken::new();
    let elector = attach(LeaderElector::new(config, lock.clone()).unwrap());
    let (id, leadership) = (identity.to_string(), leadership.clone());
    let callbacks = LeaderCallbacks::new(move |leading: CancellationToken| async move {
        {
            let mut current = leadership.current.lock().unwrap();
            assert!(
                current.is_none(),
                "{id} started leading while {current:?} still leads"
            );
            *current = Some(id.clone());
            leadership
                .history
                .lock()
                .unwrap()
                .push((id.clone(), Instant::now()));
        }
        leading.cancelled().await;
        *leadership.current.lock().unwrap() = None;
    });
    let task = tokio::spawn(elector.run(shutdown.clone(), callbacks));
    (lock, shutdown, task)
}

fn leader_of(leadership: &Leadership) -> Option<String> {
    leadership.current.lock().unwrap().clone()
}

async fn run_for(d: Duration) {
    tokio::time::sleep(d).await;
}

#[test]
fn configs_that_cannot_work_are_rejected() {
    let ok = LeaderElectionConfig::default();
    assert_eq!(ok.validate(), Ok(()));
    let cases = [
        (
            LeaderElectionConfig {
                lease_duration: Duration::from_secs(10),
                ..ok.clone()
            },
            ConfigError::LeaseNotLongerThanRenewDeadline,
        ),
        (
            LeaderElectionConfig {
                renew_deadline: Duration::from_millis(2400),
                ..ok.clone()
            },
            ConfigError::RenewDeadlineTooShort,
        ),
        (
            LeaderElectionConfig {
                retry_period: Duration::ZERO,
                ..ok.clone()
            },
            ConfigError::Zero("retryPeriod"),
        ),
    ];
    for (config, expected) in cases {
        assert_eq!(config.validate(), Err(expected));
        let lock = FakeLock::new(&Arc::default(), "a");
        assert!(LeaderElector::new(config, lock).is_err());
    }
    // An empty identity could not be told apart from a released lock.
    let err = LeaderElector::new(ok, FakeLock::new(&Arc::default(), "")).unwrap_err();
    assert_eq!(err, ConfigError::EmptyIdentity);
}

#[tokio::test(start_paused = true)]
async fn one_leader_at_a_time_among_three_candidates_and_takeover_after_expiry() {
    let store = Arc::new(Store::default());
    let leadership = Arc::new(Leadership::default());
    let config = LeaderElectionConfig::default();
    let mut candidates: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| candidate(&store, id, &leadership, config.clone()))
        .collect();

    run_for(Duration::from_secs(60)).await;
    let first = leader_of(&leadership).expect("someone leads");
    assert_eq!(leadership.history.lock().unwrap().len(), 1, "no flapping");

    // The leader stops (without releasing): the others wait out the lease, then one takes over.
    let idx = ["a", "b", "c"].iter().position(|id| *id == first).unwrap();
    let (_, shutdown, task) = candidates.remove(idx);
    let stopped_at = Instant::now();
    shutdown.cancel();
    task.await.unwrap();
    assert_eq!(leader_of(&leadership), None);

    run_for(Duration::from_secs(60)).await;
    let second = leader_of(&leadership).expect("a standby took over");
    assert_ne!(second, first);
    let history = leadership.history.lock().unwrap().clone();
    assert_eq!(history.len(), 2);
    let waited = history[1].1 - stopped_at;
    assert!(
        waited >= Duration::from_secs(13) && waited <= Duration::from_secs(15 + 5),
        "takeover after about one lease duration from the last renewal, took {waited:?}"
    );
    for (_, shutdown, task) in candidates {
        shutdown.cancel();
        task.await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn a_leader_that_cannot_renew_stops_leading_within_the_renew_deadline() {
    let store = Arc::new(Store::default());
    let leadership = Arc::new(Leadership::default());
    let config = LeaderElectionConfig::default();
    let (lock_a, shutdown_a, task_a) = candidate(&store, "a", &leadership, config.clone());
    run_for(Duration::from_secs(1)).await;
    assert_eq!(leader_of(&leadership).as_deref(), Some("a"));
    let (_lock_b, shutdown_b, task_b) = candidate(&store, "b", &leadership, config.clone());
    run_for(Duration::from_secs(30)).await;
    assert_eq!(
        leader_of(&leadership).as_deref(),
        Some("a"),
        "b waits while a renews"
    );

    // Partition a: its renewals fail. It must give up within renew_deadline (10 s) + one retry,
    // and b must not take over before the lease (15 s after it last saw a change) runs out.
    lock_a.cut.store(true, Ordering::SeqCst);
    let cut_at = Instant::now();
    task_a.await.unwrap();
    let gave_up = Instant::now() - cut_at;
    assert!(
        gave_up <= Duration::from_secs(10 + 2),
        "a stopped leading after {gave_up:?}"
    );
    run_for(Duration::from_secs(30)).await;
    assert_eq!(leader_of(&leadership).as_deref(), Some("b"));
    let history = leadership.history.lock().unwrap().clone();
    let b_started = history[1].1 - cut_at;
    assert!(
        b_started >= Duration::from_secs(13),
        "b waited for the observed lease to expire, took {b_started:?}"
    );
    let record = store.object.lock().unwrap().clone().unwrap().0;
    assert_eq!(record.holder_identity, "b");
    assert_eq!(record.leader_transitions, 1);
    shutdown_a.cancel();
    shutdown_b.cancel();
    task_b.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn release_on_cancel_hands_over_at_once() {
    let store = Arc::new(Store::default());
    let leadership = Arc::new(Leadership::default());
    let config = LeaderElectionConfig {
        release_on_cancel: true,
        ..LeaderElectionConfig::default()
    };
    let (_a, shutdown_a, task_a) = candidate(&store, "a", &leadership, config.clone());
    run_for(Duration::from_secs(1)).await;
    let (_b, shutdown_b, task_b) = candidate(&store, "b", &leadership, config.clone());
    run_for(Duration::from_secs(20)).await;
    assert_eq!(leader_of(&leadership).as_deref(), Some("a"));

    let released_at = Instant::now();
    shutdown_a.cancel();
    task_a.await.unwrap();
    assert_eq!(
        store
            .object
            .lock()
            .unwrap()
            .clone()
            .unwrap()
            .0
            .holder_identity,
        "",
        "a cleared the holder"
    );
    run_for(Duration::from_secs(10)).await;
    assert_eq!(leader_of(&leadership).as_deref(), Some("b"));
    let took = leadership.history.lock().unwrap()[1].1 - released_at;
    assert!(
        took <= Duration::from_millis(4400),
        "b took over within one jittered retry period (2 s × 2.2), not a lease: {took:?}"
    );
    shutdown_b.cancel();
    task_b.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn callbacks_report_new_leaders_and_stopped_leading_even_without_leading() {
    let store = Arc::new(Store::default());
    let observed = Arc::new(Mutex::new(Vec::<String>::new()));
    let stopped = Arc::new(AtomicBool::new(false));

    // "a" leads throughout.
    let leadership = Arc::new(Leadership::default());
    let (_a, shutdown_a, task_a) =
        candidate(&store, "a", &leadership, LeaderElectionConfig::default());
    run_for(Duration::from_secs(1)).await;

    // "b" never leads but sees "a" as its first leader, and is told it stopped when shut down.
    let elector =
        LeaderElector::new(LeaderElectionConfig::default(), FakeLock::new(&store, "b")).unwrap();
    let mut leader_rx = elector.subscribe();
    let shutdown_b = CancellationToken::new();
    let callbacks = {
        let (observed, stopped) = (observed.clone(), stopped.clone());
        LeaderCallbacks::new(|_| async { panic!("b must not lead") })
            .on_new_leader(move |id| observed.lock().unwrap().push(id.to_string()))
            .on_stopped_leading(move || stopped.store(true, Ordering::SeqCst))
    };
    let task_b = tokio::spawn(elector.run(shutdown_b.clone(), callbacks));
    leader_rx.changed().await.unwrap();
    assert_eq!(*leader_rx.borrow(), "a");
    run_for(Duration::from_secs(5)).await;
    shutdown_b.cancel();
    task_b.await.unwrap();
    assert_eq!(*observed.lock().unwrap(), ["a"]);
    assert!(stopped.load(Ordering::SeqCst));
    shutdown_a.cancel();
    task_a.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn release_after_an_abandoned_renewal_reads_the_lock_before_clearing_it() {
    let store = Arc::new(Store::default());
    let leadership = Arc::new(Leadership::default());
    let config = LeaderElectionConfig {
        release_on_cancel: true,
        ..LeaderElectionConfig::default()
    };
    let (lock_a, shutdown_a, task_a) = candidate(&store, "a", &leadership, config.clone());
    run_for(Duration::from_secs(1)).await;
    assert_eq!(leader_of(&leadership).as_deref(), Some("a"));

    // The next renewal is written but its reply never comes; shutdown abandons it, so a's lock
    // still holds the version before it. Releasing with that version would be a 409.
    lock_a.lose_next_reply.store(true, Ordering::SeqCst);
    let version_before = store.object.lock().unwrap().as_ref().unwrap().1;
    run_for(Duration::from_secs(3)).await;
    assert_eq!(
        store.object.lock().unwrap().as_ref().unwrap().1,
        version_before + 1,
        "the renewal was written"
    );
    shutdown_a.cancel();
    task_a.await.unwrap();
    let record = store.object.lock().unwrap().clone().unwrap().0;
    assert_eq!(
        record.holder_identity, "",
        "released despite the lost reply"
    );
}

#[tokio::test(start_paused = true)]
async fn release_leaves_alone_a_lock_another_candidate_holds() {
    let store = Arc::new(Store::default());
    let leadership = Arc::new(Leadership::default());
    let config = LeaderElectionConfig {
        release_on_cancel: true,
        ..LeaderElectionConfig::default()
    };
    let (_lock_a, shutdown_a, task_a) = candidate(&store, "a", &leadership, config.clone());
    run_for(Duration::from_secs(1)).await;
    assert_eq!(leader_of(&leadership).as_deref(), Some("a"));

    // "b" took the lock behind a's back (a still believes it leads), then a shuts down.
    {
        let mut object = store.object.lock().unwrap();
        let (record, version) = object.as_mut().unwrap();
        record.holder_identity = "b".into();
        *version += 1;
    }
    shutdown_a.cancel();
    task_a.await.unwrap();
    let record = store.object.lock().unwrap().clone().unwrap().0;
    assert_eq!(record.holder_identity, "b", "a must not clear b's claim");
}

/// Records what the elector reports to its metric hook.
#[derive(Default)]
struct RecordedMetric {
    events: Mutex<Vec<String>>,
}

impl LeaderMetric for RecordedMetric {
    fn on(&self, name: &str) {
        self.events.lock().unwrap().push(format!("on {name}"));
    }
    fn off(&self, name: &str) {
        self.events.lock().unwrap().push(format!("off {name}"));
    }
    fn slowpath_exercised(&self, name: &str) {
        self.events.lock().unwrap().push(format!("slowpath {name}"));
    }
}

#[tokio::test(start_paused = true)]
async fn healthz_fails_once_a_leader_has_not_renewed_for_lease_duration_plus_timeout() {
    let store = Arc::new(Store::default());
    let leadership = Arc::new(Leadership::default());
    let healthz = HealthzAdaptor::new(Duration::from_secs(20));
    assert_eq!(healthz.name(), "leaderElection");
    let config = LeaderElectionConfig {
        name: "lease-a".into(),
        ..LeaderElectionConfig::default()
    };
    // The first attempt runs at once on the paused clock: a observes its own record at `start`.
    let start = Instant::now();
    let (lock_a, _shutdown, task) = candidate_with(&store, "a", &leadership, config, |e| {
        healthz.set_leader_election(&e);
        e
    });
    run_for(Duration::from_secs(1)).await;
    assert_eq!(leader_of(&leadership).as_deref(), Some("a"));
    assert_eq!(healthz.check(), Ok(()));

    // Renewals now fail: a stops leading within the renew deadline, but still believes it is
    // the holder it last saw (as a leader whose renewal loop is wedged would).
    lock_a.cut.store(true, Ordering::SeqCst);
    task.await.unwrap();
    assert_eq!(healthz.check(), Ok(()), "within the lease");

    // Go's condition is strict: exactly lease duration (15 s) + timeout (20 s) is still fine.
    tokio::time::sleep_until(start + Duration::from_secs(35)).await;
    assert_eq!(healthz.check(), Ok(()), "at lease + timeout exactly");
    tokio::time::advance(Duration::from_millis(1)).await;
    let err = healthz.check().unwrap_err();
    assert_eq!(err.name, "lease-a");
    assert_eq!(err.since, Duration::from_millis(35_001));
    assert!(
        err.to_string()
            .contains("failed election to renew leadership on lease lease-a"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn healthz_of_a_standby_or_a_released_leader_stays_healthy() {
    let store = Arc::new(Store::default());
    let leadership = Arc::new(Leadership::default());
    let timeout = Duration::from_secs(1);
    let (healthz_a, healthz_b) = (HealthzAdaptor::new(timeout), HealthzAdaptor::new(timeout));
    let config = LeaderElectionConfig {
        release_on_cancel: true,
        ..LeaderElectionConfig::default()
    };
    let watched = |healthz: &HealthzAdaptor| {
        let healthz = healthz.clone();
        move |elector: LeaderElector<FakeLock>| {
            healthz.set_leader_election(&elector);
            elector
        }
    };
    let (_a, shutdown_a, task_a) = candidate_with(
        &store,
        "a",
        &leadership,
        config.clone(),
        watched(&healthz_a),
    );
    run_for(Duration::from_secs(1)).await;
    // b sees a's record without renewing anything itself, for far longer than a lease.
    let (lock_b, shutdown_b, task_b) =
        candidate_with(&store, "b", &leadership, config, watched(&healthz_b));
    run_for(Duration::from_secs(120)).await;
    assert_eq!(leader_of(&leadership).as_deref(), Some("a"));
    assert_eq!(healthz_a.check(), Ok(()), "a renews");
    assert_eq!(healthz_b.check(), Ok(()), "a hot standby is healthy");

    // a releases: it no longer believes it leads, so it stays healthy after its lease.
    shutdown_a.cancel();
    task_a.await.unwrap();
    lock_b.cut.store(true, Ordering::SeqCst);
    run_for(Duration::from_secs(120)).await;
    assert_eq!(healthz_a.check(), Ok(()));
    shutdown_b.cancel();
    task_b.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn healthz_with_zero_timeout_fails_right_after_the_lease() {
    let store = Arc::new(Store::default());
    let lock = FakeLock::new(&store, "a");
    let elector = LeaderElector::new(LeaderElectionConfig::default(), lock.clone()).unwrap();
    let healthz = HealthzAdaptor::new(Duration::ZERO);
    healthz.set_leader_election(&elector);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(elector.run(
        shutdown.clone(),
        LeaderCallbacks::new(|leading: CancellationToken| async move { leading.cancelled().await }),
    ));
    run_for(Duration::from_secs(1)).await;
    lock.cut.store(true, Ordering::SeqCst);
    task.await.unwrap();
    run_for(Duration::from_secs(16)).await;
    assert!(healthz.check().is_err(), "15 s lease + 0 s timeout passed");
    shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn metric_is_off_until_leading_on_while_leading_and_off_when_renewal_fails() {
    let store = Arc::new(Store::default());
    let leadership = Arc::new(Leadership::default());
    let recorded = Arc::new(RecordedMetric::default());
    let config = LeaderElectionConfig {
        name: "lease-a".into(),
        ..LeaderElectionConfig::default()
    };
    let hook = recorded.clone();
    let (lock_a, _shutdown, task) =
        candidate_with(&store, "a", &leadership, config, |e| e.with_metrics(hook));
    run_for(Duration::from_secs(5)).await;
    assert_eq!(
        *recorded.events.lock().unwrap(),
        ["off lease-a", "on lease-a"]
    );

    // Someone else writes the Lease (say, a label added): the next fast-path renewal conflicts
    // and the leader renews through the slow path.
    store.object.lock().unwrap().as_mut().unwrap().1 += 1;
    run_for(Duration::from_secs(3)).await;
    assert_eq!(
        *recorded.events.lock().unwrap(),
        ["off lease-a", "on lease-a", "slowpath lease-a"]
    );

    lock_a.cut.store(true, Ordering::SeqCst);
    task.await.unwrap();
    assert_eq!(
        *recorded.events.lock().unwrap(),
        [
            "off lease-a",
            "on lease-a",
            "slowpath lease-a",
            "off lease-a"
        ]
    );
}

#[cfg(feature = "metrics")]
#[tokio::test(start_paused = true)]
async fn master_status_gauge_is_one_while_leading_and_zero_after_shutdown() {
    use controller::leaderelection::PrometheusLeaderMetrics;
    use controller::prometheus_client;
    use prometheus_client::registry::Registry;

    let metrics = PrometheusLeaderMetrics::new();
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let scrape = || {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        text
    };
    let store = Arc::new(Store::default());
    let leadership = Arc::new(Leadership::default());
    let config = |name: &str| LeaderElectionConfig {
        name: name.into(),
        ..LeaderElectionConfig::default()
    };
    let hook = |e: LeaderElector<FakeLock>| e.with_metrics(Arc::new(metrics.clone()));
    let (_a, shutdown_a, task_a) = candidate_with(&store, "a", &leadership, config("pods"), hook);
    run_for(Duration::from_secs(1)).await;
    let (_b, shutdown_b, task_b) = candidate_with(&store, "b", &leadership, config("other"), hook);
    run_for(Duration::from_secs(1)).await;
    let text = scrape();
    assert!(
        text.contains(r#"leader_election_master_status{name="pods"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"leader_election_master_status{name="other"} 0"#),
        "{text}"
    );
    assert!(
        text.contains("# TYPE leader_election_slowpath counter"),
        "{text}"
    );

    // Shut down between two renewals (Go leaves the gauge at 1 then).
    shutdown_a.cancel();
    task_a.await.unwrap();
    let text = scrape();
    assert!(
        text.contains(r#"leader_election_master_status{name="pods"} 0"#),
        "{text}"
    );
    shutdown_b.cancel();
    task_b.await.unwrap();
}
