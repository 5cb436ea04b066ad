//! kubectl 1.32 running the everyday commands a user types, against the in-process server:
//! `diff`/`delete -f`, `run`, the `get` output formats and selectors, `describe` (which reads
//! events by field selector), `label`/`annotate`/`patch`, discovery (`api-resources`,
//! `api-versions`, `version`), `get events` (core, and events.k8s.io `-o wide`), and `delete
//! namespace`. Validation stays on and each test checks what kubectl prints. Commands already exercised by `kubectl.rs`,
//! `kubectl_semantics.rs` and `kubectl_deploy.rs` are not repeated here.
//!
//! kubectl is found and run by `common::kubectl`; without it these tests fail saying so.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::kubectl::{columns, output, rows, run, scratch};
use serde_json::{Value, json};
use testserver::TestServer;

fn pod(name: &str, app: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": app}},
           "spec": {"containers": [{"name": "main", "image": "registry.example/demo:1.0"}]}})
}

/// Marks a stored pod Running with one ready container.
fn set_running(server: &TestServer, name: &str) {
    let path = format!("/api/v1/namespaces/default/pods/{name}");
    let mut obj = server.get(&path).unwrap();
    obj["status"]["phase"] = json!("Running");
    obj["status"]["podIP"] = json!("10.0.0.7");
    obj["status"]["containerStatuses"] = json!([{"name": "main", "ready": true, "restartCount": 0,
        "image": "registry.example/demo:1.0", "imageID": "", "state": {"running": {}}}]);
    server.update(&format!("{path}/status"), obj).unwrap();
}

