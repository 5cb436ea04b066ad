//! The demo mode of the pod-controller example: the embedded API server, seed pods, and a
//! scripted churn that exercises every part of the pipeline.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use apimachinery::util::sync::MutexExt;
use serde_json::{Value, json};
use testserver::TestServer;
use tokio_util::sync::CancellationToken;

const PODS: &str = "/api/v1/namespaces/default/pods";

/// The embedded server and its script.
pub struct Demo {
    server: TestServer,
}

/// Counts reconcile attempts per key, for the simulated failures.
pub fn attempt(key: &str) -> usize {
    static ATTEMPTS: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();
    let mut attempts = ATTEMPTS.get_or_init(Default::default).lock_unpoisoned();
    let n = attempts.entry(key.to_string()).or_default();
    *n += 1;
    *n
}

fn pod(name: &str, phase: &str, annotations: Value) -> Value {
    json!({
        "metadata": {"name": name, "labels": {"app": "demo"}, "annotations": annotations},
        "spec": {"containers": [{"name": "main", "image": "registry.example/demo:1.0"}]},
        "status": {"phase": phase}
    })
}

impl Demo {
    /// Starts the embedded server and seeds three pods.
    pub async fn start() -> Result<Self, testserver::Error> {
        let server = TestServer::start().await?;
        for (name, phase) in [
            ("web-0", "Running"),
            ("web-1", "Running"),
            ("api-0", "Pending"),
        ] {
            server.create(PODS, pod(name, phase, json!({})))?;
        }
        tracing::info!(
            "demo     embedded API server at {} with 3 pods",
            server.url()
        );
        Ok(Self { server })
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        self.server.url()
    }

    fn step(&self, what: &str) {
        tracing::info!("demo     --- {what}");
    }

    fn set_phase(&self, name: &str, phase: &str) -> Result<(), testserver::Error> {
        let path = format!("{PODS}/{name}");
        let mut p = self.server.get(&path)?;
        p["status"]["phase"] = json!(phase);
        // Like the kubelet: status goes through the status subresource.
        self.server.update(&format!("{path}/status"), p)?;
        Ok(())
    }

    /// Runs the script, then cancels `stop` so the controller drains and exits. Returns the
    /// demo so the server outlives the controller.
    pub async fn churn_then_stop(self, stop: CancellationToken) -> Self {
        if let Err(err) = self.churn(&stop).await {
            tracing::error!("demo script failed: {err}");
        }
        stop.cancel();
        self
    }

    /// Stops the embedded server.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }

    async fn churn(&self, stop: &CancellationToken) -> Result<(), testserver::Error> {
        let pause = || async {
            tokio::select! {
                _ = stop.cancelled() => false,
                _ = tokio::time::sleep(Duration::from_millis(700)) => true,
            }
        };
        if !pause().await {
            return Ok(());
        }
        self.step("create web-2; api-0 becomes Running");
        self.server
            .create(PODS, pod("web-2", "Pending", json!({})))?;
        self.set_phase("api-0", "Running")?;
        if !pause().await {
            return Ok(());
        }
        self.step("a pod that fails twice, then succeeds (retry with back-off)");
        self.server.create(
            PODS,
            pod("flaky-0", "Pending", json!({"demo.clientgo/fail": "2"})),
        )?;
        self.step("a pod that always fails (dropped after 5 retries)");
        self.server.create(
            PODS,
            pod(
                "broken-0",
                "Pending",
                json!({"demo.clientgo/fail": "always"}),
            ),
        )?;
        if !pause().await {
            return Ok(());
        }
        self.step(
            "the watch connection drops: the reflector re-watches from its last resourceVersion",
        );
        self.server.faults().drop_watches();
        self.set_phase("web-2", "Running")?;
        if !pause().await {
            return Ok(());
        }
        self.step(
            "the API server restarts and its watches fail for a while; web-1 is deleted and the \
             history compacted meanwhile, so the re-watch gets 410 Gone and the reflector \
             relists: the delete arrives as a tombstone",
        );
        let watches = testserver::FaultMatch::verb(testserver::Verb::Watch).resource("pods");
        self.server.faults().fail_next(2, watches, 503, None);
        self.server.faults().restart();
        self.server.delete(&format!("{PODS}/web-1"))?;
        self.server.faults().compact();
        if !pause().await || !pause().await {
            return Ok(());
        }
        self.step("delete api-0 and broken-0");
        self.server.delete(&format!("{PODS}/api-0"))?;
        self.server.delete(&format!("{PODS}/broken-0"))?;
        if !pause().await {
            return Ok(());
        }
        self.step("done: stopping (drain the queue, stop the workers and the informer)");
        Ok(())
    }
}
