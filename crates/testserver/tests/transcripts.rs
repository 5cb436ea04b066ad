//! Replays every recorded kube-apiserver 1.32 transcript in `tests/fixtures/kube-apiserver-1.32/`
//! against a server seeded with equivalent state, and compares what a client can rely on:
//! status code, content type, `Retry-After`, object kinds, `Status` reason/code/details, the
//! set of fields present (two levels deep) and, for watches, the sequence of event types and
//! object kinds. uids, timestamps and resourceVersion values differ by design.
//!
//! Known, documented differences that the comparison ignores: `metadata.managedFields` (kept, but
//! their times and the recording's writers differ), Table columns of priority 1 (not printed by default), and periodic BOOKMARKs
//! (the interval differs; a recorded bookmark must still be matched by at least one).

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use common::{Client, Line};
use http::Method;
use serde_json::{Value, json};
use testserver::TestServer;

const TOKEN: &str = "fixture-token";
const NS_PODS: &str = "/api/v1/namespaces/fixtures/pods";
const IGNORED_FIELDS: &[&str] = &["managedFields"];

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/kube-apiserver-1.32")
}

fn load() -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (name, doc)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn pod(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
           "spec": {"containers": [{"name": "main", "image": "registry.example/demo:1.0"}]}})
}

/// The state the recordings were made in: namespace `fixtures` with `gen-qcncr`, `web-1`
/// (app=demo, tier=frontend) and `web-2`..`web-7` (app=demo, idx=i%3).
async fn seeded_server(name: &str) -> TestServer {
    let server = TestServer::builder()
        .bearer_token(TOKEN)
        .bookmark_interval(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    server.create_namespace("fixtures").unwrap();
    let mut generated = pod("gen-qcncr", json!({}));
    generated["metadata"] = json!({"name": "gen-qcncr", "generateName": "gen-"});
    server.create(NS_PODS, generated).unwrap();
    let mut web1 = pod("web-1", json!({"app": "demo", "tier": "frontend"}));
    // Recorded after the JSON patch fixture had annotated web-1.
    if name.starts_with("watch-") || name == "patch-pod-strategic" || name == "patch-pod-apply" {
        web1["metadata"]["annotations"] = json!({"note": "json-patch"});
    }
    server.create(NS_PODS, web1).unwrap();
    for i in 2..=7 {
        server
            .create(
                NS_PODS,
                pod(
                    &format!("web-{i}"),
                    json!({"app": "demo", "idx": (i % 3).to_string()}),
                ),
            )
            .unwrap();
    }
    if name == "delete-pod-not-found" {
        server.delete(&format!("{NS_PODS}/web-3")).unwrap();
    }
    if name == "delete-configmap-with-finalizer" {
        server
            .create("/api/v1/namespaces/fixtures/configmaps", json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}, "data": {"k": "v"}}))
            .unwrap();
    }
    server
}

fn set_query(path: &str, key: &str, value: &str) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.split('=').next() == Some(key) {
                format!("{key}={value}")
            } else {
                p.to_owned()
            }
        })
        .collect();
    format!("{base}?{}", params.join("&"))
}

/// Adapts the recorded request to this server's state (tokens, resourceVersions).
async fn prepare(
    name: &str,
    server: &TestServer,
    client: &Client,
    request: &Value,
) -> (String, Option<Value>) {
    let mut path = request["path"].as_str().unwrap().to_owned();
    let mut body = request.get("body").filter(|b| !b.is_null()).cloned();
    let method = request["method"].as_str().unwrap();
    if method == "POST"
        && name != "create-pod-already-exists"
        && let Some(n) = body.as_ref().and_then(|b| b["metadata"]["name"].as_str())
    {
        let _ = server.delete(&format!("{}/{n}", path.split('?').next().unwrap()));
    }
    if name.starts_with("list-pods-continue") {
        let first = client.get(&format!("{NS_PODS}?limit=3")).await.json();
        let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
        path = set_query(&path, "continue", &token);
        if name == "list-pods-continue-expired" {
            // Compaction past the token's snapshot: a write, then compact.
            server
                .create(
                    "/api/v1/namespaces/fixtures/configmaps",
                    json!({"metadata": {"name": "later"}}),
                )
                .unwrap();
            server.faults().compact();
        }
    }
    if name == "update-pod" {
        let current = server.get(&format!("{NS_PODS}/web-1")).unwrap();
        body.as_mut().unwrap()["metadata"]["resourceVersion"] =
            current["metadata"]["resourceVersion"].clone();
    }
    if path.contains("resourceVersion=205") {
        path = set_query(&path, "resourceVersion", &server.resource_version());
    }
    (path, body)
}

