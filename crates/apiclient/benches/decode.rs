//! Decoding speed of the client's list and watch paths against plain `serde_json` on the same
//! bytes (the floor).
//!
//! Input: a recorded-shape list of 10,000 pods (Deployment-shaped: 5 labels, 3 annotations, an
//! owner reference, two containers with ports, env and resources, a volume, server defaults,
//! status and managedFields; about 5 KB of compact JSON per pod, as the performance anchors
//! describe), and a stream of 100,000 watch events of the same pods split into 64 KiB chunks as
//! they would arrive from a socket.
//!
//! Run: `cargo bench -p apiclient --bench decode`
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use apiclient::meta::{List, RawWatchEvent, WatchEvent};
use apiclient::rest::WatchStream;
use apiclient::{DynamicObject, Error, PartialObjectMetadata};
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

const PODS: usize = 10_000;
const EVENTS: usize = 100_000;
const CHUNK: usize = 64 * 1024;

fn pod(i: usize) -> serde_json::Value {
    let name = format!("web-7d9f8c6b5-{i:05}");
    let container = |n: &str, port: u16| {
        json!({
            "name": n, "image": format!("registry.example/{n}:1.{i}"),
            "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
            "env": [{"name": "MODE", "value": "production"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
            "volumeMounts": [{"name": "config", "mountPath": "/etc/config", "readOnly": true}, {"name": "kube-api-access-x7k2p", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}],
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"
        })
    };
    let f_container = |n: &str| json!({format!("k:{{\"name\":\"{n}\"}}"): {".": {}, "f:env": {".": {}, "k:{\"name\":\"MODE\"}": {".": {}, "f:name": {}, "f:value": {}}, "k:{\"name\":\"POD_NAME\"}": {".": {}, "f:name": {}, "f:valueFrom": {".": {}, "f:fieldRef": {}}}}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {}, "f:ports": {".": {}, "k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}}}, "f:resources": {".": {}, "f:limits": {".": {}, "f:cpu": {}, "f:memory": {}}, "f:requests": {".": {}, "f:cpu": {}, "f:memory": {}}}, "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}, "f:volumeMounts": {".": {}, "k:{\"mountPath\":\"/etc/config\"}": {".": {}, "f:mountPath": {}, "f:name": {}, "f:readOnly": {}}}}});
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {
            "name": name, "generateName": "web-7d9f8c6b5-", "namespace": "bench",
            "uid": format!("2d4ff193-74ab-421b-bc1f-{i:012}"), "resourceVersion": format!("{}", 1000 + i),
            "creationTimestamp": "2026-11-25T17:24:09Z",
            "labels": {"app": "web", "pod-template-hash": "7d9f8c6b5", "tier": "frontend", "team": "payments", "version": "v1"},
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080", "kubectl.kubernetes.io/restartedAt": "2026-11-25T17:00:00Z"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f8c6b5", "uid": "0b6f1e52-4c1a-4f7e-9d8b-3a2c1b0e9f8d", "controller": true, "blockOwnerDeletion": true}],
            "managedFields": [
                {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": "2026-11-25T17:24:09Z", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/restartedAt": {}, "f:prometheus.io/port": {}, "f:prometheus.io/scrape": {}}, "f:generateName": {}, "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}, "f:team": {}, "f:tier": {}, "f:version": {}}, "f:ownerReferences": {".": {}, "k:{\"uid\":\"0b6f1e52-4c1a-4f7e-9d8b-3a2c1b0e9f8d\"}": {}}},
                               "f:spec": {"f:containers": [f_container("app"), f_container("sidecar")], "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {}, "f:schedulerName": {}, "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}, "f:volumes": {".": {}, "k:{\"name\":\"config\"}": {".": {}, "f:configMap": {".": {}, "f:defaultMode": {}, "f:name": {}}, "f:name": {}}}}}},
                {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": "2026-11-25T17:24:11Z", "fieldsType": "FieldsV1", "subresource": "status",
                 "fieldsV1": {"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}}, "f:phase": {}}}}
            ]
        },
        "spec": {
            "volumes": [{"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}}, {"name": "kube-api-access-x7k2p", "projected": {"sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}, {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}], "defaultMode": 420}}],
            "containers": [container("app", 8080), container("sidecar", 9090)],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default", "serviceAccount": "default", "nodeName": format!("node-{}", i % 50),
            "securityContext": {}, "schedulerName": "default-scheduler",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}, {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
            "priority": 0, "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority"
        },
        "status": {"phase": "Running", "qosClass": "Burstable"}
    })
}

