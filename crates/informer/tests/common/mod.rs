//! Helpers shared by the integration tests: the `api` crate's Pod, an informer over
//! `testserver`, and condition waits whose deadline only detects failure.
#![allow(clippy::unwrap_used, dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use informer::{
    InformerOptions, ListWatch, ObjectOrTombstone, ReflectorConfig, ResourceEventHandler,
    SharedIndexInformer,
};
use tokio::sync::Notify;

pub use api::core::v1::Pod;

pub const NS: &str = "churn";

pub fn pod_json(name: &str, value: u64) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {"v": value.to_string()}},
        "spec": {"containers": [{"name": "c", "image": format!("img:{value}")}]}
    })
}

pub fn pods_path() -> String {
    format!("/api/v1/namespaces/{NS}/pods")
}

/// The handler's view of the world: what it was told exists, plus counters.
#[derive(Default)]
pub struct View {
    pub objects: Mutex<BTreeMap<String, String>>,
    pub tombstones: Mutex<Vec<String>>,
    pub deletes: Mutex<Vec<String>>,
    pub notify: Notify,
}

pub struct ViewHandler(pub Arc<View>);

fn key(p: &Pod) -> String {
    format!(
        "{}/{}",
        p.metadata.namespace.as_deref().unwrap_or(""),
        p.metadata.name.as_deref().unwrap_or("")
    )
}

impl ResourceEventHandler<Pod> for ViewHandler {
    fn on_add(&self, obj: &Arc<Pod>, _: bool) {
        let rv = obj
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default()
            .to_string();
        self.0.objects.lock().unwrap().insert(key(obj), rv);
        self.0.notify.notify_waiters();
    }
    fn on_update(&self, _: &Arc<Pod>, new: &Arc<Pod>) {
        self.on_add(new, false);
    }
    fn on_delete(&self, obj: &ObjectOrTombstone<Pod>) {
        let k = match obj {
            ObjectOrTombstone::Object(o) => key(o),
            ObjectOrTombstone::Tombstone(t) => {
                self.0.tombstones.lock().unwrap().push(t.key.clone());
                t.key.clone()
            }
        };
        self.0.objects.lock().unwrap().remove(&k);
        self.0.deletes.lock().unwrap().push(k);
        self.0.notify.notify_waiters();
    }
}

/// Fast back-off so fault tests finish quickly; the rules are the same.
pub fn fast_reflector() -> ReflectorConfig {
    ReflectorConfig {
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(400),
        ..ReflectorConfig::default()
    }
}

pub fn client(server: &testserver::TestServer) -> apiclient::RestClient {
    let mut config = apiclient::Config::new(server.url());
    config.qps = 1000.0;
    config.burst = 1000;
    apiclient::RestClient::new(&config).unwrap()
}

pub fn pod_informer(
    server: &testserver::TestServer,
    reflector: ReflectorConfig,
) -> SharedIndexInformer<Pod> {
    pod_informer_with(server, reflector, apiclient::ContentConfig::default())
}

/// [`pod_informer`] speaking the given media types (protobuf or JSON).
pub fn pod_informer_with(
    server: &testserver::TestServer,
    reflector: ReflectorConfig,
    content: apiclient::ContentConfig,
) -> SharedIndexInformer<Pod> {
    let lw = ListWatch::<Pod>::for_resource(client(server), Some(NS)).content_config(content);
    SharedIndexInformer::new(
        Arc::new(lw),
        InformerOptions {
            reflector,
            indexers: informer::index::namespace_indexers(),
            ..InformerOptions::default()
        },
    )
}

/// The server's pods as key → resourceVersion.
pub fn server_state(server: &testserver::TestServer) -> BTreeMap<String, String> {
    server
        .list(&pods_path())
        .unwrap()
        .into_iter()
        .map(|p| {
            let m = &p["metadata"];
            (
                format!(
                    "{}/{}",
                    m["namespace"].as_str().unwrap(),
                    m["name"].as_str().unwrap()
                ),
                m["resourceVersion"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The informer cache as key → resourceVersion.
pub fn cache_state(i: &SharedIndexInformer<Pod>) -> BTreeMap<String, String> {
    i.indexer()
        .list()
        .iter()
        .map(|p| {
            (
                key(p),
                p.metadata
                    .resource_version
                    .clone()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// Waits until cache, handler view and server agree; panics with the difference after
/// `deadline` (a failure detector: a passing run returns as soon as they agree).
pub async fn wait_converged(
    server: &testserver::TestServer,
    i: &SharedIndexInformer<Pod>,
    view: &View,
    deadline: Duration,
) {
    let end = tokio::time::Instant::now() + deadline;
    loop {
        let notified = view.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let want = server_state(server);
        let cache = cache_state(i);
        let seen = view.objects.lock().unwrap().clone();
        if cache == want && seen == want {
            return;
        }
        let now = tokio::time::Instant::now();
        if now >= end {
            let diff = |a: &BTreeMap<String, String>| -> BTreeSet<String> {
                a.iter()
                    .filter(|(k, v)| want.get(*k) != Some(*v))
                    .map(|(k, _)| k.clone())
                    .chain(want.keys().filter(|k| !a.contains_key(*k)).cloned())
                    .collect()
            };
            panic!(
                "not converged: cache differs at {:?}, handler view differs at {:?}",
                diff(&cache),
                diff(&seen)
            );
        }
        // Woken by any notification; re-check at least every 200 ms for changes that carry
        // no notification (e.g. a relist that finds nothing new).
        let _ = tokio::time::timeout((end - now).min(Duration::from_millis(200)), notified).await;
    }
}

/// A pod with a kilobyte of annotation, so 200 of them make a LIST well over 128 KiB (the
/// server's gzip threshold).
pub fn big_pod(name: &str, i: u64) -> serde_json::Value {
    let mut p = pod_json(name, i);
    p["metadata"]["annotations"] =
        serde_json::json!({"example.com/notes": format!("{i}:{}", "lorem ipsum ".repeat(90))});
    p
}
