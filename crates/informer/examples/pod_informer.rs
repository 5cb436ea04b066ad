//! A shared pod informer feeding a workqueue, the shape of every Kubernetes controller:
//! handler → key → workqueue → worker → lister.
//!
//! Run against the embedded API server: `cargo run -p informer --example pod_informer`.
//! Run against the cluster of your kubeconfig (read-only: it only watches):
//! `INFORMER_EXAMPLE_CLUSTER=1 cargo run -p informer --example pod_informer`.
//! Add `RUST_LOG=informer=debug` to watch the machinery work.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use api::core::v1::Pod;
use informer::store::split_meta_namespace_key;
use informer::{
    FactoryOptions, ObjectOrTombstone, ResourceEventHandlerFuncs, SharedInformerFactory,
};
use tokio_util::sync::CancellationToken;
use workqueue::RateLimitingQueue;

fn key_of(p: &Pod) -> String {
    informer::store::meta_namespace_key_func(p).unwrap()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();

    let use_cluster = std::env::var_os("INFORMER_EXAMPLE_CLUSTER").is_some();
    let server = if use_cluster {
        None
    } else {
        Some(testserver::TestServer::start().await?)
    };
    let config = match &server {
        Some(s) => apiclient::Config::new(s.url()),
        None => apiclient::Config::infer()?,
    };
    if let Some(s) = &server {
        for name in ["web-1", "web-2"] {
            s.create(
                "/api/v1/namespaces/default/pods",
                serde_json::json!({
                "metadata": {"name": name, "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}),
            )?;
        }
    }

    let factory = SharedInformerFactory::new(
        apiclient::RestClient::new(&config)?,
        FactoryOptions::default(),
    );
    let pods = factory.informer_for::<Pod>();
    let lister = pods.lister("pods");

    // The handler only turns events into keys; the work happens in the worker.
    let queue: Arc<RateLimitingQueue<String>> = Arc::new(RateLimitingQueue::default());
    let (q1, q2, q3) = (queue.clone(), queue.clone(), queue.clone());
    pods.add_event_handler(
        ResourceEventHandlerFuncs::new()
            .on_add(move |p: &Arc<Pod>, _initial| q1.add(key_of(p)))
            .on_update(move |_old, new: &Arc<Pod>| q2.add(key_of(new)))
            .on_delete(move |d: &ObjectOrTombstone<Pod>| {
                let key = match d {
                    ObjectOrTombstone::Object(p) => key_of(p),
                    ObjectOrTombstone::Tombstone(t) => t.key.clone(),
                };
                q3.add(key)
            }),
    )?;

    factory.start();
    let stop = CancellationToken::new();
    println!(
        "caches synced: {:?}",
        factory.wait_for_cache_sync(&stop).await
    );

    let worker = tokio::spawn({
        let queue = queue.clone();
        async move {
            while let Some(key) = queue.get().await {
                let (ns, name) = split_meta_namespace_key(&key).unwrap();
                match lister.namespace(ns).get(&name) {
                    Ok(pod) => {
                        let image = pod
                            .spec
                            .as_ref()
                            .and_then(|s| s.containers.first())
                            .and_then(|c| c.image.clone());
                        println!("reconcile {key}: present, image {image:?}");
                    }
                    Err(e) if e.is_not_found() => println!("reconcile {key}: deleted"),
                    Err(e) => println!("reconcile {key}: {e}"),
                }
                queue.forget(&key);
                queue.done(&key);
            }
        }
    });

    if let Some(s) = &server {
        s.create("/api/v1/namespaces/default/pods", serde_json::json!({
            "metadata": {"name": "web-3"}, "spec": {"containers": [{"name": "c", "image": "nginx:1.28"}]}}))?;
        s.delete("/api/v1/namespaces/default/pods/web-1")?;
        tokio::time::sleep(Duration::from_millis(500)).await;
    } else {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }

    queue.shut_down();
    worker.await?;
    factory.shutdown().await;
    if let Some(s) = server {
        s.shutdown().await;
    }
    Ok(())
}
