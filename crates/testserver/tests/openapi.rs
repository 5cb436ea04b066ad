//! `/openapi/v2` and `/openapi/v3`, as kube-openapi's handlers serve them: hashed URLs,
//! ETags, 304s, immutable caching and Accept negotiation.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::Client;
use testserver::TestServer;

#[tokio::test]
async fn the_v3_index_links_each_served_group_version_by_content_hash() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let index = c.get("/openapi/v3").await;
    assert_eq!(index.status, 200);
    let paths = index.json()["paths"].as_object().unwrap().clone();
    let names: Vec<&str> = paths.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "api/v1",
            "apis/apiextensions.k8s.io/v1",
            "apis/apps/v1",
            "apis/authorization.k8s.io/v1",
            "apis/coordination.k8s.io/v1",
            "apis/events.k8s.io/v1",
            "apis/rbac.authorization.k8s.io/v1"
        ]
    );
    let url = paths["apis/apps/v1"]["serverRelativeURL"].as_str().unwrap();
    let hash = url.strip_prefix("/openapi/v3/apis/apps/v1?hash=").unwrap();
    assert_eq!(hash.len(), 128, "upper-case hex SHA-512");

    let doc = c.get(url).await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.header("etag").unwrap(), format!("\"{hash}\""));
    assert_eq!(doc.header("cache-control").unwrap(), "public, immutable");
    assert!(doc.header("expires").is_some());
    assert_eq!(doc.header("vary").unwrap(), "Accept");
    assert_eq!(doc.header("content-type").unwrap(), "application/json");
    assert!(doc.json()["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"].is_object());

    // Without the hash the document is not cacheable as immutable.
    let plain = c.get("/openapi/v3/apis/apps/v1").await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("cache-control").unwrap(), "no-cache, private");

    // A stale hash redirects to the current one; an unserved group-version is 404.
    let stale = c.get("/openapi/v3/apis/apps/v1?hash=0123").await;
    assert_eq!(stale.status, 301);
    assert_eq!(stale.header("location").unwrap(), url);
    assert_eq!(c.get("/openapi/v3/apis/batch/v1").await.status, 404);
}

#[tokio::test]
async fn if_none_match_with_the_etag_is_not_modified() {
    let server = TestServer::start().await.unwrap();
    let mut c = Client::new(&server);
    for path in ["/openapi/v3", "/openapi/v3/api/v1", "/openapi/v2"] {
        c.if_none_match = None;
        let first = c.get(path).await;
        assert_eq!(first.status, 200, "{path}");
        c.if_none_match = first.header("etag");
        let again = c.get(path).await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        c.if_none_match = Some("\"other\"".into());
        assert_eq!(c.get(path).await.status, 200, "{path}");
    }
}

#[tokio::test]
async fn documents_are_json_and_protobuf_alone_is_not_acceptable() {
    let server = TestServer::start().await.unwrap();
    let mut c = Client::new(&server);
    c.accept = Some("application/com.github.proto-openapi.spec.v2@v1.0+protobuf".into());
    assert_eq!(c.get("/openapi/v2").await.status, 406);
    c.accept =
        Some("application/com.github.proto-openapi.spec.v3@v1.0+protobuf, application/json".into());
    let v3 = c.get("/openapi/v3/api/v1").await;
    assert_eq!(v3.status, 200);
    assert_eq!(v3.json()["openapi"], "3.0.0");
    c.accept = None;
    let v2 = c.get("/openapi/v2").await;
    assert_eq!(v2.json()["swagger"], "2.0");
}

#[tokio::test]
async fn openapi_needs_the_same_credentials_as_discovery() {
    let server = TestServer::builder()
        .bearer_token("s3cret")
        .start()
        .await
        .unwrap();
    let c = Client::new(&server);
    // No token: the anonymous user, who may not read either (403).
    assert_eq!(c.get("/openapi/v3").await.status, 403);
    assert_eq!(c.get("/apis").await.status, 403);
    let wrong = c.clone().token("wrong");
    assert_eq!(wrong.get("/openapi/v3").await.status, 401);
    assert_eq!(wrong.get("/apis").await.status, 401);
    let c = c.token("s3cret");
    assert_eq!(c.get("/openapi/v3").await.status, 200);
}

#[tokio::test]
async fn strict_field_validation_rejects_unknown_fields() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let cm = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c"}, "dataa": {"a": "b"}});
    let path = "/api/v1/namespaces/default/configmaps";
    let strict = c.post(&format!("{path}?fieldValidation=Strict"), &cm).await;
    assert_eq!(strict.status, 400);
    assert_eq!(
        strict.json()["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"dataa\""
    );
    assert_eq!(strict.json()["reason"], "BadRequest");
    assert_eq!(c.post(path, &cm).await.status, 201, "Warn/Ignore accept it");
}
