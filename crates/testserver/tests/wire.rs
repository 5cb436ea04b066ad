//! Responses written from the per-object JSON cache are byte for byte what serializing each
//! object's `Value` with `serde_json::to_vec` writes: full LISTs, pages, watch events (the
//! initial events of a `sendInitialEvents` watch, live ones, and the DELETED built for an
//! object leaving the selector), GET, and custom resources whose list items keep their type
//! meta.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{Client, PODS, pod};
use serde::Serialize;
use serde_json::{Map, Value, json};
use testserver::TestServer;

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

/// A watch line's fields in the order the server writes them.
#[derive(Serialize)]
struct WireEvent<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    object: &'a Value,
}

/// The old-style event line: `serde_json::to_vec` of the event, then a newline.
fn event_line(kind: &str, object: &Value) -> Vec<u8> {
    let mut line = serde_json::to_vec(&WireEvent { kind, object }).unwrap();
    line.push(b'\n');
    line
}

fn without_type_meta(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("kind");
        m.remove("apiVersion");
    }
    v
}

/// The old-style list body: the header as `serde_json::to_vec` wrote it, then each item's
/// `serde_json::to_vec`.
fn list_body(kind: &str, api_version: &str, metadata: &Value, items: &[Value]) -> Vec<u8> {
    let head = json!({"kind": kind, "apiVersion": api_version, "metadata": metadata});
    let mut out = serde_json::to_vec(&head).unwrap();
    out.pop();
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend(serde_json::to_vec(item).unwrap());
    }
    out.extend_from_slice(b"]}");
    out
}

fn assert_same(got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "bytes differ\n got: {}\nwant: {}",
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(want)
    );
}

async fn seeded() -> (TestServer, Client) {
    let server = TestServer::start().await.unwrap();
    for i in 0..40 {
        let labels =
            json!({"app": "web", "shard": (i % 3).to_string(), "note": "quote \" and \u{263a}"});
        server
            .create(PODS, pod(&format!("web-{i:02}"), labels))
            .unwrap();
    }
    for i in 0..5 {
        // Keys that sort before and between `apiVersion` and `kind`.
        let cm = json!({"binaryData": {"b": "AAE="}, "data": {"k": format!("v{i}")}, "immutable": false,
                        "metadata": {"name": format!("cm-{i}")}});
        server.create(CONFIGMAPS, cm).unwrap();
    }
    let c = Client::new(&server);
    (server, c)
}