fn event(name: &str, kind: &str, api_version: &str, object: &str, reason: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"kind": kind, "apiVersion": api_version, "name": object, "namespace": "default"},
        "reason": reason, "message": format!("{reason} happened to {object}"), "type": "Normal",
        "source": {"component": "tester"}, "count": 1,
        "firstTimestamp": "2024-01-01T00:00:00Z", "lastTimestamp": "2024-01-01T00:00:00Z"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_reports_changes_and_delete_from_a_file_removes_them() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("diff");
    let url = server.url();
    let manifest = dir.join("cm.yaml");
    let cm = |v: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: default\ndata:\n  a: \"{v}\"\n"
        )
    };
    std::fs::write(&manifest, cm("1")).unwrap();
    let file = manifest.to_str().unwrap();

    // Against nothing, diff shows the whole object as new and exits 1.
    let fresh = output(&url, &dir, &["diff", "-f", file]).await;
    let stdout = String::from_utf8_lossy(&fresh.stdout);
    assert_eq!(
        fresh.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    assert!(stdout.contains("+  a: \"1\""), "{stdout}");
    assert_eq!(
        server.count("configmaps"),
        0,
        "diff must not store anything"
    );

    let applied = run(&url, &dir, &["apply", "--server-side", "-f", file]).await;
    assert_eq!(applied.trim(), "configmap/cfg serverside-applied");

    let same = output(&url, &dir, &["diff", "-f", file]).await;
    assert_eq!(
        (
            same.status.code(),
            String::from_utf8_lossy(&same.stdout).into_owned()
        ),
        (Some(0), String::new()),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );

    std::fs::write(&manifest, cm("2")).unwrap();
    let changed = output(&url, &dir, &["diff", "-f", file]).await;
    let stdout = String::from_utf8_lossy(&changed.stdout);
    assert_eq!(
        changed.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&changed.stderr)
    );
    assert!(stdout.contains("-  a: \"1\""), "{stdout}");
    assert!(stdout.contains("+  a: \"2\""), "{stdout}");
    assert!(
        !stdout.contains("resourceVersion"),
        "a dry-run update keeps the stored resourceVersion: {stdout}"
    );
    let server_side = output(&url, &dir, &["diff", "--server-side", "-f", file]).await;
    let stdout = String::from_utf8_lossy(&server_side.stdout);
    assert_eq!(
        server_side.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&server_side.stderr)
    );
    assert!(
        stdout.contains("-  a: \"1\"") && stdout.contains("+  a: \"2\""),
        "{stdout}"
    );
    assert_eq!(
        server
            .get("/api/v1/namespaces/default/configmaps/cfg")
            .unwrap()["data"]["a"],
        "1",
        "diff is a dry run"
    );

    let deleted = run(&url, &dir, &["delete", "-f", file]).await;
    assert_eq!(deleted.trim(), "configmap \"cfg\" deleted");
    assert_eq!(server.count("configmaps"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_creates_a_pod_labelled_with_its_name() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("run");
    let url = server.url();
    let out = run(&url, &dir, &["run", "nginx", "--image=nginx"]).await;
    assert_eq!(out.trim(), "pod/nginx created");
    let got = run(&url, &dir, &["get", "pod", "nginx", "-o", "yaml"]).await;
    for line in [
        "kind: Pod",
        "    run: nginx",
        "  - image: nginx",
        "    name: nginx",
        "  namespace: default",
    ] {
        assert!(got.lines().any(|l| l == line), "missing {line:?} in\n{got}");
    }
    let table = run(&url, &dir, &["get", "pods"]).await;
    assert_eq!(rows(&table)[1][..3], ["nginx", "0/1", "Pending"], "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_output_formats_and_selectors() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("get");
    let url = server.url();
    for (name, app) in [("web-1", "web"), ("web-2", "web"), ("db-1", "db")] {
        server
            .create("/api/v1/namespaces/default/pods", pod(name, app))
            .unwrap();
    }
    set_running(&server, "web-2");
    server
        .create(
            "/api/v1/namespaces/default/configmaps",
            json!({"metadata": {"name": "settings"}, "data": {"k": "v"}}),
        )
        .unwrap();

    let names = run(
        &url,
        &dir,
        &["get", "pods", "-o", "jsonpath={.items[*].metadata.name}"],
    )
    .await;
    assert_eq!(names, "db-1 web-1 web-2");

    let yaml = run(&url, &dir, &["get", "pods", "-l", "app=db", "-o", "yaml"]).await;
    let lines: Vec<&str> = yaml.lines().collect();
    assert_eq!(lines[0], "apiVersion: v1", "{yaml}");
    assert!(lines.contains(&"kind: List"), "{yaml}");
    assert!(lines.contains(&"    name: db-1"), "{yaml}");
    assert!(!yaml.contains("web-1"), "{yaml}");

    let labelled = run(&url, &dir, &["get", "pods", "-l", "app=web"]).await;
    let table = rows(&labelled);
    assert_eq!(table.len(), 3, "{labelled}");
    assert_eq!(table[1][..3], ["web-1", "0/1", "Pending"], "{labelled}");
    assert_eq!(table[2][..3], ["web-2", "1/1", "Running"], "{labelled}");

    let by_name = run(
        &url,
        &dir,
        &[
            "get",
            "pods",
            "--field-selector",
            "metadata.name=web-1",
            "-o",
            "name",
        ],
    )
    .await;
    assert_eq!(by_name, "pod/web-1\n");
    let running = run(
        &url,
        &dir,
        &[
            "get",
            "pods",
            "--field-selector",
            "status.phase=Running",
            "-o",
            "name",
        ],
    )
    .await;
    assert_eq!(running, "pod/web-2\n");

    let wide = run(&url, &dir, &["get", "pods", "web-2", "-o", "wide"]).await;
    let table = rows(&wide);
    assert_eq!(
        table[0][..7],
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"],
        "{wide}"
    );
    assert_eq!(table[1][5], "10.0.0.7", "{wide}");

    let both = run(&url, &dir, &["get", "pods,cm"]).await;
    let table = rows(&both);
    assert_eq!(table[0][..3], ["NAME", "READY", "STATUS"], "{both}");
    assert_eq!(table[1][0], "pod/db-1", "{both}");
    assert!(table.contains(&vec!["NAME", "DATA", "AGE"]), "{both}");
    assert!(
        table.iter().any(|r| r[..2] == ["configmap/settings", "1"]),
        "{both}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_all_lists_pods_services_and_deployments() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("get-all");
    let url = server.url();
    server
        .create("/api/v1/namespaces/default/pods", pod("solo", "solo"))
        .unwrap();
    run(
        &url,
        &dir,
        &["create", "deployment", "web", "--image=nginx"],
    )
    .await;
    let all = run(&url, &dir, &["get", "all"]).await;
    let table = rows(&all);
    assert!(
        table
            .iter()
            .any(|r| r[..3] == ["pod/solo", "0/1", "Pending"]),
        "{all}"
    );
    assert!(table.iter().any(|r| r[0] == "deployment.apps/web"), "{all}");
    assert!(
        table.contains(&vec!["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]),
        "{all}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_pod_and_deployment_show_their_events() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("describe");
    let url = server.url();
    server
        .create("/api/v1/namespaces/default/pods", pod("web-1", "web"))
        .unwrap();
    run(
        &url,
        &dir,
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx",
            "--replicas=2",
        ],
    )
    .await;
    // describe asks for events by involvedObject name, namespace, kind and uid.
    let uid = |path: &str| server.get(path).unwrap()["metadata"]["uid"].clone();
    let pod_uid = uid("/api/v1/namespaces/default/pods/web-1");
    let deploy_uid = uid("/apis/apps/v1/namespaces/default/deployments/web");
    let with_uid = |mut ev: Value, uid: &Value| {
        ev["involvedObject"]["uid"] = uid.clone();
        ev
    };
    for ev in [
        with_uid(
            event("web-1.a", "Pod", "v1", "web-1", "Scheduled"),
            &pod_uid,
        ),
        with_uid(
            event("web.b", "Deployment", "apps/v1", "web", "ScalingReplicaSet"),
            &deploy_uid,
        ),
        with_uid(
            event("web-1.old", "Pod", "v1", "web-1", "Unrelated"),
            &json!("an-older-pod"),
        ),
    ] {
        server
            .create("/api/v1/namespaces/default/events", ev)
            .unwrap();
    }

    let out = run(&url, &dir, &["describe", "pod", "web-1"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(columns(lines[0]), ["Name:", "web-1"], "{out}");
    assert_eq!(columns(lines[1]), ["Namespace:", "default"], "{out}");
    assert!(
        lines
            .iter()
            .any(|l| columns(l) == ["Image:", "registry.example/demo:1.0"]),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| columns(l) == ["Labels:", "app=web"]),
        "{out}"
    );
    let events = out
        .split("Events:")
        .nth(1)
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        events.contains("Scheduled") && events.contains("Scheduled happened to web-1"),
        "{out}"
    );
    assert!(!events.contains("Unrelated"), "{out}");

    let out = run(&url, &dir, &["describe", "deployment", "web"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(columns(lines[0]), ["Name:", "web"], "{out}");
    assert!(
        lines
            .iter()
            .any(|l| columns(l).starts_with(&["Replicas:", "2", "desired"])),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| columns(l) == ["Image:", "nginx"]),
        "{out}"
    );
    let events = out
        .split("Events:")
        .nth(1)
        .unwrap_or_else(|| panic!("{out}"));
    assert!(events.contains("ScalingReplicaSet"), "{out}");
    assert!(!events.contains("Scheduled"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_annotate_and_patch_merge_and_json() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("label");
    let url = server.url();
    server
        .create("/api/v1/namespaces/default/pods", pod("web-1", "web"))
        .unwrap();
    let path = "/api/v1/namespaces/default/pods/web-1";

    assert_eq!(
        run(&url, &dir, &["label", "pod", "web-1", "tier=front"])
            .await
            .trim(),
        "pod/web-1 labeled"
    );
    let shown = run(
        &url,
        &dir,
        &["get", "pods", "-l", "tier=front", "--show-labels"],
    )
    .await;
    assert_eq!(
        rows(&shown)[1].last().copied(),
        Some("app=web,tier=front"),
        "{shown}"
    );
    assert_eq!(
        run(&url, &dir, &["label", "pod", "web-1", "tier-"])
            .await
            .trim(),
        "pod/web-1 unlabeled"
    );

    assert_eq!(
        run(&url, &dir, &["annotate", "pod", "web-1", "note=hello"])
            .await
            .trim(),
        "pod/web-1 annotated"
    );
    let note = run(
        &url,
        &dir,
        &[
            "get",
            "pod",
            "web-1",
            "-o",
            "jsonpath={.metadata.annotations.note}",
        ],
    )
    .await;
    assert_eq!(note, "hello");

    let merged = run(
        &url,
        &dir,
        &[
            "patch",
            "pod",
            "web-1",
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"labels":{"stage":"beta"}}}"#,
        ],
    )
    .await;
    assert_eq!(merged.trim(), "pod/web-1 patched");
    let json_patched = run(
        &url,
        &dir,
        &["patch", "pod", "web-1", "--type", "json", "-p", r#"[{"op":"replace","path":"/spec/containers/0/image","value":"registry.example/demo:2.0"}]"#],
    )
    .await;
    assert_eq!(json_patched.trim(), "pod/web-1 patched");
    let unchanged = run(
        &url,
        &dir,
        &[
            "patch",
            "pod",
            "web-1",
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"labels":{"stage":"beta"}}}"#,
        ],
    )
    .await;
    assert_eq!(unchanged.trim(), "pod/web-1 patched (no change)");
    let got = server.get(path).unwrap();
    assert_eq!(
        got["metadata"]["labels"],
        json!({"app": "web", "stage": "beta"})
    );
    assert_eq!(
        got["spec"]["containers"][0]["image"],
        "registry.example/demo:2.0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_commands_print_resources_versions_and_server_version() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("discovery");
    let url = server.url();
    let out = run(&url, &dir, &["api-resources"]).await;
    let table = rows(&out);
    assert_eq!(
        table[0],
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"],
        "{out}"
    );
    assert!(
        table.contains(&vec!["pods", "po", "v1", "true", "Pod"]),
        "{out}"
    );
    assert!(
        table.contains(&vec![
            "deployments",
            "deploy",
            "apps/v1",
            "true",
            "Deployment"
        ]),
        "{out}"
    );
    assert!(
        table.contains(&vec!["namespaces", "ns", "v1", "false", "Namespace"]),
        "{out}"
    );

    let out = run(&url, &dir, &["api-versions"]).await;
    let versions: Vec<&str> = out.lines().collect();
    for v in ["v1", "apps/v1", "coordination.k8s.io/v1"] {
        assert!(versions.contains(&v), "{v} missing from {out}");
    }

    let out = run(&url, &dir, &["auth", "can-i", "create", "deployments"]).await;
    assert_eq!(out, "yes\n");

    let out = run(&url, &dir, &["version"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("Client Version: v1.32"), "{out}");
    assert!(
        lines.iter().any(|l| l.starts_with("Server Version: v1.")),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_events_lists_a_core_event() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("events");
    let url = server.url();
    server
        .create(
            "/api/v1/namespaces/default/events",
            event("web-1.a", "Pod", "v1", "web-1", "Pulled"),
        )
        .unwrap();
    let out = run(&url, &dir, &["get", "events"]).await;
    let table = rows(&out);
    assert_eq!(
        table[0],
        ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        "{out}"
    );
    assert_eq!(
        table[1][1..],
        [
            "Normal",
            "Pulled",
            "pod/web-1",
            "Pulled",
            "happened",
            "to",
            "web-1"
        ],
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_events_k8s_io_wide_prints_the_core_event_columns() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("events-wide");
    let url = server.url();
    let mut ev = event("web-1.b", "Pod", "v1", "web-1", "Pulled");
    ev["involvedObject"]["fieldPath"] = json!("spec.containers{main}");
    ev["source"]["host"] = json!("node-1");
    ev["count"] = json!(3);
    server
        .create("/api/v1/namespaces/default/events", ev)
        .unwrap();
    let core = run(&url, &dir, &["get", "events", "-o", "wide"]).await;
    let out = run(&url, &dir, &["get", "events.events.k8s.io", "-o", "wide"]).await;
    assert_eq!(out, core);
    let table = rows(&out);
    assert_eq!(
        table[0],
        [
            "LAST",
            "SEEN",
            "TYPE",
            "REASON",
            "OBJECT",
            "SUBOBJECT",
            "SOURCE",
            "MESSAGE",
            "FIRST",
            "SEEN",
            "COUNT",
            "NAME"
        ],
        "{out}"
    );
    assert_eq!(
        table[1][1..],
        [
            "Normal",
            "Pulled",
            "pod/web-1",
            "spec.containers{main}",
            "tester,",
            "node-1",
            "Pulled",
            "happened",
            "to",
            "web-1",
            table[1][0],
            "3",
            "web-1.b"
        ],
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_namespace_prints_and_removes_it() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("delete-ns");
    let url = server.url();
    assert_eq!(
        run(&url, &dir, &["create", "namespace", "scratch"])
            .await
            .trim(),
        "namespace/scratch created"
    );
    run(
        &url,
        &dir,
        &[
            "create",
            "configmap",
            "inside",
            "-n",
            "scratch",
            "--from-literal=a=b",
        ],
    )
    .await;
    let out = run(&url, &dir, &["delete", "namespace", "scratch"]).await;
    assert_eq!(out.trim(), "namespace \"scratch\" deleted");
    let gone = output(&url, &dir, &["get", "namespace", "scratch"]).await;
    assert!(!gone.status.success());
    assert_eq!(
        String::from_utf8_lossy(&gone.stderr).trim(),
        "Error from server (NotFound): namespaces \"scratch\" not found"
    );
    assert_eq!(
        server.count("configmaps"),
        0,
        "the namespace's contents go with it"
    );
    let names = run(&url, &dir, &["get", "namespaces", "-o", "name"]).await;
    assert!(!names.contains("scratch"), "{names}");
}
