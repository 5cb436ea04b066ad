//! Core `v1` and `events.k8s.io/v1` Events are one object in two representations, as on
//! kube-apiserver 1.32 (`tests/fixtures/kube-apiserver-1.32-events/`).

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::Client;
use serde_json::{Value, json};
use testserver::TestServer;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/kube-apiserver-1.32-events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// `v` without what a server assigns.
fn strip(mut v: Value) -> Value {
    if let Some(m) = v["metadata"].as_object_mut() {
        for k in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "managedFields",
        ] {
            m.remove(k);
        }
    }
    v
}

#[tokio::test]
async fn a_core_event_lists_as_the_recorded_events_k8s_io_event() {
    let server = TestServer::start().await.unwrap();
    server.create_namespace("fixtures2").unwrap();
    let c = Client::new(&server);
    let rec = fixture("list-events-k8s-io");
    let want = rec["response"]["body"]["items"][0].clone();
    // The core Event the recorded one was created as.
    let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "t.1"},
        "involvedObject": want["regarding"], "reason": "Synced", "message": "synced ok",
        "type": "Normal", "count": 2, "source": {"component": "pod-controller"},
        "firstTimestamp": "2026-11-28T07:00:00Z", "lastTimestamp": "2026-11-28T07:00:05Z"});
    let resp = c.post("/api/v1/namespaces/fixtures2/events", &core).await;
    assert_eq!(resp.status, 201);

    let list = c.get(rec["request"]["path"].as_str().unwrap()).await.json();
    assert_eq!(list["kind"], "EventList");
    assert_eq!(list["apiVersion"], "events.k8s.io/v1");
    assert_eq!(strip(list["items"][0].clone()), strip(want));
    let one = c
        .get("/apis/events.k8s.io/v1/namespaces/fixtures2/events/t.1")
        .await
        .json();
    assert_eq!(one["apiVersion"], "events.k8s.io/v1");
    assert_eq!(one["note"], "synced ok");
    assert_eq!(server.count("events"), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn an_events_k8s_io_event_reads_back_as_a_core_event_and_updates_are_shared() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    let rv = server.resource_version();
    let mut core_watch = c
        .watch(&format!(
            "/api/v1/namespaces/default/events?watch=1&resourceVersion={rv}"
        ))
        .await;
    let ev = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"},
        "eventTime": "2026-11-28T07:00:00.000000Z", "reportingController": "ctl",
        "reportingInstance": "ctl-1", "action": "Sync", "reason": "Synced", "note": "hi",
        "type": "Normal", "regarding": {"kind": "Pod", "name": "p", "namespace": "default"},
        "series": {"count": 3, "lastObservedTime": "2026-11-28T07:00:09.000000Z"}});
    let v1 = "/apis/events.k8s.io/v1/namespaces/default/events";
    let resp = c.post(v1, &ev).await;
    assert_eq!(resp.status, 201, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(resp.json()["note"], "hi");

    let core = c.get("/api/v1/namespaces/default/events/e").await.json();
    assert_eq!(core["apiVersion"], "v1");
    assert_eq!(core["message"], "hi");
    assert_eq!(core["involvedObject"]["name"], "p");
    assert_eq!(core["reportingComponent"], "ctl");
    assert_eq!(core["reportingInstance"], "ctl-1");
    assert_eq!(core["series"]["count"], 3);
    assert_eq!(core["action"], "Sync");
    let added = core_watch.next_non_bookmark().await;
    assert_eq!(
        (added["type"].as_str(), added["object"]["message"].as_str()),
        (Some("ADDED"), Some("hi"))
    );

    let mut v1_watch = c
        .watch(&format!(
            "{v1}?watch=1&resourceVersion={}",
            server.resource_version()
        ))
        .await;
    let resp = c
        .patch(
            "/api/v1/namespaces/default/events/e",
            "application/merge-patch+json",
            &json!({"message": "changed"}),
        )
        .await;
    assert_eq!(resp.status, 200);
    let modified = v1_watch.next_non_bookmark().await;
    assert_eq!(modified["type"], "MODIFIED");
    assert_eq!(modified["object"]["apiVersion"], "events.k8s.io/v1");
    assert_eq!(modified["object"]["note"], "changed");

    let resp = c
        .patch(
            &format!("{v1}/e"),
            "application/merge-patch+json",
            &json!({"note": "again"}),
        )
        .await;
    assert_eq!(resp.json()["note"], "again");
    assert_eq!(
        c.get("/api/v1/namespaces/default/events/e").await.json()["message"],
        "again"
    );
    assert_eq!(c.delete(&format!("{v1}/e")).await.status, 200);
    assert_eq!(
        c.get("/api/v1/namespaces/default/events/e").await.status,
        404
    );
    server.shutdown().await;
}