/// The writes the recorded watches observed.
fn act_during_watch(name: &str, server: &TestServer) {
    if name != "watch-pods-from-list-rv" && name != "watch-pods-label-selector" {
        return;
    }
    let path = format!("{NS_PODS}/watched");
    server
        .create(NS_PODS, pod("watched", json!({"app": "demo"})))
        .unwrap();
    let mut obj = server.get(&path).unwrap();
    obj["metadata"]["labels"]["step"] = json!("2");
    server.update(&path, obj).unwrap();
    // A pod delete is MODIFIED (deletionTimestamp) then DELETED.
    server.delete(&path).unwrap();
    if name == "watch-pods-label-selector" {
        let p = format!("{NS_PODS}/web-2");
        let mut w = server.get(&p).unwrap();
        w["metadata"]["labels"]["app"] = json!("other");
        server.update(&p, w).unwrap();
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| {
            m.keys()
                .filter(|k| !IGNORED_FIELDS.contains(&k.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Compares the field sets of two documents, `depth` levels deep.
fn shape(recorded: &Value, ours: &Value, at: &str, depth: usize, diffs: &mut Vec<String>) {
    let (a, b) = (keys(recorded), keys(ours));
    if a != b {
        diffs.push(format!(
            "{at}: fields differ: missing {:?}, extra {:?}",
            a.difference(&b).collect::<Vec<_>>(),
            b.difference(&a).collect::<Vec<_>>()
        ));
    }
    if depth == 0 {
        return;
    }
    for k in a.intersection(&b) {
        let (x, y) = (&recorded[k], &ours[k]);
        if x.is_object() && y.is_object() && k != "labels" && k != "annotations" && k != "data" {
            shape(x, y, &format!("{at}.{k}"), depth - 1, diffs);
        }
    }
}

fn compare_body(recorded: &Value, ours: &Value, diffs: &mut Vec<String>) {
    if recorded.get("kind") != ours.get("kind") {
        diffs.push(format!(
            "kind: recorded {} ours {}",
            recorded["kind"], ours["kind"]
        ));
        return;
    }
    match recorded["kind"].as_str() {
        Some("Status") => {
            for f in ["status", "reason", "code"] {
                if recorded[f] != ours[f] {
                    diffs.push(format!(
                        "Status.{f}: recorded {} ours {}",
                        recorded[f], ours[f]
                    ));
                }
            }
            shape(recorded, ours, "Status", 1, diffs);
            let causes = |v: &Value| -> Vec<Value> {
                v["details"]["causes"]
                    .as_array()
                    .map(|c| c.iter().map(|c| c["reason"].clone()).collect())
                    .unwrap_or_default()
            };
            if causes(recorded) != causes(ours) {
                diffs.push(format!(
                    "causes: recorded {:?} ours {:?}",
                    causes(recorded),
                    causes(ours)
                ));
            }
        }
        Some("Table") => {
            shape(recorded, ours, "Table", 1, diffs);
            let first_row = |v: &Value| v["rows"][0].clone();
            shape(
                &first_row(recorded),
                &first_row(ours),
                "Table.rows[0]",
                1,
                diffs,
            );
            let names = |v: &Value| -> Vec<Value> {
                v["columnDefinitions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|c| c["priority"] == 0)
                    .map(|c| c["name"].clone())
                    .collect()
            };
            if names(recorded) != names(ours) {
                diffs.push(format!(
                    "columns: recorded {:?} ours {:?}",
                    names(recorded),
                    names(ours)
                ));
            }
        }
        _ => {
            shape(recorded, ours, "body", 2, diffs);
            if let (Some(a), Some(b)) = (recorded["items"].as_array(), ours["items"].as_array()) {
                if a.len() != b.len() {
                    diffs.push(format!("items: recorded {} ours {}", a.len(), b.len()));
                }
                if let (Some(x), Some(y)) = (a.first(), b.first()) {
                    shape(x, y, "items[0]", 2, diffs);
                }
            }
        }
    }
}

fn parse_stream(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn is_plain_bookmark(ev: &Value) -> bool {
    ev["type"] == "BOOKMARK"
        && ev["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"].is_null()
}

fn compare_stream(recorded: &[Value], ours: &[Value], diffs: &mut Vec<String>) {
    let summary = |evs: &[Value]| -> Vec<(Value, Value)> {
        evs.iter()
            .filter(|e| !is_plain_bookmark(e))
            .map(|e| (e["type"].clone(), e["object"]["kind"].clone()))
            .collect()
    };
    if summary(recorded) != summary(ours) {
        diffs.push(format!(
            "events: recorded {:?}\n  ours {:?}",
            summary(recorded),
            summary(ours)
        ));
    }
    if recorded.iter().any(is_plain_bookmark) && !ours.iter().any(is_plain_bookmark) {
        diffs.push("the recording has a BOOKMARK, ours has none".into());
    }
    for (i, (a, b)) in recorded.iter().zip(ours).enumerate() {
        if a["type"] == b["type"] {
            shape(
                &a["object"],
                &b["object"],
                &format!("event[{i}].object"),
                2,
                diffs,
            );
        }
    }
}

async fn replay(name: &str, doc: &Value) -> Vec<String> {
    let server = seeded_server(name).await;
    let token = if name == "unauthorized-bad-token" {
        "wrong-token"
    } else {
        TOKEN
    };
    let mut client = Client::new(&server).token(token);
    let request = &doc["request"];
    let want = &doc["response"];
    let headers = request["headers"].as_object().cloned().unwrap_or_default();
    client.accept = headers
        .get("Accept")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let setup_client = Client::new(&server).token(TOKEN);
    let (path, body) = prepare(name, &server, &setup_client, request).await;
    let method: Method = request["method"].as_str().unwrap().parse().unwrap();
    let content_type = headers.get("Content-Type").and_then(Value::as_str);
    let mut diffs = Vec::new();
    if let Some(stream) = want.get("stream").and_then(Value::as_str) {
        let mut w = client.watch(&path).await;
        if w.status != want["status"] {
            diffs.push(format!(
                "status: recorded {} ours {}",
                want["status"], w.status
            ));
        }
        act_during_watch(name, &server);
        let mut ours = Vec::new();
        loop {
            match w.next_line().await {
                Line::Event(ev) => ours.push(ev),
                Line::End => break,
                other => {
                    diffs.push(format!("stream broke: {other:?}"));
                    break;
                }
            }
        }
        compare_stream(&parse_stream(stream), &ours, &mut diffs);
        return diffs;
    }
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let resp = client.request(method, &path, content_type, bytes).await;
    if resp.status != want["status"] {
        diffs.push(format!(
            "status: recorded {} ours {} ({})",
            want["status"],
            resp.status,
            String::from_utf8_lossy(&resp.body)
        ));
        return diffs;
    }
    let want_ct = want["headers"]["content-type"].as_str();
    if resp.header("content-type").as_deref() != want_ct {
        diffs.push(format!(
            "content-type: recorded {want_ct:?} ours {:?}",
            resp.header("content-type")
        ));
    }
    let want_retry = want["headers"]["retry-after"].as_str();
    if resp.header("retry-after").as_deref() != want_retry {
        diffs.push(format!(
            "retry-after: recorded {want_retry:?} ours {:?}",
            resp.header("retry-after")
        ));
    }
    compare_body(&want["body"], &resp.json(), &mut diffs);
    diffs
}

#[tokio::test(start_paused = true)]
async fn every_recorded_transcript_replays_with_the_same_shape() {
    let fixtures = load();
    assert_eq!(
        fixtures.len(),
        49,
        "expected the 49 recorded transcripts in {:?}",
        fixtures_dir()
    );
    let mut failures = Vec::new();
    for (name, doc) in &fixtures {
        let diffs = replay(name, doc).await;
        if !diffs.is_empty() {
            failures.push(format!("{name}:\n  {}", diffs.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} transcript(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
