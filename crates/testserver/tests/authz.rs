//! SelfSubjectAccessReview and SelfSubjectRulesReview against the recordings of
//! kube-apiserver 1.32 (`tests/fixtures/kube-apiserver-1.32-authz/`).

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::Client;
use serde_json::{Value, json};
use testserver::TestServer;

const TOKEN: &str = "admin-token";
const AUTHZ: &str = "/apis/authorization.k8s.io/v1";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/kube-apiserver-1.32-authz/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

async fn server() -> TestServer {
    TestServer::builder()
        .bearer_token(TOKEN)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn reviews_answer_as_the_recorded_server_for_the_admin_token() {
    let server = server().await;
    let c = Client::new(&server).token(TOKEN);
    for name in ["selfsubjectaccessreview", "selfsubjectrulesreview"] {
        let rec = fixture(name);
        let resp = c
            .post(
                rec["request"]["path"].as_str().unwrap(),
                &rec["request"]["body"],
            )
            .await;
        assert_eq!(resp.status, 201, "{name}");
        let mut got = resp.json();
        let mut want = rec["response"]["body"].clone();
        // managedFields are not maintained by this server.
        want["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        got["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        assert_eq!(got, want, "{name}");
    }
    // Nothing is stored, and only create is served.
    let resp = c.get(&format!("{AUTHZ}/selfsubjectaccessreviews")).await;
    assert_eq!(resp.status, 405);
    server.shutdown().await;
}

#[tokio::test]
async fn anonymous_reviews_are_forbidden_and_a_review_without_attributes_is_invalid() {
    let server = server().await;
    let body = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                      "spec": {}});
    let path = format!("{AUTHZ}/selfsubjectaccessreviews");
    let resp = Client::new(&server).post(&path, &body).await;
    assert_eq!(resp.status, 403);
    let resp = Client::new(&server).token(TOKEN).post(&path, &body).await;
    assert_eq!(resp.status, 422);
    assert_eq!(
        resp.json()["message"],
        "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn discovery_lists_the_reviews_as_create_only() {
    let server = server().await;
    let c = Client::new(&server).token(TOKEN);
    let doc = c.get(AUTHZ).await.json();
    let resources = doc["resources"].as_array().unwrap();
    for name in ["selfsubjectaccessreviews", "selfsubjectrulesreviews"] {
        let r = resources.iter().find(|r| r["name"] == name).unwrap();
        assert_eq!(r["verbs"], json!(["create"]));
        assert_eq!(r["namespaced"], false);
    }
    server.shutdown().await;
}
