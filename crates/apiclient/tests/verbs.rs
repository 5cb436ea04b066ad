//! Every verb of the typed, dynamic and metadata clients against `testserver` over a real
//! socket, and the errors a real server gives back.
#![allow(clippy::unwrap_used)]

mod common;

use apiclient::meta::{DeleteOptions, ListOptions, PatchType, Preconditions, WriteOptions};
use apiclient::{ApiResource, DynamicClient, DynamicObject, MetadataClient, Object, TypedClient};
use common::{Pod, client, pod};
use serde_json::json;

#[tokio::test]
async fn every_verb_round_trips_over_plain_http() {
    let server = testserver::TestServer::start().await.unwrap();
    let c = client(&server);
    let pods = TypedClient::<Pod>::namespaced(&c, "default");
    let w = WriteOptions::default();

    let created = pods.create(&pod("web-1"), &w).await.unwrap();
    assert_eq!(created.name(), "web-1");
    assert!(!created.uid().is_empty() && !created.resource_version().is_empty());
    let again = pods.create(&pod("web-1"), &w).await.unwrap_err();
    assert!(again.is_already_exists(), "{again}");

    let got = pods.get("web-1").await.unwrap();
    assert_eq!(got.uid(), created.uid());
    let missing = pods.get("nope").await.unwrap_err();
    assert!(
        missing.is_not_found() && !missing.is_conflict(),
        "{missing}"
    );

    let mut changed = got.clone();
    changed.metadata.labels = Some([("app".to_owned(), "web".to_owned())].into());
    let updated = pods.update(&changed, &w).await.unwrap();
    assert_eq!(updated.labels().get("app").map(|v| v.as_str()), Some("web"));
    // The old resourceVersion is now stale: a conflict, as in update-pod-conflict.json.
    let stale = pods.update(&changed, &w).await.unwrap_err();
    assert!(stale.is_conflict(), "{stale}");

    let mut with_status = updated.clone();
    with_status.status = json!({"phase": "Running"});
    let st = pods.update_status(&with_status, &w).await.unwrap();
    assert_eq!(st.status["phase"], "Running");

    let merged = pods
        .patch(
            "web-1",
            PatchType::Merge,
            &json!({"metadata": {"labels": {"tier": "fe"}}}),
            &w,
        )
        .await
        .unwrap();
    assert_eq!(merged.labels().get("tier").map(|v| v.as_str()), Some("fe"));
    let patched = pods
        .patch(
            "web-1",
            PatchType::Json,
            &json!([{"op": "add", "path": "/metadata/annotations", "value": {"a": "1"}}]),
            &w,
        )
        .await
        .unwrap();
    assert_eq!(
        patched.annotations().get("a").map(|v| v.as_str()),
        Some("1")
    );

    pods.create(&pod("web-2"), &w).await.unwrap();
    let list = pods
        .list(&ListOptions::default().labels("tier=fe"))
        .await
        .unwrap();
    assert_eq!(
        list.items.iter().map(Object::name).collect::<Vec<_>>(),
        vec!["web-1"]
    );
    let all = pods.list(&ListOptions::default()).await.unwrap();
    assert_eq!(all.items.len(), 2);
    assert!(all.metadata.resource_version.is_some());

    let wrong_uid = DeleteOptions {
        preconditions: Some(Preconditions {
            uid: Some("not-the-uid".into()),
            resource_version: None,
        }),
        ..DeleteOptions::default()
    };
    let e = pods.delete("web-1", &wrong_uid).await.unwrap_err();
    assert!(e.is_conflict(), "{e}");
    pods.delete("web-1", &DeleteOptions::default())
        .await
        .unwrap();
    assert!(pods.get("web-1").await.unwrap_err().is_not_found());
    assert!(
        pods.delete("web-1", &DeleteOptions::default())
            .await
            .unwrap_err()
            .is_not_found()
    );

    pods.delete_collection(&DeleteOptions::default(), &ListOptions::default())
        .await
        .unwrap();
    assert!(
        pods.list(&ListOptions::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let bad = pods
        .list(&ListOptions::default().labels("a in (b"))
        .await
        .unwrap_err();
    assert!(bad.is_bad_request(), "{bad}");
    let other_ns = TypedClient::<Pod>::namespaced(&c, "missing-ns");
    assert!(
        other_ns
            .create(&pod("x"), &w)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn dynamic_client_keeps_unknown_fields() {
    let server = testserver::TestServer::start().await.unwrap();
    let c = client(&server);
    let cms = ApiResource {
        group: String::new(),
        version: "v1".into(),
        kind: "ConfigMap".into(),
        plural: "configmaps".into(),
        namespaced: true,
    };
    let dc = DynamicClient::dynamic(&c, cms.clone(), Some("default"));
    let obj = DynamicObject::new(&cms, "settings").with("data", json!({"k": "v", "n": "1"}));
    let created = dc.create(&obj, &WriteOptions::default()).await.unwrap();
    assert_eq!(created.data["data"], json!({"k": "v", "n": "1"}));
    let listed = dc.list(&ListOptions::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].name(), "settings");
    let mut got = dc.get("settings").await.unwrap();
    got.data.insert("data".into(), json!({"k": "w"}));
    let updated = dc.update(&got, &WriteOptions::default()).await.unwrap();
    assert_eq!(updated.data["data"], json!({"k": "w"}));

    let md = MetadataClient::metadata(&c, cms.clone(), None);
    let metas = md.list(&ListOptions::default()).await.unwrap();
    assert_eq!(metas.items[0].name(), "settings");
    let one = MetadataClient::metadata(&c, cms, Some("default"))
        .get("settings")
        .await
        .unwrap();
    assert_eq!(one.namespace(), "default");
}

#[tokio::test]
async fn raw_requests_reach_discovery_and_reject_bad_names() {
    let server = testserver::TestServer::start().await.unwrap();
    let c = client(&server);
    let v: serde_json::Value = c.get().prefix("/version").into_json().await.unwrap();
    assert!(v["gitVersion"].is_string(), "{v}");
    let e = c
        .get()
        .group_version("", "v1")
        .namespace("default")
        .resource("pods")
        .name("a/b");
    let e = e.into_bytes().await.unwrap_err();
    assert!(matches!(e, apiclient::Error::InvalidRequest(_)), "{e}");
    let e = c
        .get()
        .group_version("", "v1")
        .resource("nonsense")
        .into_bytes()
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
}
