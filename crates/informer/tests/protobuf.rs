//! The informer over protobuf, as kube-controller-manager runs it: the client asks for
//! `application/vnd.kubernetes.protobuf,application/json`, lists and watches decode straight
//! from protobuf into the cached `api::core::v1::Pod`, through the initial sync (watch-list
//! and LIST), bookmarks, a 410 relist, and a gzipped protobuf LIST.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use apiclient::ContentConfig;
use common::*;
use informer::ReflectorConfig;
use testserver::{FaultMatch, TestServer, Verb};
use tokio_util::sync::CancellationToken;

async fn server_with(n: u64, make: fn(&str, u64) -> serde_json::Value) -> TestServer {
    let server = TestServer::start().await.unwrap();
    let _ = server.create_namespace(NS);
    for i in 0..n {
        server
            .create(&pods_path(), make(&format!("p{i}"), i))
            .unwrap();
    }
    server
}

/// Syncs an informer with `content` and returns the response bytes the server sent.
async fn sync_bytes(
    server: &TestServer,
    reflector: ReflectorConfig,
    content: ContentConfig,
) -> u64 {
    let i = pod_informer_with(server, reflector, content);
    server.reset_request_counts();
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let (i, s) = (i.clone(), stop.clone());
        async move { i.run(s).await }
    });
    assert!(i.synced().wait().await);
    assert_eq!(cache_state(&i), server_state(server));
    let bytes = server.response_body_bytes();
    stop.cancel();
    task.await.unwrap();
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_syncs_in_fewer_bytes_than_json_by_watch_list_and_by_list() {
    let server = server_with(50, pod_json).await;
    for use_watch_list in [true, false] {
        let reflector = ReflectorConfig {
            use_watch_list,
            ..fast_reflector()
        };
        let json = sync_bytes(&server, reflector.clone(), ContentConfig::default()).await;
        let pb = sync_bytes(&server, reflector, ContentConfig::protobuf()).await;
        // Protobuf drops field names and quotes: a pod is about 70% of its JSON.
        assert!(
            pb * 10 < json * 9,
            "watch-list {use_watch_list}: protobuf {pb} bytes, JSON {json}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_watch_carries_changes_bookmarks_and_a_410_relist_to_convergence() {
    let server = TestServer::builder()
        .bookmark_interval(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let _ = server.create_namespace(NS);
    for i in 0..20 {
        server
            .create(&pods_path(), pod_json(&format!("p{i}"), i))
            .unwrap();
    }
    let i = pod_informer_with(&server, fast_reflector(), ContentConfig::protobuf());
    let view = Arc::new(View::default());
    i.add_event_handler(ViewHandler(view.clone())).unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let (i, s) = (i.clone(), stop.clone());
        async move { i.run(s).await }
    });
    assert!(i.synced().wait().await);

    // Changes over the protobuf watch.
    server.create(&pods_path(), pod_json("new", 1)).unwrap();
    server.delete(&format!("{}/p3", pods_path())).unwrap();
    wait_converged(&server, &i, &view, Duration::from_secs(20)).await;

    // Break the watch and compact, so only a relist after 410 sees the next delete.
    server
        .faults()
        .fail_next(3, FaultMatch::verb(Verb::Watch), 500, None);
    server.faults().drop_watches();
    server.delete(&format!("{}/p7", pods_path())).unwrap();
    server.faults().compact();
    wait_converged(&server, &i, &view, Duration::from_secs(20)).await;
    let tombstones = view.tombstones.lock().unwrap().clone();
    assert!(tombstones.contains(&format!("{NS}/p7")), "{tombstones:?}");
    stop.cancel();
    task.await.unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protobuf_list_over_128_kib_arrives_gzipped() {
    let server = server_with(200, big_pod).await;
    let reflector = ReflectorConfig {
        use_watch_list: false,
        ..fast_reflector()
    };
    let pb_gzip = sync_bytes(&server, reflector, ContentConfig::protobuf()).await;
    let identity: u64 = server
        .list(&pods_path())
        .unwrap()
        .iter()
        .map(|p| serde_json::to_vec(p).unwrap().len() as u64)
        .sum();
    assert!(
        pb_gzip * 3 < identity,
        "{pb_gzip} bytes sent for {identity}"
    );
    server.shutdown().await;
}
