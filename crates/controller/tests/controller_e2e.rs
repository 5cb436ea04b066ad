//! The controller loop end to end against the in-process API server over HTTP: informer →
//! handlers → rate-limited queue → workers → reconcile.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api::core::v1::Pod;
use apiclient::{Config, RestClient};
use controller::{Action, Controller, ControllerConfig, DEFAULT_MAX_RETRIES, Error};
use informer::{InformerOptions, ListWatch, Lister, SharedIndexInformer};
use serde_json::json;
use testserver::{FaultMatch, TestServer};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str, generation: u32) -> serde_json::Value {
    json!({
        "metadata": {"name": name, "labels": {"gen": generation.to_string()}},
        "spec": {"containers": [{"name": "main", "image": "registry.example/app:1"}]}
    })
}

fn controller_for(server: &TestServer, name: &str) -> Controller<Pod> {
    let client = RestClient::new(&Config::new(server.url())).unwrap();
    let lw = ListWatch::<Pod>::for_resource(client, Some("default"));
    let informer = SharedIndexInformer::new(Arc::new(lw), InformerOptions::default());
    Controller::new(
        informer,
        ControllerConfig {
            name: name.into(),
            ..ControllerConfig::default()
        },
    )
    .unwrap()
}

/// What the reconcile function saw: per key, each call's view of the object (its
/// resourceVersion, or None when the cache no longer has it).
#[derive(Default)]
struct Log {
    calls: Mutex<Vec<(String, Option<String>)>>,
    in_flight: Mutex<HashSet<String>>,
    changed: watch::Sender<usize>,
}

impl Log {
    fn record(&self, key: &str, rv: Option<String>) {
        self.calls.lock().unwrap().push((key.to_string(), rv));
        self.changed.send_modify(|n| *n += 1);
    }
    fn count(&self, key: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k == key)
            .count()
    }
    fn last_seen(&self) -> HashMap<String, Option<String>> {
        self.calls.lock().unwrap().iter().cloned().collect()
    }
    /// Waits (with a failure deadline, not a timing assumption) until `cond` holds.
    async fn wait_until(&self, what: &str, cond: impl Fn(&Log) -> bool) {
        let mut rx = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !cond(self) {
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                panic!("timed out waiting for {what}");
            }
        }
    }
}

/// The resourceVersion the cache holds for `key`, or None once it is gone.
fn cached_rv(lister: &Lister<Pod>, key: &str) -> Option<String> {
    let (ns, name) = key.split_once('/').unwrap();
    let pod = lister.namespace(ns).get(name).ok()?;
    Some(
        pod.metadata
            .resource_version
            .clone()
            .unwrap_or_default()
            .to_string(),
    )
}

