//! CustomResourceDefinitions in `/openapi/v3` and `/openapi/v2`: a CRD created at run time
//! adds its group-version's document to the v3 index (with a content hash) and its
//! definitions to v2, as kube-apiserver publishes them.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use serde_json::{Value, json};
use testserver::TestServer;

fn gadget_crd(description: &str) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.tools.example.org"},
        "spec": {"group": "tools.example.org", "scope": "Cluster",
            "names": {"kind": "Gadget", "plural": "gadgets"},
            "versions": [{"name": "v1beta1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object", "description": description,
                "properties": {"spec": {"type": "object", "properties": {"color": {"type": "string"}}}}}}}]}})
}

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const GV: &str = "apis/tools.example.org/v1beta1";

#[tokio::test]
async fn a_created_crd_is_listed_in_the_v3_index_with_a_hash_and_served() {
    let server = TestServer::start().await.unwrap();
    let c = common::Client::new(&server);
    let before = c.get("/openapi/v3").await.json();
    assert!(before["paths"].get(GV).is_none());
    server.create(CRDS, gadget_crd("A gadget.")).unwrap();

    let index = c.get("/openapi/v3").await.json();
    let url = index["paths"][GV]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with(&format!("/openapi/v3/{GV}?hash=")), "{url}");
    let doc = c.get(&url).await;
    assert_eq!(doc.status, 200);
    assert_eq!(
        doc.header("cache-control").as_deref(),
        Some("public, immutable")
    );
    let hash = url.rsplit('=').next().unwrap();
    assert_eq!(doc.header("etag"), Some(format!("\"{hash}\"")));
    let schema = &doc.json()["components"]["schemas"]["org.example.tools.v1beta1.Gadget"];
    assert_eq!(schema["description"], "A gadget.");
    assert_eq!(
        schema["properties"]["metadata"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    assert!(
        doc.json()["paths"]
            .get("/apis/tools.example.org/v1beta1/gadgets/{name}")
            .is_some(),
        "a cluster-scoped kind has cluster paths"
    );
}

#[tokio::test]
async fn updating_the_crd_changes_the_hash_and_the_old_one_redirects() {
    let server = TestServer::start().await.unwrap();
    let c = common::Client::new(&server);
    server.create(CRDS, gadget_crd("First.")).unwrap();
    let first = c.get("/openapi/v3").await.json()["paths"][GV]["serverRelativeURL"].clone();
    let mut crd = server
        .get(&format!("{CRDS}/gadgets.tools.example.org"))
        .unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["description"] = json!("Second.");
    server
        .update(&format!("{CRDS}/gadgets.tools.example.org"), crd)
        .unwrap();
    let second = c.get("/openapi/v3").await.json()["paths"][GV]["serverRelativeURL"].clone();
    assert_ne!(first, second);
    let stale = c.get(first.as_str().unwrap()).await;
    assert_eq!(stale.status, 301);
    assert_eq!(
        stale.header("location").as_ref(),
        second.as_str().map(str::to_owned).as_ref()
    );
}

#[tokio::test]
async fn v2_carries_the_crd_definitions() {
    let server = TestServer::start().await.unwrap();
    let c = common::Client::new(&server);
    server.create(CRDS, gadget_crd("A gadget.")).unwrap();
    let v2 = c.get("/openapi/v2").await.json();
    let def = &v2["definitions"]["org.example.tools.v1beta1.Gadget"];
    assert_eq!(
        def["x-kubernetes-group-version-kind"],
        json!([{"group": "tools.example.org", "version": "v1beta1", "kind": "Gadget"}])
    );
    assert_eq!(
        def["properties"]["metadata"]["$ref"],
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    assert!(
        v2["definitions"].get("io.k8s.api.core.v1.Pod").is_some(),
        "the built-in definitions stay"
    );
}
