//! Leader election against an API server that holds every request (the test server's latency
//! fault, an hour long), on a paused clock: Go's `context.WithTimeout(ctx, RenewDeadline)` bounds
//! around acquire, renew and release. Without them an elector waits for the hour.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use apiclient::{Config, RestClient};
use controller::leaderelection::{LeaderCallbacks, LeaderElectionConfig, LeaderElector, LeaseLock};
use testserver::{FaultMatch, TestServer};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Long enough that waiting it out is unmistakable, short enough that a failing test ends.
const HELD: Duration = Duration::from_secs(3600);

fn config() -> LeaderElectionConfig {
    LeaderElectionConfig {
        release_on_cancel: true,
        name: "bounds".into(),
        ..LeaderElectionConfig::default()
    }
}

/// Starts candidate `id`; the receiver turns true when it starts leading.
fn candidate(
    server: &TestServer,
    id: &str,
) -> (
    CancellationToken,
    watch::Receiver<bool>,
    tokio::task::JoinHandle<()>,
) {
    let client = RestClient::new(&Config::new(server.url())).unwrap();
    let lock = LeaseLock::new(&client, "default", "lock", id);
    let elector = LeaderElector::new(config(), lock).unwrap();
    let (leading_tx, leading_rx) = watch::channel(false);
    let callbacks = LeaderCallbacks::new(move |leading: CancellationToken| async move {
        leading_tx.send_replace(true);
        leading.cancelled().await;
    });
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(elector.run(shutdown.clone(), callbacks));
    (shutdown, leading_rx, task)
}

fn lease_requests(server: &TestServer) -> u64 {
    server.request_count_for(&FaultMatch::any().resource("leases"))
}

#[tokio::test(start_paused = true)]
async fn shutdown_while_leading_ends_within_the_renew_deadline_when_the_server_hangs() {
    let server = TestServer::start().await.unwrap();
    let (shutdown, mut leading, task) = candidate(&server, "a");
    leading.wait_for(|l| *l).await.unwrap();

    // The server now holds every request. Let a renewal start and hang, then shut down: the
    // renewal must be abandoned and the release given up after one renew deadline.
    server.faults().set_latency(HELD);
    let before = lease_requests(&server);
    tokio::time::sleep(config().retry_period + Duration::from_secs(1)).await;
    assert!(lease_requests(&server) > before, "a renewal is in flight");
    let cancelled_at = Instant::now();
    shutdown.cancel();
    task.await.unwrap();
    let took = cancelled_at.elapsed();
    assert!(
        took <= config().renew_deadline + Duration::from_millis(100),
        "shutdown took {took:?}, more than the renew deadline"
    );
    server.faults().clear();
    server.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_while_acquiring_ends_at_once_when_the_server_hangs() {
    let server = TestServer::start().await.unwrap();
    server.faults().set_latency(HELD);
    let (shutdown, leading, task) = candidate(&server, "a");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(lease_requests(&server), 1, "the first attempt is held");

    let cancelled_at = Instant::now();
    shutdown.cancel();
    task.await.unwrap();
    let took = cancelled_at.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "shutdown waited {took:?} for the held attempt"
    );
    assert!(!*leading.borrow(), "never led");
    server.faults().clear();
    server.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_held_acquire_attempt_is_abandoned_at_the_renew_deadline_and_retried() {
    let server = TestServer::start().await.unwrap();
    server.faults().set_latency(HELD);
    let started = Instant::now();
    let (shutdown, mut leading, task) = candidate(&server, "a");
    // The server recovers while the first attempt is held; only a fresh attempt sees it.
    tokio::time::sleep(Duration::from_secs(5)).await;
    server.faults().clear();

    leading.wait_for(|l| *l).await.unwrap();
    let took = started.elapsed();
    let config = config();
    let latest = config.renew_deadline + config.retry_period.mul_f64(2.2) + Duration::from_secs(1);
    assert!(
        took >= config.renew_deadline && took <= latest,
        "acquired after {took:?}: the held attempt should end at the renew deadline ({:?}) and \
         the next one succeed within a jittered retry period",
        config.renew_deadline
    );
    shutdown.cancel();
    task.await.unwrap();
    let lease = server
        .get("/apis/coordination.k8s.io/v1/namespaces/default/leases/lock")
        .unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "", "released on shutdown");
    server.shutdown().await;
}
