//! Server-side printing (`as=Table`) against the `list-*-table` recordings of a real
//! kube-apiserver 1.32 (`tests/fixtures/kube-apiserver-1.32-tables/`): for each resource, an
//! object like the first recorded row's is stored, and the Table must have the recorded column
//! definitions (names, types, priorities, descriptions) and the recorded cells, ages aside.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::PathBuf;

use serde_json::{Value, json};
use testserver::TestServer;

const NS: &str = "fixtures2";
const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

fn recorded(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kube-apiserver-1.32-tables")
        .join(format!("list-{name}-table.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn minutes_ago(m: i64) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::minutes(m);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .trim_end_matches('Z')
        .to_owned()
        + "Z"
}

/// Stores `object` under `collection` and compares the Table of `collection` with the
/// recording `name` (its first row).
async fn assert_table_matches(name: &str, collection: &str, object: Value) {
    let server = TestServer::start().await.unwrap();
    if collection.contains(NS) {
        server.create_namespace(NS).unwrap();
    }
    server.create(collection, object).unwrap();
    let mut client = common::Client::new(&server);
    client.accept = Some(TABLE.into());
    let resp = client.get(collection).await;
    assert_eq!(resp.status, 200);
    let ours = resp.json();
    let want = recorded(name)["response"]["body"].clone();
    assert_eq!(ours["kind"], "Table");
    assert_eq!(
        ours["columnDefinitions"], want["columnDefinitions"],
        "{name} columns"
    );
    let age = want["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["name"] == "Age");
    let strip = |row: &Value| {
        let mut cells = row["cells"].as_array().unwrap().clone();
        if let Some(i) = age {
            cells[i] = Value::Null;
        }
        cells
    };
    let ours_row = ours["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cells"] == ours["rows"][0]["cells"])
        .unwrap();
    assert_eq!(strip(ours_row), strip(&want["rows"][0]), "{name} cells");
    assert_eq!(ours_row["object"]["kind"], "PartialObjectMetadata");
}

#[tokio::test]
async fn configmaps_print_their_data_count() {
    assert_table_matches(
        "configmaps",
        &format!("/api/v1/namespaces/{NS}/configmaps"),
        json!({"metadata": {"name": "fin"}}),
    )
    .await;
}

#[tokio::test]
async fn secrets_print_type_and_data_count() {
    assert_table_matches(
        "secrets",
        &format!("/api/v1/namespaces/{NS}/secrets"),
        json!({"metadata": {"name": "t"}, "type": "Opaque", "data": {"k": "dg=="}}),
    )
    .await;
}

#[tokio::test]
async fn services_print_ips_ports_and_a_wide_selector() {
    assert_table_matches(
        "services",
        &format!("/api/v1/namespaces/{NS}/services"),
        json!({"metadata": {"name": "t"}, "spec": {"type": "ClusterIP",
            "clusterIP": "10.0.0.246", "clusterIPs": ["10.0.0.246"],
            "ports": [{"port": 80, "protocol": "TCP"}], "selector": {"app": "t"}}}),
    )
    .await;
}

#[tokio::test]
async fn deployments_print_replicas_and_wide_containers_images_selector() {
    assert_table_matches(
        "deployments",
        &format!("/apis/apps/v1/namespaces/{NS}/deployments"),
        json!({"metadata": {"name": "smp-0"}, "spec": {"replicas": 1,
            "selector": {"matchLabels": {"app": "smp-0"}},
            "template": {"metadata": {"labels": {"app": "smp-0"}}, "spec": {"containers": [
                {"name": "a", "image": "registry.example/app:1"},
                {"name": "b", "image": "registry.example/b:2"}]}}}}),
    )
    .await;
}

#[tokio::test]
async fn leases_print_their_holder() {
    assert_table_matches(
        "leases",
        &format!("/apis/coordination.k8s.io/v1/namespaces/{NS}/leases"),
        json!({"metadata": {"name": "t"}, "spec": {"holderIdentity": "me"}}),
    )
    .await;
}

#[tokio::test]
async fn events_print_times_object_source_and_count() {
    assert_table_matches(
        "events",
        &format!("/api/v1/namespaces/{NS}/events"),
        json!({"metadata": {"name": "t.1"}, "type": "Normal", "reason": "Synced",
            "message": "synced ok", "count": 2, "source": {"component": "pod-controller"},
            "involvedObject": {"kind": "Pod", "name": "fv-warn", "namespace": NS},
            "firstTimestamp": minutes_ago(13), "lastTimestamp": minutes_ago(13)}),
    )
    .await;
}

#[tokio::test]
async fn pods_print_the_wide_columns() {
    assert_table_matches(
        "pods",
        &format!("/api/v1/namespaces/{NS}/pods"),
        json!({"metadata": {"name": "fv-default"},
            "spec": {"containers": [{"name": "c", "image": "x"}]},
            "status": {"phase": "Pending"}}),
    )
    .await;
}

#[tokio::test]
async fn namespaces_print_their_phase() {
    let server = TestServer::start().await.unwrap();
    server.create_namespace("bench").unwrap();
    let mut client = common::Client::new(&server);
    client.accept = Some(TABLE.into());
    let ours = client.get("/api/v1/namespaces").await.json();
    let want = recorded("namespaces")["response"]["body"].clone();
    assert_eq!(ours["columnDefinitions"], want["columnDefinitions"]);
    let row = ours["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cells"][0] == "bench")
        .unwrap();
    assert_eq!(row["cells"][1], "Active");
}

#[tokio::test]
async fn events_k8s_io_events_print_the_core_event_columns_and_cells() {
    let server = TestServer::start().await.unwrap();
    server.create_namespace(NS).unwrap();
    // A new-API event: no first/last timestamps or count, a series, a reporting controller.
    let ev = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "t.2"},
        "eventTime": format!("{}.000000Z", minutes_ago(20).trim_end_matches('Z')),
        "series": {"count": 5, "lastObservedTime":
            format!("{}.000000Z", minutes_ago(15).trim_end_matches('Z'))},
        "reportingController": "ctl", "reportingInstance": "ctl-1", "action": "Sync",
        "reason": "Synced", "note": " synced ok ", "type": "Normal",
        "regarding": {"kind": "Pod", "name": "fv-warn", "namespace": NS, "fieldPath": "spec"}});
    let mut client = common::Client::new(&server);
    let resp = client
        .post(
            &format!("/apis/events.k8s.io/v1/namespaces/{NS}/events"),
            &ev,
        )
        .await;
    assert_eq!(resp.status, 201, "{}", String::from_utf8_lossy(&resp.body));
    client.accept = Some(TABLE.into());
    let core = client
        .get(&format!("/api/v1/namespaces/{NS}/events"))
        .await
        .json();
    let v1 = client
        .get(&format!("/apis/events.k8s.io/v1/namespaces/{NS}/events"))
        .await
        .json();
    let want = recorded("events")["response"]["body"].clone();
    assert_eq!(v1["columnDefinitions"], want["columnDefinitions"]);
    assert_eq!(v1["columnDefinitions"], core["columnDefinitions"]);
    assert_eq!(v1["rows"][0]["cells"], core["rows"][0]["cells"]);
    assert_eq!(
        v1["rows"][0]["cells"],
        json!([
            "15m",
            "Normal",
            "Synced",
            "pod/fv-warn",
            "spec",
            "ctl, ctl-1",
            "synced ok",
            "20m",
            5,
            "t.2"
        ])
    );
    let one = client
        .get(&format!(
            "/apis/events.k8s.io/v1/namespaces/{NS}/events/t.2"
        ))
        .await
        .json();
    assert_eq!(one["rows"][0]["cells"], core["rows"][0]["cells"]);
}
