//! Interleaved A/B of the client's decoding against plain `serde_json` on the same bytes:
//! each round runs both in alternating order and the best round of each is kept, so a noisy,
//! shared machine affects both alike (criterion runs one after the other).
//!
//! Run: `cargo run --release -p apiclient --example decode_ab`
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use apiclient::meta::List;
use apiclient::{Error, WatchStream};
use bytes::Bytes;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;

/// A Deployment-shaped pod, trimmed to about 2 KB of compact JSON (`benches/decode.rs` has
/// the full 5 KB shape).
fn pod(i: usize) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"web-{i:05}","generateName":"web-","namespace":"bench","uid":"2d4ff193-74ab-421b-bc1f-{i:012}","resourceVersion":"{rv}","creationTimestamp":"2026-11-25T17:24:09Z","labels":{{"app":"web","pod-template-hash":"7d9f8c6b5","tier":"frontend","team":"payments","version":"v1"}},"annotations":{{"prometheus.io/scrape":"true","prometheus.io/port":"8080","kubectl.kubernetes.io/restartedAt":"2026-11-25T17:00:00Z"}},"ownerReferences":[{{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d9f8c6b5","uid":"0b6f1e52-4c1a-4f7e-9d8b-3a2c1b0e9f8d","controller":true,"blockOwnerDeletion":true}}],"managedFields":[{{"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1","time":"2026-11-25T17:24:09Z","fieldsType":"FieldsV1","fieldsV1":{{"f:metadata":{{"f:labels":{{".":{{}},"f:app":{{}},"f:tier":{{}}}}}},"f:spec":{{"f:containers":{{"k:{{\"name\":\"app\"}}":{{".":{{}},"f:image":{{}},"f:name":{{}},"f:ports":{{}},"f:resources":{{".":{{}},"f:limits":{{}},"f:requests":{{}}}}}}}}}}}}}}]}},"spec":{{"containers":[{{"name":"app","image":"registry.example/app:1","ports":[{{"name":"http","containerPort":8080,"protocol":"TCP"}}],"env":[{{"name":"MODE","value":"production"}}],"resources":{{"limits":{{"cpu":"500m","memory":"256Mi"}},"requests":{{"cpu":"100m","memory":"128Mi"}}}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}},{{"name":"sidecar","image":"registry.example/sidecar:1","ports":[{{"name":"metrics","containerPort":9090,"protocol":"TCP"}}],"resources":{{"requests":{{"cpu":"10m"}}}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}}],"volumes":[{{"name":"config","configMap":{{"name":"web-config","defaultMode":420}}}}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default","nodeName":"node-{n}","securityContext":{{}},"schedulerName":"default-scheduler","priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"}},"status":{{"phase":"Running","qosClass":"Burstable"}}}}"#,
        rv = 1000 + i,
        n = i % 50
    )
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PlainEvent {
    #[serde(rename = "type")]
    kind: String,
    object: Pod,
}

fn best(rounds: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (Duration, Duration) {
    let (mut ba, mut bb) = (Duration::MAX, Duration::MAX);
    for r in 0..rounds {
        for k in 0..2 {
            let t = Instant::now();
            if (r + k) % 2 == 0 {
                a()
            } else {
                b()
            }
            let e = t.elapsed();
            if (r + k) % 2 == 0 {
                ba = ba.min(e)
            } else {
                bb = bb.min(e)
            }
        }
    }
    (ba, bb)
}

fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / (1024.0 * 1024.0)
}

fn main() {
    let n = 10_000;
    let list = format!(
        r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{"resourceVersion":"9"}},"items":[{}]}}"#,
        (0..n).map(pod).collect::<Vec<_>>().join(",")
    )
    .into_bytes();
    let (floor, ours) = best(
        6,
        || {
            drop(black_box(
                serde_json::from_slice::<k8s_openapi::List<Pod>>(&list).unwrap(),
            ))
        },
        || {
            drop(black_box(
                serde_json::from_slice::<List<Pod>>(&list).unwrap(),
            ))
        },
    );
    println!(
        "list of {n} pods, {} MB: serde_json k8s_openapi::List<Pod> {:.0} MiB/s, apiclient List<Pod> {:.0} MiB/s ({:+.1} %)",
        list.len() / 1_000_000,
        mbps(list.len(), floor),
        mbps(list.len(), ours),
        (floor.as_secs_f64() / ours.as_secs_f64() - 1.0) * 100.0
    );

    let events = 100_000;
    let lines: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"type":"MODIFIED","object":{}}}"#, pod(i)))
        .collect();
    let mut body = Vec::new();
    for i in 0..events {
        body.extend_from_slice(lines[i % 100].as_bytes());
        body.push(b'\n');
    }
    let body = Bytes::from(body);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (floor, ours) = best(
        4,
        || {
            for l in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                black_box(serde_json::from_slice::<PlainEvent>(l).unwrap());
            }
        },
        || {
            let chunks: Vec<Result<Bytes, Error>> = (0..body.len())
                .step_by(64 * 1024)
                .map(|s| Ok(body.slice(s..(s + 64 * 1024).min(body.len()))))
                .collect();
            let stream = WatchStream::<Pod>::new(futures::stream::iter(chunks), "ab");
            let got = rt.block_on(stream.fold(0, |n, e| async move {
                black_box(e.unwrap());
                n + 1
            }));
            assert_eq!(got, events);
        },
    );
    println!(
        "watch of {events} events, {} MB: serde_json per line {:.0} MiB/s, apiclient WatchStream (64 KiB chunks) {:.0} MiB/s ({:+.1} %)",
        body.len() / 1_000_000,
        mbps(body.len(), floor),
        mbps(body.len(), ours),
        (floor.as_secs_f64() / ours.as_secs_f64() - 1.0) * 100.0
    );
}
