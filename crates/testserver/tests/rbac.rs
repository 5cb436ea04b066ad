//! ServiceAccounts and the RBAC resources (roles, rolebindings, clusterroles,
//! clusterrolebindings) are stored, listed, discovered and spoken in protobuf like the other
//! built-ins; `dryRun` is validated and a dry run stores nothing.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use apimachinery::runtime::protobuf::decode_envelope;
use common::Client;
use serde_json::json;
use testserver::TestServer;

const PB: &str = "application/vnd.kubernetes.protobuf";

fn cluster_role(name: &str) -> serde_json::Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
           "metadata": {"name": name},
           "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]}]})
}

#[tokio::test]
async fn serviceaccounts_and_rbac_objects_round_trip_and_are_discovered() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "ctl"}});
    assert_eq!(
        c.post("/api/v1/namespaces/default/serviceaccounts", &sa)
            .await
            .status,
        201
    );
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "le"},
        "rules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get"]}]});
    let rbac = "/apis/rbac.authorization.k8s.io/v1";
    let resp = c
        .post(&format!("{rbac}/namespaces/default/roles"), &role)
        .await;
    assert_eq!(resp.status, 201, "{}", String::from_utf8_lossy(&resp.body));
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "le"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "le"},
        "subjects": [{"kind": "ServiceAccount", "name": "ctl", "namespace": "default"}]});
    let path = format!("{rbac}/namespaces/default/rolebindings");
    assert_eq!(c.post(&path, &binding).await.status, 201);
    let path = format!("{rbac}/clusterroles");
    assert_eq!(c.post(&path, &cluster_role("reader")).await.status, 201);
    let crb = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "reader"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "ctl", "namespace": "default"}]});
    let path = format!("{rbac}/clusterrolebindings");
    assert_eq!(c.post(&path, &crb).await.status, 201);

    let got = c.get(&format!("{rbac}/clusterroles/reader")).await.json();
    assert_eq!(got["rules"][0]["verbs"], json!(["list", "watch"]));
    let list = c.get(&format!("{rbac}/rolebindings")).await.json();
    assert_eq!(list["kind"], "RoleBindingList");
    assert_eq!(list["items"][0]["roleRef"]["name"], "le");
    let list = c.get("/api/v1/serviceaccounts").await.json();
    assert_eq!(list["items"][0]["metadata"]["namespace"], "default");

    let core = c.get("/api/v1").await.json();
    let sa = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "serviceaccounts")
        .cloned()
        .unwrap();
    assert_eq!(sa["shortNames"], json!(["sa"]));
    assert_eq!(sa["namespaced"], true);
    let doc = c.get(rbac).await.json();
    let scoped: Vec<(String, bool)> = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["namespaced"] == true,
            )
        })
        .collect();
    for expected in [
        ("roles", true),
        ("rolebindings", true),
        ("clusterroles", false),
        ("clusterrolebindings", false),
    ] {
        assert!(
            scoped.contains(&(expected.0.to_owned(), expected.1)),
            "{scoped:?}"
        );
    }
    let groups = c.get("/apis").await.json();
    assert!(
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "rbac.authorization.k8s.io")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn rbac_objects_are_served_in_protobuf() {
    let server = TestServer::start().await.unwrap();
    server
        .create(
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            cluster_role("reader"),
        )
        .unwrap();
    let mut c = Client::new(&server);
    c.accept = Some(PB.to_owned());
    let resp = c
        .get("/apis/rbac.authorization.k8s.io/v1/clusterroles/reader")
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type").as_deref(), Some(PB));
    let u = decode_envelope(&resp.body).unwrap();
    assert_eq!(
        (u.api_version, u.kind),
        ("rbac.authorization.k8s.io/v1", "ClusterRole")
    );
    let json = api::scheme::protobuf_to_json(u.api_version, u.kind, u.raw)
        .unwrap()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["rules"][0]["resources"], json!(["pods"]));
    let resp = c.get("/api/v1/namespaces/default/serviceaccounts").await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        decode_envelope(&resp.body).unwrap().kind,
        "ServiceAccountList"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_dry_run_create_update_patch_and_delete_store_nothing() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let roles = "/apis/rbac.authorization.k8s.io/v1/clusterroles";
    let rv = server.resource_version();
    let mut watch = c
        .watch(&format!("{roles}?watch=1&resourceVersion={rv}"))
        .await;
    let resp = c
        .post(&format!("{roles}?dryRun=All"), &cluster_role("dry"))
        .await;
    assert_eq!(resp.status, 201);
    assert_eq!(resp.json()["metadata"]["name"], "dry");
    assert_eq!(c.get(&format!("{roles}/dry")).await.status, 404);

    server.create(roles, cluster_role("kept")).unwrap();
    let mut changed = cluster_role("kept");
    changed["rules"][0]["verbs"] = json!(["get"]);
    let resp = c.put(&format!("{roles}/kept?dryRun=All"), &changed).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["rules"][0]["verbs"], json!(["get"]));
    let patch = json!({"metadata": {"labels": {"a": "b"}}});
    let resp = c
        .patch(
            &format!("{roles}/kept?dryRun=All"),
            "application/merge-patch+json",
            &patch,
        )
        .await;
    assert_eq!(resp.json()["metadata"]["labels"]["a"], "b");
    assert_eq!(
        c.delete(&format!("{roles}/kept?dryRun=All")).await.status,
        200
    );
    let stored = c.get(&format!("{roles}/kept")).await.json();
    assert_eq!(stored["rules"][0]["verbs"], json!(["list", "watch"]));
    assert!(stored["metadata"].get("labels").is_none());
    assert_eq!(
        server.resource_version(),
        stored["metadata"]["resourceVersion"]
    );
    // Watchers saw only the real create, not one of the dry runs.
    server.create(roles, cluster_role("last")).unwrap();
    let seen = [watch.next_summary().await, watch.next_summary().await];
    assert_eq!(
        seen,
        [
            ("ADDED".to_owned(), "kept".to_owned()),
            ("ADDED".to_owned(), "last".to_owned())
        ]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_dry_run_value_other_than_all_is_invalid_options() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let roles = "/apis/rbac.authorization.k8s.io/v1/clusterroles";
    let resp = c
        .post(&format!("{roles}?dryRun=Foo"), &cluster_role("x"))
        .await;
    assert_eq!(resp.status, 422);
    let status = resp.json();
    assert_eq!(
        status["message"],
        "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"Foo\"}: supported values: \"All\""
    );
    assert_eq!(status["details"]["kind"], "CreateOptions");
    assert_eq!(status["details"]["group"], "meta.k8s.io");
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "FieldValueNotSupported"
    );
    assert_eq!(c.get(&format!("{roles}/x")).await.status, 404);
    server.create(roles, cluster_role("y")).unwrap();
    let resp = c.delete(&format!("{roles}/y?dryRun=Foo")).await;
    assert_eq!(resp.status, 422);
    assert!(
        resp.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("DeleteOptions.meta.k8s.io \"\" is invalid: dryRun")
    );
    let resp = c
        .patch(
            &format!("{roles}/y?dryRun=All&dryRun=Foo"),
            "application/merge-patch+json",
            &json!({}),
        )
        .await;
    assert_eq!(resp.status, 422);
    assert!(
        resp.json()["message"]
            .as_str()
            .unwrap()
            .contains("[]string{\"All\", \"Foo\"}")
    );
    assert_eq!(c.get(&format!("{roles}/y")).await.status, 200);
    server.shutdown().await;
}
