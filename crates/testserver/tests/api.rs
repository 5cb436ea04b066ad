//! Public behaviour over HTTP: writes, reads, lists with selectors and pagination,
//! resourceVersion semantics, discovery, tables and bad input.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{Client, PODS, pod};
use http::Method;
use serde_json::{Value, json};
use testserver::TestServer;

async fn seeded(n: usize) -> (TestServer, Client) {
    let server = TestServer::start().await.unwrap();
    for i in 0..n {
        server
            .create(
                PODS,
                pod(
                    &format!("web-{i}"),
                    json!({"app": "demo", "idx": (i % 3).to_string()}),
                ),
            )
            .unwrap();
    }
    let client = Client::new(&server);
    (server, client)
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn create_sets_server_fields_and_rejects_duplicates() {
    let (server, c) = seeded(0).await;
    let created = c.post(PODS, &pod("web", json!({"app": "demo"}))).await;
    assert_eq!(created.status, 201);
    assert_eq!(
        created.header("content-type").as_deref(),
        Some("application/json")
    );
    let obj = created.json();
    for field in ["uid", "resourceVersion", "creationTimestamp"] {
        assert!(obj["metadata"][field].is_string(), "{field} missing: {obj}");
    }
    assert_eq!(obj["kind"], "Pod");
    assert_eq!(obj["status"]["phase"], "Pending");
    let again = c.post(PODS, &pod("web", json!({}))).await;
    assert_eq!(again.status, 409);
    let status = again.json();
    assert_eq!(status["reason"], "AlreadyExists");
    assert_eq!(status["details"], json!({"name": "web", "kind": "pods"}));
    assert_eq!(server.count("pods"), 1);
}

#[tokio::test]
async fn generate_name_missing_namespace_and_invalid_names() {
    let (_server, c) = seeded(0).await;
    let mut p = pod("", json!({}));
    p["metadata"] = json!({"generateName": "gen-"});
    let made = c.post(PODS, &p).await.json();
    let name = made["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");

    let missing = c
        .post("/api/v1/namespaces/nowhere/pods", &pod("x", json!({})))
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json()["details"],
        json!({"name": "nowhere", "kind": "namespaces"})
    );

    let mut bad = pod("Bad_Name", json!({}));
    bad["spec"]["containers"] = json!([]);
    let invalid = c.post(PODS, &bad).await;
    assert_eq!(invalid.status, 422);
    let s = invalid.json();
    assert_eq!(s["reason"], "Invalid");
    let fields: Vec<&str> = s["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["metadata.name", "spec.containers"]);
}

#[tokio::test]
async fn get_update_conflict_and_patches() {
    let (_server, c) = seeded(1).await;
    let path = format!("{PODS}/web-0");
    let missing = c.get(&format!("{PODS}/nope")).await;
    assert_eq!(
        (missing.status, missing.json()["reason"].clone()),
        (404, json!("NotFound"))
    );

    let current = c.get(&path).await.json();
    let mut changed = current.clone();
    changed["metadata"]["labels"]["tier"] = json!("frontend");
    let updated = c.put(&path, &changed).await;
    assert_eq!(updated.status, 200);
    let updated = updated.json();
    assert_ne!(
        updated["metadata"]["resourceVersion"],
        current["metadata"]["resourceVersion"]
    );
    assert_eq!(updated["metadata"]["uid"], current["metadata"]["uid"]);

    let stale = c.put(&path, &changed).await;
    assert_eq!(
        (stale.status, stale.json()["reason"].clone()),
        (409, json!("Conflict"))
    );

    let merged = c
        .patch(
            &path,
            "application/merge-patch+json",
            &json!({"metadata": {"labels": {"patched": "yes"}}}),
        )
        .await;
    assert_eq!(merged.json()["metadata"]["labels"]["patched"], "yes");
    let sm = c
        .patch(
            &path,
            "application/strategic-merge-patch+json",
            &json!({"metadata": {"labels": {"s": "1"}}}),
        )
        .await;
    assert_eq!(sm.json()["metadata"]["labels"]["s"], "1");
    let jp = c
        .patch(
            &path,
            "application/json-patch+json",
            &json!([{"op": "add", "path": "/metadata/annotations", "value": {"note": "jp"}}]),
        )
        .await;
    assert_eq!(jp.json()["metadata"]["annotations"]["note"], "jp");
    let applied = c
        .patch(&format!("{path}?fieldManager=t&force=true"), "application/apply-patch+yaml", &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "labels": {"applied": "yes"}}}))
        .await;
    assert_eq!(applied.status, 200);
    assert_eq!(applied.json()["metadata"]["labels"]["applied"], "yes");
    let created = c
        .patch(
            &format!("{PODS}/fresh?fieldManager=t"),
            "application/apply-patch+yaml",
            &pod("fresh", json!({})),
        )
        .await;
    assert_eq!(created.status, 201);
}

