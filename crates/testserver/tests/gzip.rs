//! gzip on the wire, as kube-apiserver 1.32 does it: responses other than watch streams are
//! compressed when the request's `Accept-Encoding` lists gzip and the body is over 128 KiB;
//! watch streams (watch-list included) never are. The two recorded transcripts in
//! `tests/fixtures/kube-apiserver-1.32-gzip/` (copies of `shared/fixtures/kube-apiserver-1.32/`,
//! whose bodies are stored decompressed, with the compressed size in `x-bytes-on-wire`) are
//! replayed against a server seeded the same way, and their headers compared.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::Read as _;
use std::path::PathBuf;

use common::{Client, Line};
use serde_json::{Value, json};
use testserver::{GZIP_THRESHOLD_BYTES, TestServer};

const NS: &str = "fixtures2";
const CONFIGMAPS: &str = "/api/v1/namespaces/fixtures2/configmaps";

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kube-apiserver-1.32-gzip")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The recorded state: 40 configmaps `g00`..`g39` labelled `gz=1`, each with a 4,000-byte
/// `blob`: about 175 KiB of list, over the threshold; two of them are well under it.
async fn seeded_server() -> TestServer {
    let server = TestServer::start().await.unwrap();
    server.create_namespace(NS).unwrap();
    for i in 0..40 {
        server
            .create(
                CONFIGMAPS,
                json!({"metadata": {"name": format!("g{i:02}"), "labels": {"gz": "1"}},
                       "data": {"blob": "x".repeat(4000)}}),
            )
            .unwrap();
    }
    server
}

fn gzip_client(server: &TestServer) -> Client {
    let mut client = Client::new(server);
    client.accept_encoding = Some("gzip".to_owned());
    client
}

/// The response headers a recorded transcript kept, lower-cased, minus the measurement.
fn recorded_headers(doc: &Value) -> Vec<String> {
    let mut names: Vec<String> = doc["response"]["headers"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.to_ascii_lowercase())
        .filter(|k| k != "x-bytes-on-wire")
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_list_over_128_kib_is_gzipped_like_the_recorded_one_and_inflates_to_the_identity_body() {
    let server = seeded_server().await;
    let doc = fixture("list-configmaps-gzip");
    let path = doc["request"]["path"].as_str().unwrap();
    assert_eq!(doc["request"]["headers"]["Accept-Encoding"], "gzip");

    let identity = Client::new(&server).get(path).await;
    assert_eq!(identity.status, 200);
    assert!(identity.body.len() > GZIP_THRESHOLD_BYTES);
    assert!(identity.header("content-encoding").is_none());

    let gzipped = gzip_client(&server).get(path).await;
    assert_eq!(gzipped.status, doc["response"]["status"]);
    for name in recorded_headers(&doc) {
        assert_eq!(
            gzipped.header(&name).as_deref(),
            doc["response"]["headers"][&name].as_str(),
            "header {name}"
        );
    }
    assert_eq!(gzipped.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(gzipped.header("vary").as_deref(), Some("Accept-Encoding"));
    assert!(gzipped.header("content-length").is_none());
    // The recording moved 2,868 bytes for about 175 KiB; level 1 of another deflate does
    // about as well.
    let recorded_wire: usize = doc["response"]["headers"]["x-bytes-on-wire"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        gzipped.body.len() < 4 * recorded_wire,
        "{} bytes on the wire",
        gzipped.body.len()
    );
    assert_eq!(gunzip(&gzipped.body), identity.body);

    // The same items as the recording, in the same order.
    let ours: Value = serde_json::from_slice(&identity.body).unwrap();
    let recorded = &doc["response"]["body"];
    assert_eq!(ours["kind"], recorded["kind"]);
    let names = |v: &Value| -> Vec<Value> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].clone())
            .collect()
    };
    assert_eq!(names(&ours), names(recorded));
    assert_eq!(ours["items"][0]["data"], recorded["items"][0]["data"]);
}

