//! kubectl 1.32 as a user types it, against the in-process server, for the server-side
//! semantics kubectl leans on: strategic merge patches (`kubectl patch`, `kubectl set image`,
//! client-side `kubectl apply`), printer columns (`kubectl get -o wide`), custom resource
//! schemas in OpenAPI (`kubectl explain`, validated `kubectl apply`), and field-validation
//! warnings (`--validate=warn`).
//!
//! kubectl is found and run by `common::kubectl`; without it these tests fail saying so.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::kubectl::{columns, output, run_with_stderr as run, scratch};
use serde_json::{Value, json};
use testserver::TestServer;

fn deployment(image_b: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "a", "image": "registry.example/a:1",
                 "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                {"name": "b", "image": image_b}]}}}})
}

fn containers(server: &TestServer) -> Value {
    server
        .get("/apis/apps/v1/namespaces/default/deployments/web")
        .unwrap()["spec"]["template"]["spec"]["containers"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_strategic_merges_containers_and_env_by_name() {
    let server = TestServer::start().await.unwrap();
    server
        .create(
            "/apis/apps/v1/namespaces/default/deployments",
            deployment("registry.example/b:1"),
        )
        .unwrap();
    let dir = scratch("patch");
    let patch = r#"{"spec":{"template":{"spec":{"containers":[{"name":"a","env":[{"name":"B","value":"x"}]}]}}}}"#;
    let (out, _) = run(
        &server.url(),
        &dir,
        &[
            "patch",
            "deployment",
            "web",
            "-n",
            "default",
            "--type",
            "strategic",
            "-p",
            patch,
        ],
    )
    .await;
    assert_eq!(out.trim(), "deployment.apps/web patched");
    let c = containers(&server);
    assert_eq!(c[0]["name"], "a");
    assert_eq!(
        c[0]["env"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "x"}])
    );
    assert_eq!(c[1]["image"], "registry.example/b:1", "b is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_image_changes_one_container_and_keeps_the_other() {
    let server = TestServer::start().await.unwrap();
    server
        .create(
            "/apis/apps/v1/namespaces/default/deployments",
            deployment("registry.example/b:1"),
        )
        .unwrap();
    let dir = scratch("set-image");
    let (out, _) = run(
        &server.url(),
        &dir,
        &[
            "set",
            "image",
            "deployment/web",
            "-n",
            "default",
            "b=registry.example/b:2",
        ],
    )
    .await;
    assert_eq!(out.trim(), "deployment.apps/web image updated");
    let c = containers(&server);
    assert_eq!(c.as_array().map(Vec::len), Some(2));
    assert_eq!(c[0]["image"], "registry.example/a:1");
    assert_eq!(c[1]["image"], "registry.example/b:2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_side_apply_keeps_a_container_added_by_someone_else() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("apply");
    let url = server.url();
    let manifest = dir.join("deploy.json");
    std::fs::write(&manifest, deployment("registry.example/b:1").to_string()).unwrap();
    let file = manifest.to_str().unwrap();
    run(&url, &dir, &["apply", "-f", file]).await;
    // Another actor adds a sidecar kubectl's last-applied configuration does not know.
    run(
        &url,
        &dir,
        &[
            "patch", "deployment", "web", "-n", "default", "--type", "strategic", "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"registry.example/s:1"}]}}}}"#,
        ],
    )
    .await;
    std::fs::write(&manifest, deployment("registry.example/b:2").to_string()).unwrap();
    let (out, _) = run(&url, &dir, &["apply", "-f", file]).await;
    assert_eq!(out.trim(), "deployment.apps/web configured");
    let c = containers(&server);
    let names: Vec<&str> = c
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    // A merged-in element the live list did not have lands first (as the recorded
    // `smp-ports-merge-by-container-port` shows), and apply keeps it there.
    assert_eq!(names, ["sidecar", "a", "b"]);
    assert_eq!(c[2]["image"], "registry.example/b:2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_wide_prints_ip_node_nominated_node_and_readiness_gates() {
    let server = TestServer::start().await.unwrap();
    server
        .create(
            "/api/v1/namespaces/default/pods",
            json!({"metadata": {"name": "web"}, "spec": {"nodeName": "node-1",
                "containers": [{"name": "c", "image": "x"}]}}),
        )
        .unwrap();
    let dir = scratch("wide");
    let (plain, _) = run(&server.url(), &dir, &["get", "pods", "-n", "default"]).await;
    assert_eq!(
        columns(plain.lines().next().unwrap()),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    let (wide, _) = run(
        &server.url(),
        &dir,
        &["get", "pods", "-n", "default", "-o", "wide"],
    )
    .await;
    let lines: Vec<&str> = wide.lines().collect();
    assert_eq!(
        columns(lines[0]),
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED",
            "NODE",
            "READINESS",
            "GATES"
        ],
        "{wide}"
    );
    let row = columns(lines[1]);
    assert_eq!(row[0], "web");
    assert_eq!(row[5..], ["<none>", "node-1", "<none>", "<none>"], "{wide}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_configmaps_prints_the_data_count() {
    let server = TestServer::start().await.unwrap();
    server
        .create(
            "/api/v1/namespaces/default/configmaps",
            json!({"metadata": {"name": "settings"}, "data": {"a": "1", "b": "2"}}),
        )
        .unwrap();
    let dir = scratch("cm");
    let (out, _) = run(&server.url(), &dir, &["get", "cm", "-n", "default"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(columns(lines[0]), ["NAME", "DATA", "AGE"], "{out}");
    assert_eq!(columns(lines[1])[..2], ["settings", "2"], "{out}");
}

fn widget_crd() -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object", "description": "A widget to turn.",
                "properties": {"spec": {"type": "object", "description": "What the widget should be.",
                    "properties": {"size": {"type": "integer", "description": "How big the widget is."}}}}}}}]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_reads_a_crd_schema_from_openapi_v3() {
    let server = TestServer::start().await.unwrap();
    server
        .create(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            widget_crd(),
        )
        .unwrap();
    let dir = scratch("explain");
    let (out, _) = run(&server.url(), &dir, &["explain", "widgets.spec"]).await;
    assert!(out.contains("KIND:       Widget"), "{out}");
    assert!(out.contains("What the widget should be."), "{out}");
    assert!(out.contains("size\t<integer>"), "{out}");
    assert!(out.contains("How big the widget is."), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_of_a_custom_resource_validates_and_merges() {
    let server = TestServer::start().await.unwrap();
    server
        .create(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            widget_crd(),
        )
        .unwrap();
    let dir = scratch("cr-apply");
    let url = server.url();
    let manifest = dir.join("widget.json");
    let widget = |size: i64| {
        json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w1", "namespace": "default"}, "spec": {"size": size}})
    };
    std::fs::write(&manifest, widget(3).to_string()).unwrap();
    let file = manifest.to_str().unwrap();
    let (out, _) = run(&url, &dir, &["apply", "-f", file]).await;
    assert_eq!(out.trim(), "widget.example.com/w1 created");
    std::fs::write(&manifest, widget(5).to_string()).unwrap();
    let (out, _) = run(&url, &dir, &["apply", "-f", file]).await;
    assert_eq!(out.trim(), "widget.example.com/w1 configured");
    let stored = server
        .get("/apis/example.com/v1/namespaces/default/widgets/w1")
        .unwrap();
    assert_eq!(stored["spec"]["size"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_with_validate_warn_prints_the_servers_warning() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("warn");
    let manifest = dir.join("cm.json");
    std::fs::write(
        &manifest,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default"}, "data": {"k": "v"}, "spec": {"foo": 1}})
        .to_string(),
    )
    .unwrap();
    let (out, err) = run(
        &server.url(),
        &dir,
        &["apply", "--validate=warn", "-f", manifest.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.trim(), "configmap/c created");
    assert!(err.contains("Warning: unknown field \"spec\""), "{err}");
    // Strict (kubectl's default) refuses the same manifest.
    let strict = output(
        &server.url(),
        &dir,
        &["create", "-f", manifest.to_str().unwrap()],
    )
    .await;
    assert!(!strict.status.success());
    let err = String::from_utf8_lossy(&strict.stderr);
    assert!(
        err.contains("strict decoding error: unknown field \"spec\""),
        "{err}"
    );
}
