//! The realistic pod both informer benches serve: Deployment-shaped (labels, annotations, an
//! owner reference, two containers with ports, env and resources, a volume, status) with about
//! 2.2 KB of managedFields, close to what a real API server returns; 5.8 KB of JSON.

/// The namespace the pods live in.
pub const NS: &str = "bench";

/// Pod number `i`: its name, app label, image and node vary with `i` as a Deployment's would.
pub fn pod(i: usize) -> serde_json::Value {
    let app = format!("app-{}", i % 50);
    let name = format!("{app}-7d9f8c6b5-{i:05}");
    let t = "2026-11-25T10:00:00Z";
    let container = |n: &str, port: u16| {
        serde_json::json!({
            "name": n, "image": format!("registry.example/{n}:1.{}", i % 7),
            "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
            "env": [{"name": "MODE", "value": "production"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
            "volumeMounts": [{"name": "config", "mountPath": "/etc/config", "readOnly": true}, {"name": "kube-api-access-abcde", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}],
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"
        })
    };
    let mf_container = serde_json::json!({".": {}, "f:env": {".": {}, "k:{\"name\":\"MODE\"}": {".": {}, "f:name": {}, "f:value": {}}, "k:{\"name\":\"POD_NAME\"}": {".": {}, "f:name": {}, "f:valueFrom": {".": {}, "f:fieldRef": {}}}}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {}, "f:ports": {".": {}, "k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}}}, "f:resources": {".": {}, "f:limits": {".": {}, "f:cpu": {}, "f:memory": {}}, "f:requests": {".": {}, "f:cpu": {}, "f:memory": {}}}, "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}, "f:volumeMounts": {".": {}, "k:{\"mountPath\":\"/etc/config\"}": {".": {}, "f:mountPath": {}, "f:name": {}, "f:readOnly": {}}}});
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": NS, "generateName": format!("{app}-7d9f8c6b5-"),
            "labels": {"app": app, "pod-template-hash": "7d9f8c6b5", "tier": "backend", "team": "payments", "version": "v1"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": t, "prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{app}-7d9f8c6b5"), "uid": "6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b", "controller": true, "blockOwnerDeletion": true}],
            "managedFields": [
                {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": t, "fieldsType": "FieldsV1", "fieldsV1": {
                    "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/restartedAt": {}, "f:prometheus.io/port": {}, "f:prometheus.io/scrape": {}}, "f:generateName": {}, "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}, "f:team": {}, "f:tier": {}, "f:version": {}}, "f:ownerReferences": {".": {}, "k:{\"uid\":\"6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b\"}": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"main\"}": mf_container.clone(), "k:{\"name\":\"sidecar\"}": mf_container}, "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {}, "f:schedulerName": {}, "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}, "f:volumes": {".": {}, "k:{\"name\":\"config\"}": {".": {}, "f:configMap": {".": {}, "f:defaultMode": {}, "f:name": {}}, "f:name": {}}}}}},
                {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": t, "fieldsType": "FieldsV1", "subresource": "status", "fieldsV1": {"f:status": {"f:conditions": {}, "f:phase": {}}}}
            ]
        },
        "spec": {
            "containers": [container("main", 8080), container("sidecar", 9090)],
            "volumes": [{"name": "config", "configMap": {"name": format!("{app}-config"), "defaultMode": 420}}],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default", "serviceAccount": "default", "nodeName": format!("node-{}", i % 100),
            "securityContext": {}, "schedulerName": "default-scheduler", "enableServiceLinks": true, "priority": 0,
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]
        },
        "status": {"phase": "Running"}
    })
}
