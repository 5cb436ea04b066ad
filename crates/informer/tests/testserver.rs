//! The informer against `testserver` over real HTTP: initial sync (watch-list and LIST),
//! changes, missed deletions, and faults injected while objects churn.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use informer::{FactoryOptions, FifoKind, ReflectorConfig, SharedInformerFactory};
use testserver::{FaultMatch, TestServer, Verb};
use tokio_util::sync::CancellationToken;

async fn server_with_pods(n: u64) -> TestServer {
    let server = TestServer::start().await.unwrap();
    let _ = server.create_namespace(NS);
    for i in 0..n {
        server
            .create(&pods_path(), pod_json(&format!("p{i}"), i))
            .unwrap();
    }
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_informer_syncs_and_follows_changes_with_either_fifo_and_either_sync_mode() {
    for (fifo, watch_list) in [(FifoKind::Real, true), (FifoKind::Delta, false)] {
        let server = server_with_pods(5).await;
        let reflector = ReflectorConfig {
            use_watch_list: watch_list,
            ..fast_reflector()
        };
        let i = {
            let lw = informer::ListWatch::<Pod>::for_resource(client(&server), Some(NS));
            informer::SharedIndexInformer::new(
                Arc::new(lw),
                informer::InformerOptions {
                    reflector,
                    fifo,
                    ..Default::default()
                },
            )
        };
        let view = Arc::new(View::default());
        let reg = i.add_event_handler(ViewHandler(view.clone())).unwrap();
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let (i, s) = (i.clone(), stop.clone());
            async move { i.run(s).await }
        });
        assert!(informer::wait_for_cache_sync(&stop, &[&i, &reg]).await);
        assert_eq!(cache_state(&i), server_state(&server));
        server.create(&pods_path(), pod_json("new", 9)).unwrap();
        server
            .update(&format!("{}/p0", pods_path()), pod_json("p0", 42))
            .unwrap();
        server.delete(&format!("{}/p1", pods_path())).unwrap();
        wait_converged(&server, &i, &view, Duration::from_secs(20)).await;
        assert!(
            view.tombstones.lock().unwrap().is_empty(),
            "watch deletes carry the final object"
        );
        let lister = i.lister("pods");
        let sel: apiclient::selectors::LabelSelector = "v=42".parse().unwrap();
        assert_eq!(lister.namespace(NS).list(&sel).len(), 1);
        assert!(lister.namespace(NS).get("p1").unwrap_err().is_not_found());
        stop.cancel();
        task.await.unwrap();
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_missed_during_a_watch_gap_arrives_as_a_tombstone() {
    let server = server_with_pods(3).await;
    let i = pod_informer(&server, fast_reflector());
    let view = Arc::new(View::default());
    i.add_event_handler(ViewHandler(view.clone())).unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let (i, s) = (i.clone(), stop.clone());
        async move { i.run(s).await }
    });
    assert!(i.synced().wait().await);
    // No watch can reopen for a while, so the delete is only seen by a relist.
    server
        .faults()
        .fail_next(3, FaultMatch::verb(Verb::Watch), 500, None);
    server.faults().drop_watches();
    server.delete(&format!("{}/p2", pods_path())).unwrap();
    server.faults().compact();
    wait_converged(&server, &i, &view, Duration::from_secs(20)).await;
    assert_eq!(*view.tombstones.lock().unwrap(), vec![format!("{NS}/p2")]);
    stop.cancel();
    task.await.unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_converges_after_faults_while_objects_churn() {
    let server = Arc::new(server_with_pods(20).await);
    let i = pod_informer(&server, fast_reflector());
    let view = Arc::new(View::default());
    i.add_event_handler(ViewHandler(view.clone())).unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let (i, s) = (i.clone(), stop.clone());
        async move { i.run(s).await }
    });
    assert!(i.synced().wait().await);
    server.reset_request_counts();
    let started = tokio::time::Instant::now();

    let faults = server.faults();
    for round in 0..40u64 {
        // Churn: a create, an update and a delete each round.
        server
            .create(&pods_path(), pod_json(&format!("p{}", 100 + round), round))
            .unwrap();
        let live = server_state(&server);
        let keys: Vec<&String> = live.keys().collect();
        let victim = keys[(round as usize * 7) % keys.len()]
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let updated = keys[(round as usize * 3 + 1) % keys.len()]
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        if updated != victim {
            server
                .update(
                    &format!("{}/{updated}", pods_path()),
                    pod_json(&updated, 1000 + round),
                )
                .unwrap();
        }
        server.delete(&format!("{}/{victim}", pods_path())).unwrap();
        match round % 8 {
            1 => faults.drop_watches(),
            2 => faults.compact(),
            3 => faults.restart(),
            4 => faults.fail_next(6, FaultMatch::any(), 429, None),
            5 => faults.inject_malformed_watch_line(),
            6 => {
                faults.fail_next(2, FaultMatch::verb(Verb::Watch), 500, None);
                faults.drop_watches();
            }
            _ => {}
        }
        // Let the informer run between rounds (a yield, not a sleep).
        tokio::task::yield_now().await;
        if round % 4 == 0 {
            let _ = tokio::time::timeout(Duration::from_millis(50), view.notify.notified()).await;
        }
    }
    faults.clear();
    wait_converged(&server, &i, &view, Duration::from_secs(30)).await;
    let elapsed = started.elapsed().as_secs_f64().max(1.0);
    let requests = server.request_count();
    // Writes are counted too; the informer itself must not hot-loop.
    let rate = requests as f64 / elapsed;
    assert!(
        rate < 200.0,
        "{requests} requests in {elapsed:.1}s ({rate:.0}/s): hot loop?"
    );
    stop.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_factory_shares_one_informer_per_type_and_shutdown_waits_for_all() {
    let server = server_with_pods(4).await;
    let factory = SharedInformerFactory::new(
        client(&server),
        FactoryOptions {
            namespace: Some(NS.into()),
            reflector: fast_reflector(),
            ..Default::default()
        },
    );
    let a = factory.informer_for::<Pod>();
    let b = factory.informer_for::<Pod>();
    let view = Arc::new(View::default());
    b.add_event_handler(ViewHandler(view.clone())).unwrap();
    factory.start();
    factory.start(); // idempotent
    let stop = CancellationToken::new();
    let synced = factory.wait_for_cache_sync(&stop).await;
    assert_eq!(synced.values().copied().collect::<Vec<_>>(), vec![true]);
    assert_eq!(
        a.indexer().len(),
        4,
        "the same informer behind both handles"
    );
    assert_eq!(
        a.indexer()
            .index_keys(informer::NAMESPACE_INDEX, NS)
            .unwrap()
            .len(),
        4
    );
    factory.shutdown().await;
    assert!(a.is_stopped());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_factory_that_strips_managed_fields_caches_objects_without_them_in_either_sync_mode() {
    for use_watch_list in [true, false] {
        let server = TestServer::start().await.unwrap();
        let _ = server.create_namespace(NS);
        for i in 0..3 {
            let mut pod = pod_json(&format!("p{i}"), i);
            pod["metadata"]["managedFields"] = serde_json::json!([{
                "manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {"f:v": {}}}}
            }]);
            server.create(&pods_path(), pod).unwrap();
        }
        let cached = |strip: bool| {
            let factory = SharedInformerFactory::new(
                client(&server),
                FactoryOptions {
                    namespace: Some(NS.into()),
                    reflector: ReflectorConfig {
                        use_watch_list,
                        ..fast_reflector()
                    },
                    strip_managed_fields: strip,
                    ..Default::default()
                },
            );
            async move {
                let informer = factory.informer_for::<Pod>();
                factory.start();
                let synced = factory.wait_for_cache_sync(&CancellationToken::new()).await;
                assert!(synced.values().all(|s| *s));
                let mut items = informer.indexer().list();
                items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
                factory.shutdown().await;
                items
            }
        };
        let kept = cached(false).await;
        let stripped = cached(true).await;
        assert_eq!((kept.len(), stripped.len()), (3, 3));
        for (k, s) in kept.iter().zip(&stripped) {
            assert_eq!(k.metadata.managed_fields.as_ref().map(|v| v.len()), Some(1));
            assert_eq!(
                s.metadata.managed_fields, None,
                "watch-list: {use_watch_list}"
            );
            let mut k_meta = k.metadata.clone();
            k_meta.managed_fields = None;
            assert_eq!(k_meta, s.metadata);
            assert_eq!(k.spec, s.spec);
        }
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_informer_syncs_from_the_cluster_a_kubeconfig_names_over_https_with_a_token() {
    let server = TestServer::builder()
        .tls(true)
        .bearer_token("kubeconfig-token")
        .start()
        .await
        .unwrap();
    let _ = server.create_namespace(NS);
    for i in 0..3 {
        server
            .create(&pods_path(), pod_json(&format!("p{i}"), i))
            .unwrap();
    }
    let dir = std::env::temp_dir().join(format!(
        "informer-kubeconfig-{}-{}",
        std::process::id(),
        server.addr().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config");
    std::fs::write(&path, server.kubeconfig()).unwrap();
    let config = apiclient::Config::from_kubeconfig(Some(&path), None).unwrap();
    assert!(!format!("{config:?}").contains("kubeconfig-token"));
    let client = apiclient::RestClient::new(&config).unwrap();
    // The context's namespace (`default`) is the client's default; the informer asks for NS.
    let lw = informer::ListWatch::<Pod>::for_resource(client, Some(NS));
    let i = informer::SharedIndexInformer::new(Arc::new(lw), Default::default());
    let view = Arc::new(View::default());
    i.add_event_handler(ViewHandler(view.clone())).unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let (i, s) = (i.clone(), stop.clone());
        async move { i.run(s).await }
    });
    assert!(informer::wait_for_cache_sync(&stop, &[&i]).await);
    assert_eq!(cache_state(&i), server_state(&server));
    server.create(&pods_path(), pod_json("later", 7)).unwrap();
    wait_converged(&server, &i, &view, Duration::from_secs(20)).await;
    stop.cancel();
    task.await.unwrap();
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
