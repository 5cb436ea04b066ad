//! `fieldValidation` over HTTP, replayed from the recordings of a real kube-apiserver 1.32
//! (`tests/fixtures/kube-apiserver-1.32-field-validation/`): the status code, the `Warning`
//! headers byte for byte, and the `Status` message of a strict failure.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::PathBuf;

use http::Method;
use serde_json::{Value, json};
use testserver::TestServer;

const NS: &str = "fixtures2";

fn recorded(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kube-apiserver-1.32-field-validation")
        .join(format!("{name}.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Sends the recorded request (a string body as written, duplicates included); returns the
/// recorded response and ours.
async fn replay(name: &str) -> (Value, common::Resp) {
    let server = TestServer::start().await.unwrap();
    server.create_namespace(NS).unwrap();
    let doc = recorded(name);
    let req = &doc["request"];
    let body = match &req["body"] {
        Value::String(s) => s.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    };
    let resp = common::Client::new(&server)
        .request(
            Method::POST,
            req["path"].as_str().unwrap(),
            Some("application/json"),
            body,
        )
        .await;
    (doc["response"].clone(), resp)
}

fn warnings(resp: &common::Resp) -> Vec<String> {
    resp.headers
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

async fn assert_replays(name: &str) {
    let (want, ours) = replay(name).await;
    assert_eq!(
        u64::from(ours.status),
        want["status"].as_u64().unwrap(),
        "{name}"
    );
    let want_warnings: Vec<String> = want["headers"]["warning"]
        .as_str()
        .map(|w| vec![w.to_owned()])
        .unwrap_or_default();
    assert_eq!(warnings(&ours), want_warnings, "{name}");
    if want["body"]["kind"] == "Status" {
        assert_eq!(ours.json(), want["body"], "{name}");
    }
}

#[tokio::test]
async fn strict_rejects_an_unknown_field_with_the_recorded_status() {
    assert_replays("create-pod-field-validation-strict").await;
}

#[tokio::test]
async fn warn_accepts_an_unknown_field_with_a_299_warning() {
    assert_replays("create-pod-field-validation-warn").await;
}

#[tokio::test]
async fn no_parameter_warns_like_warn() {
    assert_replays("create-pod-field-validation-default").await;
}

#[tokio::test]
async fn ignore_accepts_an_unknown_field_silently() {
    assert_replays("create-pod-field-validation-ignore").await;
}

#[tokio::test]
async fn strict_rejects_a_duplicate_map_key_with_its_path() {
    assert_replays("create-configmap-duplicate-field-strict").await;
}

#[tokio::test]
async fn strict_lists_duplicate_and_unknown_fields_in_body_order() {
    let server = TestServer::start().await.unwrap();
    server.create_namespace(NS).unwrap();
    let body = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","name":"y"},"data":{},"foo":1}"#;
    let resp = common::Client::new(&server)
        .request(
            Method::POST,
            &format!("/api/v1/namespaces/{NS}/configmaps?fieldValidation=Strict"),
            Some("application/json"),
            body.to_vec(),
        )
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.json()["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: \
         duplicate field \"metadata.name\", unknown field \"foo\""
    );
}

#[tokio::test]
async fn warn_on_a_patch_sends_one_header_per_field() {
    let server = TestServer::start().await.unwrap();
    server.create_namespace(NS).unwrap();
    server
        .create(
            &format!("/api/v1/namespaces/{NS}/configmaps"),
            json!({"metadata": {"name": "c"}}),
        )
        .unwrap();
    let resp = common::Client::new(&server)
        .request(
            Method::PATCH,
            &format!("/api/v1/namespaces/{NS}/configmaps/c?fieldValidation=Warn"),
            Some("application/merge-patch+json"),
            br#"{"a":1,"metadata":{"b":2}}"#.to_vec(),
        )
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        warnings(&resp),
        vec![
            r#"299 - "unknown field \"a\"""#.to_owned(),
            r#"299 - "unknown field \"metadata.b\"""#.to_owned(),
        ]
    );
}

/// A ConfigMap `c` in [`NS`] holding `data.k: v`.
async fn server_with_configmap() -> TestServer {
    let server = TestServer::start().await.unwrap();
    server.create_namespace(NS).unwrap();
    server
        .create(
            &format!("/api/v1/namespaces/{NS}/configmaps"),
            json!({"metadata": {"name": "c"}, "data": {"k": "v"}}),
        )
        .unwrap();
    server
}

async fn patch_configmap(server: &TestServer, query: &str, ct: &str, body: &str) -> common::Resp {
    common::Client::new(server)
        .request(
            Method::PATCH,
            &format!("/api/v1/namespaces/{NS}/configmaps/c?{query}"),
            Some(ct),
            body.as_bytes().to_vec(),
        )
        .await
}

#[tokio::test]
async fn a_strict_merge_patch_is_checked_on_the_patched_object_with_a_422() {
    let server = server_with_configmap().await;
    let resp = patch_configmap(
        &server,
        "fieldValidation=Strict",
        "application/merge-patch+json",
        r#"{"zz":1,"a":1,"a":2}"#,
    )
    .await;
    assert_eq!(resp.status, 422, "{}", resp.json());
    let status = resp.json();
    assert_eq!(status["reason"], "Invalid");
    let message = status["message"].as_str().unwrap();
    // Go: the body's strict errors (duplicates) first, then the patched object's unknown
    // fields; the value is the patched object.
    assert!(
        message.starts_with(" \"\" is invalid: patch: Invalid value: \"{"),
        "{message}"
    );
    assert!(
        message.ends_with(
            ": strict decoding error: duplicate field \"a\", unknown field \"a\", unknown field \"zz\""
        ),
        "{message}"
    );
    assert_eq!(status["details"]["causes"][0]["field"], "patch");
    let stored = server
        .get(&format!("/api/v1/namespaces/{NS}/configmaps/c"))
        .unwrap();
    assert!(stored.get("zz").is_none(), "nothing was written: {stored}");
}

#[tokio::test]
async fn a_strict_strategic_merge_patch_names_the_patch_as_go_prints_a_map() {
    let server = server_with_configmap().await;
    let resp = patch_configmap(
        &server,
        "fieldValidation=Strict",
        "application/strategic-merge-patch+json",
        r#"{"data":{"k":"w"},"extra":{"x":1}}"#,
    )
    .await;
    assert_eq!(resp.status, 422, "{}", resp.json());
    assert_eq!(
        resp.json()["message"],
        " \"\" is invalid: patch: Invalid value: \"map[data:map[k:w] extra:map[x:1]]\": \
         strict decoding error: unknown field \"extra\""
    );
}

#[tokio::test]
async fn a_json_patch_adding_an_unknown_field_warns_and_the_field_is_not_stored() {
    let server = server_with_configmap().await;
    let resp = patch_configmap(
        &server,
        "fieldValidation=Warn",
        "application/json-patch+json",
        r#"[{"op":"add","path":"/spec","value":{"x":1}},{"op":"replace","path":"/data/k","value":"w"}]"#,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.json());
    assert_eq!(
        warnings(&resp),
        vec![r#"299 - "unknown field \"spec\"""#.to_owned()]
    );
    let stored = server
        .get(&format!("/api/v1/namespaces/{NS}/configmaps/c"))
        .unwrap();
    assert_eq!(stored["data"]["k"], "w");
    assert!(stored.get("spec").is_none(), "{stored}");
}
