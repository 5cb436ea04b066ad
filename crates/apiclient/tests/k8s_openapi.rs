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
        list.items[0].labels().get("app").map(String::as_str),
        Some("web")
    );
}
