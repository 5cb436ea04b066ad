//! Watch over HTTP: framing, synthetic initial events, history replay, selector transitions,
//! bookmarks, timeouts, watch-list and expired resourceVersions.
//!
//! Timing tests run on a paused tokio clock: the runtime jumps to the next timer when idle, so
//! bookmarks and timeouts fire without waiting in real time.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{Client, Line, PODS, pod};
use serde_json::json;
use testserver::TestServer;

async fn server_with_pods(n: usize) -> (TestServer, Client) {
    let server = TestServer::start().await.unwrap();
    for i in 0..n {
        server
            .create(PODS, pod(&format!("web-{i}"), json!({"app": "demo"})))
            .unwrap();
    }
    let c = Client::new(&server);
    (server, c)
}

#[tokio::test]
async fn rv_zero_gives_synthetic_added_then_live_events() {
    let (server, c) = server_with_pods(2).await;
    let mut w = c.watch(&format!("{PODS}?watch=1&resourceVersion=0")).await;
    assert_eq!(w.status, 200);
    assert_eq!(w.headers.get("content-type").unwrap(), "application/json");
    assert_eq!(w.headers.get("transfer-encoding").unwrap(), "chunked");
    assert_eq!(w.next_summary().await, ("ADDED".into(), "web-0".into()));
    assert_eq!(w.next_summary().await, ("ADDED".into(), "web-1".into()));
    server.create(PODS, pod("web-2", json!({}))).unwrap();
    let mut obj = server.get(&format!("{PODS}/web-2")).unwrap();
    obj["metadata"]["labels"] = json!({"x": "y"});
    server.update(&format!("{PODS}/web-2"), obj).unwrap();
    server.delete(&format!("{PODS}/web-2")).unwrap();
    assert_eq!(w.next_summary().await, ("ADDED".into(), "web-2".into()));
    assert_eq!(w.next_summary().await, ("MODIFIED".into(), "web-2".into()));
    // A pod delete is graceful: MODIFIED with a deletionTimestamp, then DELETED.
    let marked = w.next_non_bookmark().await;
    assert_eq!(marked["type"], "MODIFIED");
    assert!(marked["object"]["metadata"]["deletionTimestamp"].is_string());
    let deleted = w.next_non_bookmark().await;
    assert_eq!(deleted["type"], "DELETED");
    assert_eq!(
        deleted["object"]["metadata"]["resourceVersion"],
        server.resource_version()
    );
}

#[tokio::test]
async fn watch_from_a_list_rv_replays_history_in_order() {
    let (server, c) = server_with_pods(1).await;
    let list = c.get(PODS).await.json();
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    server.create(PODS, pod("a", json!({}))).unwrap();
    server.delete(&format!("{PODS}/web-0")).unwrap();
    // Objects elsewhere do not show up.
    server
        .create(
            "/api/v1/namespaces/default/configmaps",
            json!({"metadata": {"name": "c"}}),
        )
        .unwrap();
    let mut w = c
        .watch(&format!("{PODS}?watch=1&resourceVersion={rv}"))
        .await;
    assert_eq!(w.next_summary().await, ("ADDED".into(), "a".into()));
    assert_eq!(w.next_summary().await, ("MODIFIED".into(), "web-0".into()));
    assert_eq!(w.next_summary().await, ("DELETED".into(), "web-0".into()));
    // The legacy path form works too.
    let mut legacy = c
        .watch(&format!(
            "/api/v1/watch/namespaces/default/pods?resourceVersion={rv}"
        ))
        .await;
    assert_eq!(legacy.next_summary().await, ("ADDED".into(), "a".into()));
    // And a legacy single-object watch sees only that object.
    let mut one = c
        .watch(&format!(
            "/api/v1/watch/namespaces/default/pods/a?resourceVersion={rv}"
        ))
        .await;
    assert_eq!(one.next_summary().await, ("ADDED".into(), "a".into()));
    server.create(PODS, pod("b", json!({}))).unwrap();
    server.delete(&format!("{PODS}/a")).unwrap();
    assert_eq!(one.next_summary().await, ("MODIFIED".into(), "a".into()));
    assert_eq!(one.next_summary().await, ("DELETED".into(), "a".into()));
}

