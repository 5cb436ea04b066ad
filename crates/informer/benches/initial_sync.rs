//! Initial sync of realistic pods from `testserver`: wall time to `has_synced`, bytes the
//! cache retains per object, and plain `serde_json` decoding of the same list bytes (the floor).
//!
//! Run: `cargo bench -p informer --bench initial_sync` (env `BENCH_PODS`, default 10000;
//! `BENCH_RUNS`, default 3; `BENCH_VARIANTS`, a comma list of `watch-list`, `list`, `strip`
//! (a transform drops managedFields after decoding), `strip-decode` (managedFields skipped
//! while decoding, watch-list), `list-strip-decode` (the same over LIST), `metadata`, `api`
//! (watch-list into this workspace's `api::core::v1::Pod`), default all — fewer variants and
//! runs keep 100,000 pods within memory). The other variants decode k8s-openapi's `Pod`.
//!
//! Each pod is Deployment-shaped (labels, annotations, owner reference, two containers with
//! ports, env and resources, a volume, status) with about 2.2 KB of managedFields, close to
//! what a real API server returns. The server runs in-process on the same two cores, so its
//! encode time is inside every number, as in docs/benchmarks.md's anchors.
#![allow(clippy::unwrap_used)]

#[path = "support/pod.rs"]
mod support;

use std::alloc::System;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apiclient::metadata::PartialObjectMetadata;
use apiclient::{List, Object};
use informer::{InformerOptions, ListWatch, ReflectorConfig, SharedIndexInformer};
use k8s_openapi::api::core::v1::Pod;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use support::{NS, pod};
use tokio_util::sync::CancellationToken;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn live_bytes() -> i64 {
    let s = GLOBAL.stats();
    // stats_alloc already adds a realloc's growth to bytes_allocated (and a shrink to
    // bytes_deallocated); bytes_reallocated is the same delta again, so it is not added.
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Run {
    secs: f64,
    retained_per_object: f64,
}

async fn sync_once<K>(lw: ListWatch<K>, n: usize, watch_list: bool, strip: bool) -> Run
where
    K: Object + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let informer = SharedIndexInformer::new(
        Arc::new(lw),
        InformerOptions {
            reflector: ReflectorConfig {
                use_watch_list: watch_list,
                ..ReflectorConfig::default()
            },
            ..InformerOptions::default()
        },
    );
    if strip {
        informer
            .set_transform(Arc::new(|p: &mut K| p.clear_managed_fields()))
            .unwrap();
    }
    let stop = CancellationToken::new();
    let start = Instant::now();
    let task = tokio::spawn({
        let (i, s) = (informer.clone(), stop.clone());
        async move { i.run(s).await }
    });
    assert!(informer.synced().wait().await);
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(informer.indexer().len(), n);
    let synced_live = live_bytes();
    stop.cancel();
    task.await.unwrap();
    drop(informer);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = live_bytes();
    Run {
        secs,
        retained_per_object: (synced_live - after) as f64 / n as f64,
    }
}

async fn report<K>(
    label: &str,
    make: impl Fn() -> ListWatch<K>,
    n: usize,
    runs: usize,
    floor: f64,
    watch_list: bool,
    strip: bool,
) where
    K: Object + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let mut secs = Vec::new();
    let mut retained = Vec::new();
    for _ in 0..runs {
        let r = sync_once(make(), n, watch_list, strip).await;
        secs.push(r.secs);
        retained.push(r.retained_per_object);
    }
    let s = median(secs);
    println!(
        "{label}: {:.0} ms to has_synced ({:.2}x the decode floor), {:.0} bytes retained per pod",
        s * 1e3,
        s / floor,
        median(retained)
    );
}