/// A reconcile that records what the cache holds for the key, checks that no two workers hold
/// the same key, and fails as `fail` says.
fn reconciler(
    log: Arc<Log>,
    fail: impl Fn(&str) -> Option<&'static str> + Send + Sync + 'static,
) -> impl Fn(String, Lister<Pod>) -> futures::future::BoxFuture<'static, Result<Action, std::io::Error>>
+ Send
+ Sync
+ 'static {
    let fail = Arc::new(fail);
    move |key: String, lister: Lister<Pod>| {
        let log = log.clone();
        let fail = fail.clone();
        Box::pin(async move {
            assert!(
                log.in_flight.lock().unwrap().insert(key.clone()),
                "two workers hold {key} at once"
            );
            tokio::task::yield_now().await;
            let rv = cached_rv(&lister, &key);
            log.in_flight.lock().unwrap().remove(&key);
            log.record(&key, rv);
            match fail(&key) {
                Some("panic") => panic!("reconcile of {key} exploded"),
                Some(msg) => Err(std::io::Error::other(msg)),
                None => Ok(Action::Done),
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pod_is_reconciled_once_after_sync_and_again_after_each_change() {
    let server = TestServer::start().await.unwrap();
    for i in 0..20 {
        server.create(PODS, pod(&format!("web-{i}"), 0)).unwrap();
    }
    let controller = controller_for(&server, "once");
    let queue = controller.queue().clone();
    let log = Arc::new(Log::default());
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(controller.run(4, shutdown.clone(), reconciler(log.clone(), |_| None)));

    log.wait_until("every pod reconciled", |l| {
        (0..20).all(|i| l.count(&format!("default/web-{i}")) >= 1)
    })
    .await;
    // Nothing else is queued or processing, and nothing changed: each pod exactly once.
    assert_eq!(queue.len(), 0);
    for i in 0..20 {
        assert_eq!(log.count(&format!("default/web-{i}")), 1);
    }

    // A change to one pod is reconciled against its new state; a deleted pod is reconciled
    // with the cache no longer holding it.
    let updated = server
        .update(&format!("{PODS}/web-3"), {
            let mut p = server.get(&format!("{PODS}/web-3")).unwrap();
            p["metadata"]["labels"]["gen"] = json!("1");
            p
        })
        .unwrap();
    server.delete(&format!("{PODS}/web-4")).unwrap();
    let new_rv = updated["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    log.wait_until("the update and the delete", |l| {
        let seen = l.last_seen();
        seen.get("default/web-3") == Some(&Some(new_rv.clone()))
            && seen.get("default/web-4") == Some(&None)
    })
    .await;

    shutdown.cancel();
    run.await.unwrap().unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_key_is_retried_five_times_with_growing_delay_then_dropped() {
    let server = TestServer::start().await.unwrap();
    server.create(PODS, pod("broken", 0)).unwrap();
    server.create(PODS, pod("fine", 0)).unwrap();
    let controller = controller_for(&server, "retries");
    let queue = controller.queue().clone();
    let log = Arc::new(Log::default());
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let reconcile = reconciler(log.clone(), |key| {
        (key == "default/broken").then_some("boom")
    });
    let run = tokio::spawn(controller.run(2, shutdown.clone(), reconcile));

    log.wait_until("six attempts", |l| l.count("default/broken") == 6)
        .await;
    // 5 + 10 + 20 + 40 + 80 ms of back-off at least separate the first and the sixth attempt.
    assert!(started.elapsed() >= Duration::from_millis(155));
    assert_eq!(log.count("default/fine"), 1);
    // Stop (which waits for the sixth attempt's outcome to be handled), then check it was
    // dropped: forgotten by the limiter, and nothing scheduled to bring it back.
    shutdown.cancel();
    run.await.unwrap().unwrap();
    assert_eq!(queue.num_requeues(&"default/broken".to_string()), 0);
    assert_eq!(queue.waiting_len(), 0);
    assert_eq!(queue.len(), 0);
    assert_eq!(
        log.count("default/broken"),
        6,
        "no attempt after being dropped"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconcile_can_ask_to_run_again_later_without_counting_as_a_failure() {
    let server = TestServer::start().await.unwrap();
    server.create(PODS, pod("poller", 0)).unwrap();
    server.create(PODS, pod("spinner", 0)).unwrap();
    let controller = controller_for(&server, "actions");
    let queue = controller.queue().clone();
    let calls = Arc::new(Mutex::new(Vec::<(String, Instant)>::new()));
    let (changed, mut changed_rx) = watch::channel(0usize);
    let reconcile = {
        let calls = calls.clone();
        move |key: String, _lister: Lister<Pod>| {
            let (calls, changed) = (calls.clone(), changed.clone());
            async move {
                let n = {
                    let mut calls = calls.lock().unwrap();
                    calls.push((key.clone(), Instant::now()));
                    calls.iter().filter(|(k, _)| *k == key).count()
                };
                changed.send_modify(|c| *c += 1);
                let action = match (key.as_str(), n) {
                    // Poll again later: controller-runtime's RequeueAfter.
                    ("default/poller", 1) => Action::RequeueAfter(Duration::from_millis(300)),
                    // More requeues than the retry limit of errors: none of them is a failure.
                    ("default/spinner", n) if n <= DEFAULT_MAX_RETRIES + 2 => Action::Requeue,
                    _ => Action::Done,
                };
                Ok::<_, Infallible>(action)
            }
        }
    };
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(controller.run(2, shutdown.clone(), reconcile));
    let count = |key: &str| {
        calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k == key)
            .count()
    };
    tokio::time::timeout(
        Duration::from_secs(30),
        changed_rx.wait_for(|_| {
            count("default/poller") == 2 && count("default/spinner") == DEFAULT_MAX_RETRIES + 3
        }),
    )
    .await
    .expect("the poller ran twice and the spinner was never dropped")
    .unwrap();

    let times: Vec<Instant> = calls
        .lock()
        .unwrap()
        .iter()
        .filter(|(k, _)| k == "default/poller")
        .map(|(_, t)| *t)
        .collect();
    assert!(
        times[1] - times[0] >= Duration::from_millis(300),
        "requeued after {:?}",
        times[1] - times[0]
    );
    shutdown.cancel();
    run.await.unwrap().unwrap();
    // Done forgot both keys' back-off; nothing is left waiting.
    assert_eq!(queue.num_requeues(&"default/poller".to_string()), 0);
    assert_eq!(queue.num_requeues(&"default/spinner".to_string()), 0);
    assert_eq!(queue.waiting_len(), 0);
    assert_eq!(count("default/spinner"), DEFAULT_MAX_RETRIES + 3);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_reconcile_is_contained_and_retried_like_an_error() {
    let server = TestServer::start().await.unwrap();
    server.create(PODS, pod("explosive", 0)).unwrap();
    server.create(PODS, pod("calm", 0)).unwrap();
    let controller = controller_for(&server, "panics");
    let log = Arc::new(Log::default());
    let shutdown = CancellationToken::new();
    let reconcile = reconciler(log.clone(), |key| {
        (key == "default/explosive").then_some("panic")
    });
    let run = tokio::spawn(controller.run(1, shutdown.clone(), reconcile));

    log.wait_until("retries of the panicking key", |l| {
        l.count("default/explosive") == 6
    })
    .await;
    assert_eq!(
        log.count("default/calm"),
        1,
        "the single worker survived the panics"
    );
    shutdown.cancel();
    run.await.unwrap().unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_the_key_being_reconciled() {
    let server = TestServer::start().await.unwrap();
    server.create(PODS, pod("slow", 0)).unwrap();
    let controller = controller_for(&server, "drain");
    let (entered_tx, mut entered_rx) = watch::channel(false);
    let (release_tx, release_rx) = watch::channel(false);
    let finished = Arc::new(Mutex::new(false));
    let reconcile = {
        let finished = finished.clone();
        move |_key: String, _lister: Lister<Pod>| {
            let (entered_tx, mut release_rx, finished) =
                (entered_tx.clone(), release_rx.clone(), finished.clone());
            async move {
                entered_tx.send_replace(true);
                release_rx.wait_for(|r| *r).await.unwrap();
                *finished.lock().unwrap() = true;
                Ok::<_, Infallible>(Action::Done)
            }
        }
    };
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(controller.run(1, shutdown.clone(), reconcile));
    entered_rx.wait_for(|e| *e).await.unwrap();

    shutdown.cancel();
    // run must not return while the worker still holds the key.
    let mut run = run;
    let still_running = tokio::time::timeout(Duration::from_millis(200), &mut run)
        .await
        .is_err();
    assert!(still_running, "run returned before the reconcile finished");
    release_tx.send_replace(true);
    run.await.unwrap().unwrap();
    assert!(*finished.lock().unwrap());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_before_the_cache_syncs_is_an_error() {
    let server = TestServer::start().await.unwrap();
    // Every list and watch of pods fails (watch-list or LIST), so the informer never syncs.
    server
        .faults()
        .fail_next(usize::MAX, FaultMatch::any().resource("pods"), 500, None);
    let controller = controller_for(&server, "never-synced");
    let shutdown = CancellationToken::new();
    let run =
        tokio::spawn(controller.run(1, shutdown.clone(), reconciler(Arc::default(), |_| None)));
    tokio::task::yield_now().await;
    shutdown.cancel();
    let err = run.await.unwrap().unwrap_err();
    assert!(matches!(err, Error::CacheSyncFailed { .. }), "{err}");
    assert!(err.to_string().contains("never-synced"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_dropped_watches_compaction_throttling_and_a_restart() {
    let server = TestServer::start().await.unwrap();
    for i in 0..10 {
        server.create(PODS, pod(&format!("p-{i}"), 0)).unwrap();
    }
    let controller = controller_for(&server, "faults");
    let log = Arc::new(Log::default());
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(controller.run(3, shutdown.clone(), reconciler(log.clone(), |_| None)));
    log.wait_until("initial sync", |l| l.last_seen().len() == 10)
        .await;

    // Churn while injecting faults.
    let faults = server.faults();
    for round in 1..=4u32 {
        for i in 0..10 {
            let path = format!("{PODS}/p-{i}");
            if let Ok(mut p) = server.get(&path) {
                p["metadata"]["labels"]["gen"] = json!(round.to_string());
                server.update(&path, p).unwrap();
            }
        }
        match round {
            1 => faults.drop_watches(),
            2 => faults.compact(),
            3 => faults.fail_next(3, FaultMatch::any().resource("pods"), 429, Some(1)),
            _ => faults.restart(),
        }
        server.delete(&format!("{PODS}/p-{round}")).unwrap();
        server
            .create(PODS, pod(&format!("new-{round}"), round))
            .unwrap();
    }

    // Every key ends reconciled against the server's final state.
    let expected: HashMap<String, Option<String>> = {
        let mut m: HashMap<_, _> = server
            .list(PODS)
            .unwrap()
            .iter()
            .map(|p| {
                (
                    format!("default/{}", p["metadata"]["name"].as_str().unwrap()),
                    Some(
                        p["metadata"]["resourceVersion"]
                            .as_str()
                            .unwrap()
                            .to_string(),
                    ),
                )
            })
            .collect();
        for round in 1..=4 {
            m.insert(format!("default/p-{round}"), None);
        }
        m
    };
    log.wait_until("the final state", |l| {
        let seen = l.last_seen();
        expected.iter().all(|(k, v)| seen.get(k) == Some(v))
    })
    .await;
    // And the client did not spin: a few dozen requests, not thousands.
    let requests = server.request_count();
    assert!(requests < 200, "{requests} requests");
    shutdown.cancel();
    run.await.unwrap().unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_changes_while_the_key_waits_costs_one_reconcile() {
    let server = TestServer::start().await.unwrap();
    server.create(PODS, pod("blocker", 0)).unwrap();
    server.create(PODS, pod("target", 0)).unwrap();
    let controller = controller_for(&server, "burst");
    let cache = controller.lister().clone();
    let log = Arc::new(Log::default());
    // The single worker parks inside the blocker's second reconcile until the gate opens.
    let (gate_tx, gate_rx) = watch::channel(false);
    let (parked_tx, mut parked_rx) = watch::channel(false);
    let reconcile = {
        let log = log.clone();
        move |key: String, lister: Lister<Pod>| {
            let (log, mut gate_rx, parked_tx) = (log.clone(), gate_rx.clone(), parked_tx.clone());
            async move {
                if key == "default/blocker" && log.count("default/blocker") == 1 {
                    parked_tx.send_replace(true);
                    gate_rx.wait_for(|open| *open).await.unwrap();
                }
                log.record(&key, cached_rv(&lister, &key));
                Ok::<_, Infallible>(Action::Done)
            }
        }
    };
    let shutdown = CancellationToken::new();
    let run = tokio::spawn(controller.run(1, shutdown.clone(), reconcile));
    log.wait_until("initial sync", |l| {
        l.count("default/target") == 1 && l.count("default/blocker") == 1
    })
    .await;

    // Park the worker on the blocker, then change the target twenty times.
    let path = format!("{PODS}/blocker");
    let mut b = server.get(&path).unwrap();
    b["metadata"]["labels"]["gen"] = json!("1");
    server.update(&path, b).unwrap();
    parked_rx.wait_for(|p| *p).await.unwrap();
    let mut last_rv = String::new();
    for generation in 1..=20 {
        let path = format!("{PODS}/target");
        let mut p = server.get(&path).unwrap();
        p["metadata"]["labels"]["gen"] = json!(generation.to_string());
        last_rv = server.update(&path, p).unwrap()["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();
    }
    // Let the burst reach the cache (the handler notifications follow it), then unpark.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while cache
        .namespace("default")
        .get("target")
        .unwrap()
        .metadata
        .resource_version
        != Some(last_rv.as_str().into())
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cache never saw the burst"
        );
        tokio::task::yield_now().await;
    }
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    gate_tx.send_replace(true);
    let want = Some(last_rv.clone());
    log.wait_until("the target's final state", |l| {
        l.last_seen().get("default/target") == Some(&want)
    })
    .await;
    // Twenty changes while the key waited in the queue: collapsed into one reconcile (two at
    // most, if the worker took the key before the last notifications arrived).
    let after_burst = log.count("default/target") - 1;
    assert!(
        (1..=2).contains(&after_burst),
        "20 changes cost {after_burst} reconciles"
    );
    shutdown.cancel();
    run.await.unwrap().unwrap();
    server.shutdown().await;
}

/// A ListerWatcher that holds a sender: the receiver sees the channel close once nothing
/// holds the ListerWatcher any more (the informer and every task that shares it are gone).
struct Tracked {
    inner: ListWatch<Pod>,
    _alive: tokio::sync::mpsc::Sender<()>,
}

impl informer::ListerWatcher<Pod> for Tracked {
    fn list(
        &self,
        opts: apiclient::ListOptions,
    ) -> futures::future::BoxFuture<'_, apiclient::Result<apiclient::meta::List<Pod>>> {
        self.inner.list(opts)
    }
    fn watch(
        &self,
        opts: apiclient::ListOptions,
    ) -> futures::future::BoxFuture<'_, apiclient::Result<informer::WatchEventStream<Pod>>> {
        self.inner.watch(opts)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_run_stops_the_informer_and_the_workers_it_started() {
    let server = TestServer::start().await.unwrap();
    server.create(PODS, pod("a", 1)).unwrap();
    let (alive, mut gone) = tokio::sync::mpsc::channel::<()>(1);
    let client = RestClient::new(&Config::new(server.url())).unwrap();
    let lw = Tracked {
        inner: ListWatch::<Pod>::for_resource(client, Some("default")),
        _alive: alive,
    };
    let informer = SharedIndexInformer::new(Arc::new(lw), InformerOptions::default());
    let controller = Controller::new(informer, ControllerConfig::default()).unwrap();
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    let run = controller.run(2, CancellationToken::new(), move |key, _| {
        let seen = seen_tx.clone();
        async move {
            let _ = seen.send(key);
            Ok::<_, Infallible>(Action::Done)
        }
    });
    let handle = tokio::spawn(run);
    // A reconcile happened: the informer and the workers are running.
    let key = tokio::time::timeout(Duration::from_secs(30), seen_rx.recv()).await;
    assert_eq!(key.unwrap().as_deref(), Some("default/a"));

    handle.abort();
    assert!(handle.await.unwrap_err().is_cancelled());
    // Every task `run` started is gone with it: nothing holds the ListerWatcher any more.
    // (The bound only turns a leak into a failure instead of a hang.)
    let closed = tokio::time::timeout(Duration::from_secs(30), gone.recv()).await;
    assert_eq!(closed, Ok(None), "a task started by run outlived it");
    server.shutdown().await;
}
