//! The controller loop's hot path, end to end over HTTP: how long from start until every pod is
//! reconciled once (list → cache → handlers → queue → workers), and how many watch-driven
//! reconciles per second a burst of updates produces.
//!
//! Run with `cargo bench -p controller`. Prints figures; records nothing by itself (see
//! docs/benchmarks.md).
#![allow(missing_docs, clippy::unwrap_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use api::core::v1::Pod;
use apiclient::{Config, RestClient};
use controller::{Action, Controller, ControllerConfig};
use informer::{InformerOptions, ListWatch, Lister, SharedIndexInformer};
use serde_json::json;
use testserver::TestServer;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const PODS: &str = "/api/v1/namespaces/default/pods";

async fn run(pods: usize, updates: usize, workers: usize) {
    let server = TestServer::start().await.unwrap();
    for i in 0..pods {
        server
            .create(
                PODS,
                json!({"metadata": {"name": format!("pod-{i}"), "labels": {"app": "bench"}},
                       "spec": {"containers": [{"name": "c", "image": "registry.example/app:1"}]}}),
            )
            .unwrap();
    }
    let client = RestClient::new(&Config::new(server.url()).rate(-1.0, 0)).unwrap();
    let lw = ListWatch::<Pod>::for_resource(client, Some("default"));
    let informer = SharedIndexInformer::new(Arc::new(lw), InformerOptions::default());
    let controller = Controller::new(informer, ControllerConfig::default()).unwrap();
    let reconciled = Arc::new(AtomicUsize::new(0));
    let reached = Arc::new(Notify::new());
    let reconcile = {
        let (reconciled, reached) = (reconciled.clone(), reached.clone());
        move |_key: String, _lister: Lister<Pod>| {
            let (reconciled, reached) = (reconciled.clone(), reached.clone());
            async move {
                if reconciled.fetch_add(1, Ordering::Relaxed) + 1 == pods {
                    reached.notify_one();
                }
                Ok::<_, Infallible>(Action::Done)
            }
        }
    };
    let stop = CancellationToken::new();
    let start = Instant::now();
    let task = tokio::spawn(controller.run(workers, stop.clone(), reconcile));
    reached.notified().await;
    let synced = start.elapsed();

    // A burst of updates, each arriving by watch; collapsed keys make reconciles <= updates.
    let before = reconciled.load(Ordering::Relaxed);
    let start = Instant::now();
    for i in 0..updates {
        let path = format!("{PODS}/pod-{}", i % pods);
        let mut p = server.get(&path).unwrap();
        p["metadata"]["labels"]["rev"] = json!(i.to_string());
        server.update(&path, p).unwrap();
    }
    let writes = start.elapsed();
    // Every pod was updated once, so every key is reconciled at least once more.
    let deadline = Instant::now() + Duration::from_secs(60);
    while reconciled.load(Ordering::Relaxed) < before + updates.min(pods)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let churn = start.elapsed();
    let churned = reconciled.load(Ordering::Relaxed) - before;
    stop.cancel();
    task.await.unwrap().unwrap();
    server.shutdown().await;
    println!(
        "{pods:>6} pods, {workers} workers: all reconciled {:>8.1} ms after start ({:.0} pods/s); \
         {updates} updates written in {:.1} ms, {churned} reconciles within {:.1} ms",
        synced.as_secs_f64() * 1e3,
        pods as f64 / synced.as_secs_f64(),
        writes.as_secs_f64() * 1e3,
        churn.as_secs_f64() * 1e3,
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for (pods, updates, workers) in [(1_000, 1_000, 2), (10_000, 10_000, 4)] {
        rt.block_on(run(pods, updates, workers));
    }
}
