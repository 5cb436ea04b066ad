//! Leader election on a paused clock, against an in-memory lock with the API server's optimistic
//! concurrency (a stale update is a 409): the behaviours of client-go's leaderelection_test.go.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apiclient::{Error, Status};
use controller::leaderelection::{
    ConfigError, LeaderCallbacks, LeaderElectionConfig, LeaderElectionRecord, LeaderElector,
    ResourceLock,
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
    let lock = FakeLock::new(store, identity);
    let shutdown = CancellationToken::new();
    let elector = LeaderElector::new(config, lock.clone()).unwrap();
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
