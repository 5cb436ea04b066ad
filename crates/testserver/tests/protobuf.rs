//! Protobuf over a real socket: responses when the client prefers protobuf, protobuf request
//! bodies, watch frames, errors, the JSON fallback for custom resources, and gzip. Bodies are
//! checked against what kube-apiserver 1.32 sent (`crates/api/tests/fixtures/
//! kube-apiserver-1.32-protobuf/`), decoded to JSON through `api::scheme`.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::Read as _;

use apimachinery::runtime::protobuf::{decode_envelope, encode_envelope};
use apimachinery::runtime::wire::{Reader, WireType};
use common::{Client, Line, pod};
use http::Method;
use serde_json::{Value, json};
use testserver::{CustomResource, TestServer};

use api::scheme;

const PB: &str = "application/vnd.kubernetes.protobuf";
const PB_JSON: &str = "application/vnd.kubernetes.protobuf,application/json";
const PODS: &str = "/api/v1/namespaces/default/pods";
const CONFIGMAPS: &str = "/api/v1/namespaces/fixtures-pb/configmaps";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../api/tests/fixtures/kube-apiserver-1.32-protobuf/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A protobuf body's apiVersion, kind and meaning as JSON.
fn decode(body: &[u8]) -> (String, String, Value) {
    let u = decode_envelope(body).unwrap();
    let json = scheme::protobuf_to_json(u.api_version, u.kind, u.raw)
        .unwrap_or_else(|| panic!("scheme does not know {} {}", u.api_version, u.kind))
        .unwrap();
    (
        u.api_version.to_owned(),
        u.kind.to_owned(),
        serde_json::from_slice(&json).unwrap(),
    )
}

/// A protobuf body for a JSON object of a built-in kind.
fn encode(value: &Value) -> Vec<u8> {
    let (av, kind) = (
        value["apiVersion"].as_str().unwrap(),
        value["kind"].as_str().unwrap(),
    );
    let raw = scheme::json_to_protobuf(av, kind, value.to_string().as_bytes())
        .unwrap()
        .unwrap();
    encode_envelope(av, kind, &raw)
}

/// `v` without what a server assigns (uid, resourceVersion, timestamps, managedFields) and
/// without type meta, at any depth.
fn meaning(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for key in [
                    "uid",
                    "resourceVersion",
                    "creationTimestamp",
                    "managedFields",
                    "kind",
                    "apiVersion",
                ] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

fn protobuf_client(server: &TestServer, accept: &str) -> Client {
    let mut c = Client::new(server);
    c.accept = Some(accept.to_owned());
    c
}

/// The recorded configmap's content, as a client would create it.
fn recorded_configmap() -> Value {
    let mut cm: Value = serde_json::from_slice(&fixture("get-configmap.json")).unwrap();
    let meta = cm["metadata"].as_object_mut().unwrap();
    for key in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "managedFields",
    ] {
        meta.remove(key);
    }
    cm
}

