//! Fault injection and request counters, programmatic and over the admin endpoint.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{Client, Line, PODS, pod};
use http::Method;
use serde_json::json;
use testserver::{FaultMatch, TestServer, Verb};

#[tokio::test]
async fn fail_next_fails_exactly_the_matching_requests() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    server.faults().fail_next(
        2,
        FaultMatch::verb(Verb::List).resource("pods"),
        429,
        Some(3),
    );
    let get = c.get(&format!("{PODS}/nope")).await;
    assert_eq!(get.status, 404, "a GET does not match a LIST rule");
    let first = c.get(PODS).await;
    assert_eq!(first.status, 429);
    assert_eq!(first.header("retry-after").as_deref(), Some("3"));
    let s = first.json();
    assert_eq!(
        (
            s["reason"].clone(),
            s["details"]["retryAfterSeconds"].clone()
        ),
        (json!("TooManyRequests"), json!(3))
    );
    assert_eq!(c.get(PODS).await.status, 429);
    assert_eq!(c.get(PODS).await.status, 200);

    for code in [500u16, 503, 504] {
        server.faults().fail_next(1, FaultMatch::any(), code, None);
        let r = c.get("/api/v1/namespaces").await;
        assert_eq!(r.status, code);
        assert_eq!(r.json()["code"], code);
    }
    assert_eq!(
        server.request_count_for(&FaultMatch::verb(Verb::List).resource("pods")),
        3
    );
    assert_eq!(server.request_count_for(&FaultMatch::verb(Verb::Get)), 1);
    assert_eq!(server.request_count(), 7);
    let counts = server.request_counts();
    assert!(
        counts
            .iter()
            .any(|c| c.verb == Some(Verb::List) && c.resource == "namespaces" && c.count == 3)
    );
    server.reset_request_counts();
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn drop_watches_cuts_connections_abruptly() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let rv = server.resource_version();
    let mut w = c
        .watch(&format!("{PODS}?watch=1&resourceVersion={rv}"))
        .await;
    server.create(PODS, pod("a", json!({}))).unwrap();
    assert_eq!(w.next_summary().await, ("ADDED".into(), "a".into()));
    server.faults().drop_watches();
    assert_eq!(w.next_line().await, Line::Broken);
    // New watches work afterwards.
    let mut again = c
        .watch(&format!("{PODS}?watch=1&resourceVersion={rv}"))
        .await;
    assert_eq!(again.next_summary().await, ("ADDED".into(), "a".into()));
}

#[tokio::test]
async fn malformed_watch_lines_reach_open_watches() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let rv = server.resource_version();
    let mut w = c
        .watch(&format!("{PODS}?watch=1&resourceVersion={rv}"))
        .await;
    server.create(PODS, pod("a", json!({}))).unwrap();
    assert_eq!(w.next_summary().await, ("ADDED".into(), "a".into()));
    server.faults().inject_malformed_watch_line();
    assert!(matches!(w.next_line().await, Line::Malformed(_)));
    server.create(PODS, pod("b", json!({}))).unwrap();
    assert_eq!(w.next_summary().await, ("ADDED".into(), "b".into()));
}

#[tokio::test]
async fn restart_closes_watches_and_expires_old_resource_versions() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let rv = server.resource_version();
    server.create(PODS, pod("a", json!({}))).unwrap();
    let mut w = c
        .watch(&format!("{PODS}?watch=1&resourceVersion={rv}"))
        .await;
    assert_eq!(w.next_summary().await, ("ADDED".into(), "a".into()));
    server.faults().restart();
    assert_eq!(w.next_line().await, Line::End);
    let mut old = c
        .watch(&format!("{PODS}?watch=1&resourceVersion={rv}"))
        .await;
    let ev = old.next().await;
    assert_eq!(
        (ev["type"].clone(), ev["object"]["code"].clone()),
        (json!("ERROR"), json!(410))
    );
    let exact = c
        .get(&format!(
            "{PODS}?resourceVersion={rv}&resourceVersionMatch=Exact"
        ))
        .await;
    assert_eq!(exact.status, 410);
    // Objects survive a restart, as they live in etcd.
    assert_eq!(server.list(PODS).unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn latency_delays_requests_on_the_tokio_clock() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    server.faults().set_latency(Duration::from_secs(3));
    let started = tokio::time::Instant::now();
    assert_eq!(c.get(PODS).await.status, 200);
    assert!(started.elapsed() >= Duration::from_secs(3));
    server.faults().clear();
    let started = tokio::time::Instant::now();
    c.get(PODS).await;
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn the_admin_endpoint_drives_the_same_faults() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let ok = c
        .request(
            Method::POST,
            "/testserver/faults/fail?count=1&verb=create&resource=pods&status=503",
            None,
            Vec::new(),
        )
        .await;
    assert_eq!((ok.status, ok.json()), (200, json!({"ok": true})));
    assert_eq!(c.post(PODS, &pod("a", json!({}))).await.status, 503);
    assert_eq!(c.post(PODS, &pod("a", json!({}))).await.status, 201);
    let counts = c.get("/testserver/requests").await.json();
    assert_eq!(counts["total"], 2, "admin requests are not counted");
    assert_eq!(
        c.request(
            Method::POST,
            "/testserver/faults/fail?verb=frobnicate",
            None,
            Vec::new()
        )
        .await
        .status,
        400
    );
    let crd = json!({"group": "example.com", "version": "v1", "kind": "Gadget", "plural": "gadgets", "namespaced": false});
    assert_eq!(
        c.request(
            Method::POST,
            "/testserver/customresources",
            Some("application/json"),
            crd.to_string().into_bytes()
        )
        .await
        .status,
        200
    );
    assert_eq!(
        c.post(
            "/apis/example.com/v1/gadgets",
            &json!({"metadata": {"name": "g"}})
        )
        .await
        .status,
        201
    );
    let rv = server.resource_version();
    assert_eq!(
        c.request(Method::POST, "/testserver/faults/compact", None, Vec::new())
            .await
            .status,
        200
    );
    let gone = c
        .get(&format!(
            "{PODS}?resourceVersion=101&resourceVersionMatch=Exact"
        ))
        .await;
    assert_eq!(gone.status, 410, "compacted below {rv}");
    assert_eq!(
        c.request(Method::POST, "/testserver/nope", None, Vec::new())
            .await
            .status,
        404
    );
}