#[tokio::test]
async fn a_list_under_128_kib_stays_identity_like_the_recorded_one() {
    let server = seeded_server().await;
    let doc = fixture("list-configmaps-small-gzip");
    let path = doc["request"]["path"].as_str().unwrap();
    assert_eq!(doc["request"]["headers"]["Accept-Encoding"], "gzip");
    let resp = gzip_client(&server).get(path).await;
    assert_eq!(resp.status, doc["response"]["status"]);
    let recorded = recorded_headers(&doc);
    assert!(!recorded.contains(&"content-encoding".to_owned()));
    assert!(!recorded.contains(&"vary".to_owned()));
    for name in recorded {
        assert_eq!(
            resp.header(&name).as_deref(),
            doc["response"]["headers"][&name].as_str(),
            "header {name}"
        );
    }
    assert!(resp.header("content-encoding").is_none());
    assert!(resp.header("vary").is_none());
    assert!(resp.body.len() < GZIP_THRESHOLD_BYTES);
    assert_eq!(resp.json()["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_list_over_128_kib_stays_identity_without_accept_encoding() {
    let server = seeded_server().await;
    let resp = Client::new(&server).get(CONFIGMAPS).await;
    assert!(resp.body.len() > GZIP_THRESHOLD_BYTES);
    assert!(resp.header("content-encoding").is_none());
    assert!(resp.header("vary").is_none());
    assert_eq!(resp.json()["items"].as_array().unwrap().len(), 40);
}

#[tokio::test]
async fn an_accept_encoding_without_gzip_gets_identity() {
    let server = seeded_server().await;
    let mut client = Client::new(&server);
    client.accept_encoding = Some("deflate, br".to_owned());
    let resp = client.get(CONFIGMAPS).await;
    assert!(resp.header("content-encoding").is_none());
    assert_eq!(resp.json()["items"].as_array().unwrap().len(), 40);
}

#[tokio::test]
async fn a_single_object_over_128_kib_is_gzipped_and_a_small_one_is_not() {
    let server = seeded_server().await;
    let blob = "y".repeat(GZIP_THRESHOLD_BYTES + 1000);
    server
        .create(
            CONFIGMAPS,
            json!({"metadata": {"name": "big"}, "data": {"blob": blob}}),
        )
        .unwrap();
    let client = gzip_client(&server);
    let big = client.get(&format!("{CONFIGMAPS}/big")).await;
    assert_eq!(big.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(big.header("vary").as_deref(), Some("Accept-Encoding"));
    let inflated: Value = serde_json::from_slice(&gunzip(&big.body)).unwrap();
    assert_eq!(
        inflated["data"]["blob"].as_str().map(str::len),
        Some(blob.len())
    );

    let small = client.get(&format!("{CONFIGMAPS}/g00")).await;
    assert!(small.header("content-encoding").is_none());
    assert_eq!(small.json()["metadata"]["name"], "g00");
    assert_eq!(
        small.header("content-length"),
        Some(small.body.len().to_string())
    );
}

#[tokio::test]
async fn the_wire_byte_counter_sees_the_compressed_size() {
    let server = seeded_server().await;
    server.reset_request_counts();
    let identity = Client::new(&server).get(CONFIGMAPS).await;
    assert_eq!(server.response_body_bytes(), identity.body.len() as u64);
    server.reset_request_counts();
    let gzipped = gzip_client(&server).get(CONFIGMAPS).await;
    assert_eq!(server.response_body_bytes(), gzipped.body.len() as u64);
    assert!(server.response_body_bytes() * 10 < identity.body.len() as u64);
}

/// Reads `n` ADDED events from a watch opened with `Accept-Encoding: gzip`, checking that the
/// stream is plain JSON lines.
async fn read_added(server: &TestServer, path: &str, n: usize) -> Vec<Value> {
    let mut w = gzip_client(server).watch(path).await;
    assert_eq!(w.status, 200);
    assert!(w.headers.get("content-encoding").is_none());
    assert!(w.headers.get("vary").is_none());
    let mut added = Vec::new();
    while added.len() < n {
        match w.next_line().await {
            Line::Event(ev) if ev["type"] == "ADDED" => added.push(ev),
            Line::Event(_) => {}
            other => panic!("expected a JSON watch event, got {other:?}"),
        }
    }
    added
}

#[tokio::test]
async fn a_watch_is_never_gzipped_even_when_its_stream_passes_128_kib() {
    let server = seeded_server().await;
    // From resourceVersion 0: 40 synthetic ADDED events, about 175 KiB of stream.
    let added = read_added(
        &server,
        &format!("{CONFIGMAPS}?watch=1&resourceVersion=0"),
        40,
    )
    .await;
    assert_eq!(added[39]["object"]["metadata"]["name"], "g39");
    assert!(server.response_body_bytes() > GZIP_THRESHOLD_BYTES as u64);
}

#[tokio::test]
async fn a_send_initial_events_watch_is_never_gzipped() {
    let server = seeded_server().await;
    let path = format!(
        "{CONFIGMAPS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
    );
    let mut w = gzip_client(&server).watch(&path).await;
    assert_eq!(w.status, 200);
    assert!(w.headers.get("content-encoding").is_none());
    let mut added = 0;
    loop {
        match w.next_line().await {
            Line::Event(ev) if ev["type"] == "ADDED" => added += 1,
            Line::Event(ev) if ev["type"] == "BOOKMARK" => {
                let annotations = &ev["object"]["metadata"]["annotations"];
                if annotations["k8s.io/initial-events-end"] == "true" {
                    break;
                }
            }
            other => panic!("expected a JSON watch event, got {other:?}"),
        }
    }
    assert_eq!(added, 40);
    assert!(server.response_body_bytes() > GZIP_THRESHOLD_BYTES as u64);
}