/// Reads one protobuf `WatchEvent` frame: its type, its object's envelope, and the field
/// numbers of the event and of its RawExtension, in order.
fn watch_event(frame: &[u8]) -> (String, Vec<u8>, Vec<u32>) {
    let mut r = Reader::new(frame);
    let (mut ty, mut raw, mut fields) = (String::new(), Vec::new(), Vec::new());
    while let Some((field, wire)) = r.key().unwrap() {
        assert_eq!(wire, WireType::Len, "field {field}");
        fields.push(field);
        match field {
            1 => ty = r.str().unwrap().to_owned(),
            2 => {
                let mut ext = r.nested().unwrap();
                while let Some((f, _)) = ext.key().unwrap() {
                    fields.push(100 + f);
                    raw = ext.bytes().unwrap().to_vec();
                }
            }
            _ => panic!("unexpected WatchEvent field {field}"),
        }
    }
    (ty, raw, fields)
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn get_in_protobuf_means_what_the_real_server_sent() {
    let server = TestServer::start().await.unwrap();
    server.create_namespace("fixtures-pb").unwrap();
    server.create(CONFIGMAPS, recorded_configmap()).unwrap();
    let c = protobuf_client(&server, PB_JSON);
    let resp = c.get(&format!("{CONFIGMAPS}/cfg")).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type").as_deref(), Some(PB));
    let (av, kind, got) = decode(&resp.body);
    assert_eq!((av.as_str(), kind.as_str()), ("v1", "ConfigMap"));
    let (_, _, recorded) = decode(&fixture("get-configmap.pb"));
    assert_eq!(meaning(got.clone()), meaning(recorded));
    assert!(
        got["metadata"]["uid"]
            .as_str()
            .is_some_and(|u| !u.is_empty())
    );

    // JSON first, or `*/*`, is JSON as before.
    for accept in [
        "application/json,application/vnd.kubernetes.protobuf",
        "*/*",
    ] {
        let resp = protobuf_client(&server, accept)
            .get(&format!("{CONFIGMAPS}/cfg"))
            .await;
        assert_eq!(
            resp.header("content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(resp.json()["data"]["k"], "v", "{accept}");
    }
}

#[tokio::test]
async fn list_in_protobuf_carries_list_meta_and_every_item() {
    let server = TestServer::start().await.unwrap();
    server.create_namespace("fixtures-pb").unwrap();
    server.create(CONFIGMAPS, recorded_configmap()).unwrap();
    let mut second = recorded_configmap();
    second["metadata"]["name"] = json!("cfg2");
    server.create(CONFIGMAPS, second).unwrap();
    let c = protobuf_client(&server, PB);
    let resp = c.get(CONFIGMAPS).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type").as_deref(), Some(PB));
    let (av, kind, list) = decode(&resp.body);
    assert_eq!((av.as_str(), kind.as_str()), ("v1", "ConfigMapList"));
    let json_list = Client::new(&server).get(CONFIGMAPS).await.json();
    assert_eq!(
        list["metadata"]["resourceVersion"],
        json_list["metadata"]["resourceVersion"]
    );
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cfg", "cfg2"]);
    // Item for item, the same meaning as the recorded list's item.
    let (_, _, recorded) = decode(&fixture("list-configmaps.pb"));
    assert_eq!(
        meaning(list["items"][0].clone()),
        meaning(recorded["items"][0].clone())
    );

    // Paginated: the continue token travels in ListMeta.
    let page = c.get(&format!("{CONFIGMAPS}?limit=1")).await;
    let (_, _, page) = decode(&page.body);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert!(
        page["metadata"]["continue"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );

    // An empty list is still a list.
    let (_, kind, empty) = decode(&c.get("/api/v1/namespaces/default/secrets").await.body);
    assert_eq!(kind, "SecretList");
    assert!(empty["items"].as_array().is_none_or(Vec::is_empty));
}

#[tokio::test]
async fn create_update_and_delete_speak_protobuf_both_ways() {
    let server = TestServer::start().await.unwrap();
    let c = protobuf_client(&server, PB_JSON);
    // The bodies kubectl 1.32 sent for `kubectl create namespace demo` and `kubectl -n demo
    // create configmap cm1 --from-literal=a=b`.
    let ns = c
        .request(
            Method::POST,
            "/api/v1/namespaces?fieldManager=kubectl-create&fieldValidation=Strict",
            Some(PB),
            fixture("kubectl-request-create-namespace.pb"),
        )
        .await;
    assert_eq!(ns.status, 201, "{:?}", String::from_utf8_lossy(&ns.body));
    assert_eq!(decode(&ns.body).2["metadata"]["name"], "demo");
    let created = c
        .request(
            Method::POST,
            "/api/v1/namespaces/demo/configmaps?fieldManager=kubectl-create&fieldValidation=Strict",
            Some(PB),
            fixture("kubectl-request-create-configmap.pb"),
        )
        .await;
    assert_eq!(
        created.status,
        201,
        "{:?}",
        String::from_utf8_lossy(&created.body)
    );
    assert_eq!(created.header("content-type").as_deref(), Some(PB));
    let (_, kind, cm) = decode(&created.body);
    assert_eq!(kind, "ConfigMap");
    assert_eq!(
        (cm["metadata"]["name"].clone(), cm["data"]["a"].clone()),
        (json!("cm1"), json!("b"))
    );
    assert!(cm["metadata"]["resourceVersion"].as_str().is_some());

    let mut changed = cm.clone();
    changed["apiVersion"] = json!("v1");
    changed["kind"] = json!("ConfigMap");
    changed["data"]["a"] = json!("c");
    let path = "/api/v1/namespaces/demo/configmaps/cm1";
    let updated = c
        .request(Method::PUT, path, Some(PB), encode(&changed))
        .await;
    assert_eq!(
        updated.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&updated.body)
    );
    let (_, _, updated) = decode(&updated.body);
    assert_eq!(updated["data"]["a"], "c");
    assert_eq!(server.get(path).unwrap()["data"]["a"], "c");

    // A deployment (apps/v1) and a pod, whose DELETE answers with the object.
    let deploy = c
        .request(
            Method::POST,
            "/apis/apps/v1/namespaces/demo/deployments",
            Some(PB),
            fixture("kubectl-request-create-deployment.pb"),
        )
        .await;
    assert_eq!(
        deploy.status,
        201,
        "{:?}",
        String::from_utf8_lossy(&deploy.body)
    );
    assert_eq!(
        decode(&deploy.body).2["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx"
    );
    let created_pod = c
        .request(
            Method::POST,
            PODS,
            Some(PB),
            encode(&pod("p", json!({"app": "x"}))),
        )
        .await;
    assert_eq!(created_pod.status, 201);

    let deleted = c.delete(path).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.header("content-type").as_deref(), Some(PB));
    let u = decode_envelope(&deleted.body).unwrap();
    assert_eq!((u.api_version, u.kind), ("v1", "Status"));
    let deleted_pod = c.delete(&format!("{PODS}/p")).await;
    let (_, kind, gone) = decode(&deleted_pod.body);
    assert_eq!(
        (kind.as_str(), gone["metadata"]["name"].as_str()),
        ("Pod", Some("p"))
    );
}

#[tokio::test]
async fn errors_are_protobuf_statuses_byte_for_byte() {
    let server = TestServer::start().await.unwrap();
    let c = protobuf_client(&server, PB_JSON);
    let missing = c.get(&format!("{PODS}/nope")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type").as_deref(), Some(PB));
    assert_eq!(&missing.body[..], &fixture("error-not-found.pb")[..]);

    let bad = c.get(&format!("{PODS}?labelSelector=a%20in%20(")).await;
    assert_eq!(bad.status, 400);
    let u = decode_envelope(&bad.body).unwrap();
    assert_eq!((u.api_version, u.kind), ("v1", "Status"));
    // Reason (field 4) and code (field 6) as in the recorded 400.
    let recorded = fixture("error-bad-selector.pb");
    let recorded = decode_envelope(&recorded).unwrap();
    let fields = |raw: &[u8]| {
        let mut r = Reader::new(raw);
        let (mut reason, mut code) = (String::new(), 0);
        while let Some((f, w)) = r.key().unwrap() {
            match (f, w) {
                (4, WireType::Len) => reason = r.str().unwrap().to_owned(),
                (6, WireType::Varint) => code = r.varint().unwrap(),
                _ => r.skip(w).unwrap(),
            }
        }
        (reason, code)
    };
    assert_eq!(fields(u.raw), fields(recorded.raw));
}

#[tokio::test]
async fn watch_in_protobuf_is_framed_like_the_real_server() {
    let server = TestServer::start().await.unwrap();
    let c = protobuf_client(&server, PB_JSON);
    let rv = Client::new(&server).get(PODS).await.json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut w = c
        .watch(&format!(
            "{PODS}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true"
        ))
        .await;
    assert_eq!(w.status, 200);
    assert_eq!(
        w.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/vnd.kubernetes.protobuf;stream=watch")
    );
    assert!(w.headers.get("content-encoding").is_none());
    server
        .create(PODS, pod("second", json!({"app": "x"})))
        .unwrap();
    let mut p = server.get(&format!("{PODS}/second")).unwrap();
    p["metadata"]["labels"]["b"] = json!("y");
    server.update(&format!("{PODS}/second"), p).unwrap();
    server.delete(&format!("{PODS}/second")).unwrap();

    // The recorded stream: a pod created, patched twice and deleted.
    let recorded = fixture("watch-pods.pb");
    let mut recorded_events = Vec::new();
    let mut rest = &recorded[..];
    while let Some(header) = rest.first_chunk::<4>() {
        let len = u32::from_be_bytes(*header) as usize;
        recorded_events.push(watch_event(&rest[4..4 + len]));
        rest = &rest[4 + len..];
    }
    let (_, recorded_raw, recorded_fields) = &recorded_events[0];
    let (_, _, recorded_pod) = decode(recorded_raw);

    let mut types = Vec::new();
    for _ in 0..recorded_events.len() {
        let frame = w.next_frame().await.unwrap();
        let (ty, raw, fields) = watch_event(&frame);
        assert_eq!(
            &fields, recorded_fields,
            "WatchEvent{{1 type, 2 RawExtension{{1 raw}}}}"
        );
        assert!(raw.starts_with(b"k8s\0"));
        let (av, kind, obj) = decode(&raw);
        assert_eq!((av.as_str(), kind.as_str()), ("v1", "Pod"));
        assert_eq!(obj["metadata"]["name"], recorded_pod["metadata"]["name"]);
        types.push(ty);
    }
    // Created, patched, deleted gracefully (MODIFIED with a deletionTimestamp), gone.
    let recorded_types: Vec<&str> = recorded_events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(recorded_types, ["ADDED", "MODIFIED", "MODIFIED", "DELETED"]);
    assert_eq!(types, recorded_types);
}

#[tokio::test]
async fn protobuf_watch_errors_and_initial_events_are_frames_too() {
    let server = TestServer::start().await.unwrap();
    server.create(PODS, pod("a", json!({"app": "x"}))).unwrap();
    let c = protobuf_client(&server, PB);
    let mut w = c
        .watch(&format!(
            "{PODS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
        ))
        .await;
    let (ty, raw, _) = watch_event(&w.next_frame().await.unwrap());
    assert_eq!(
        (ty.as_str(), decode(&raw).2["metadata"]["name"].as_str()),
        ("ADDED", Some("a"))
    );
    let (ty, raw, _) = watch_event(&w.next_frame().await.unwrap());
    assert_eq!(ty, "BOOKMARK");
    let (_, kind, bookmark) = decode(&raw);
    assert_eq!(kind, "Pod");
    assert_eq!(
        bookmark["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );

    // Too old a resourceVersion: one ERROR event carrying a 410 Status.
    server.create(PODS, pod("b", json!({}))).unwrap();
    server.faults().compact();
    let mut old = c.watch(&format!("{PODS}?watch=1&resourceVersion=1")).await;
    let (ty, raw, _) = watch_event(&old.next_frame().await.unwrap());
    assert_eq!(ty, "ERROR");
    let u = decode_envelope(&raw).unwrap();
    assert_eq!((u.api_version, u.kind), ("v1", "Status"));
    assert!(matches!(old.next_frame().await, Err(Line::End)));
}

#[tokio::test]
async fn custom_resources_fall_back_to_json_or_refuse_protobuf_alone() {
    let server = TestServer::start().await.unwrap();
    server.register_custom_resource(CustomResource {
        group: "example.com".into(),
        version: "v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
        namespaced: true,
    });
    let widgets = "/apis/example.com/v1/namespaces/default/widgets";
    server
        .create(
            widgets,
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}),
        )
        .unwrap();
    let fallback = protobuf_client(&server, PB_JSON)
        .get(&format!("{widgets}/w"))
        .await;
    assert_eq!(fallback.status, 200);
    assert_eq!(
        fallback.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(fallback.json()["metadata"]["name"], "w");
    let listed = protobuf_client(&server, PB_JSON).get(widgets).await;
    assert_eq!(listed.json()["kind"], "WidgetList");

    let refused = protobuf_client(&server, PB).get(widgets).await;
    assert_eq!(refused.status, 406);
    assert_eq!(
        refused.header("content-type").as_deref(),
        Some("application/json")
    );
    let status = refused.json();
    assert_eq!(status["reason"], "NotAcceptable");
    assert_eq!(
        status["message"],
        "only the following media types are accepted: application/json, application/yaml"
    );
    let watch = protobuf_client(&server, PB)
        .watch(&format!("{widgets}?watch=1"))
        .await;
    assert_eq!(watch.status, 406);

    // A protobuf body for a custom resource is not decoded.
    let body = encode_envelope("example.com/v1", "Widget", b"");
    let created = Client::new(&server)
        .request(Method::POST, widgets, Some(PB), body)
        .await;
    assert_eq!(
        (created.status, created.json()["reason"].clone()),
        (415, json!("UnsupportedMediaType"))
    );
}

#[tokio::test]
async fn tables_stay_json_even_before_protobuf() {
    let server = TestServer::start().await.unwrap();
    server.create(PODS, pod("t", json!({}))).unwrap();
    let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/vnd.kubernetes.protobuf,application/json";
    let resp = protobuf_client(&server, accept).get(PODS).await;
    assert_eq!(
        resp.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(resp.json()["kind"], "Table");
    // A Table in protobuf is not served: the next clause wins.
    let pb_table =
        "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json";
    let resp = protobuf_client(&server, pb_table).get(PODS).await;
    assert_eq!(resp.json()["kind"], "PodList");
}

#[tokio::test]
async fn bodies_that_are_not_protobuf_or_json_are_refused_clearly() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let yaml = c
        .request(
            Method::POST,
            PODS,
            Some("application/yaml"),
            b"kind: Pod\n".to_vec(),
        )
        .await;
    assert_eq!(
        (yaml.status, yaml.json()["reason"].clone()),
        (415, json!("UnsupportedMediaType"))
    );

    for body in [b"{\"kind\":\"Pod\"}".to_vec(), b"k8s\0\x0a\xff".to_vec()] {
        let resp = c.request(Method::POST, PODS, Some(PB), body).await;
        assert_eq!(resp.status, 400);
        let status = resp.json();
        assert_eq!(status["reason"], "BadRequest");
        assert!(
            status["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("the request body could not be decoded as protobuf")),
            "{status}"
        );
    }
    // A well-formed envelope of a kind nobody registered.
    let unknown = encode_envelope("v1", "Gadget", b"");
    let resp = c.request(Method::POST, PODS, Some(PB), unknown).await;
    assert_eq!(resp.status, 400);
    assert!(
        resp.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("Gadget"))
    );
    assert_eq!(server.count("pods"), 0);
}

#[tokio::test]
async fn large_protobuf_lists_are_gzipped_and_protobuf_watches_never() {
    let server = TestServer::start().await.unwrap();
    let filler = "x".repeat(2048);
    for i in 0..100 {
        server
            .create(
                "/api/v1/namespaces/default/configmaps",
                json!({"metadata": {"name": format!("cm-{i}")}, "data": {"f": filler}}),
            )
            .unwrap();
    }
    let mut c = protobuf_client(&server, PB);
    c.accept_encoding = Some("gzip".into());
    let resp = c.get("/api/v1/namespaces/default/configmaps").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(resp.header("content-type").as_deref(), Some(PB));
    let body = gunzip(&resp.body);
    assert!(body.len() > testserver::GZIP_THRESHOLD_BYTES);
    let (_, kind, list) = decode(&body);
    assert_eq!(kind, "ConfigMapList");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(100));

    // Small protobuf bodies stay identity.
    let one = c.get("/api/v1/namespaces/default/configmaps/cm-1").await;
    assert!(one.header("content-encoding").is_none());

    let mut w = c
        .watch("/api/v1/namespaces/default/configmaps?watch=1")
        .await;
    assert!(w.headers.get("content-encoding").is_none());
    let (ty, _, _) = watch_event(&w.next_frame().await.unwrap());
    assert_eq!(ty, "ADDED");
}
