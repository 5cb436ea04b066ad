//! The informer over gzipped JSON, as against a real kube-apiserver: LIST responses over
//! 128 KiB arrive compressed (the client asks for gzip by default) and decode item by item as
//! they inflate, through the initial sync and a relist after 410; watch streams, including
//! the watch-list initial events, are never compressed.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use informer::ReflectorConfig;
use testserver::{FaultMatch, TestServer, Verb};
use tokio_util::sync::CancellationToken;

async fn server_with_big_pods(n: u64) -> TestServer {
    let server = TestServer::start().await.unwrap();
    let _ = server.create_namespace(NS);
    for i in 0..n {
        server
            .create(&pods_path(), big_pod(&format!("p{i}"), i))
            .unwrap();
    }
    server
}

/// The bytes of the pods' JSON alone: less than an uncompressed LIST body of them.
fn identity_bytes(server: &TestServer) -> u64 {
    server
        .list(&pods_path())
        .unwrap()
        .iter()
        .map(|p| serde_json::to_vec(p).unwrap().len() as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_sync_and_a_relist_after_410_arrive_gzipped_and_converge() {
    let server = server_with_big_pods(200).await;
    let identity = identity_bytes(&server);
    assert!(identity > 2 * 131_072, "{identity}");
    let reflector = ReflectorConfig {
        use_watch_list: false,
        ..fast_reflector()
    };
    let i = pod_informer(&server, reflector);
    let view = Arc::new(View::default());
    i.add_event_handler(ViewHandler(view.clone())).unwrap();
    server.reset_request_counts();
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let (i, s) = (i.clone(), stop.clone());
        async move { i.run(s).await }
    });
    assert!(i.synced().wait().await);
    assert_eq!(cache_state(&i), server_state(&server));
    let wire = server.response_body_bytes();
    assert!(wire * 3 < identity, "{wire} bytes sent for {identity}");

    // Break the watch so that only a relist (a LIST, gzipped again) can see the delete.
    server.reset_request_counts();
    server
        .faults()
        .fail_next(3, FaultMatch::verb(Verb::Watch), 500, None);
    server.faults().drop_watches();
    server.delete(&format!("{}/p7", pods_path())).unwrap();
    server.faults().compact();
    wait_converged(&server, &i, &view, Duration::from_secs(20)).await;
    assert_eq!(*view.tombstones.lock().unwrap(), vec![format!("{NS}/p7")]);
    assert!(server.request_count_for(&FaultMatch::verb(Verb::List)) >= 1);
    let wire = server.response_body_bytes();
    assert!(wire * 3 < identity, "{wire} bytes sent for the relist");
    stop.cancel();
    task.await.unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_list_sync_is_never_compressed() {
    let server = server_with_big_pods(200).await;
    let identity = identity_bytes(&server);
    let i = pod_informer(&server, fast_reflector());
    server.reset_request_counts();
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let (i, s) = (i.clone(), stop.clone());
        async move { i.run(s).await }
    });
    assert!(i.synced().wait().await);
    assert_eq!(cache_state(&i), server_state(&server));
    assert_eq!(server.request_count_for(&FaultMatch::verb(Verb::List)), 0);
    let wire = server.response_body_bytes();
    assert!(wire >= identity, "{wire} bytes sent for {identity}");
    stop.cancel();
    task.await.unwrap();
    server.shutdown().await;
}
