//! Field management and server-side apply, over HTTP and through kubectl 1.32: the
//! `managedFields` entries every write records, apply's conflicts, `force` and removal of
//! fields no longer applied, as kube-apiserver 1.32 answers them.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use bytes::Bytes;
use common::Client;
use common::kubectl::{run, run_failing, scratch};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use testserver::TestServer;

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";
const APPLY: &str = "application/apply-patch+yaml";

fn cm(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "cfg", "namespace": "default"}, "data": data})
}

fn deployment(replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "default"},
           "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}})
}

/// `(manager, operation, subresource, fieldsV1)` of each entry, in order.
fn entries(obj: &Value) -> Vec<(String, String, String, Value)> {
    obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_owned();
            (
                s("manager"),
                s("operation"),
                s("subresource"),
                e["fieldsV1"].clone(),
            )
        })
        .collect()
}

fn entry(
    manager: &str,
    operation: &str,
    subresource: &str,
    fields: Value,
) -> (String, String, String, Value) {
    (manager.into(), operation.into(), subresource.into(), fields)
}

/// A request with a User-Agent header (the shared client sends none).
async fn with_user_agent(
    server: &TestServer,
    path: &str,
    agent: &str,
    body: &Value,
) -> (u16, Value) {
    let tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = http::Request::post(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("user-agent", agent)
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// A server holding the ConfigMap `cfg` with `a: 1, b: 1`, created by manager `creator`.
async fn with_cm_by_creator() -> (TestServer, Client) {
    let server = TestServer::start().await.unwrap();
    let client = Client::new(&server);
    client
        .post(
            &format!("{CMS}?fieldManager=creator"),
            &cm(json!({"a": "1", "b": "1"})),
        )
        .await;
    (server, client)
}

#[tokio::test]
async fn create_records_an_update_entry_named_after_the_user_agent() {
    let server = TestServer::start().await.unwrap();
    let (status, created) = with_user_agent(
        &server,
        CMS,
        "kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9",
        &cm(json!({"a": "1"})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        entries(&created),
        vec![entry(
            "kubectl",
            "Update",
            "",
            json!({"f:data": {".": {}, "f:a": {}}})
        )]
    );
    let e = &created["metadata"]["managedFields"][0];
    assert_eq!(
        (e["apiVersion"].as_str(), e["fieldsType"].as_str()),
        (Some("v1"), Some("FieldsV1"))
    );
    assert!(
        e["time"].is_string(),
        "an update entry carries its time: {e}"
    );
}

#[tokio::test]
async fn a_write_with_neither_field_manager_nor_user_agent_is_recorded_as_unknown() {
    let server = TestServer::start().await.unwrap();
    let client = Client::new(&server);
    let created = client.post(CMS, &cm(json!({"a": "1"}))).await.json();
    assert_eq!(entries(&created)[0].0, "unknown");
    // The in-process helpers stand for such a client.
    let seeded = server
        .create(
            CMS,
            json!({"metadata": {"name": "seeded"}, "data": {"x": "1"}}),
        )
        .unwrap();
    assert_eq!(
        entries(&seeded),
        vec![entry(
            "unknown",
            "Update",
            "",
            json!({"f:data": {".": {}, "f:x": {}}})
        )]
    );
}

#[tokio::test]
async fn a_pod_create_records_the_fields_the_recorded_server_gives_its_creator() {
    // The same pod as the recorded create-pod-field-validation-default transcript, whose
    // entry leaves out what admission adds (tolerations, priority, preemptionPolicy).
    let fixture: Value = serde_json::from_str(include_str!(
        "fixtures/kube-apiserver-1.32-field-validation/create-pod-field-validation-default.json"
    ))
    .unwrap();
    let server = TestServer::start().await.unwrap();
    let body = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fv-default"},
        "spec": {"containers": [{"name": "c", "image": "x"}]}});
    let (status, created) = with_user_agent(
        &server,
        "/api/v1/namespaces/default/pods",
        "fixtures",
        &body,
    )
    .await;
    assert_eq!(status, 201);
    let recorded = &fixture["response"]["body"];
    assert_eq!(entries(&created), entries(recorded));
    assert_eq!(
        created["spec"]["priority"], 0,
        "admission still defaults the pod"
    );
}

#[tokio::test]
async fn update_and_patch_move_the_fields_they_change_to_their_manager() {
    let (_server, client) = with_cm_by_creator().await;
    let updated = client
        .put(
            &format!("{CMS}/cfg?fieldManager=editor"),
            &cm(json!({"a": "2", "b": "1"})),
        )
        .await
        .json();
    assert_eq!(
        entries(&updated),
        vec![
            entry(
                "creator",
                "Update",
                "",
                json!({"f:data": {".": {}, "f:b": {}}})
            ),
            entry("editor", "Update", "", json!({"f:data": {"f:a": {}}})),
        ]
    );
    let patched = client
        .patch(
            &format!("{CMS}/cfg?fieldManager=patcher"),
            "application/merge-patch+json",
            &json!({"data": {"c": "3"}}),
        )
        .await
        .json();
    assert_eq!(
        entries(&patched)[2],
        entry("patcher", "Update", "", json!({"f:data": {"f:c": {}}}))
    );
    for kind in [
        "application/json-patch+json",
        "application/strategic-merge-patch+json",
    ] {
        let body = if kind.contains("json-patch") {
            json!([{"op": "replace", "path": "/data/c", "value": "4"}])
        } else {
            json!({"data": {"c": "5"}})
        };
        let patched = client
            .patch(&format!("{CMS}/cfg?fieldManager=p2"), kind, &body)
            .await
            .json();
        assert!(
            entries(&patched).contains(&entry("p2", "Update", "", json!({"f:data": {"f:c": {}}}))),
            "{kind}: {patched}"
        );
    }
}

#[tokio::test]
async fn the_main_resource_owns_no_status_and_the_status_subresource_owns_only_status() {
    let server = TestServer::start().await.unwrap();
    let client = Client::new(&server);
    let mut d = deployment(1);
    d["status"] = json!({"replicas": 7});
    let created = client
        .post(&format!("{DEPLOYS}?fieldManager=creator"), &d)
        .await
        .json();
    let creator = &entries(&created)[0].3;
    assert!(creator.get("f:status").is_none(), "{creator}");
    assert!(creator.get("f:spec").is_some(), "{creator}");

    let mut with_status = created.clone();
    with_status["status"] = json!({"replicas": 2});
    with_status["spec"]["replicas"] = json!(9);
    let updated = client
        .put(
            &format!("{DEPLOYS}/web/status?fieldManager=ctrl"),
            &with_status,
        )
        .await
        .json();
    assert_eq!(
        updated["spec"]["replicas"], 1,
        "a status write keeps the spec"
    );
    assert_eq!(
        entries(&updated)[1],
        entry(
            "ctrl",
            "Update",
            "status",
            json!({"f:status": {"f:replicas": {}}})
        )
    );
}

#[tokio::test]
async fn apply_creates_a_missing_object_with_an_apply_entry() {
    let server = TestServer::start().await.unwrap();
    let client = Client::new(&server);
    let resp = client
        .patch(
            &format!("{CMS}/cfg?fieldManager=applier"),
            APPLY,
            &cm(json!({"a": "1"})),
        )
        .await;
    assert_eq!(resp.status, 201);
    let e = &resp.json()["metadata"]["managedFields"][0];
    assert_eq!(
        (
            e["manager"].as_str(),
            e["operation"].as_str(),
            e["apiVersion"].as_str()
        ),
        (Some("applier"), Some("Apply"), Some("v1"))
    );
    assert_eq!(e["fieldsV1"], json!({"f:data": {"f:a": {}}}));
}

#[tokio::test]
async fn apply_needs_a_field_manager_and_force_is_for_apply_only() {
    let server = TestServer::start().await.unwrap();
    let client = Client::new(&server);
    let resp = client
        .patch(&format!("{CMS}/cfg"), APPLY, &cm(json!({"a": "1"})))
        .await;
    assert_eq!(resp.status, 422);
    let body = resp.json();
    assert_eq!(
        body["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    assert_eq!(body["details"]["causes"][0]["field"], "fieldManager");

    client.post(CMS, &cm(json!({"a": "1"}))).await;
    let resp = client
        .patch(
            &format!("{CMS}/cfg?force=false"),
            "application/merge-patch+json",
            &json!({"data": {"a": "2"}}),
        )
        .await;
    assert_eq!(resp.status, 422);
    assert_eq!(
        resp.json()["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
    );
}

#[tokio::test]
async fn a_conflicting_apply_is_a_409_until_forced() {
    let (server, client) = with_cm_by_creator().await;
    let resp = client
        .patch(
            &format!("{CMS}/cfg?fieldManager=applier"),
            APPLY,
            &cm(json!({"a": "2"})),
        )
        .await;
    assert_eq!(resp.status, 409);
    let body = resp.json();
    assert_eq!(body["reason"], "Conflict");
    assert_eq!(
        body["message"],
        "Apply failed with 1 conflict: conflict with \"creator\" using v1: .data.a"
    );
    assert_eq!(
        body["details"]["causes"],
        json!([{"reason": "FieldManagerConflict", "message": "conflict with \"creator\" using v1", "field": ".data.a"}])
    );
    assert_eq!(server.get(&format!("{CMS}/cfg")).unwrap()["data"]["a"], "1");

    // The same value is no conflict: both own it.
    let same = client
        .patch(
            &format!("{CMS}/cfg?fieldManager=sharer"),
            APPLY,
            &cm(json!({"b": "1"})),
        )
        .await;
    assert_eq!(same.status, 200);

    let forced = client
        .patch(
            &format!("{CMS}/cfg?fieldManager=applier&force=true"),
            APPLY,
            &cm(json!({"a": "2"})),
        )
        .await
        .json();
    assert_eq!(forced["data"]["a"], "2");
    let owners: Vec<_> = entries(&forced);
    assert!(owners.contains(&entry(
        "applier",
        "Apply",
        "",
        json!({"f:data": {"f:a": {}}})
    )));
    assert!(owners.contains(&entry(
        "creator",
        "Update",
        "",
        json!({"f:data": {".": {}, "f:b": {}}})
    )));
}

#[tokio::test]
async fn fields_no_longer_applied_are_removed() {
    let server = TestServer::start().await.unwrap();
    let client = Client::new(&server);
    let path = format!("{CMS}/cfg?fieldManager=applier");
    client
        .patch(&path, APPLY, &cm(json!({"a": "1", "b": "2"})))
        .await;
    let again = client
        .patch(&path, APPLY, &cm(json!({"a": "1"})))
        .await
        .json();
    assert_eq!(again["data"], json!({"a": "1"}));
    assert_eq!(
        entries(&again),
        vec![entry(
            "applier",
            "Apply",
            "",
            json!({"f:data": {"f:a": {}}})
        )]
    );
}

#[tokio::test]
async fn a_yaml_apply_body_is_applied_and_bad_yaml_is_a_400() {
    let server = TestServer::start().await.unwrap();
    let client = Client::new(&server);
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"1\"\n";
    let resp = client
        .request(
            http::Method::PATCH,
            &format!("{CMS}/cfg?fieldManager=yaml"),
            Some(APPLY),
            yaml.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(resp.status, 201);
    assert_eq!(resp.json()["data"], json!({"a": "1"}));

    let bad = client
        .request(
            http::Method::PATCH,
            &format!("{CMS}/cfg?fieldManager=yaml"),
            Some(APPLY),
            b"- a\n- b\n".to_vec(),
        )
        .await;
    assert_eq!(bad.status, 400);
    let message = bad.json()["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("error decoding YAML: "), "{message}");
}

#[tokio::test]
async fn a_dry_run_apply_answers_with_managed_fields_and_stores_nothing() {
    let server = TestServer::start().await.unwrap();
    let client = Client::new(&server);
    let resp = client
        .patch(
            &format!("{CMS}/cfg?fieldManager=applier&dryRun=All"),
            APPLY,
            &cm(json!({"a": "1"})),
        )
        .await;
    assert_eq!(resp.status, 201);
    assert_eq!(entries(&resp.json())[0].0, "applier");
    assert!(server.get(&format!("{CMS}/cfg")).is_err());
}

#[tokio::test]
async fn a_scale_write_takes_replicas_from_the_applier() {
    let server = TestServer::start().await.unwrap();
    let client = Client::new(&server);
    let apply = format!("{DEPLOYS}/web?fieldManager=applier");
    client.patch(&apply, APPLY, &deployment(2)).await;
    let scale = client.get(&format!("{DEPLOYS}/web/scale")).await.json();
    let mut wanted = scale.clone();
    wanted["spec"]["replicas"] = json!(3);
    let resp = client
        .put(&format!("{DEPLOYS}/web/scale?fieldManager=scaler"), &wanted)
        .await;
    assert_eq!(resp.status, 200);
    let stored = server.get(&format!("{DEPLOYS}/web")).unwrap();
    let scaler = stored["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == "scaler")
        .cloned()
        .unwrap();
    assert_eq!(
        scaler,
        json!({"manager": "scaler", "operation": "Update", "apiVersion": "apps/v1",
               "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}},
               "subresource": "scale"})
    );
    let applier = &entries(&stored)[0];
    assert!(
        applier.3["f:spec"].get("f:replicas").is_none(),
        "{applier:?}"
    );

    let resp = client.patch(&apply, APPLY, &deployment(2)).await;
    assert_eq!(resp.status, 409);
    assert_eq!(
        resp.json()["message"],
        "Apply failed with 1 conflict: conflict with \"scaler\" with subresource \"scale\" using apps/v1: .spec.replicas"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_server_side_apply_conflicts_and_force() {
    let server = TestServer::start().await.unwrap();
    let dir = scratch("ssa");
    let url = server.url();
    let file = dir.join("deploy.json");
    let path = file.to_str().unwrap();
    std::fs::write(&file, deployment(2).to_string()).unwrap();
    let out = run(&url, &dir, &["apply", "--server-side", "-f", path]).await;
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");

    std::fs::write(&file, deployment(4).to_string()).unwrap();
    let out = run(&url, &dir, &["apply", "--server-side", "-f", path]).await;
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    assert_eq!(
        server.get(&format!("{DEPLOYS}/web")).unwrap()["spec"]["replicas"],
        4
    );

    let hidden = run(
        &url,
        &dir,
        &["get", "deployment", "web", "-n", "default", "-o", "yaml"],
    )
    .await;
    assert!(!hidden.contains("managedFields"), "{hidden}");
    let shown = run(
        &url,
        &dir,
        &[
            "get",
            "deployment",
            "web",
            "-n",
            "default",
            "-o",
            "yaml",
            "--show-managed-fields",
        ],
    )
    .await;
    assert!(shown.contains("managedFields:"), "{shown}");
    assert!(shown.contains("manager: kubectl\n"), "{shown}");
    assert!(shown.contains("operation: Apply"), "{shown}");

    run(
        &url,
        &dir,
        &[
            "scale",
            "deployment",
            "web",
            "-n",
            "default",
            "--replicas=5",
        ],
    )
    .await;
    std::fs::write(&file, deployment(3).to_string()).unwrap();
    let err = run_failing(&url, &dir, &["apply", "--server-side", "-f", path]).await;
    assert!(
        err.contains("Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas"),
        "{err}"
    );
    let out = run(
        &url,
        &dir,
        &["apply", "--server-side", "--force-conflicts", "-f", path],
    )
    .await;
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    assert_eq!(
        server.get(&format!("{DEPLOYS}/web")).unwrap()["spec"]["replicas"],
        3
    );

    // An update-style write (as `kubectl edit` sends) takes the field over too.
    run(
        &url,
        &dir,
        &[
            "patch",
            "deployment",
            "web",
            "-n",
            "default",
            "--field-manager=kubectl-edit",
            "-p",
            r#"{"spec":{"replicas":6}}"#,
        ],
    )
    .await;
    let err = run_failing(&url, &dir, &["apply", "--server-side", "-f", path]).await;
    assert!(
        err.contains("conflict with \"kubectl-edit\" using apps/v1: .spec.replicas"),
        "{err}"
    );
}
