//! k8s-openapi's types through the typed client (feature `k8s-openapi`; this test file
//! selects k8s-openapi's `v1_33` through the dev-dependency). Run with
//! `cargo test -p apiclient --features k8s-openapi --test k8s_openapi`.
#![cfg(feature = "k8s-openapi")]
#![allow(clippy::unwrap_used)]

use apiclient::{ListOptions, Object, Resource, RestClient, TypedClient};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod};

#[test]
fn coordinates_come_from_k8s_openapi() {
    assert_eq!(
        (Pod::GROUP, Pod::VERSION, Pod::PLURAL, Pod::NAMESPACED),
        ("", "v1", "pods", true)
    );
    assert_eq!(
        (Deployment::GROUP, Deployment::PLURAL),
        ("apps", "deployments")
    );
    const { assert!(!Namespace::NAMESPACED) };
}

#[tokio::test]
async fn typed_pods_round_trip() {
    let server = testserver::TestServer::start().await.unwrap();
    let mut config = apiclient::Config::new(server.url());
    config.qps = -1.0;
    let client = RestClient::new(&config).unwrap();
    let pods = TypedClient::<Pod>::default_namespaced(&client);
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}
    }))
    .unwrap();
    let created = pods.create(&pod, &Default::default()).await.unwrap();
    assert_eq!((created.name(), created.namespace()), ("web", "default"));
    let list = pods
        .list(&ListOptions::default().labels("app=web"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(
        list.items[0].labels().get("app").map(|v| v.as_str()),
        Some("web")
    );
}

#[tokio::test]
async fn strip_managed_fields_leaves_them_out_of_get_list_watch_and_write_responses() {
    use futures::StreamExt;
    let server = testserver::TestServer::start().await.unwrap();
    let mut config = apiclient::Config::new(server.url());
    config.qps = -1.0;
    let client = RestClient::new(&config).unwrap();
    let plain = TypedClient::<Pod>::default_namespaced(&client);
    let stripped = plain.clone().strip_managed_fields(true);
    assert!(stripped.strips_managed_fields() && !plain.strips_managed_fields());
    let pod = |name: &str| -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"app": "web"}, "managedFields": [{
                "manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}}
            }]},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}
        }))
        .unwrap()
    };
    let created = plain.create(&pod("a"), &Default::default()).await.unwrap();
    assert_eq!(
        created.metadata.managed_fields.as_ref().map(|v| v.len()),
        Some(1)
    );
    let written = stripped
        .create(&pod("b"), &Default::default())
        .await
        .unwrap();
    assert_eq!(written.metadata.managed_fields, None);

    let without = |mut p: Pod| {
        p.metadata.managed_fields = None;
        p
    };
    let got = stripped.get("a").await.unwrap();
    assert_eq!(got, without(plain.get("a").await.unwrap()));

    let opts = ListOptions::default();
    let kept = plain.list(&opts).await.unwrap();
    let list = stripped.list(&opts).await.unwrap();
    assert_eq!(list.metadata, kept.metadata);
    assert_eq!(
        list.items,
        kept.items.into_iter().map(without).collect::<Vec<_>>()
    );

    let mut watch = stripped
        .watch(&ListOptions {
            resource_version: Some("0".into()),
            ..ListOptions::default()
        })
        .await
        .unwrap();
    for _ in 0..2 {
        match watch.next().await.unwrap().unwrap() {
            apiclient::WatchEvent::Added(p) => assert_eq!(p.metadata.managed_fields, None),
            other => panic!("unexpected {other:?}"),
        }
    }
}