fn list_bytes() -> Vec<u8> {
    let items: Vec<_> = (0..PODS).map(pod).collect();
    serde_json::to_vec(&json!({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "99999"}, "items": items})).unwrap()
}

fn watch_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    let lines: Vec<Vec<u8>> = (0..100)
        .map(|i| serde_json::to_vec(&json!({"type": "MODIFIED", "object": pod(i)})).unwrap())
        .collect();
    for i in 0..EVENTS {
        out.extend_from_slice(&lines[i % lines.len()]);
        out.push(b'\n');
    }
    out
}

/// The floor's event type: decoded, never read (black_box keeps it alive).
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PlainEvent {
    #[serde(rename = "type")]
    _type: String,
    object: Pod,
}

fn list(c: &mut Criterion) {
    let bytes = list_bytes();
    eprintln!(
        "list: {} pods, {} bytes ({} per pod)",
        PODS,
        bytes.len(),
        bytes.len() / PODS
    );
    let mut g = c.benchmark_group("list_10k_pods");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("serde_json_ignored_any", |b| {
        b.iter(|| black_box(serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).unwrap()))
    });
    g.bench_function("serde_json_k8s_openapi_podlist", |b| {
        b.iter(|| {
            black_box(serde_json::from_slice::<k8s_openapi::List<Pod>>(&bytes).unwrap());
        })
    });
    g.bench_function("apiclient_list_pod", |b| {
        b.iter(|| black_box(serde_json::from_slice::<List<Pod>>(&bytes).unwrap()))
    });
    g.bench_function("apiclient_list_partial_object_metadata", |b| {
        b.iter(|| black_box(serde_json::from_slice::<List<PartialObjectMetadata>>(&bytes).unwrap()))
    });
    g.bench_function("apiclient_list_dynamic_object", |b| {
        b.iter(|| black_box(serde_json::from_slice::<List<DynamicObject>>(&bytes).unwrap()))
    });
    g.finish();
}

fn watch(c: &mut Criterion) {
    let bytes = Bytes::from(watch_bytes());
    eprintln!("watch: {} events, {} bytes", EVENTS, bytes.len());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("watch_100k_events");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("serde_json_lines_plain_event", |b| {
        b.iter(|| {
            let mut n = 0;
            for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                black_box(serde_json::from_slice::<PlainEvent>(line).unwrap());
                n += 1;
            }
            assert_eq!(n, EVENTS);
        })
    });
    g.bench_function("apiclient_raw_watch_event_per_line", |b| {
        b.iter(|| {
            for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                black_box(serde_json::from_slice::<RawWatchEvent<Pod>>(line).unwrap());
            }
        })
    });
    g.bench_function("apiclient_watch_stream_64k_chunks", |b| {
        b.iter(|| {
            let chunks: Vec<Result<Bytes, Error>> = (0..bytes.len())
                .step_by(CHUNK)
                .map(|s| Ok(bytes.slice(s..(s + CHUNK).min(bytes.len()))))
                .collect();
            let stream = WatchStream::<Pod>::new(futures::stream::iter(chunks), "bench");
            let n = rt.block_on(stream.fold(0usize, |n, e| async move {
                assert!(matches!(e, Ok(WatchEvent::Modified(_))));
                n + 1
            }));
            assert_eq!(n, EVENTS);
        })
    });
    g.finish();
}

criterion_group!(benches, list, watch);
criterion_main!(benches);
