//! kubectl 1.32 as a real client, against the in-process server and the binary.
//!
//! kubectl is found and run by `common::kubectl`; without it these tests fail saying so.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::Stdio;

use common::kubectl::{STEP, columns, kubectl, kubectl_path, run, run_failing, scratch};
use serde_json::{Value, json};
use testserver::TestServer;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "demo"}},
           "spec": {"containers": [{"name": "main", "image": "registry.example/demo:1.0"}]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_across_namespaces_prints_a_table() {
    let server = TestServer::start().await.unwrap();
    server.create_namespace("other").unwrap();
    server
        .create("/api/v1/namespaces/default/pods", pod("web"))
        .unwrap();
    server
        .create("/api/v1/namespaces/other/pods", pod("db"))
        .unwrap();
    let dir = scratch("get-a");
    let out = run(&server.url(), &dir, &["get", "pods", "-A"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        columns(lines[0]),
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "{out}"
    );
    assert_eq!(
        columns(lines[1])[..5],
        ["default", "web", "0/1", "Pending", "0"],
        "{out}"
    );
    assert_eq!(
        columns(lines[2])[..5],
        ["other", "db", "0/1", "Pending", "0"],
        "{out}"
    );
    let ns = run(&server.url(), &dir, &["get", "namespaces"]).await;
    assert_eq!(
        columns(ns.lines().next().unwrap()),
        ["NAME", "STATUS", "AGE"]
    );
    let cms = run(&server.url(), &dir, &["get", "configmaps", "-n", "default"]).await;
    assert!(cms.is_empty(), "no configmaps yet: {cms}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_apply_get_json_and_delete() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("crud");
    let manifest = dir.join("cm.json");
    let cm = |v: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "default"}, "data": {"a": v}});
    std::fs::write(&manifest, cm("1").to_string()).unwrap();
    let file = manifest.to_str().unwrap();
    let url = server.url();

    let dry = run(&url, &dir, &["create", "--dry-run=server", "-f", file]).await;
    assert_eq!(dry.trim(), "configmap/cfg created (server dry run)");
    assert_eq!(server.count("configmaps"), 0);
    let created = run(&url, &dir, &["create", "-f", file]).await;
    assert_eq!(created.trim(), "configmap/cfg created");
    std::fs::write(&manifest, cm("2").to_string()).unwrap();
    // kubectl-create owns data.a: taking it over needs --force-conflicts, as on a real server.
    let applied = run(
        &url,
        &dir,
        &["apply", "--server-side", "--force-conflicts", "-f", file],
    )
    .await;
    assert_eq!(applied.trim(), "configmap/cfg serverside-applied");
    assert_eq!(
        server
            .get("/api/v1/namespaces/default/configmaps/cfg")
            .unwrap()["data"]["a"],
        "2"
    );

    let got: Value = serde_json::from_str(
        &run(
            &url,
            &dir,
            &["get", "configmap", "cfg", "-n", "default", "-o", "json"],
        )
        .await,
    )
    .unwrap();
    assert_eq!(
        (got["kind"].clone(), got["data"]["a"].clone()),
        (json!("ConfigMap"), json!("2"))
    );

    // Server-side apply creates what does not exist yet.
    let pod_file = dir.join("pod.json");
    std::fs::write(&pod_file, pod("applied").to_string()).unwrap();
    let applied_pod = run(
        &url,
        &dir,
        &[
            "apply",
            "--server-side",
            "-n",
            "default",
            "-f",
            pod_file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(applied_pod.trim(), "pod/applied serverside-applied");

    let deleted = run(&url, &dir, &["delete", "configmap", "cfg", "-n", "default"]).await;
    assert_eq!(deleted.trim(), "configmap \"cfg\" deleted");
    let deleted_pod = run(&url, &dir, &["delete", "pod", "applied", "-n", "default"]).await;
    assert_eq!(deleted_pod.trim(), "pod \"applied\" deleted");
    assert_eq!(server.count("configmaps"), 0);
    assert_eq!(server.count("pods"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_watch_receives_live_events() {
    let server = TestServer::start().await.unwrap();
    server
        .create("/api/v1/namespaces/default/pods", pod("first"))
        .unwrap();
    let dir = scratch("watch");
    let mut child = kubectl(&server.url(), &dir, &["get", "pods", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || {
        tokio::time::timeout(STEP, lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    };
    assert_eq!(
        columns(&next().await),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    assert_eq!(columns(&next().await)[0], "first");
    // The watch is open once kubectl has printed the list; a new pod arrives as a live event.
    server
        .create("/api/v1/namespaces/default/pods", pod("second"))
        .unwrap();
    assert_eq!(columns(&next().await)[..3], ["second", "0/1", "Pending"]);
    let mut obj = server
        .get("/api/v1/namespaces/default/pods/second")
        .unwrap();
    obj["status"]["phase"] = json!("Running");
    obj["status"]["containerStatuses"] =
        json!([{"name": "main", "ready": true, "restartCount": 0, "state": {"running": {}}}]);
    server
        .update("/api/v1/namespaces/default/pods/second/status", obj)
        .unwrap();
    assert_eq!(columns(&next().await)[..3], ["second", "1/1", "Running"]);
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_trusts_the_handed_out_ca_and_sends_the_token() {
    let server = TestServer::builder()
        .tls(true)
        .bearer_token("s3cret")
        .start()
        .await
        .unwrap();
    server
        .create("/api/v1/namespaces/default/pods", pod("secure"))
        .unwrap();
    let dir = scratch("tls");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, server.ca_pem().unwrap()).unwrap();
    let ca = ca.to_str().unwrap();
    let out = run(
        &server.url(),
        &dir,
        &[
            "--certificate-authority",
            ca,
            "--token",
            "s3cret",
            "get",
            "pods",
            "-o",
            "name",
        ],
    )
    .await;
    assert_eq!(out.trim(), "pod/secure");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).unwrap();
    let via_kubeconfig = tokio::time::timeout(
        STEP,
        Command::new(kubectl_path())
            .args(["--kubeconfig", kubeconfig.to_str().unwrap(), "--cache-dir"])
            .arg(dir.join("cache"))
            .args(["get", "pods", "-o", "name"])
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        via_kubeconfig.status.success(),
        "{}",
        String::from_utf8_lossy(&via_kubeconfig.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&via_kubeconfig.stdout).trim(),
        "pod/secure"
    );
    let denied = kubectl(
        &server.url(),
        &dir,
        &[
            "--certificate-authority",
            ca,
            "--token",
            "wrong",
            "get",
            "pods",
        ],
    )
    .output()
    .await
    .unwrap();
    assert!(!denied.status.success());
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("Unauthorized"),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );
}

/// The testserver binary, running.
struct Binary {
    process: tokio::process::Child,
    url: String,
    /// Held open: the binary prints more after its banner, and a closed pipe would kill it.
    _stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

/// Starts the testserver binary on a free port.
async fn start_binary() -> Binary {
    let mut server = Command::new(env!("CARGO_BIN_EXE_testserver"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(STEP, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = first
        .strip_prefix("testserver listening on ")
        .unwrap_or_else(|| panic!("unexpected banner {first:?}"))
        .to_owned();
    Binary {
        process: server,
        url,
        _stdout: lines,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_kubectl() {
    let Binary {
        process: mut server,
        url,
        _stdout,
    } = start_binary().await;
    let dir = scratch("binary");
    let manifest = dir.join("pod.json");
    std::fs::write(&manifest, pod("from-file").to_string()).unwrap();
    run(
        &url,
        &dir,
        &["create", "-n", "default", "-f", manifest.to_str().unwrap()],
    )
    .await;
    let out = run(&url, &dir, &["get", "pods", "-A"]).await;
    assert!(
        out.lines()
            .nth(1)
            .is_some_and(|l| columns(l)[..2] == ["default", "from-file"]),
        "{out}"
    );
    server.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_label_and_client_side_apply_of_a_deployment() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("deploy");
    let manifest = dir.join("deploy.json");
    let deploy = |replicas: i64| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    };
    std::fs::write(&manifest, deploy(2).to_string()).unwrap();
    let file = manifest.to_str().unwrap();
    let url = server.url();
    assert_eq!(
        run(&url, &dir, &["apply", "-f", file]).await.trim(),
        "deployment.apps/web created"
    );
    std::fs::write(&manifest, deploy(4).to_string()).unwrap();
    assert_eq!(
        run(&url, &dir, &["apply", "-f", file]).await.trim(),
        "deployment.apps/web configured"
    );
    let path = "/apis/apps/v1/namespaces/default/deployments/web";
    assert_eq!(server.get(path).unwrap()["spec"]["replicas"], 4);
    assert_eq!(
        run(
            &url,
            &dir,
            &[
                "scale",
                "deployment",
                "web",
                "-n",
                "default",
                "--replicas=7"
            ]
        )
        .await
        .trim(),
        "deployment.apps/web scaled"
    );
    assert_eq!(server.get(path).unwrap()["spec"]["replicas"], 7);
    assert_eq!(
        server.get(path).unwrap()["metadata"]["generation"],
        3,
        "each spec change bumps generation"
    );
    run(
        &url,
        &dir,
        &["label", "deployment", "web", "-n", "default", "tier=front"],
    )
    .await;
    assert_eq!(
        server.get(path).unwrap()["metadata"]["labels"]["tier"],
        "front"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_a_crd_serves_its_resource() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("crd");
    let url = server.url();
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
    let crd_file = dir.join("crd.json");
    std::fs::write(&crd_file, crd.to_string()).unwrap();
    run(
        &url,
        &dir,
        &["apply", "--server-side", "-f", crd_file.to_str().unwrap()],
    )
    .await;
    run(
        &url,
        &dir,
        &[
            "wait",
            "--for=condition=Established",
            "crd/widgets.example.com",
            "--timeout=30s",
        ],
    )
    .await;
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1", "namespace": "default"}, "spec": {"size": 3}});
    let widget_file = dir.join("widget.json");
    std::fs::write(&widget_file, widget.to_string()).unwrap();
    let created = run(&url, &dir, &["create", "-f", widget_file.to_str().unwrap()]).await;
    assert_eq!(created.trim(), "widget.example.com/w1 created");
    let listed = run(
        &url,
        &dir,
        &["get", "widgets", "-n", "default", "-o", "name"],
    )
    .await;
    assert_eq!(listed.trim(), "widget.example.com/w1");
}

/// kubectl's generator commands send protobuf bodies (`Content-Type:
/// application/vnd.kubernetes.protobuf`, `fieldManager=kubectl-create&fieldValidation=Strict`)
/// and read protobuf answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_generators_send_protobuf_to_the_binary() {
    let Binary {
        process: mut server,
        url,
        _stdout,
    } = start_binary().await;
    let dir = scratch("generators");
    let created = [
        (
            &["create", "namespace", "demo"][..],
            "namespace/demo created",
        ),
        (
            &["create", "configmap", "cm1", "--from-literal=a=b"],
            "configmap/cm1 created",
        ),
        (
            &["create", "secret", "generic", "s1", "--from-literal=p=q"],
            "secret/s1 created",
        ),
        (
            &["create", "deployment", "web", "--image=nginx"],
            "deployment.apps/web created",
        ),
    ];
    for (args, want) in created {
        assert_eq!(run(&url, &dir, args).await.trim(), want, "kubectl {args:?}");
    }

    let ns = run(&url, &dir, &["get", "namespace", "demo"]).await;
    let lines: Vec<&str> = ns.lines().collect();
    assert_eq!(columns(lines[0]), ["NAME", "STATUS", "AGE"], "{ns}");
    assert_eq!(columns(lines[1])[..2], ["demo", "Active"], "{ns}");
    let listed = run(
        &url,
        &dir,
        &["get", "configmaps,secrets,deployments", "-o", "name"],
    )
    .await;
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        ["configmap/cm1", "secret/s1", "deployment.apps/web"],
        "{listed}"
    );
    let data = run(
        &url,
        &dir,
        &["get", "configmap", "cm1", "-o", "jsonpath={.data.a}"],
    )
    .await;
    assert_eq!(data, "b");
    let secret = run(
        &url,
        &dir,
        &["get", "secret", "s1", "-o", "jsonpath={.data.p}"],
    )
    .await;
    assert_eq!(secret, "cQ==", "base64 of \"q\"");
    let image = run(
        &url,
        &dir,
        &[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ],
    )
    .await;
    assert_eq!(image, "nginx");
    // Creating again is a conflict, reported from the protobuf Status.
    let again = kubectl(&url, &dir, &["create", "namespace", "demo"])
        .output()
        .await
        .unwrap();
    assert!(!again.status.success());
    assert_eq!(
        String::from_utf8_lossy(&again.stderr).trim(),
        "Error from server (AlreadyExists): namespaces \"demo\" already exists"
    );
    server.kill().await.unwrap();
}

/// A Deployment manifest as a user writes it, with `spec` lines spliced in.
fn deployment_yaml(spec_line: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  {spec_line}\n  \
         selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    \
         spec:\n      containers:\n      - name: c\n        image: nginx\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_apply_yaml_manifests_validate_against_the_openapi_schema() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("validate");
    let url = server.url();
    let cm = dir.join("cm.yaml");
    std::fs::write(
        &cm,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n",
    )
    .unwrap();
    let created = run(&url, &dir, &["create", "-f", cm.to_str().unwrap()]).await;
    assert_eq!(created.trim(), "configmap/settings created");

    let deploy = dir.join("deploy.yaml");
    std::fs::write(&deploy, deployment_yaml("replicas: 2")).unwrap();
    let file = deploy.to_str().unwrap();
    let applied = run(&url, &dir, &["apply", "-f", file]).await;
    assert_eq!(applied.trim(), "deployment.apps/web created");
    std::fs::write(&deploy, deployment_yaml("replicas: 3")).unwrap();
    let applied = run(&url, &dir, &["apply", "-f", file]).await;
    assert_eq!(applied.trim(), "deployment.apps/web configured");
    let path = "/apis/apps/v1/namespaces/default/deployments/web";
    assert_eq!(server.get(path).unwrap()["spec"]["replicas"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_of_a_typoed_field_fails_with_a_strict_decoding_error() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("typo");
    let url = server.url();
    let deploy = dir.join("deploy.yaml");
    std::fs::write(&deploy, deployment_yaml("replicass: 2")).unwrap();
    let file = deploy.to_str().unwrap();
    let err = run_failing(&url, &dir, &["apply", "-f", file]).await;
    assert_eq!(
        err.trim(),
        format!(
            "Error from server (BadRequest): error when creating \"{file}\": Deployment in version \
             \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \
             \"spec.replicass\""
        )
    );
    assert_eq!(server.count("deployments"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_prints_field_docs_from_openapi_v3() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("explain");
    let out = run(&server.url(), &dir, &["explain", "pods.spec.containers"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["KIND:       Pod", "VERSION:    v1"], "{out}");
    assert!(out.contains("FIELD: containers <[]Container>"), "{out}");
    assert!(out.contains("  image\t<string>"), "{out}");
    assert!(
        out.contains("List of containers belonging to the pod."),
        "{out}"
    );
}
