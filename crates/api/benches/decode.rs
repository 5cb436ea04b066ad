//! Decoding and encoding realistic pods: `api::core::v1::Pod` against k8s-openapi's `Pod`,
//! on the same bytes, and the heap each keeps per pod.
//!
//! Run: `cargo bench -p api --bench decode`. The pods are the Deployment-shaped pods of the
//! informer benches (two containers, a volume, five labels, two managedFields entries), 1,000
//! of them as one `PodList`; the protobuf row decodes the same list from its protobuf message.
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn pod(i: usize) -> serde_json::Value {
    let app = format!("app-{}", i % 50);
    let container = |n: &str, port: u16| {
        serde_json::json!({
            "name": n, "image": format!("registry.example/{n}:1.{}", i % 7),
            "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
            "env": [{"name": "MODE", "value": "production"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
            "volumeMounts": [{"name": "config", "mountPath": "/etc/config", "readOnly": true}],
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"
        })
    };
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": format!("{app}-7d9f8c6b5-{i:05}"), "namespace": "bench", "uid": format!("6f1c2d3e-4b5a-6978-8a9b-{i:012}"),
            "resourceVersion": (1000 + i).to_string(), "creationTimestamp": "2026-11-25T10:00:00Z",
            "labels": {"app": app, "pod-template-hash": "7d9f8c6b5", "tier": "backend", "team": "payments", "version": "v1"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{app}-7d9f8c6b5"), "uid": "6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b", "controller": true, "blockOwnerDeletion": true}],
            "managedFields": [
                {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": "2026-11-25T10:00:00Z", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}}}, "f:spec": {"f:containers": {"k:{\"name\":\"main\"}": {".": {}, "f:image": {}, "f:name": {}}}}}},
                {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": "2026-11-25T10:00:00Z", "fieldsType": "FieldsV1", "subresource": "status", "fieldsV1": {"f:status": {"f:conditions": {}, "f:phase": {}}}}
            ]
        },
        "spec": {
            "containers": [container("main", 8080), container("sidecar", 9090)],
            "volumes": [{"name": "config", "configMap": {"name": format!("{app}-config"), "defaultMode": 420}}],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default", "nodeName": format!("node-{}", i % 100), "schedulerName": "default-scheduler",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]
        },
        "status": {"phase": "Running", "podIP": format!("10.0.{}.{}", i / 250, i % 250), "startTime": "2026-11-25T10:00:01Z"}
    })
}

fn bench(c: &mut Criterion) {
    let list = serde_json::json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "5000"},
        "items": (0..1000).map(pod).collect::<Vec<_>>()});
    let bytes = serde_json::to_vec(&list).unwrap();
    let mut g = c.benchmark_group("decode 1,000 pods");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("api::core::v1::PodList", |b| {
        b.iter(|| serde_json::from_slice::<api::core::v1::PodList>(&bytes).unwrap())
    });
    g.bench_function("k8s_openapi List<Pod>", |b| {
        b.iter(|| {
            serde_json::from_slice::<k8s_openapi::List<k8s_openapi::api::core::v1::Pod>>(&bytes)
                .unwrap()
        })
    });
    g.finish();
    // The same 1,000 pods as the protobuf message of a PodList (what the server sends inside
    // the `k8s\0` envelope): a separate row, since the bytes differ from the JSON rows'.
    let ours: api::core::v1::PodList = serde_json::from_slice(&bytes).unwrap();
    let pb = apimachinery::runtime::wire::Message::encode_to_vec(&ours);
    let mut g = c.benchmark_group("decode 1,000 pods (protobuf)");
    g.throughput(Throughput::Bytes(pb.len() as u64));
    g.bench_function("api::core::v1::PodList", |b| {
        b.iter(|| {
            <api::core::v1::PodList as apimachinery::runtime::wire::Message>::decode(&pb).unwrap()
        })
    });
    g.finish();
    let theirs: k8s_openapi::List<k8s_openapi::api::core::v1::Pod> =
        serde_json::from_slice(&bytes).unwrap();
    let mut g = c.benchmark_group("encode 1,000 pods");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("api::core::v1::PodList", |b| {
        b.iter(|| serde_json::to_vec(&ours).unwrap())
    });
    g.bench_function("k8s_openapi List<Pod>", |b| {
        b.iter(|| serde_json::to_vec(&theirs).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