#[tokio::test]
async fn objects_leaving_and_entering_the_selector_are_deleted_and_added() {
    let (server, c) = server_with_pods(1).await;
    let rv = server.resource_version();
    let mut w = c
        .watch(&format!(
            "{PODS}?watch=1&resourceVersion={rv}&labelSelector=app%3Ddemo"
        ))
        .await;
    let path = format!("{PODS}/web-0");
    let mut obj = server.get(&path).unwrap();
    obj["metadata"]["labels"]["app"] = json!("other");
    obj["metadata"]["resourceVersion"] = json!("");
    server.update(&path, obj.clone()).unwrap();
    let left = w.next_non_bookmark().await;
    assert_eq!(left["type"], "DELETED");
    assert_eq!(
        left["object"]["metadata"]["labels"]["app"], "demo",
        "carries the last matching state"
    );
    assert_eq!(
        left["object"]["metadata"]["resourceVersion"],
        server.resource_version()
    );
    obj["metadata"]["labels"]["app"] = json!("demo");
    server.update(&path, obj).unwrap();
    assert_eq!(w.next_summary().await, ("ADDED".into(), "web-0".into()));
}

#[tokio::test]
async fn too_old_rv_is_a_200_with_one_expired_error_event() {
    let (server, c) = server_with_pods(1).await;
    server.faults().compact();
    let mut w = c
        .watch(&format!(
            "{PODS}?watch=1&resourceVersion=1&allowWatchBookmarks=true"
        ))
        .await;
    assert_eq!(w.status, 200);
    let ev = w.next().await;
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["kind"], "Status");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    assert_eq!(w.next_line().await, Line::End);
}

#[tokio::test]
async fn history_window_bounds_how_far_back_a_watch_can_start() {
    let server = TestServer::builder()
        .history_window(3)
        .start()
        .await
        .unwrap();
    let c = Client::new(&server);
    let start = server.resource_version();
    for i in 0..5 {
        server
            .create(PODS, pod(&format!("p{i}"), json!({})))
            .unwrap();
    }
    let mut old = c
        .watch(&format!("{PODS}?watch=1&resourceVersion={start}"))
        .await;
    assert_eq!(old.next().await["object"]["code"], 410);
    let recent: u64 = server.resource_version().parse::<u64>().unwrap() - 3;
    let mut ok = c
        .watch(&format!("{PODS}?watch=1&resourceVersion={recent}"))
        .await;
    assert_eq!(ok.next_summary().await, ("ADDED".into(), "p2".into()));
}

