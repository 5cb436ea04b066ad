//! The Lease lock and the event recorder against the in-process API server over HTTP.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use apiclient::meta::MicroTime;
use apiclient::{Config, RestClient};
use controller::leaderelection::{
    LeaderCallbacks, LeaderElectionConfig, LeaderElectionRecord, LeaderElector, LeaseLock,
    ResourceLock,
};
use controller::record::{EventBroadcaster, EventSource, EventType, ObjectReference};
use testserver::TestServer;
use tokio_util::sync::CancellationToken;

fn client(server: &TestServer) -> RestClient {
    RestClient::new(&Config::new(server.url())).unwrap()
}

/// Waits until the leaders seen so far satisfy `cond`, failing after a generous deadline (a
/// failure detector, not a timing assumption).
async fn wait_for_leaders(
    rx: &mut tokio::sync::watch::Receiver<Vec<String>>,
    what: &str,
    cond: impl FnMut(&Vec<String>) -> bool,
) {
    tokio::time::timeout(Duration::from_secs(30), rx.wait_for(cond))
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .unwrap();
}

#[tokio::test]
async fn lease_lock_creates_reads_and_guards_updates_with_the_resource_version() {
    let server = TestServer::start().await.unwrap();
    let client = client(&server);
    let a = LeaseLock::new(&client, "default", "lock", "a");
    let b = LeaseLock::new(&client, "default", "lock", "b");

    assert!(a.get().await.unwrap_err().is_not_found());
    let record = LeaderElectionRecord {
        holder_identity: "a".into(),
        lease_duration_seconds: 15,
        leader_transitions: 0,
        ..LeaderElectionRecord::default()
    };
    a.create(&record).await.unwrap();
    assert_eq!(b.get().await.unwrap(), record);

    // a renews; b's copy is now stale and its update must conflict.
    a.update(&LeaderElectionRecord {
        renew_time: Some(MicroTime::parse("2026-11-25T00:00:00.000000Z").unwrap()),
        ..record.clone()
    })
    .await
    .unwrap();
    let err = b
        .update(&LeaderElectionRecord {
            holder_identity: "b".into(),
            ..record.clone()
        })
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");

    let stored = server
        .get("/apis/coordination.k8s.io/v1/namespaces/default/leases/lock")
        .unwrap();
    assert_eq!(stored["spec"]["holderIdentity"], "a");
    assert_eq!(stored["spec"]["leaseDurationSeconds"], 15);
    server.shutdown().await;
}

#[tokio::test]
async fn two_electors_over_http_hand_over_on_release() {
    let server = TestServer::start().await.unwrap();
    let client = client(&server);
    // Whole seconds: the record stores the lease duration in seconds.
    let config = LeaderElectionConfig {
        lease_duration: Duration::from_secs(15),
        renew_deadline: Duration::from_secs(2),
        retry_period: Duration::from_millis(200),
        release_on_cancel: true,
        name: "demo".into(),
    };
    let (leaders, mut leaders_rx) = tokio::sync::watch::channel(Vec::<String>::new());
    let mut tokens = Vec::new();
    let mut tasks = Vec::new();
    for id in ["a", "b"] {
        let lock = LeaseLock::new(&client, "default", "demo", id);
        let elector = LeaderElector::new(config.clone(), lock).unwrap();
        let shutdown = CancellationToken::new();
        let seen = leaders.clone();
        let callbacks = LeaderCallbacks::new(move |leading: CancellationToken| async move {
            seen.send_modify(|l| l.push(id.to_string()));
            leading.cancelled().await;
        });
        tasks.push(tokio::spawn(elector.run(shutdown.clone(), callbacks)));
        tokens.push(shutdown);
        if id == "a" {
            wait_for_leaders(&mut leaders_rx, "a to lead", |l| l.len() == 1).await;
        }
    }
    assert_eq!(*leaders.borrow(), ["a"]);

    let t0 = std::time::Instant::now();
    tokens[0].cancel();
    wait_for_leaders(&mut leaders_rx, "b to take over", |l| l.len() == 2).await;
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "released, so b need not wait out the 15 s lease: took {:?}",
        t0.elapsed()
    );
    assert_eq!(*leaders.borrow(), ["a", "b"]);
    let lease = server
        .get("/apis/coordination.k8s.io/v1/namespaces/default/leases/demo")
        .unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "b");
    assert_eq!(lease["spec"]["leaseTransitions"], 1);
    tokens[1].cancel();
    for t in tasks {
        t.await.unwrap();
    }
    server.shutdown().await;
}

