//! Port of client-go's `examples/workqueue/main.go`: an indexer-informer feeding a rate-limited
//! workqueue, and a worker printing the pods it syncs, all wired by hand.
//!
//! This is what `controller::Controller` packages: compare the two to see every piece. As in the
//! Go example, the cache is warmed with a pod (`default/mypod`) before the informer starts, so
//! the first list shows it being deleted. Errors are Go's `error`: a boxed `std::error::Error`
//! (`controller::Controller` lets the reconcile function pick its own error type, and say
//! "requeue" or "requeue after" with a `controller::Action`).
//!
//! With a kubeconfig or in-cluster config it watches the cluster's `default` namespace until
//! Ctrl-C; otherwise it starts the embedded API server, adds and removes a pod, and exits.
//! Run: `cargo run --example workqueue`.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use api::core::v1::Pod;
use apiclient::{Config, Object, RestClient};
use clientgo::informer::store::{
    deletion_handling_meta_namespace_key_func, meta_namespace_key_func,
};
use clientgo::informer::{
    FifoKind, Indexers, ListWatch, ResourceEventHandlerFuncs, Store, new_informer,
};
use clientgo::workqueue::{QueueConfig, RateLimitingQueue, default_controller_rate_limiter};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// Port of the example's `Controller` struct: the cache, the queue, and (run separately) the
/// informer.
struct Controller {
    indexer: Arc<Store<Pod>>,
    queue: RateLimitingQueue<String>,
}

impl Controller {
    /// Port of `processNextItem`: wait for a key, sync it, handle the error, mark it done.
    async fn process_next_item(&self) -> bool {
        let Some(key) = self.queue.get().await else {
            return false;
        };
        let result = self.sync_to_stdout(&key);
        self.handle_err(result, &key);
        self.queue.done(&key);
        true
    }

    /// Port of `syncToStdout`: the business logic. It only prints.
    fn sync_to_stdout(&self, key: &str) -> Result<(), Box<dyn Error + Send + Sync>> {
        match self.indexer.get_by_key(key) {
            None => println!("Pod {key} does not exist anymore"),
            Some(pod) => println!("Sync/Add/Update for Pod {}", pod.name()),
        }
        Ok(())
    }

    /// Port of `handleErr`: forget on success; retry up to 5 times with back-off; then drop.
    fn handle_err(&self, result: Result<(), Box<dyn Error + Send + Sync>>, key: &String) {
        match result {
            Ok(()) => self.queue.forget(key),
            Err(err) if self.queue.num_requeues(key) < 5 => {
                println!("Error syncing pod {key}: {err}");
                self.queue.add_rate_limited(key.clone());
            }
            Err(err) => {
                self.queue.forget(key);
                println!("Dropping pod {key} out of the queue: {err}");
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (config, server) = match Config::infer() {
        Ok(config) => (config, None),
        Err(_) => {
            let server = testserver::TestServer::start().await?;
            println!(
                "no cluster configured: using the embedded API server at {}",
                server.url()
            );
            (Config::new(server.url()), Some(server))
        }
    };
    let client = RestClient::new(&config)?;

    // Create the pod watcher, the workqueue, and an indexer-informer whose handlers turn every
    // change into a key on the queue.
    let pod_list_watcher = ListWatch::<Pod>::for_resource(client, Some("default"));
    let queue: RateLimitingQueue<String> = RateLimitingQueue::new(
        default_controller_rate_limiter(),
        QueueConfig::named("pods"),
    );
    let (add_q, update_q, delete_q) = (queue.clone(), queue.clone(), queue.clone());
    let handler = ResourceEventHandlerFuncs::new()
        .on_add(move |pod: &Arc<Pod>, _| {
            if let Ok(key) = meta_namespace_key_func(pod.as_ref()) {
                add_q.add(key);
            }
        })
        .on_update(move |_old: &Arc<Pod>, new: &Arc<Pod>| {
            if let Ok(key) = meta_namespace_key_func(new.as_ref()) {
                update_q.add(key);
            }
        })
        .on_delete(move |obj| {
            // A tombstone still yields the key: that is what the deletion-handling key is for.
            delete_q.add(deletion_handling_meta_namespace_key_func(obj));
        });
    let (indexer, informer, synced) = new_informer(
        Arc::new(pod_list_watcher),
        Arc::new(handler),
        Duration::ZERO,
        Indexers::new(),
        FifoKind::default(),
    );
    let controller = Arc::new(Controller {
        indexer: indexer.clone(),
        queue: queue.clone(),
    });

    // Warm the cache, as the Go example does: the informer will find this pod missing from the
    // server and report it deleted.
    let mut warm: Pod = serde_json::from_value(json!({
        "metadata": {"name": "mypod", "namespace": "default"}
    }))?;
    warm.clear_managed_fields();
    indexer.add(Arc::new(warm))?;

    // Port of `Controller.Run`: start the informer, wait for the cache, start one worker.
    let stop = CancellationToken::new();
    let informer_task = tokio::spawn(informer.run(stop.clone()));
    if !synced.wait().await {
        return Err("timed out waiting for caches to sync".into());
    }
    println!("Starting Pod controller");
    let worker = tokio::spawn({
        let c = controller.clone();
        async move { while c.process_next_item().await {} }
    });

    match &server {
        Some(server) => {
            let pods = "/api/v1/namespaces/default/pods";
            let pod = json!({"metadata": {"name": "web"},
                             "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
            tokio::time::sleep(Duration::from_millis(300)).await;
            server.create(pods, pod)?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            server.delete(&format!("{pods}/web"))?;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }

    println!("Stopping Pod controller");
    queue.shut_down_with_drain().await;
    worker.await?;
    stop.cancel();
    informer_task.await?;
    if let Some(server) = server {
        server.shutdown().await;
    }
    Ok(())
}