/// A core Event about `kind/name`, reported by `component` (`source.component` when `legacy`,
/// `reportingComponent` otherwise).
fn core_event(name: &str, kind: &str, component: &str, legacy: bool) -> Value {
    let mut ev = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"kind": kind, "name": format!("{name}-obj"), "namespace": "default"},
        "reason": "Seen", "message": "m", "type": "Normal",
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z"});
    if legacy {
        ev["source"] = json!({"component": component});
    } else {
        ev["reportingComponent"] = json!(component);
        ev["reportingInstance"] = json!(format!("{component}-1"));
    }
    ev
}

fn item_names(list: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    names
}

async fn events_server() -> (TestServer, Client) {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    for ev in [
        core_event("a", "Pod", "kubelet", true),
        core_event("b", "Node", "kubelet", false),
        core_event("c", "Pod", "scheduler", false),
    ] {
        let resp = c.post("/api/v1/namespaces/default/events", &ev).await;
        assert_eq!(resp.status, 201, "{}", String::from_utf8_lossy(&resp.body));
    }
    (server, c)
}

const V1_EVENTS: &str = "/apis/events.k8s.io/v1/namespaces/default/events";
const CORE_EVENTS: &str = "/api/v1/namespaces/default/events";

#[tokio::test]
async fn events_k8s_io_field_selectors_use_the_events_names_of_the_core_fields() {
    let (server, c) = events_server().await;
    for (selector, want) in [
        ("regarding.kind%3DPod", vec!["a", "c"]),
        ("regarding.name%3Db-obj", vec!["b"]),
        ("reportingController%3Dscheduler", vec!["c"]),
        (
            "regarding.kind%3DPod,reportingController!%3Dscheduler",
            vec!["a"],
        ),
        ("type%3DNormal,reason%3DSeen,metadata.name%3Db", vec!["b"]),
    ] {
        let resp = c
            .get(&format!("{V1_EVENTS}?fieldSelector={selector}"))
            .await;
        assert_eq!(
            resp.status,
            200,
            "{selector}: {}",
            String::from_utf8_lossy(&resp.body)
        );
        assert_eq!(item_names(&resp.json()), want, "{selector}");
    }
    // A watch filters with the same conversion.
    let mut watch = c
        .watch(&format!(
            "{V1_EVENTS}?watch=1&fieldSelector=regarding.kind%3DNode&resourceVersion={}",
            server.resource_version()
        ))
        .await;
    let d = core_event("d", "Pod", "kubelet", false);
    assert_eq!(c.post(CORE_EVENTS, &d).await.status, 201);
    let e = core_event("e", "Node", "kubelet", false);
    assert_eq!(c.post(CORE_EVENTS, &e).await.status, 201);
    let added = watch.next_non_bookmark().await;
    assert_eq!(added["object"]["metadata"]["name"], "e");
    assert_eq!(added["object"]["regarding"]["kind"], "Node");
    server.shutdown().await;
}

#[tokio::test]
async fn field_labels_of_the_other_event_api_are_refused_with_the_servers_message() {
    let (server, c) = events_server().await;
    for (path, label) in [
        (V1_EVENTS, "involvedObject.kind"),
        (V1_EVENTS, "source"),
        (V1_EVENTS, "deprecatedSource.component"),
        (V1_EVENTS, "note"),
        (CORE_EVENTS, "regarding.kind"),
        (CORE_EVENTS, "reportingController"),
    ] {
        let resp = c.get(&format!("{path}?fieldSelector={label}%3Dx")).await;
        let status = resp.json();
        assert_eq!(
            (
                resp.status,
                status["reason"].as_str(),
                status["message"].as_str()
            ),
            (
                400,
                Some("BadRequest"),
                Some(format!("field label not supported: {label}").as_str())
            ),
            "{path} {label}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_core_source_selector_matches_the_reporting_controller_when_source_is_empty() {
    let (server, c) = events_server().await;
    let list = c
        .get(&format!("{CORE_EVENTS}?fieldSelector=source%3Dkubelet"))
        .await
        .json();
    assert_eq!(item_names(&list), ["a", "b"]);
    let list = c
        .get(&format!(
            "{CORE_EVENTS}?fieldSelector=reportingComponent%3Dkubelet"
        ))
        .await
        .json();
    assert_eq!(item_names(&list), ["b"]);
    server.shutdown().await;
}