#[tokio::test]
async fn status_subresource_updates_only_status() {
    let (server, c) = seeded(1).await;
    let path = format!("{PODS}/web-0");
    let mut obj = c.get(&path).await.json();
    obj["status"]["phase"] = json!("Running");
    obj["metadata"]["labels"]["ignored"] = json!("yes");
    let after = c.put(&format!("{path}/status"), &obj).await.json();
    assert_eq!(after["status"]["phase"], "Running");
    assert!(after["metadata"]["labels"].get("ignored").is_none());
    // An update of the main resource keeps the stored status.
    let mut main = after.clone();
    main["status"]["phase"] = json!("Failed");
    let kept = c.put(&path, &main).await.json();
    assert_eq!(kept["status"]["phase"], "Running");
    assert_eq!(server.get(&path).unwrap()["status"]["phase"], "Running");
}

#[tokio::test]
async fn delete_with_finalizers_preconditions_and_collections() {
    let (server, c) = seeded(6).await;
    let cms = "/api/v1/namespaces/default/configmaps";
    c.post(cms, &json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}, "data": {"k": "v"}})).await;
    let deleting = c.delete(&format!("{cms}/held")).await;
    assert_eq!(deleting.status, 200);
    let obj = deleting.json();
    assert!(obj["metadata"]["deletionTimestamp"].is_string());
    assert!(server.get(&format!("{cms}/held")).is_ok());
    let mut release = obj.clone();
    release["metadata"]["finalizers"] = json!([]);
    assert_eq!(c.put(&format!("{cms}/held"), &release).await.status, 200);
    assert!(
        server
            .get(&format!("{cms}/held"))
            .unwrap_err()
            .api()
            .unwrap()
            .is_not_found()
    );

    let precondition = c
        .request(Method::DELETE, &format!("{PODS}/web-4"), Some("application/json"),
            json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}}).to_string().into_bytes())
        .await;
    assert_eq!(
        (precondition.status, precondition.json()["reason"].clone()),
        (409, json!("Conflict"))
    );

    let deleted = c.delete(&format!("{PODS}/web-3")).await;
    assert_eq!(
        (deleted.status, deleted.json()["kind"].clone()),
        (200, json!("Pod"))
    );
    assert_eq!(c.delete(&format!("{PODS}/web-3")).await.status, 404);

    let collection = c
        .delete(&format!("{PODS}?labelSelector=idx%3D1"))
        .await
        .json();
    assert_eq!(collection["kind"], "PodList");
    assert_eq!(names(&collection), ["web-1", "web-4"]);
    assert_eq!(server.count("pods"), 3);
}

#[tokio::test]
async fn selectors_filter_lists_and_bad_selectors_are_400() {
    let (_server, c) = seeded(6).await;
    let by_label = c
        .get(&format!(
            "{PODS}?labelSelector=idx%20in%20%281%2C2%29%2Capp%3Ddemo"
        ))
        .await
        .json();
    assert_eq!(names(&by_label), ["web-1", "web-2", "web-4", "web-5"]);
    assert!(
        by_label["items"][0].get("kind").is_none(),
        "list items carry no kind"
    );
    let by_field = c
        .get(&format!("{PODS}?fieldSelector=metadata.name%3Dweb-3"))
        .await
        .json();
    assert_eq!(names(&by_field), ["web-3"]);
    let by_phase = c
        .get(&format!("{PODS}?fieldSelector=status.phase!%3DPending"))
        .await
        .json();
    assert!(names(&by_phase).is_empty());
    let bad_field = c.get(&format!("{PODS}?fieldSelector=spec.nope%3Dx")).await;
    assert_eq!(
        (bad_field.status, bad_field.json()["message"].clone()),
        (400, json!("field label not supported: spec.nope"))
    );
    let bad_label = c.get(&format!("{PODS}?labelSelector=a%20in%20%28b")).await;
    assert_eq!(
        (bad_label.status, bad_label.json()["reason"].clone()),
        (400, json!("BadRequest"))
    );
}