#[tokio::test(start_paused = true)]
async fn send_initial_events_ends_with_an_annotated_bookmark() {
    let (server, c) = server_with_pods(2).await;
    let mut w = c
        .watch(&format!("{PODS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=&allowWatchBookmarks=true"))
        .await;
    assert_eq!(w.next().await["type"], "ADDED");
    assert_eq!(w.next().await["type"], "ADDED");
    let bookmark = w.next().await;
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(
        bookmark["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(
        bookmark["object"]["metadata"]["resourceVersion"],
        server.resource_version()
    );
    let bad = c
        .get(&format!("{PODS}?watch=1&sendInitialEvents=true"))
        .await;
    assert_eq!(bad.status, 422);
}

#[tokio::test(start_paused = true)]
async fn bookmarks_arrive_on_the_interval_and_before_the_timeout() {
    let server = TestServer::builder()
        .bookmark_interval(Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let c = Client::new(&server);
    let rv = server.resource_version();
    let started = tokio::time::Instant::now();
    let mut w = c
        .watch(&format!(
            "{PODS}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=5"
        ))
        .await;
    let mut bookmarks = 0;
    loop {
        match w.next_line().await {
            Line::Event(ev) => {
                assert_eq!(ev["type"], "BOOKMARK");
                assert_eq!(ev["object"]["kind"], "Pod");
                assert_eq!(ev["object"]["metadata"]["resourceVersion"], rv);
                bookmarks += 1;
            }
            Line::End => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    // At 2 s and 4 s, then one just before the 5 s timeout.
    assert_eq!(bookmarks, 3);
    assert!(started.elapsed() >= Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn timeout_ends_a_watch_without_bookmarks() {
    let (_server, c) = server_with_pods(1).await;
    let mut w = c
        .watch(&format!(
            "{PODS}?watch=1&resourceVersion=0&timeoutSeconds=1"
        ))
        .await;
    assert_eq!(w.next_summary().await, ("ADDED".into(), "web-0".into()));
    assert_eq!(w.next_line().await, Line::End);
}

#[tokio::test]
async fn table_watches_wrap_each_object_in_a_table() {
    let (server, mut c) = server_with_pods(0).await;
    c.accept = Some("application/json;as=Table;v=v1;g=meta.k8s.io".into());
    let rv = server.resource_version();
    let mut w = c
        .watch(&format!("{PODS}?watch=1&resourceVersion={rv}"))
        .await;
    server.create(PODS, pod("t", json!({}))).unwrap();
    let ev = w.next_non_bookmark().await;
    assert_eq!(ev["object"]["kind"], "Table");
    assert_eq!(ev["object"]["rows"][0]["cells"][0], "t");
}

#[tokio::test]
async fn several_watchers_each_see_every_event() {
    let (server, c) = server_with_pods(0).await;
    let rv = server.resource_version();
    let mut watchers = Vec::new();
    for _ in 0..4 {
        watchers.push(
            c.watch(&format!("{PODS}?watch=1&resourceVersion={rv}"))
                .await,
        );
    }
    for i in 0..50 {
        server
            .create(PODS, pod(&format!("p{i}"), json!({})))
            .unwrap();
    }
    for w in &mut watchers {
        for i in 0..50 {
            assert_eq!(w.next_summary().await, ("ADDED".into(), format!("p{i}")));
        }
    }
}

/// Waits, bounded, until the server serves no watch; `false` if some are still live.
async fn live_watches_reach_zero(server: &TestServer) -> bool {
    tokio::time::timeout(Duration::from_secs(10), async {
        while server.live_watches() > 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn a_watch_ends_when_its_client_disconnects_without_any_write() {
    let (server, c) = server_with_pods(1).await;
    let mut watches = Vec::new();
    for _ in 0..20 {
        // No bookmarks: nothing would ever be written to these streams again.
        let mut w = c.watch(&format!("{PODS}?watch=1&resourceVersion=0")).await;
        assert_eq!(w.next_summary().await, ("ADDED".into(), "web-0".into()));
        watches.push(w);
    }
    assert_eq!(server.live_watches(), 20);
    let rv = server.resource_version();
    drop(watches);
    assert!(
        live_watches_reach_zero(&server).await,
        "{} watches still live after their clients left",
        server.live_watches()
    );
    assert_eq!(server.resource_version(), rv, "no write happened meanwhile");
}

#[tokio::test]
async fn a_watch_ahead_of_the_store_waits_for_events_after_its_resource_version() {
    let (server, c) = server_with_pods(0).await;
    let now: u64 = server.resource_version().parse().unwrap();
    let mut w = c
        .watch(&format!("{PODS}?watch=1&resourceVersion={}", now + 2))
        .await;
    // The cacher opens the watch (no 504): it just skips what is not newer.
    assert_eq!(w.status, 200);
    for name in ["first", "second", "third"] {
        server.create(PODS, pod(name, json!({}))).unwrap();
    }
    assert_eq!(w.next_summary().await, ("ADDED".into(), "third".into()));
}

#[tokio::test(start_paused = true)]
async fn a_watch_list_ahead_of_the_store_gives_up_after_three_seconds_with_a_504_event() {
    let (server, c) = server_with_pods(1).await;
    let now: u64 = server.resource_version().parse().unwrap();
    let started = tokio::time::Instant::now();
    let mut w = c
        .watch(&format!(
            "{PODS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion={}",
            now + 5
        ))
        .await;
    assert_eq!(w.status, 200);
    let ev = w.next().await;
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 504);
    assert_eq!(
        ev["object"]["message"],
        format!(
            "Timeout: Too large resource version: {}, current: {now}",
            now + 5
        )
    );
    assert_eq!(ev["object"]["details"]["retryAfterSeconds"], 1);
    assert!(started.elapsed() >= Duration::from_secs(3));
}

#[tokio::test]
async fn a_watch_list_ahead_of_the_store_starts_once_the_store_catches_up() {
    let (server, c) = server_with_pods(1).await;
    let now: u64 = server.resource_version().parse().unwrap();
    let mut w = c
        .watch(&format!(
            "{PODS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion={}",
            now + 1
        ))
        .await;
    server.create(PODS, pod("late", json!({}))).unwrap();
    assert_eq!(w.next_summary().await, ("ADDED".into(), "web-0".into()));
    let end = w.next().await;
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(w.next_summary().await, ("ADDED".into(), "late".into()));
}