/// Events per second from the server's socket to a handler: pods created while an informer
/// watches, counted when its handler sees them.
async fn watch_throughput(
    server: &testserver::TestServer,
    client: &apiclient::RestClient,
    n: usize,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let events = 5_000;
    let seen = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(tokio::sync::Notify::new());
    let lw = ListWatch::<PartialObjectMetadata>::new(
        client.clone(),
        <Pod as apiclient::Resource>::api_resource(),
        Some(NS),
    );
    let informer = SharedIndexInformer::new(Arc::new(lw), InformerOptions::default());
    let (s2, d2) = (seen.clone(), done.clone());
    informer
        .add_event_handler(informer::ResourceEventHandlerFuncs::new().on_add(
            move |_: &Arc<PartialObjectMetadata>, initial| {
                if !initial && s2.fetch_add(1, Ordering::SeqCst) + 1 == events {
                    d2.notify_one();
                }
            },
        ))
        .unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let (i, s) = (informer.clone(), stop.clone());
        async move { i.run(s).await }
    });
    assert!(informer.synced().wait().await);
    let writer: Vec<serde_json::Value> = (n..n + events).map(pod).collect();
    let path = format!("/api/v1/namespaces/{NS}/pods");
    let start = Instant::now();
    for (k, o) in writer.into_iter().enumerate() {
        server.create(&path, o).unwrap();
        if k % 256 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let written = start.elapsed().as_secs_f64();
    done.notified().await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "watch events to a handler (metadata-only informer): {events} creates written in {:.0} ms, all delivered after {:.0} ms: {:.0} events/s",
        written * 1e3,
        secs * 1e3,
        events as f64 / secs
    );
    stop.cancel();
    task.await.unwrap();
}