#[tokio::test]
async fn pagination_is_a_consistent_snapshot_with_remaining_counts() {
    let (server, c) = seeded(7).await;
    let first = c.get(&format!("{PODS}?limit=3")).await.json();
    assert_eq!(names(&first), ["web-0", "web-1", "web-2"]);
    assert_eq!(first["metadata"]["remainingItemCount"], 4);
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    // Changes after the first page do not show up in later pages.
    server.delete(&format!("{PODS}/web-4")).unwrap();
    server.create(PODS, pod("web-9", json!({}))).unwrap();
    let second = c
        .get(&format!("{PODS}?limit=3&continue={token}"))
        .await
        .json();
    assert_eq!(names(&second), ["web-3", "web-4", "web-5"]);
    assert_eq!(
        second["metadata"]["resourceVersion"],
        first["metadata"]["resourceVersion"]
    );
    let token2 = second["metadata"]["continue"].as_str().unwrap().to_owned();
    let third = c
        .get(&format!("{PODS}?limit=3&continue={token2}"))
        .await
        .json();
    assert_eq!(names(&third), ["web-6"]);
    assert!(third["metadata"].get("continue").is_none());

    let with_rv = c
        .get(&format!(
            "{PODS}?limit=3&resourceVersion=1&continue={token}"
        ))
        .await;
    assert_eq!(
        (with_rv.status, with_rv.json()["message"].clone()),
        (
            400,
            json!("specifying resource version is not allowed when using continue")
        )
    );

    server.faults().compact();
    let expired = c.get(&format!("{PODS}?limit=3&continue={token}")).await;
    assert_eq!(expired.status, 410);
    let s = expired.json();
    assert_eq!(s["reason"], "Expired");
    let fresh = s["metadata"]["continue"].as_str().unwrap().to_owned();
    let inconsistent = c
        .get(&format!("{PODS}?limit=10&continue={fresh}"))
        .await
        .json();
    assert_eq!(names(&inconsistent), ["web-3", "web-5", "web-6", "web-9"]);
}

