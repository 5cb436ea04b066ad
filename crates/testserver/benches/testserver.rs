//! testserver's hot paths over real HTTP: a full LIST of 100,000 pods, watch fan-out
//! (events delivered to several watchers), and the two ways an informer syncs 10,000
//! realistic (about 5 KB) pods: a full LIST and a `sendInitialEvents` watch.
//!
//! Run with `cargo bench -p testserver`. Figures are recorded in docs/benchmarks.md.
#![allow(missing_docs, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::Request;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;
use testserver::TestServer;
use tokio::net::TcpStream;

const LIST_PODS: usize = 100_000;
const WATCHERS: usize = 4;
const EVENTS_PER_ITER: usize = 1_000;
const REALISTIC_PODS: usize = 10_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn pod(name: &str, i: usize) -> serde_json::Value {
    json!({"metadata": {"name": name, "labels": {"app": "bench", "shard": (i % 10).to_string()}},
           "spec": {"containers": [{"name": "c", "image": "registry.example/app:1"}], "nodeName": format!("node-{}", i % 50)}})
}

/// A pod shaped like one from a real cluster: labels, annotations, an owner, env, probes,
/// volumes, tolerations and a running status; about 5 KB as JSON once defaulted.
fn realistic_pod(i: usize) -> serde_json::Value {
    let name = format!("web-{:05}-7d9c{i:06}", i / 100);
    let env: Vec<_> = (0..12)
        .map(|e| json!({"name": format!("APP_SETTING_{e}"), "value": format!("value-{e}-{i}")}))
        .collect();
    let container = |n: &str, port: u16| {
        json!({
            "name": n,
            "image": format!("registry.example.com/team/{n}:v1.{}.{}", i % 7, i % 13),
            "args": ["--port", port.to_string(), "--log-level=info", "--metrics-addr=:9090"],
            "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"},
                      {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}],
            "env": env,
            "resources": {"limits": {"cpu": "500m", "memory": "512Mi"},
                          "requests": {"cpu": "100m", "memory": "128Mi"}},
            "volumeMounts": [{"name": "config", "mountPath": "/etc/app"},
                             {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}],
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": port, "scheme": "HTTP"},
                              "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 1,
                              "successThreshold": 1, "failureThreshold": 3},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": port, "scheme": "HTTP"},
                               "periodSeconds": 5, "timeoutSeconds": 1, "successThreshold": 1,
                               "failureThreshold": 3},
        })
    };
    let status = |n: &str| {
        json!({"name": n, "ready": true, "restartCount": 0, "started": true,
               "image": format!("registry.example.com/team/{n}:v1"),
               "imageID": format!("registry.example.com/team/{n}@sha256:{:064x}", i),
               "containerID": format!("containerd://{:064x}", i * 31 + 7),
               "state": {"running": {"startedAt": "2024-05-01T10:00:00Z"}}})
    };
    json!({
        "metadata": {
            "name": name,
            "generateName": format!("web-{:05}-7d9c", i / 100),
            "labels": {"app": "web", "pod-template-hash": "7d9c5b8f4", "tier": "frontend",
                       "shard": (i % 10).to_string(), "version": "v1"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z",
                            "prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": format!("web-{:05}-7d9c", i / 100),
                                 "uid": format!("6f1e2d3c-{:04x}-4b5a-9c8d-7e6f5a4b3c2d", i / 100),
                                 "controller": true, "blockOwnerDeletion": true}],
        },
        "spec": {
            "containers": [container("app", 8080), container("sidecar", 8081)],
            "volumes": [{"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}},
                        {"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}],
            "nodeName": format!("node-{}", i % 50),
            "serviceAccountName": "web",
            "priority": 0,
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": "2024-05-01T10:00:00Z"},
                {"type": "Ready", "status": "True", "lastTransitionTime": "2024-05-01T10:00:05Z"},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": "2024-05-01T10:00:05Z"},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-05-01T10:00:00Z"}],
            "hostIP": format!("10.0.{}.{}", i % 50, 10),
            "podIP": format!("10.244.{}.{}", (i / 250) % 256, i % 250),
            "podIPs": [{"ip": format!("10.244.{}.{}", (i / 250) % 256, i % 250)}],
            "startTime": "2024-05-01T10:00:00Z",
            "qosClass": "Burstable",
            "containerStatuses": [status("app"), status("sidecar")],
        },
    })
}

async fn open(addr: SocketAddr, path: &str) -> Incoming {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::get(path)
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.into_body()
}

/// Reads a whole body; returns its length.
async fn drain(addr: SocketAddr, path: &str) -> usize {
    let mut body = open(addr, path).await;
    let mut n = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            n += data.len();
        }
    }
    n
}