fn main() {
    let n: usize = std::env::var("BENCH_PODS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let variants = std::env::var("BENCH_VARIANTS").unwrap_or_else(|_| {
        "watch-list,api,list,strip,strip-decode,list-strip-decode,metadata".into()
    });
    let on = |v: &str| variants.split(',').any(|x| x.trim() == v);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = testserver::TestServer::start().await.unwrap();
        let _ = server.create_namespace(NS);
        for i in 0..n {
            server
                .create(&format!("/api/v1/namespaces/{NS}/pods"), pod(i))
                .unwrap();
        }
        let mut config = apiclient::Config::new(server.url());
        config.qps = 1000.0;
        config.burst = 1000;
        let client = apiclient::RestClient::new(&config).unwrap();

        // The floor: the same list bytes, fetched once, decoded by serde_json alone.
        let bytes = client
            .get()
            .prefix("/api/v1")
            .namespace(NS)
            .resource("pods")
            .param("resourceVersion", "0")
            .into_bytes()
            .await
            .unwrap();
        let mut fetch = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let b = client
                .get()
                .prefix("/api/v1")
                .namespace(NS)
                .resource("pods")
                .param("resourceVersion", "0")
                .into_bytes()
                .await
                .unwrap();
            fetch.push(t.elapsed().as_secs_f64());
            assert_eq!(b.len(), bytes.len());
        }
        let mut floor = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let list: List<Pod> = serde_json::from_slice(&bytes).unwrap();
            floor.push(t.elapsed().as_secs_f64());
            assert_eq!(list.items.len(), n);
        }
        // Raw watch-list, no informer: how long until the initial-events-end bookmark.
        let mut raw_wl = Vec::new();
        for _ in 0..runs {
            use futures::StreamExt;
            let lw = ListWatch::<Pod>::for_resource(client.clone(), Some(NS));
            let t = Instant::now();
            let opts = apiclient::ListOptions {
                send_initial_events: Some(true),
                resource_version_match: Some(apiclient::meta::ResourceVersionMatch::NotOlderThan),
                allow_watch_bookmarks: true,
                resource_version: Some(String::new()),
                ..Default::default()
            };
            let mut stream = informer::ListerWatcher::watch(&lw, opts).await.unwrap();
            let mut count = 0;
            while let Some(ev) = stream.next().await {
                match ev.unwrap() {
                    apiclient::WatchEvent::Bookmark(b) if b.is_initial_events_end() => break,
                    _ => count += 1,
                }
            }
            assert_eq!(count, n);
            raw_wl.push(t.elapsed().as_secs_f64());
        }
        // The floor for the stripped shapes: the same list with managedFields removed from
        // the bytes, decoded by serde_json alone.
        let stripped_bytes = {
            let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            for item in v["items"].as_array_mut().unwrap() {
                item["metadata"]
                    .as_object_mut()
                    .unwrap()
                    .remove("managedFields");
            }
            serde_json::to_vec(&v).unwrap()
        };
        let mut floor_stripped = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let list: List<Pod> = serde_json::from_slice(&stripped_bytes).unwrap();
            floor_stripped.push(t.elapsed().as_secs_f64());
            assert_eq!(list.items.len(), n);
        }
        drop(stripped_bytes);
        let mut ignored = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let _: serde::de::IgnoredAny = serde_json::from_slice(&bytes).unwrap();
            ignored.push(t.elapsed().as_secs_f64());
        }
        println!(
            "pods: {n}, list bytes: {} ({} bytes per pod)",
            bytes.len(),
            bytes.len() / n
        );
        println!(
            "server producing the list, received as bytes: {:.0} ms",
            median(fetch) * 1e3
        );
        println!(
            "raw watch-list stream decoded to the end bookmark: {:.0} ms",
            median(raw_wl.clone()) * 1e3
        );
        println!(
            "floor  serde_json parse only (IgnoredAny): {:.0} ms",
            median(ignored) * 1e3
        );
        let floor = median(floor);
        println!(
            "floor  serde_json into List<k8s_openapi Pod>: {:.0} ms",
            floor * 1e3
        );

        println!(
            "floor  serde_json into List<k8s_openapi Pod>, managedFields removed from the bytes: {:.0} ms",
            median(floor_stripped) * 1e3
        );

        let pods = || ListWatch::<Pod>::for_resource(client.clone(), Some(NS));
        let stripped_pods =
            || ListWatch::<Pod>::for_resource(client.clone(), Some(NS)).strip_managed_fields();
        if on("watch-list") {
            report(
                "informer, watch-list (default)",
                pods,
                n,
                runs,
                floor,
                true,
                false,
            )
            .await;
        }
        if on("api") {
            report(
                "informer, watch-list (default), api::core::v1::Pod, full objects",
                || ListWatch::<api::core::v1::Pod>::for_resource(client.clone(), Some(NS)),
                n,
                runs,
                floor,
                true,
                false,
            )
            .await;
        }
        if on("list") {
            report(
                "informer, LIST resourceVersion=0",
                pods,
                n,
                runs,
                floor,
                false,
                false,
            )
            .await;
        }
        if on("strip") {
            report(
                "informer, watch-list + drop managedFields",
                pods,
                n,
                runs,
                floor,
                true,
                true,
            )
            .await;
        }
        if on("strip-decode") {
            report(
                "informer, watch-list + managedFields skipped while decoding",
                stripped_pods,
                n,
                runs,
                floor,
                true,
                false,
            )
            .await;
        }
        if on("list-strip-decode") {
            report(
                "informer, LIST + managedFields skipped while decoding",
                stripped_pods,
                n,
                runs,
                floor,
                false,
                false,
            )
            .await;
        }
        let meta = || {
            ListWatch::<PartialObjectMetadata>::new(
                client.clone(),
                <Pod as apiclient::Resource>::api_resource(),
                Some(NS),
            )
            .strip_managed_fields()
        };
        if on("metadata") {
            report(
                "metadata-only informer, managedFields skipped while decoding",
                meta,
                n,
                runs,
                floor,
                true,
                false,
            )
            .await;
        }
        println!(
            "peak RSS (process, incl. in-process server): {:.0} MiB",
            peak_rss_mib()
        );
        watch_throughput(&server, &client, n).await;
        server.shutdown().await;
    });
}
