//! client-go's retry and throttling rules against `testserver` with injected 429/503, on a
//! paused clock: the waits are exact and cost no wall time.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use apiclient::{ListOptions, RestClient, TypedClient};
use common::{Pod, pod};
use testserver::{FaultMatch, Verb};
use tokio::time::Instant;

fn pods(server: &testserver::TestServer, qps: f32, burst: u32) -> TypedClient<Pod> {
    let config = common::config(server).rate(qps, burst);
    TypedClient::namespaced(&RestClient::new(&config).unwrap(), "default")
}

fn list_pods() -> FaultMatch {
    FaultMatch::verb(Verb::List).resource("pods")
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_and_counted() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = pods(&server, -1.0, 0);
    server.faults().fail_next(2, list_pods(), 429, Some(3));
    server.faults().fail_next(1, list_pods(), 503, Some(1));
    let start = Instant::now();
    pods.list(&ListOptions::default()).await.unwrap();
    let waited = start.elapsed();
    assert_eq!(
        server.request_count_for(&list_pods()),
        4,
        "three retries then success"
    );
    assert!(
        waited >= Duration::from_secs(7),
        "waited {waited:?}, want 3 + 3 + 1 s"
    );
    assert!(waited < Duration::from_secs(8), "waited {waited:?}");
}

#[tokio::test(start_paused = true)]
async fn writes_are_retried_on_retry_after_too() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = pods(&server, -1.0, 0);
    let create = FaultMatch::verb(Verb::Create).resource("pods");
    server.faults().fail_next(1, create.clone(), 503, Some(2));
    let start = Instant::now();
    pods.create(&pod("p"), &Default::default()).await.unwrap();
    assert!(start.elapsed() >= Duration::from_secs(2));
    assert_eq!(server.request_count_for(&create), 2);
}

#[tokio::test(start_paused = true)]
async fn no_retry_after_means_no_retry() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = pods(&server, -1.0, 0);
    server.faults().fail_next(1, list_pods(), 503, None);
    let e = pods.list(&ListOptions::default()).await.unwrap_err();
    assert!(e.is_service_unavailable(), "{e}");
    assert_eq!(server.request_count_for(&list_pods()), 1);
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_ten_retries_with_the_last_error() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = pods(&server, -1.0, 0);
    server.faults().fail_next(50, list_pods(), 429, Some(1));
    let e = pods.list(&ListOptions::default()).await.unwrap_err();
    assert!(e.is_too_many_requests(), "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(server.request_count_for(&list_pods()), 11);
}

#[tokio::test(start_paused = true)]
async fn rate_limiter_spaces_requests_at_qps_after_the_burst() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = pods(&server, 10.0, 5);
    let start = Instant::now();
    for _ in 0..5 {
        pods.list(&ListOptions::default()).await.unwrap();
    }
    assert!(
        start.elapsed() < Duration::from_millis(10),
        "the burst is not throttled"
    );
    for _ in 0..20 {
        pods.list(&ListOptions::default()).await.unwrap();
    }
    let elapsed = start.elapsed();
    // 20 more at 10/s: 2 s. The observed rate is 25 requests over ~2 s.
    assert!(
        elapsed >= Duration::from_millis(1990) && elapsed < Duration::from_millis(2100),
        "{elapsed:?}"
    );
    assert_eq!(server.request_count_for(&list_pods()), 25);
}

#[tokio::test(start_paused = true)]
async fn retries_pass_through_the_rate_limiter() {
    let server = testserver::TestServer::start().await.unwrap();
    // One token, refilled every 10 s: the retry must wait for it even with Retry-After: 0.
    let pods = pods(&server, 0.1, 1);
    server.faults().fail_next(1, list_pods(), 429, Some(0));
    let start = Instant::now();
    pods.list(&ListOptions::default()).await.unwrap();
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(9990) && elapsed < Duration::from_secs(11),
        "{elapsed:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_first_attempt_of_a_watch_is_not_throttled() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = pods(&server, 0.1, 1);
    pods.list(&ListOptions::default()).await.unwrap(); // spends the only token
    let start = Instant::now();
    let _w = pods.watch(&ListOptions::default()).await.unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}