#[tokio::test]
async fn repeated_events_are_counted_on_one_event_object() {
    let server = TestServer::start().await.unwrap();
    let client = client(&server);
    let broadcaster = EventBroadcaster::new(&client);
    let recorder = broadcaster.new_recorder(EventSource {
        component: Some("pod-controller".into()),
        host: None,
    });
    let pod = ObjectReference {
        kind: Some("Pod".into()),
        api_version: Some("v1".into()),
        namespace: Some("default".into()),
        name: Some("web-1".into()),
        uid: Some("uid-1".into()),
        ..ObjectReference::default()
    };
    for _ in 0..5 {
        recorder.event_for(
            pod.clone(),
            EventType::Warning,
            "FailedSync",
            "image pull failed",
        );
    }
    recorder.event_for(pod.clone(), EventType::Normal, "Synced", "synced");
    drop(recorder);
    broadcaster.shutdown().await;

    let events = server.list("/api/v1/namespaces/default/events").unwrap();
    assert_eq!(
        events.len(),
        2,
        "five repeats became one object: {events:#?}"
    );
    let failed = events.iter().find(|e| e["reason"] == "FailedSync").unwrap();
    assert_eq!(failed["count"], 5);
    assert_eq!(failed["type"], "Warning");
    assert_eq!(failed["involvedObject"]["name"], "web-1");
    assert_eq!(failed["source"]["component"], "pod-controller");
    let synced = events.iter().find(|e| e["reason"] == "Synced").unwrap();
    assert_eq!(synced["count"], 1);
    server.shutdown().await;
}

#[tokio::test]
async fn an_elector_with_a_recorder_reports_became_leader_and_stopped_leading_on_the_lease() {
    let server = TestServer::start().await.unwrap();
    let client = client(&server);
    let broadcaster = EventBroadcaster::new(&client);
    let recorder = broadcaster.new_recorder(EventSource {
        component: Some("demo-controller".into()),
        host: None,
    });
    let lock = LeaseLock::new(&client, "default", "demo", "a").with_event_recorder(recorder);
    let config = LeaderElectionConfig {
        lease_duration: Duration::from_secs(15),
        renew_deadline: Duration::from_secs(2),
        retry_period: Duration::from_millis(200),
        release_on_cancel: true,
        name: "demo".into(),
    };
    let elector = LeaderElector::new(config, lock).unwrap();
    let shutdown = CancellationToken::new();
    let (started, mut started_rx) = tokio::sync::watch::channel(false);
    let callbacks = LeaderCallbacks::new(move |leading: CancellationToken| async move {
        started.send_replace(true);
        leading.cancelled().await;
    });
    let task = tokio::spawn(elector.run(shutdown.clone(), callbacks));
    tokio::time::timeout(Duration::from_secs(30), started_rx.wait_for(|s| *s))
        .await
        .unwrap()
        .unwrap();
    shutdown.cancel();
    task.await.unwrap();
    // The elector dropped its lock, and with it the last recorder.
    broadcaster.shutdown().await;

    let lease = server
        .get("/apis/coordination.k8s.io/v1/namespaces/default/leases/demo")
        .unwrap();
    let events = server.list("/api/v1/namespaces/default/events").unwrap();
    let mut messages: Vec<&str> = events
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    messages.sort_unstable();
    assert_eq!(
        messages,
        ["a became leader", "a stopped leading"],
        "{events:#?}"
    );
    for e in &events {
        assert_eq!(e["reason"], "LeaderElection");
        assert_eq!(e["type"], "Normal");
        assert_eq!(e["involvedObject"]["kind"], "Lease");
        assert_eq!(e["involvedObject"]["apiVersion"], "coordination.k8s.io/v1");
        assert_eq!(e["involvedObject"]["name"], "demo");
        assert_eq!(e["involvedObject"]["uid"], lease["metadata"]["uid"]);
    }
    server.shutdown().await;
}
