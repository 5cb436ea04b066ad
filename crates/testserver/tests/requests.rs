//! `TestServer::requests`: every resource request in order, with the fields of
//! kube-apiserver's `RequestInfo`.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::Client;
use serde_json::json;
use testserver::{FaultMatch, RequestInfo, TestServer, Verb};

fn info(verb: Verb, group: &str, resource: &str, sub: &str, ns: &str, name: &str) -> RequestInfo {
    RequestInfo {
        verb,
        api_group: group.into(),
        api_version: "v1".into(),
        resource: resource.into(),
        subresource: sub.into(),
        namespace: ns.into(),
        name: name.into(),
    }
}

#[tokio::test]
async fn requests_are_logged_in_order_as_request_info() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let _ = c.get("/api/v1").await; // discovery is not a resource request
    let _ = c.get("/api/v1/namespaces/default").await;
    let _ = c
        .get("/api/v1/pods?fieldSelector=metadata.name%3Dweb&watch=true&timeoutSeconds=1")
        .await;
    let _ = c
        .get("/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dn")
        .await;
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                       "metadata": {"name": "l"}, "spec": {"holderIdentity": "a"}});
    let leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
    let _ = c.post(leases, &lease).await;
    let _ = c.get(&format!("{leases}/l")).await;
    let _ = c.put(&format!("{leases}/l"), &lease).await;
    let pod =
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}});
    server
        .create("/api/v1/namespaces/default/pods", pod)
        .unwrap();
    let _ = c
        .patch(
            "/api/v1/namespaces/default/pods/p/status",
            "application/merge-patch+json",
            &json!({"status": {"phase": "Running"}}),
        )
        .await;
    server.faults().fail_next(
        1,
        FaultMatch::verb(Verb::Delete).resource("leases"),
        500,
        None,
    );
    let _ = c.delete(&format!("{leases}/l")).await;
    let _ = c.delete(leases).await;
    let _ = c
        .get("/api/v1/watch/namespaces/default/pods/p?timeoutSeconds=1")
        .await;

    let coord = "coordination.k8s.io";
    assert_eq!(
        server.requests(),
        [
            info(Verb::Get, "", "namespaces", "", "default", "default"),
            info(Verb::Watch, "", "pods", "", "", "web"),
            info(Verb::List, "", "pods", "", "default", ""),
            info(Verb::Create, coord, "leases", "", "default", ""),
            info(Verb::Get, coord, "leases", "", "default", "l"),
            info(Verb::Update, coord, "leases", "", "default", "l"),
            info(Verb::Patch, "", "pods", "status", "default", "p"),
            info(Verb::Delete, coord, "leases", "", "default", "l"),
            info(Verb::DeleteCollection, coord, "leases", "", "default", ""),
            info(Verb::Watch, "", "pods", "", "default", "p"),
        ]
    );
    server.reset_request_counts();
    assert!(server.requests().is_empty());
    server.shutdown().await;
}
