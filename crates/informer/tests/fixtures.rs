//! The informer fed with a real kube-apiserver 1.32's recorded answers
//! (`tests/fixtures/kube-apiserver-1.32/`): a watch-list stream ending with the
//! `k8s.io/initial-events-end` bookmark, a LIST at resourceVersion 0, and a watch whose stream
//! is one 410 `ERROR` event.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use apiclient::{List, ListOptions, WatchStream};
use common::Pod;
use futures::StreamExt;
use futures::future::BoxFuture;
use informer::{
    InformerOptions, ListerWatcher, ReflectorConfig, SharedIndexInformer, WatchEventStream,
};
use tokio_util::sync::CancellationToken;

fn fixture(name: &str) -> serde_json::Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/kube-apiserver-1.32")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Serves the recorded transcripts; records which calls were made.
#[derive(Default)]
struct Recorded {
    calls: Mutex<Vec<&'static str>>,
}

impl ListerWatcher<Pod> for Recorded {
    fn list(&self, _: ListOptions) -> BoxFuture<'_, apiclient::Result<List<Pod>>> {
        self.calls.lock().unwrap().push("list");
        let body = fixture("list-pods-rv0.json")["response"]["body"].clone();
        Box::pin(async move { Ok(serde_json::from_value(body).unwrap()) })
    }

    fn watch(&self, opts: ListOptions) -> BoxFuture<'_, apiclient::Result<WatchEventStream<Pod>>> {
        let watch_list = opts.send_initial_events == Some(true);
        let name = if watch_list {
            "watch-pods-send-initial-events.json"
        } else if self
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| **c == "watch")
            .count()
            == 0
        {
            "watch-pods-too-old.json"
        } else {
            "watch-pods-from-list-rv.json"
        };
        self.calls
            .lock()
            .unwrap()
            .push(if watch_list { "watch-list" } else { "watch" });
        let stream = fixture(name)["response"]["stream"]
            .as_str()
            .unwrap()
            .to_owned();
        Box::pin(async move {
            let body =
                futures::stream::iter([Ok::<_, apiclient::Error>(bytes::Bytes::from(stream))]);
            // The recorded stream, then an idle open connection.
            let events = WatchStream::<Pod>::new(body, name).chain(futures::stream::pending());
            Ok(events.boxed())
        })
    }
}

async fn sync(watch_list: bool) -> (SharedIndexInformer<Pod>, Arc<Recorded>) {
    let lw = Arc::new(Recorded::default());
    let i = SharedIndexInformer::new(
        lw.clone(),
        InformerOptions {
            reflector: ReflectorConfig {
                use_watch_list: watch_list,
                ..common::fast_reflector()
            },
            ..InformerOptions::default()
        },
    );
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let (i, s) = (i.clone(), stop.clone());
        async move { i.run(s).await }
    });
    assert!(i.synced().wait().await);
    // Let the watch after the sync run through its recorded events.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    stop.cancel();
    task.await.unwrap();
    (i, lw)
}

fn names(i: &SharedIndexInformer<Pod>) -> Vec<String> {
    let mut v: Vec<String> = i.indexer().list_keys();
    v.sort();
    v
}

#[tokio::test(start_paused = true)]
async fn a_recorded_watch_list_stream_syncs_the_cache_at_the_bookmark_rv() {
    let (i, lw) = sync(true).await;
    assert_eq!(
        names(&i),
        [
            "gen-qcncr",
            "web-1",
            "web-2",
            "web-3",
            "web-4",
            "web-5",
            "web-6",
            "web-7"
        ]
        .map(|n| format!("fixtures/{n}"))
    );
    assert_eq!(i.last_sync_resource_version(), "210");
    assert_eq!(*lw.calls.lock().unwrap(), vec!["watch-list"]);
}

#[tokio::test(start_paused = true)]
async fn a_recorded_list_syncs_and_a_recorded_410_watch_relists() {
    let (i, lw) = sync(false).await;
    assert_eq!(names(&i).len(), 8);
    let calls = lw.calls.lock().unwrap().clone();
    assert_eq!(
        &calls[..3],
        &["list", "watch", "list"],
        "the 410 ERROR event made it relist"
    );
}
