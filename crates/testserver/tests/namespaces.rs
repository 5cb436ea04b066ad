//! Namespace deletion as kube-apiserver 1.32 does it (`tests/fixtures/
//! kube-apiserver-1.32-namespaces/`): phase Terminating, contents deleted by the namespace
//! finalizer, creates into it refused, then the namespace goes.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::Client;
use serde_json::{Value, json};
use testserver::TestServer;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/kube-apiserver-1.32-namespaces/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

#[tokio::test]
async fn deleting_a_namespace_terminates_it_then_removes_it_after_its_contents() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    server.create_namespace("fixtures2").unwrap();
    let cms = "/api/v1/namespaces/fixtures2/configmaps";
    server
        .create(cms, json!({"metadata": {"name": "plain"}}))
        .unwrap();
    server
        .create(
            cms,
            json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}),
        )
        .unwrap();
    let rv = server.resource_version();
    let mut watch = c
        .watch(&format!("/api/v1/namespaces?watch=1&resourceVersion={rv}"))
        .await;

    let resp = c.delete("/api/v1/namespaces/fixtures2").await;
    assert_eq!(resp.status, 200);
    let ns = resp.json();
    let want = fixture("delete-namespace")["response"]["body"].clone();
    assert_eq!(ns["kind"], want["kind"]);
    assert_eq!(ns["spec"], want["spec"]);
    assert_eq!(ns["status"], want["status"]);
    assert!(ns["metadata"]["deletionTimestamp"].is_string());

    // The plain object is gone; the one with a finalizer waits with a deletionTimestamp.
    assert_eq!(c.get(&format!("{cms}/plain")).await.status, 404);
    let held = c.get(&format!("{cms}/held")).await.json();
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    let got = c.get("/api/v1/namespaces/fixtures2").await.json();
    assert_eq!(got["status"]["phase"], "Terminating");

    let rec = fixture("create-in-terminating-namespace");
    let resp = c.post(cms, &rec["request"]["body"]).await;
    assert_eq!(resp.status, 403);
    let mut status = resp.json();
    let mut want = rec["response"]["body"].clone();
    for s in [&mut status, &mut want] {
        s.as_object_mut().unwrap().remove("metadata");
    }
    assert_eq!(status, want);

    // Dropping the last finalizer lets the namespace finish.
    let mut held = held;
    held["metadata"]["finalizers"] = json!([]);
    assert_eq!(c.put(&format!("{cms}/held"), &held).await.status, 200);
    assert_eq!(c.get("/api/v1/namespaces/fixtures2").await.status, 404);

    let mut seen = Vec::new();
    while seen.len() < 2 {
        let e = watch.next_non_bookmark().await;
        seen.push((
            e["type"].as_str().unwrap().to_owned(),
            e["object"]["status"]["phase"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ));
    }
    assert_eq!(
        seen,
        [
            ("MODIFIED".to_owned(), "Terminating".to_owned()),
            ("DELETED".to_owned(), "Terminating".to_owned())
        ]
    );
    server.shutdown().await;
}
