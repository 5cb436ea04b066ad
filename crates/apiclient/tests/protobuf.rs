//! Protobuf on the wire, as client-go speaks it when `rest.Config.ContentType` is
//! `application/vnd.kubernetes.protobuf`: a typed client of a built-in type sends protobuf
//! bodies and asks for protobuf with JSON as the fallback; errors arrive as protobuf `Status`;
//! the dynamic client stays on JSON; and a server that answers JSON anyway still works.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use api::core::v1::{ConfigMap, Pod};
use apiclient::meta::Resource;
use apiclient::meta::{DeleteOptions, ListOptions, WatchEvent, WriteOptions};
use apiclient::{Config, ContentConfig, DynamicClient, Object, RestClient, StrMap, TypedClient};
use common::{config, http_response, raw_server};
use futures::StreamExt;

/// A bound on every wait, so a hang fails instead of stalling the suite.
const HANG_GUARD: Duration = Duration::from_secs(30);

fn protobuf_client(server: &testserver::TestServer) -> RestClient {
    let mut c = config(server);
    c.content = ContentConfig::protobuf();
    RestClient::new(&c).unwrap()
}

fn configmap(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: apiclient::ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(StrMap::from([("k", value)])),
        ..ConfigMap::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_verbs_round_trip_in_protobuf_and_match_json() {
    let server = testserver::TestServer::start().await.unwrap();
    let pb = TypedClient::<ConfigMap>::namespaced(&protobuf_client(&server), "default");
    let json = TypedClient::<ConfigMap>::namespaced(&common::client(&server), "default");

    let created = pb
        .create(&configmap("a", "1"), &WriteOptions::default())
        .await
        .unwrap();
    assert_eq!(created.data.as_ref().unwrap()["k"], "1");
    assert_eq!(created.kind.as_deref(), Some("ConfigMap"));

    // The same object read both ways is the same value; protobuf moves fewer bytes.
    server.reset_request_counts();
    let via_pb = pb.get("a").await.unwrap();
    let pb_bytes = server.response_body_bytes();
    server.reset_request_counts();
    let via_json = json.get("a").await.unwrap();
    let json_bytes = server.response_body_bytes();
    assert_eq!(via_pb, via_json);
    assert!(
        pb_bytes < json_bytes,
        "protobuf {pb_bytes} bytes, JSON {json_bytes}"
    );

    let mut changed = via_pb.clone();
    changed.data = Some(StrMap::from([("k", "2")]));
    let updated = pb.update(&changed, &WriteOptions::default()).await.unwrap();
    assert_eq!(updated.data.as_ref().unwrap()["k"], "2");

    let list = pb.list(&ListOptions::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.types.kind, "ConfigMapList");
    assert!(list.metadata.resource_version.is_some());

    // A watch from the list's version sees a create and a delete, decoded from frames.
    let opts = ListOptions {
        resource_version: list.metadata.resource_version.clone(),
        ..ListOptions::default()
    };
    let mut watch = pb.watch(&opts).await.unwrap();
    pb.create(&configmap("b", "3"), &WriteOptions::default())
        .await
        .unwrap();
    pb.delete("b", &DeleteOptions::default()).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let ev = tokio::time::timeout(HANG_GUARD, watch.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match ev {
            WatchEvent::Added(o) => seen.push(format!("ADDED {}", o.name())),
            WatchEvent::Deleted(o) => seen.push(format!("DELETED {}", o.name())),
            WatchEvent::Modified(_) | WatchEvent::Bookmark(_) => {}
        }
    }
    assert_eq!(seen, ["ADDED b", "DELETED b"]);

    // DeleteOptions travel as protobuf too: a dry run leaves the object, a real delete not.
    let dry = DeleteOptions {
        dry_run: vec!["All".into()],
        ..DeleteOptions::default()
    };
    pb.delete("a", &dry).await.unwrap();
    assert!(
        pb.get("a").await.is_ok(),
        "a dry-run delete removed the object"
    );
    pb.delete("a", &DeleteOptions::default()).await.unwrap();
    assert!(pb.get("a").await.unwrap_err().is_not_found());

    // A 404 arrives as a protobuf Status and is the same typed error.
    let err = pb.get("missing").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_fields_can_be_skipped_while_decoding_protobuf() {
    let server = testserver::TestServer::start().await.unwrap();
    let pb = TypedClient::<ConfigMap>::namespaced(&protobuf_client(&server), "default");
    let mut cm = configmap("a", "1");
    cm.metadata.managed_fields = Some(apimachinery::ThinVec::from(vec![
        apiclient::meta::ManagedFieldsEntry {
            manager: Some("probe".into()),
            operation: Some("Update".into()),
            api_version: Some("v1".into()),
            fields_type: Some("FieldsV1".into()),
            ..Default::default()
        },
    ]));
    pb.create(&cm, &WriteOptions::default()).await.unwrap();
    let full = pb.get("a").await.unwrap();
    let stripped = pb
        .clone()
        .strip_managed_fields(true)
        .get("a")
        .await
        .unwrap();
    assert!(full.metadata.managed_fields.is_some());
    assert_eq!(stripped.metadata.managed_fields, None);
    assert_eq!(stripped.data, full.data);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamic_client_stays_on_json_under_a_protobuf_config() {
    let server = testserver::TestServer::start().await.unwrap();
    let client = protobuf_client(&server);
    TypedClient::<ConfigMap>::namespaced(&client, "default")
        .create(&configmap("a", "1"), &WriteOptions::default())
        .await
        .unwrap();
    let cms = DynamicClient::dynamic(&client, ConfigMap::api_resource(), Some("default"));
    let list = cms.list(&ListOptions::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].name(), "a");
    server.shutdown().await;
}

#[tokio::test]
async fn a_server_that_ignores_accept_and_answers_json_still_works() {
    let body =
        br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"default"}}"#;
    let (url, mut heads) = raw_server(http_response("", body)).await;
    let mut c = Config::new(&url);
    c.qps = -1.0;
    c.max_retries = 0;
    c.timeout = Some(HANG_GUARD);
    c.content = ContentConfig::protobuf();
    let pods = TypedClient::<Pod>::namespaced(&RestClient::new(&c).unwrap(), "default");
    let pod = tokio::time::timeout(HANG_GUARD, pods.get("web"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pod.name(), "web");
    let head = heads.recv().await.unwrap();
    assert!(
        head.contains("accept: application/vnd.kubernetes.protobuf,application/json"),
        "{head}"
    );
}

#[tokio::test]
async fn client_go_default_asks_for_json_only() {
    let body = br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web"}}"#;
    let (url, mut heads) = raw_server(http_response("", body)).await;
    let mut c = Config::new(&url);
    c.qps = -1.0;
    c.max_retries = 0;
    let pods = TypedClient::<Pod>::namespaced(&RestClient::new(&c).unwrap(), "default");
    tokio::time::timeout(HANG_GUARD, pods.get("web"))
        .await
        .unwrap()
        .unwrap();
    let head = heads.recv().await.unwrap();
    assert!(head.contains("accept: application/json\r\n"), "{head}");
}
