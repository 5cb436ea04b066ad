//! Status codes and `Status` bodies as kube-apiserver 1.32 answers them: `details.group` for
//! non-core resources, 422 for invalid list option combinations (`ValidateListOptions`), 400
//! for selectors that do not parse, 504 for a resourceVersion from the future. Recorded
//! answers are in `tests/fixtures/kube-apiserver-1.32-errors/`.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{Client, PODS};
use serde_json::{Value, json};
use testserver::TestServer;

fn recorded(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kube-apiserver-1.32-errors")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn not_found_names_the_group_of_a_non_core_resource() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let want = recorded("get-lease-not-found");
    let got = c
        .get("/apis/coordination.k8s.io/v1/namespaces/default/leases/nope")
        .await;
    assert_eq!(got.status, 404);
    assert_eq!(got.json(), want["response"]["body"]);
    // Core resources have no group in their details.
    let pod = c.get(&format!("{PODS}/nope")).await.json();
    assert_eq!(pod["details"], json!({"name": "nope", "kind": "pods"}));
}

#[tokio::test]
async fn conflicts_and_duplicates_of_non_core_resources_are_group_qualified() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
    let lease = json!({"metadata": {"name": "l"}, "spec": {}});
    assert_eq!(c.post(leases, &lease).await.status, 201);
    let dup = c.post(leases, &lease).await.json();
    assert_eq!(
        dup["message"],
        "leases.coordination.k8s.io \"l\" already exists"
    );
    assert_eq!(
        dup["details"],
        json!({"name": "l", "group": "coordination.k8s.io", "kind": "leases"})
    );
    let stale = json!({"metadata": {"name": "l", "resourceVersion": "1"}, "spec": {}});
    let conflict = c.put(&format!("{leases}/l"), &stale).await.json();
    assert_eq!(conflict["code"], 409);
    assert!(
        conflict["message"]
            .as_str()
            .unwrap()
            .starts_with("Operation cannot be fulfilled on leases.coordination.k8s.io \"l\"")
    );
    assert_eq!(conflict["details"]["group"], "coordination.k8s.io");
}

/// The 422 of `ValidateListOptions` for `query` on pods.
async fn list_options_error(c: &Client, query: &str) -> Value {
    let got = c.get(&format!("{PODS}?{query}")).await;
    assert_eq!(got.status, 422, "{query}: {:?}", got.json());
    got.json()
}

#[tokio::test]
async fn invalid_list_option_combinations_are_unprocessable() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let e = list_options_error(&c, "resourceVersionMatch=NotOlderThan").await;
    assert_eq!(
        e,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
            "reason": "Invalid",
            "details": {"group": "meta.k8s.io", "kind": "ListOptions", "causes": [{"reason": "FieldValueForbidden",
                "message": "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                "field": "resourceVersionMatch"}]},
            "code": 422})
    );
    let e = list_options_error(&c, "resourceVersion=0&resourceVersionMatch=Exact").await;
    assert_eq!(e["details"]["causes"][0]["field"], "resourceVersionMatch");
    let page = c.get(&format!("{PODS}?limit=1")).await;
    assert_eq!(page.status, 200);
    let e = list_options_error(
        &c,
        "resourceVersion=1&resourceVersionMatch=Exact&continue=x",
    )
    .await;
    assert_eq!(
        e["details"]["causes"][0]["message"],
        "Forbidden: resourceVersionMatch is forbidden when continue is provided"
    );
    let e = list_options_error(&c, "resourceVersion=1&resourceVersionMatch=Latest").await;
    assert_eq!(
        e["details"]["causes"][0]["reason"],
        "FieldValueNotSupported"
    );
    let e = list_options_error(&c, "sendInitialEvents=true").await;
    assert_eq!(
        e["details"]["causes"][0]["message"],
        "Forbidden: sendInitialEvents is forbidden for list"
    );
    // Watches: resourceVersionMatch needs sendInitialEvents, which needs NotOlderThan.
    let e = list_options_error(&c, "watch=1&resourceVersionMatch=NotOlderThan").await;
    assert_eq!(
        e["details"]["causes"][0]["message"],
        "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"
    );
    let e = list_options_error(&c, "watch=1&sendInitialEvents=true").await;
    assert_eq!(
        e["details"]["causes"][0]["message"],
        "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
    );
    // DELETECOLLECTION validates the same options.
    let dc = c
        .request(
            http::Method::DELETE,
            &format!("{PODS}?sendInitialEvents=true"),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(dc.status, 422);
}

#[tokio::test]
async fn a_watch_list_without_bookmarks_sends_initial_events_without_the_end_marker() {
    let server = TestServer::start().await.unwrap();
    server.create(PODS, common::pod("p", json!({}))).unwrap();
    let c = Client::new(&server);
    let mut w = c
        .watch(&format!(
            "{PODS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1"
        ))
        .await;
    assert_eq!(w.status, 200);
    assert_eq!(w.next_summary().await, ("ADDED".into(), "p".into()));
    assert!(matches!(w.next_line().await, common::Line::End));
}

#[tokio::test]
async fn a_label_selector_that_does_not_parse_is_a_bad_request() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let want = recorded("list-pods-bad-label-selector");
    let got = c.get(&format!("{PODS}?labelSelector=a%20in%20%28b")).await;
    assert_eq!(got.status, 400);
    assert_eq!(got.json(), want["response"]["body"]);
}

#[tokio::test]
async fn a_list_at_a_future_resource_version_times_out_with_retry_after() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let want = recorded("list-pods-rv-too-large");
    let got = c
        .get(&format!(
            "{PODS}?resourceVersion=999999999&resourceVersionMatch=NotOlderThan"
        ))
        .await;
    assert_eq!(got.status, 504);
    assert_eq!(got.header("retry-after").as_deref(), Some("1"));
    let mut body = got.json();
    body["message"] = want["response"]["body"]["message"].clone();
    assert_eq!(body, want["response"]["body"]);
}