#[tokio::test]
async fn resource_version_semantics_for_lists() {
    let (server, c) = seeded(2).await;
    let rv: u64 = server.resource_version().parse().unwrap();
    server.create(PODS, pod("later", json!({}))).unwrap();

    let exact = c
        .get(&format!(
            "{PODS}?resourceVersion={rv}&resourceVersionMatch=Exact"
        ))
        .await
        .json();
    assert_eq!(names(&exact), ["web-0", "web-1"]);
    assert_eq!(exact["metadata"]["resourceVersion"], rv.to_string());
    let not_older = c
        .get(&format!(
            "{PODS}?resourceVersion={rv}&resourceVersionMatch=NotOlderThan"
        ))
        .await
        .json();
    assert_eq!(names(&not_older).len(), 3);
    let any = c
        .get(&format!("{PODS}?resourceVersion=0&limit=1"))
        .await
        .json();
    assert_eq!(
        names(&any).len(),
        3,
        "rv=0 ignores limit like the watch cache"
    );

    let too_large = c
        .get(&format!(
            "{PODS}?resourceVersion=999999999&resourceVersionMatch=NotOlderThan"
        ))
        .await;
    assert_eq!(too_large.status, 504);
    assert_eq!(too_large.header("retry-after").as_deref(), Some("1"));
    assert_eq!(
        too_large.json()["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );

    let compacted = c
        .get(&format!(
            "{PODS}?resourceVersion=1&resourceVersionMatch=Exact&limit=5"
        ))
        .await;
    assert_eq!(
        (compacted.status, compacted.json()["reason"].clone()),
        (410, json!("Expired"))
    );
}

#[tokio::test]
async fn discovery_documents_describe_served_resources() {
    let (server, c) = seeded(0).await;
    assert_eq!(c.get("/version").await.json()["major"], "1");
    assert_eq!(c.get("/api").await.json()["versions"], json!(["v1"]));
    let v1 = c.get("/api/v1").await.json();
    assert_eq!(v1["kind"], "APIResourceList");
    let apis = c.get("/apis").await.json();
    let groups: Vec<&str> = apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        groups,
        [
            "apps",
            "coordination.k8s.io",
            "events.k8s.io",
            "rbac.authorization.k8s.io",
            "authorization.k8s.io",
            "apiextensions.k8s.io"
        ]
    );
    assert_eq!(
        c.get("/apis/apps/v1").await.json()["resources"][0]["name"],
        "deployments"
    );
    assert_eq!(c.get("/healthz").await.status, 200);
    assert_eq!(c.get("/readyz").await.status, 200);

    server.register_custom_resource(testserver::CustomResource {
        group: "example.com".into(),
        version: "v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
        namespaced: true,
    });
    let made = c
        .post(
            "/apis/example.com/v1/namespaces/default/widgets",
            &json!({"metadata": {"name": "w"}, "spec": {"size": 1}}),
        )
        .await;
    assert_eq!(made.status, 201);
    assert_eq!(made.json()["metadata"]["generation"], 1);
    let list = c.get("/apis/example.com/v1/widgets").await.json();
    assert_eq!(list["kind"], "WidgetList");
    assert_eq!(
        list["items"][0]["kind"], "Widget",
        "custom resource items keep their kind"
    );
    assert!(
        c.get("/apis").await.json()["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "example.com")
    );
}

#[tokio::test]
async fn tables_for_kubectl() {
    let (_server, mut c) = seeded(3).await;
    c.accept = Some("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json".into());
    let table = c.get(&format!("{PODS}?limit=2")).await.json();
    assert_eq!(table["kind"], "Table");
    let cols: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        cols,
        [
            "Name",
            "Ready",
            "Status",
            "Restarts",
            "Age",
            "IP",
            "Node",
            "Nominated Node",
            "Readiness Gates"
        ]
    );
    assert_eq!(table["rows"][0]["cells"][0], "web-0");
    assert_eq!(table["rows"][0]["cells"][2], "Pending");
    assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    assert!(table["metadata"]["continue"].is_string());
    let cms = c.get("/api/v1/namespaces?limit=2").await.json();
    let cols: Vec<&str> = cms["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["Name", "Status", "Age"]);
}

#[tokio::test]
async fn bad_input_gets_status_errors_not_panics() {
    let server = TestServer::builder()
        .max_body_bytes(1024)
        .start()
        .await
        .unwrap();
    let c = Client::new(&server);
    let malformed = c
        .request(
            Method::POST,
            PODS,
            Some("application/json"),
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(
        (malformed.status, malformed.json()["reason"].clone()),
        (400, json!("BadRequest"))
    );
    let wrong_type = c
        .request(Method::POST, PODS, Some("text/plain"), b"hello".to_vec())
        .await;
    assert_eq!(
        (wrong_type.status, wrong_type.json()["reason"].clone()),
        (415, json!("UnsupportedMediaType"))
    );
    let wrong_patch = c
        .request(
            Method::PATCH,
            &format!("{PODS}/x"),
            Some("application/json"),
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(wrong_patch.status, 415);
    let big = vec![b' '; 4096];
    let too_large = c
        .request(Method::POST, PODS, Some("application/json"), big)
        .await;
    assert_eq!(
        (too_large.status, too_large.json()["reason"].clone()),
        (413, json!("RequestEntityTooLarge"))
    );
    let unknown = c.get("/api/v1/namespaces/default/widgets").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json()["message"],
        "the server could not find the requested resource"
    );
    assert_eq!(c.get("/nonsense/path").await.status, 404);
    let not_object = c.post(PODS, &json!([1, 2])).await;
    assert_eq!(not_object.status, 400);
    let wrong_kind = c
        .post(
            PODS,
            &json!({"kind": "Service", "apiVersion": "v1", "metadata": {"name": "x"}}),
        )
        .await;
    assert_eq!(wrong_kind.status, 400);
    let wrong_ns = c.post(PODS, &json!({"metadata": {"name": "x", "namespace": "other"}, "spec": {"containers": [{"name": "c"}]}})).await;
    assert_eq!(wrong_ns.status, 400);
    let bad_limit = c.get(&format!("{PODS}?limit=abc")).await;
    assert_eq!(bad_limit.status, 400);
    let bad_token = c.get(&format!("{PODS}?limit=1&continue=%%%")).await;
    assert_eq!(bad_token.status, 400);
    let bad_patch = c
        .patch(
            &format!("{PODS}/x"),
            "application/json-patch+json",
            &json!({"not": "a list"}),
        )
        .await;
    assert!(bad_patch.status == 400 || bad_patch.status == 404);
    let post_to_object = c.post(&format!("{PODS}/x"), &json!({})).await;
    assert_eq!(post_to_object.status, 405);
    // The server still serves after all that.
    assert_eq!(c.get(PODS).await.status, 200);
}

#[tokio::test]
async fn namespace_deletion_removes_its_objects() {
    let (server, c) = seeded(2).await;
    server.create_namespace("other").unwrap();
    server
        .create(
            "/api/v1/namespaces/other/configmaps",
            json!({"metadata": {"name": "c"}}),
        )
        .unwrap();
    let resp = c.delete("/api/v1/namespaces/default").await;
    assert_eq!(
        (resp.status, resp.json()["status"].clone()),
        (200, json!({"phase": "Terminating"}))
    );
    assert_eq!(c.get("/api/v1/namespaces/default").await.status, 404);
    assert_eq!(server.count("pods"), 0);
    assert_eq!(server.count("configmaps"), 1);
}

#[test]
fn public_types_are_send_and_sync() {
    fn pin<T: Send + Sync + 'static>() {}
    pin::<TestServer>();
    pin::<testserver::Faults>();
    pin::<testserver::Config>();
    pin::<testserver::Error>();
    pin::<testserver::ApiError>();
    pin::<testserver::FaultMatch>();
}

#[tokio::test]
async fn dry_run_checks_everything_and_persists_nothing() {
    let (server, c) = seeded(1).await;
    let rv = server.resource_version();
    let created = c
        .post(&format!("{PODS}?dryRun=All"), &pod("dry", json!({})))
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["metadata"]["name"], "dry");
    assert!(server.get(&format!("{PODS}/dry")).is_err());
    let dup = c
        .post(&format!("{PODS}?dryRun=All"), &pod("web-0", json!({})))
        .await;
    assert_eq!(dup.status, 409, "dry runs still check");
    let patched = c
        .patch(
            &format!("{PODS}/web-0?dryRun=All"),
            "application/merge-patch+json",
            &json!({"metadata": {"labels": {"x": "y"}}}),
        )
        .await;
    assert_eq!(patched.json()["metadata"]["labels"]["x"], "y");
    assert!(
        server.get(&format!("{PODS}/web-0")).unwrap()["metadata"]["labels"]
            .get("x")
            .is_none()
    );
    let deleted = c
        .request(
            Method::DELETE,
            &format!("{PODS}/web-0"),
            Some("application/json"),
            json!({"dryRun": ["All"]}).to_string().into_bytes(),
        )
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(server.count("pods"), 1);
    assert_eq!(server.resource_version(), rv, "nothing was written");
}

#[tokio::test]
async fn percent_encoded_paths_answer_like_their_decoded_form() {
    let server = TestServer::start().await.unwrap();
    server.create_namespace("probe-b").unwrap();
    server
        .create(
            "/api/v1/namespaces/default/configmaps",
            json!({"metadata": {"name": "patchme"}, "data": {"k": "v"}}),
        )
        .unwrap();
    server
        .create(
            "/api/v1/namespaces/probe-b/configmaps",
            json!({"metadata": {"name": "c"}}),
        )
        .unwrap();
    let c = Client::new(&server);
    let got = c
        .get("/api/v1/namespaces/default/configmaps/patch%6De")
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["metadata"]["name"], "patchme");
    let got = c.get("/api/v1/namespaces/probe%2Db/configmaps/c").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["metadata"]["namespace"], "probe-b");
    let list = c.get("/api/v1/namespaces/probe%2Db/configmaps").await;
    assert_eq!(list.status, 200);
    assert_eq!(names(&list.json()), ["c"]);
    let patched = c
        .patch(
            "/api/v1/namespaces/default/configmaps/patch%6De",
            "application/merge-patch+json",
            &json!({"data": {"k": "w"}}),
        )
        .await;
    assert_eq!(patched.status, 200);
    // An escaped slash separates segments, as in Go's decoded `URL.Path`.
    let split = c
        .get("/api/v1/namespaces%2Fdefault%2Fconfigmaps%2Fpatchme")
        .await;
    assert_eq!(split.status, 200);
    assert_eq!(
        c.get("/api/v1/namespaces/default/configmaps/a%zz")
            .await
            .status,
        400
    );
}