/// LIST of 100,000 pods (about 1 KB each as JSON), read to the end by a client.
fn list(c: &mut Criterion) {
    let rt = runtime();
    let server = rt
        .block_on(TestServer::builder().history_window(1_000).start())
        .unwrap();
    for i in 0..LIST_PODS {
        server
            .create(
                "/api/v1/namespaces/default/pods",
                pod(&format!("pod-{i:06}"), i),
            )
            .unwrap();
    }
    let addr = server.addr();
    let bytes = rt.block_on(drain(addr, "/api/v1/pods"));
    eprintln!("list body: {bytes} bytes for {LIST_PODS} pods");
    let mut g = c.benchmark_group("list");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(LIST_PODS as u64));
    g.bench_function("100k_pods_full", |b| {
        b.iter(|| rt.block_on(drain(addr, "/api/v1/pods")))
    });
    g.throughput(Throughput::Elements(500));
    g.bench_function("100k_pods_first_page_of_500", |b| {
        b.iter(|| rt.block_on(drain(addr, "/api/v1/pods?limit=500")))
    });
    g.throughput(Throughput::Elements((LIST_PODS / 10) as u64));
    g.bench_function("100k_pods_label_selector_10pct", |b| {
        b.iter(|| rt.block_on(drain(addr, "/api/v1/pods?labelSelector=shard%3D3")))
    });
    g.finish();
    rt.block_on(server.shutdown());
}

/// The informer's initial sync of 10,000 realistic pods: a full LIST, and a watch with
/// `sendInitialEvents=true` read up to its initial-events-end bookmark.
fn realistic_sync(c: &mut Criterion) {
    let rt = runtime();
    let server = rt.block_on(TestServer::builder().start()).unwrap();
    for i in 0..REALISTIC_PODS {
        server
            .create("/api/v1/namespaces/default/pods", realistic_pod(i))
            .unwrap();
    }
    let addr = server.addr();
    let bytes = rt.block_on(drain(addr, "/api/v1/pods"));
    eprintln!("list body: {bytes} bytes for {REALISTIC_PODS} realistic pods");
    let watch_list = "/api/v1/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=&allowWatchBookmarks=true";
    let mut g = c.benchmark_group("realistic");
    g.sample_size(20);
    g.throughput(Throughput::Elements(REALISTIC_PODS as u64));
    g.bench_function("10k_pods_list", |b| {
        b.iter(|| rt.block_on(drain(addr, "/api/v1/pods")))
    });
    g.bench_function("10k_pods_watch_send_initial_events", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut body = open(addr, watch_list).await;
                // Every initial pod as ADDED, then the initial-events-end bookmark.
                read_events(&mut body, REALISTIC_PODS + 1).await;
            })
        })
    });
    g.finish();
    rt.block_on(server.shutdown());
}

/// Counts newline-terminated events on a watch body until `want` have arrived.
async fn read_events(body: &mut Incoming, want: usize) {
    let mut seen = 0;
    while seen < want {
        let frame = body.frame().await.unwrap().unwrap();
        if let Ok(data) = frame.into_data() {
            seen += data.iter().filter(|b| **b == b'\n').count();
        }
    }
}

/// 1,000 pod creations delivered to each of 4 watchers; throughput counts deliveries.
fn watch_fanout(c: &mut Criterion) {
    let rt = runtime();
    let server = rt
        .block_on(TestServer::builder().history_window(10_000).start())
        .unwrap();
    let addr = server.addr();
    let rv = server.resource_version();
    let path = format!("/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}");
    let mut watchers: Vec<Incoming> = rt.block_on(async {
        let mut w = Vec::new();
        for _ in 0..WATCHERS {
            w.push(open(addr, &path).await);
        }
        w
    });
    let mut next = 0usize;
    let mut g = c.benchmark_group("watch");
    g.sample_size(20);
    g.throughput(Throughput::Elements((EVENTS_PER_ITER * WATCHERS) as u64));
    g.bench_function("fanout_1000_events_to_4_watchers", |b| {
        b.iter(|| {
            rt.block_on(async {
                let readers: Vec<_> = watchers
                    .drain(..)
                    .map(|mut body| {
                        tokio::spawn(async move {
                            read_events(&mut body, EVENTS_PER_ITER).await;
                            body
                        })
                    })
                    .collect();
                for _ in 0..EVENTS_PER_ITER {
                    server
                        .create(
                            "/api/v1/namespaces/default/pods",
                            pod(&format!("w-{next}"), next),
                        )
                        .unwrap();
                    next += 1;
                    if next.is_multiple_of(64) {
                        tokio::task::yield_now().await;
                    }
                }
                for r in readers {
                    watchers.push(r.await.unwrap());
                }
            })
        })
    });
    g.finish();
    drop(watchers);
    rt.block_on(server.shutdown());
}

criterion_group!(benches, list, watch_fanout, realistic_sync);
criterion_main!(benches);
