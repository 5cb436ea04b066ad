//! Watches and the pager against `testserver`: events as they happen, bookmarks, 410s as typed
//! errors, cut and corrupted streams, and the pager's fallback on an expired continue token.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use apiclient::meta::{ListOptions, WatchEvent, WriteOptions};
use apiclient::{Error, ListPager, Object, TypedClient};
use common::{Pod, client, pod};
use futures::StreamExt;
use testserver::{FaultMatch, Verb};

async fn next<S: futures::Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .expect("watch event within 10 s")
}

fn describe(e: &WatchEvent<Pod>) -> String {
    match e {
        WatchEvent::Added(p) => format!("ADDED {}", p.name()),
        WatchEvent::Modified(p) => format!("MODIFIED {}", p.name()),
        WatchEvent::Deleted(p) => format!("DELETED {}", p.name()),
        WatchEvent::Bookmark(_) => "BOOKMARK".into(),
    }
}

#[tokio::test]
async fn watch_from_list_rv_sees_changes_in_order() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = TypedClient::<Pod>::namespaced(&client(&server), "default");
    let w = WriteOptions::default();
    pods.create(&pod("before"), &w).await.unwrap();
    let list = pods.list(&ListOptions::default()).await.unwrap();
    let rv = list.metadata.resource_version.unwrap();
    let mut stream = pods
        .watch(&ListOptions::default().resource_version(rv))
        .await
        .unwrap();
    pods.create(&pod("a"), &w).await.unwrap();
    pods.patch(
        "a",
        apiclient::PatchType::Merge,
        &serde_json::json!({"metadata": {"labels": {"x": "y"}}}),
        &w,
    )
    .await
    .unwrap();
    pods.delete("a", &Default::default()).await.unwrap();
    let mut got = Vec::new();
    while got.last().is_none_or(|l: &String| l != "DELETED a") {
        got.push(describe(&next(&mut stream).await.unwrap().unwrap()));
    }
    // The server may report the deletion's own metadata update before DELETED.
    assert_eq!(got[..2], ["ADDED a", "MODIFIED a"]);
    assert!(got.len() <= 4, "{got:?}");
}

#[tokio::test]
async fn initial_events_end_with_an_annotated_bookmark() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = TypedClient::<Pod>::namespaced(&client(&server), "default");
    for n in ["p1", "p2"] {
        pods.create(&pod(n), &WriteOptions::default())
            .await
            .unwrap();
    }
    let opts = ListOptions {
        send_initial_events: Some(true),
        allow_watch_bookmarks: true,
        resource_version_match: Some(apiclient::meta::ResourceVersionMatch::NotOlderThan),
        ..ListOptions::default()
    };
    let mut stream = pods.watch(&opts).await.unwrap();
    let mut added = Vec::new();
    loop {
        match next(&mut stream).await.unwrap().unwrap() {
            WatchEvent::Added(p) => added.push(p.name().to_owned()),
            WatchEvent::Bookmark(b) => {
                assert!(b.is_initial_events_end(), "{b:?}");
                assert!(!b.metadata.resource_version.is_empty());
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    added.sort();
    assert_eq!(added, vec!["p1", "p2"]);
}

#[tokio::test]
async fn watch_from_a_compacted_rv_is_resource_expired() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = TypedClient::<Pod>::namespaced(&client(&server), "default");
    let rv = pods
        .list(&ListOptions::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    pods.create(&pod("x"), &WriteOptions::default())
        .await
        .unwrap();
    server.faults().compact();
    // A real server answers 200 with an ERROR event; either way it is a typed 410.
    let err = match pods
        .watch(&ListOptions::default().resource_version(rv))
        .await
    {
        Err(e) => e,
        Ok(mut s) => next(&mut s).await.unwrap().unwrap_err(),
    };
    assert!(err.is_resource_expired() || err.is_gone(), "{err}");
    assert_eq!(err.status().unwrap().code, 410);
}

#[tokio::test]
async fn malformed_line_ends_the_watch_with_a_decode_error() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = TypedClient::<Pod>::namespaced(&client(&server), "default");
    let mut stream = pods.watch(&ListOptions::default()).await.unwrap();
    pods.create(&pod("ok"), &WriteOptions::default())
        .await
        .unwrap();
    assert!(next(&mut stream).await.unwrap().is_ok());
    server.faults().inject_malformed_watch_line();
    let e = next(&mut stream).await.unwrap().unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e}");
    assert!(
        next(&mut stream).await.is_none(),
        "the stream ends after a decode error"
    );
}

#[tokio::test]
async fn a_cut_connection_ends_the_watch_quietly() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = TypedClient::<Pod>::namespaced(&client(&server), "default");
    let mut stream = pods.watch(&ListOptions::default()).await.unwrap();
    pods.create(&pod("ok"), &WriteOptions::default())
        .await
        .unwrap();
    assert!(next(&mut stream).await.unwrap().is_ok());
    server.faults().drop_watches();
    assert!(
        next(&mut stream).await.is_none(),
        "like Go's StreamWatcher: no error, just the end"
    );
}

#[tokio::test]
async fn pager_falls_back_to_a_full_list_when_the_continue_token_expires() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = TypedClient::<Pod>::namespaced(&client(&server), "default");
    for i in 0..7 {
        pods.create(&pod(&format!("p{i}")), &WriteOptions::default())
            .await
            .unwrap();
    }
    let list_match = FaultMatch::verb(Verb::List).resource("pods");
    server.reset_request_counts();
    let mut pages = 0;
    let mut pager = ListPager::new(|o: ListOptions| {
        pages += 1;
        if pages == 2 {
            // The snapshot behind the first page's continue token is gone.
            server.faults().compact();
        }
        let pods = pods.clone();
        async move { pods.list(&o).await }
    })
    .page_size(3);
    let (all, _) = pager.list(ListOptions::default()).await.unwrap();
    assert_eq!(all.items.len(), 7);
    assert_eq!(
        server.request_count_for(&list_match),
        3,
        "page 1, expired page 2, full list"
    );
}

#[tokio::test]
async fn pager_pages_hold_one_page_at_a_time() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = TypedClient::<Pod>::namespaced(&client(&server), "default");
    for i in 0..5 {
        pods.create(&pod(&format!("p{i}")), &WriteOptions::default())
            .await
            .unwrap();
    }
    let mut sizes = Vec::new();
    let meta = pods
        .for_each_page(&ListOptions::default().limit(2), |page| {
            sizes.push(page.items.len());
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(sizes, vec![2, 2, 1]);
    assert!(meta.resource_version.is_some());
    assert_eq!(
        pods.list_all(&ListOptions::default())
            .await
            .unwrap()
            .items
            .len(),
        5
    );
}
