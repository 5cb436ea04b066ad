//! A guided trace of one object's life through client-go's machinery, each step printed with the
//! name of the Go part it happens in:
//!
//! ```text
//! API server → Reflector (ListerWatcher) → FIFO (transform) → Indexer → handler
//!            → workqueue → worker → Lister
//! ```
//!
//! The pod `default/tour` is created, updated and deleted on the embedded API server; every
//! seam of the pipeline is wrapped to print what passes through it. Run:
//! `cargo run --example informer-tour` (`RUST_LOG=informer=debug` adds the library's own trace).

use std::sync::Arc;
use std::time::Duration;

use api::core::v1::Pod;
use apiclient::{Config, List, ListOptions, Object, RestClient, WatchEvent};
use clientgo::informer::{
    InformerOptions, ListWatch, ListerWatcher, ResourceEventHandlerFuncs, SharedIndexInformer,
    WatchEventStream,
};
use clientgo::workqueue::Queue;
use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::json;
use testserver::TestServer;
use tokio_util::sync::CancellationToken;

const PODS: &str = "/api/v1/namespaces/default/pods";

fn step(part: &str, go: &str, what: impl std::fmt::Display) {
    println!("{part:<13} {go:<52} {what}");
}

/// Wraps the HTTP ListerWatcher to show what the Reflector asks and gets.
struct Traced(ListWatch<Pod>);

impl ListerWatcher<Pod> for Traced {
    fn list(&self, opts: ListOptions) -> BoxFuture<'_, apiclient::Result<List<Pod>>> {
        Box::pin(async move {
            let rv = opts.resource_version.clone().unwrap_or_default();
            let list = self.0.list(opts).await?;
            step(
                "reflector",
                "reflector.go: Reflector.list → ListerWatcher.List",
                format!(
                    "LIST resourceVersion={rv:?}: {} pods at rv {}",
                    list.items.len(),
                    list.metadata.resource_version.as_deref().unwrap_or("")
                ),
            );
            Ok(list)
        })
    }

    fn watch(&self, opts: ListOptions) -> BoxFuture<'_, apiclient::Result<WatchEventStream<Pod>>> {
        Box::pin(async move {
            let rv = opts.resource_version.clone().unwrap_or_default();
            let what = if opts.send_initial_events == Some(true) {
                format!(
                    "WATCH-LIST (sendInitialEvents=true, rv {rv:?}): the initial state comes as events"
                )
            } else {
                format!("WATCH from resourceVersion {rv}")
            };
            step(
                "reflector",
                "reflector.go: Reflector.watch → ListerWatcher.Watch",
                what,
            );
            let stream = self.0.watch(opts).await?;
            Ok(stream
                .inspect(|event| {
                    if let Ok(event) = event {
                        let (kind, name) = match event {
                            WatchEvent::Added(p) => ("ADDED", p.name().to_string()),
                            WatchEvent::Modified(p) => ("MODIFIED", p.name().to_string()),
                            WatchEvent::Deleted(p) => ("DELETED", p.name().to_string()),
                            WatchEvent::Bookmark(b) if b.is_initial_events_end() => {
                                ("BOOKMARK (initial-events-end)", String::new())
                            }
                            WatchEvent::Bookmark(_) => return,
                        };
                        step(
                            "reflector",
                            "reflector.go: watchHandler (event from the stream)",
                            format!("{kind} {name}"),
                        );
                    }
                })
                .boxed())
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let server = TestServer::start().await?;
    let client = RestClient::new(&Config::new(server.url()))?;
    let informer = SharedIndexInformer::new(
        Arc::new(Traced(ListWatch::for_resource(client, Some("default")))),
        InformerOptions::default(),
    );
    informer.set_transform(Arc::new(|pod: &mut Pod| {
        step(
            "fifo",
            "the_real_fifo.go: RealFIFO.Add/Update/Delete (transform)",
            format!("queued a delta for {} (managedFields dropped)", pod.name()),
        );
        pod.clear_managed_fields();
    }))?;

    // An index function runs whenever the Indexer stores a version of an object: a window on
    // the cache update itself.
    let mut indexers: clientgo::informer::Indexers<Pod> = Default::default();
    indexers.insert(
        "by-step".into(),
        Arc::new(|pod: &Pod| {
            let step_label = pod
                .labels()
                .get("step")
                .map(|v| v.to_string())
                .unwrap_or_default();
            step(
                "indexer",
                "thread_safe_store.go: threadSafeMap.updateIndices",
                format!("stored {} (index by-step={step_label})", pod.name()),
            );
            Ok(vec![step_label])
        }),
    );
    informer.add_indexers(indexers)?;

    let queue: Queue<String> = Queue::default();
    let (on_add, on_update, on_delete) = (queue.clone(), queue.clone(), queue.clone());
    let key = |p: &Pod| format!("{}/{}", p.namespace(), p.name());
    informer.add_event_handler(
        ResourceEventHandlerFuncs::new()
            .on_add(move |p: &Arc<Pod>, initial| {
                step(
                    "handler",
                    "shared_informer.go: processorListener → OnAdd",
                    format!("{} (isInInitialList={initial}) → queue.Add", key(p)),
                );
                on_add.add(key(p));
            })
            .on_update(move |_old: &Arc<Pod>, new: &Arc<Pod>| {
                step(
                    "handler",
                    "shared_informer.go: processorListener → OnUpdate",
                    format!("{} → queue.Add", key(new)),
                );
                on_update.add(key(new));
            })
            .on_delete(move |obj| {
                if let Some(p) = obj.object() {
                    step(
                        "handler",
                        "shared_informer.go: processorListener → OnDelete",
                        format!("{} → queue.Add", key(p)),
                    );
                    on_delete.add(key(p));
                }
            }),
    )?;

    let stop = CancellationToken::new();
    let run = tokio::spawn({
        let (informer, stop) = (informer.clone(), stop.clone());
        async move { informer.run(stop).await }
    });
    let worker = tokio::spawn({
        let (queue, lister) = (queue.clone(), informer.lister("pods"));
        async move {
            while let Some(k) = queue.get().await {
                let (ns, name) = k.split_once('/').unwrap_or(("", ""));
                let seen = match lister.namespace(ns).get(name) {
                    Ok(p) => format!("found in the Indexer at rv {}", p.resource_version()),
                    Err(e) => format!("not in the Indexer ({e}): it was deleted"),
                };
                step(
                    "worker",
                    "queue.go: Get → Lister.Get → Done",
                    format!("{k}: {seen}"),
                );
                queue.done(&k);
            }
        }
    });

    informer.synced().wait().await;
    step(
        "informer",
        "shared_informer.go: WaitForCacheSync",
        "synced (empty namespace)",
    );
    let pause = || tokio::time::sleep(Duration::from_millis(300));

    println!("\n--- create default/tour");
    server.create(
        PODS,
        json!({"metadata": {"name": "tour", "labels": {"step": "1"}},
               "spec": {"containers": [{"name": "main", "image": "registry.example/tour:1"}]}}),
    )?;
    pause().await;
    println!("\n--- update its labels");
    let mut pod = server.get(&format!("{PODS}/tour"))?;
    pod["metadata"]["labels"]["step"] = json!("2");
    server.update(&format!("{PODS}/tour"), pod)?;
    pause().await;
    println!("\n--- delete it (graceful: first a deletionTimestamp, then gone)");
    server.delete(&format!("{PODS}/tour"))?;
    pause().await;

    queue.shut_down_with_drain().await;
    worker.await?;
    stop.cancel();
    run.await?;
    server.shutdown().await;
    Ok(())
}
