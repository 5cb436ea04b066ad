//! The informer over the `api` crate's types against `testserver`: a cached pod reads back
//! what the server holds, a pod that does not decode is reported with its field path while
//! the informer keeps retrying, and k8s-openapi's `Pod` still works through the interop
//! feature.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use apimachinery::Object;
use common::*;
use informer::{InformerOptions, ListWatch, SharedIndexInformer};
use testserver::TestServer;
use tokio_util::sync::CancellationToken;

fn full_pod(name: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": "web"},
            "managedFields": [{"manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                "time": "2026-11-25T10:00:00Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}]},
        "spec": {"containers": [{"name": "c", "image": "img:1",
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]},
        "status": {"phase": "Running"}
    })
}

async fn run<K>(i: &SharedIndexInformer<K>) -> (CancellationToken, tokio::task::JoinHandle<()>)
where
    K: Object + Send + Sync + 'static,
{
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let (i, s) = (i.clone(), stop.clone());
        async move { i.run(s).await }
    });
    (stop, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_api_pod_encodes_to_what_the_server_holds() {
    let server = TestServer::start().await.unwrap();
    let _ = server.create_namespace(NS);
    server.create(&pods_path(), full_pod("web-0")).unwrap();
    let lw = ListWatch::<Pod>::for_resource(client(&server), Some(NS));
    let i = SharedIndexInformer::new(Arc::new(lw), InformerOptions::default());
    let (stop, task) = run(&i).await;
    assert!(i.synced().wait().await);
    let cached = i.indexer().get_by_key(&format!("{NS}/web-0")).unwrap();
    let held = server.get(&format!("{}/web-0", pods_path())).unwrap();
    let mut cached = serde_json::to_value(cached.as_ref()).unwrap();
    // The server adds apiVersion/kind to a GET; list items and watch objects may lack them.
    cached["apiVersion"] = "v1".into();
    cached["kind"] = "Pod".into();
    assert_eq!(cached, held);
    stop.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_that_does_not_decode_is_reported_by_field_path_until_it_is_fixed() {
    let server = TestServer::start().await.unwrap();
    let _ = server.create_namespace(NS);
    server.create(&pods_path(), full_pod("good")).unwrap();
    let mut bad = full_pod("bad");
    bad["spec"]["containers"][0]["ports"][0]["containerPort"] =
        serde_json::json!(99_999_999_999u64);
    server.create(&pods_path(), bad).unwrap();

    let lw = ListWatch::<Pod>::for_resource(client(&server), Some(NS));
    let i = SharedIndexInformer::new(
        Arc::new(lw),
        InformerOptions {
            reflector: fast_reflector(),
            ..Default::default()
        },
    );
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::new(tokio::sync::Notify::new());
    i.set_watch_error_handler({
        let (errors, seen) = (errors.clone(), seen.clone());
        Arc::new(move |_: &str, e: &informer::Error| {
            errors
                .lock()
                .unwrap()
                .push(apimachinery::api::errors::error_chain(e));
            seen.notify_one();
        })
    })
    .unwrap();
    let (stop, task) = run(&i).await;
    // At least two failures: the reflector keeps retrying instead of giving up.
    for _ in 0..2 {
        tokio::time::timeout(Duration::from_secs(20), seen.notified())
            .await
            .unwrap();
    }
    assert!(!i.has_synced());
    let first = errors.lock().unwrap()[0].clone();
    assert!(
        first.contains("spec.containers[0].ports[0].containerPort"),
        "{first}"
    );
    // Once the server holds a good object, the next attempt syncs.
    server.delete(&format!("{}/bad", pods_path())).unwrap();
    tokio::time::timeout(Duration::from_secs(20), i.synced().wait())
        .await
        .unwrap();
    assert_eq!(i.indexer().list_keys(), vec![format!("{NS}/good")]);
    stop.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_informer_over_a_k8s_openapi_pod_still_works() {
    type K8sPod = k8s_openapi::api::core::v1::Pod;
    let server = TestServer::start().await.unwrap();
    let _ = server.create_namespace(NS);
    server.create(&pods_path(), full_pod("web-0")).unwrap();
    let lw = ListWatch::<K8sPod>::for_resource(client(&server), Some(NS));
    let i = SharedIndexInformer::new(Arc::new(lw), InformerOptions::default());
    let (stop, task) = run(&i).await;
    assert!(i.synced().wait().await);
    let pod = i.indexer().get_by_key(&format!("{NS}/web-0")).unwrap();
    assert_eq!(pod.labels().get("app").map(|v| v.as_str()), Some("web"));
    assert_eq!(
        pod.spec.as_ref().unwrap().containers[0].image.as_deref(),
        Some("img:1")
    );
    stop.cancel();
    task.await.unwrap();
}