#[tokio::test]
async fn lists_and_pages_are_the_serialized_values() {
    let (server, c) = seeded().await;
    // Serve every object once through GET first, so the lists below read warm caches too.
    for (i, item) in server.list(PODS).unwrap().iter().enumerate() {
        let got = c.get(&format!("{PODS}/web-{i:02}")).await;
        assert_same(&got.body, &serde_json::to_vec(item).unwrap());
    }
    for (path, kind) in [(PODS, "PodList"), (CONFIGMAPS, "ConfigMapList")] {
        let items: Vec<Value> = server
            .list(path)
            .unwrap()
            .iter()
            .map(without_type_meta)
            .collect();
        let full = c.get(path).await;
        let rv = full.json()["metadata"]["resourceVersion"].clone();
        let want = list_body(kind, "v1", &json!({"resourceVersion": rv}), &items);
        assert_same(&full.body, &want);

        // Pages: each with its continue token and remaining count, until the last.
        let mut token: Option<String> = None;
        let mut seen = 0;
        loop {
            let page_path = match &token {
                Some(t) => format!("{path}?limit=7&continue={t}"),
                None => format!("{path}?limit=7"),
            };
            let page = c.get(&page_path).await;
            let meta = page.json()["metadata"].clone();
            let n = (items.len() - seen).min(7);
            let mut want_meta = Map::new();
            want_meta.insert("resourceVersion".into(), meta["resourceVersion"].clone());
            if let Some(t) = meta.get("continue") {
                want_meta.insert("continue".into(), t.clone());
                want_meta.insert("remainingItemCount".into(), json!(items.len() - seen - n));
            }
            let want = list_body(
                kind,
                "v1",
                &Value::Object(want_meta),
                &items[seen..seen + n],
            );
            assert_same(&page.body, &want);
            seen += n;
            match meta.get("continue").and_then(Value::as_str) {
                Some(t) => token = Some(t.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, items.len());
    }
    // A label-selected list picks the same cached items.
    let selected: Vec<Value> = server
        .list(PODS)
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["labels"]["shard"] == "1")
        .map(without_type_meta)
        .collect();
    let got = c.get(&format!("{PODS}?labelSelector=shard%3D1")).await;
    let rv = got.json()["metadata"]["resourceVersion"].clone();
    let want = list_body("PodList", "v1", &json!({"resourceVersion": rv}), &selected);
    assert_same(&got.body, &want);
}

#[tokio::test]
async fn custom_resource_list_items_keep_their_type_meta() {
    let server = TestServer::start().await.unwrap();
    server.register_custom_resource(testserver::CustomResource {
        group: "example.com".into(),
        version: "v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
        namespaced: true,
    });
    let path = "/apis/example.com/v1/namespaces/default/widgets";
    for i in 0..3 {
        server
            .create(
                path,
                json!({"metadata": {"name": format!("w{i}")}, "spec": {"size": i}}),
            )
            .unwrap();
    }
    let c = Client::new(&server);
    let got = c.get(path).await;
    let rv = got.json()["metadata"]["resourceVersion"].clone();
    let items = server.list(path).unwrap();
    let want = list_body(
        "WidgetList",
        "example.com/v1",
        &json!({"resourceVersion": rv}),
        &items,
    );
    assert_same(&got.body, &want);
}

#[tokio::test]
async fn watch_events_are_the_serialized_values() {
    let (server, c) = seeded().await;
    // Warm some caches through a LIST first: the watch must write the same bytes either way.
    assert_eq!(c.get(PODS).await.status, 200);
    let mut w = c
        .watch(&format!(
            "{PODS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=&allowWatchBookmarks=true&labelSelector=app%3Dweb"
        ))
        .await;
    assert_eq!(w.status, 200);
    for item in server.list(PODS).unwrap() {
        let line = w.next_raw_line().await.unwrap();
        assert_same(&line, &event_line("ADDED", &item));
    }
    let bookmark: Value = serde_json::from_slice(&w.next_raw_line().await.unwrap()).unwrap();
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(
        bookmark["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );

    // Live: a change in the selector (MODIFIED), one leaving it (a built DELETED), a new pod
    // (ADDED) and its graceful delete (MODIFIED, then DELETED).
    let mut changed = server.get(&format!("{PODS}/web-00")).unwrap();
    changed["spec"]["activeDeadlineSeconds"] = json!(30);
    let changed = server.update(&format!("{PODS}/web-00"), changed).unwrap();
    let before_leaving = server.get(&format!("{PODS}/web-01")).unwrap();
    let mut leaving = before_leaving.clone();
    leaving["metadata"]["labels"]["app"] = json!("other");
    let left = server.update(&format!("{PODS}/web-01"), leaving).unwrap();
    let added = server
        .create(PODS, pod("new", json!({"app": "web"})))
        .unwrap();
    server.delete(&format!("{PODS}/new")).unwrap();

    let mut last_state = before_leaving;
    last_state["metadata"]["resourceVersion"] = left["metadata"]["resourceVersion"].clone();
    let expected = [
        ("MODIFIED", changed),
        ("DELETED", last_state),
        ("ADDED", added),
    ];
    for (kind, object) in &expected {
        let line = next_event_line(&mut w).await;
        assert_same(&line, &event_line(kind, object));
    }
    // The graceful delete's objects carry server-set timestamps: compare each line with the
    // old-style serialization of what it holds.
    for kind in ["MODIFIED", "DELETED"] {
        let line = next_event_line(&mut w).await;
        let ev: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(ev["type"], kind);
        assert_eq!(ev["object"]["metadata"]["name"], "new");
        assert_same(&line, &event_line(kind, &ev["object"]));
    }
}

/// The next line that is not a BOOKMARK, as sent.
async fn next_event_line(w: &mut common::Watch) -> bytes::Bytes {
    loop {
        let line = w.next_raw_line().await.unwrap();
        if !line.starts_with(b"{\"type\":\"BOOKMARK\"") {
            return line;
        }
    }
}

#[tokio::test]
async fn watch_replay_from_a_resource_version_is_the_serialized_values() {
    let (server, c) = seeded().await;
    let rv = server.resource_version();
    let mut cm = server.get(&format!("{CONFIGMAPS}/cm-0")).unwrap();
    cm["data"]["k"] = json!("changed");
    let updated = server.update(&format!("{CONFIGMAPS}/cm-0"), cm).unwrap();
    let deleted = server.delete(&format!("{CONFIGMAPS}/cm-1")).unwrap();
    assert_eq!(deleted["kind"], "Status");
    let mut w = c
        .watch(&format!("{CONFIGMAPS}?watch=1&resourceVersion={rv}"))
        .await;
    let line = w.next_raw_line().await.unwrap();
    assert_same(&line, &event_line("MODIFIED", &updated));
    let line = w.next_raw_line().await.unwrap();
    let ev: Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(ev["type"], "DELETED");
    assert_eq!(
        ev["object"]["metadata"]["resourceVersion"],
        server.resource_version()
    );
    assert_same(&line, &event_line("DELETED", &ev["object"]));
}
