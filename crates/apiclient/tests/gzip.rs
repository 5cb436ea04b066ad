//! gzip on the wire: the client asks for it by default (`Accept-Encoding: gzip`, as client-go's
//! transport does), inflates gzip bodies as they stream in, and `Config::disable_compression`
//! (rest.Config.DisableCompression) turns both off. A corrupt gzip body is an error, never a
//! panic or a hang.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use apiclient::error::TransportKind;
use apiclient::meta::{ListOptions, WatchEvent, WriteOptions};
use apiclient::{Config, Error, Object, RestClient, TypedClient};
use common::{Pod, client, config, http_response, pod, raw_server};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A bound on every wait below, so a hang fails the test instead of stalling the suite. Not a
/// timing assumption: everything here completes in milliseconds.
const HANG_GUARD: Duration = Duration::from_secs(30);

/// 300 pods with a 1 KiB container argument each: a LIST of about 400 KiB, well over the server's
/// 128 KiB gzip threshold.
async fn seeded_server() -> testserver::TestServer {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = TypedClient::<Pod>::namespaced(&client(&server), "default");
    for i in 0..300 {
        let mut p = pod(&format!("web-{i:03}"));
        p.spec["containers"][0]["args"] = json!([format!("{i}-{}", "n".repeat(1024))]);
        pods.create(&p, &WriteOptions::default()).await.unwrap();
    }
    server
}

/// Lists the pods with `config`; returns them and the body bytes the server sent.
async fn list_and_measure(server: &testserver::TestServer, config: &Config) -> (Vec<Pod>, u64) {
    let pods = TypedClient::<Pod>::namespaced(&RestClient::new(config).unwrap(), "default");
    server.reset_request_counts();
    let list = pods.list(&ListOptions::default()).await.unwrap();
    (list.items, server.response_body_bytes())
}

#[tokio::test]
async fn a_large_typed_list_arrives_gzipped_and_decodes_to_the_same_items_as_without_compression() {
    let server = seeded_server().await;
    let threshold = testserver::GZIP_THRESHOLD_BYTES as u64;

    let (plain, plain_wire) =
        list_and_measure(&server, &config(&server).disable_compression(true)).await;
    assert_eq!(plain.len(), 300);
    assert!(
        plain_wire > 2 * threshold,
        "identity list of {plain_wire} bytes"
    );

    let defaults = config(&server);
    assert!(!defaults.disable_compression);
    let (gzipped, gzip_wire) = list_and_measure(&server, &defaults).await;
    // Only a compressed body can be this small: the arguments alone are 300 KiB.
    assert!(
        gzip_wire * 5 < plain_wire,
        "{gzip_wire} bytes on the wire with gzip, {plain_wire} without"
    );
    assert_eq!(gzipped, plain);
    assert_eq!(gzipped[299].name(), "web-299");
}

#[tokio::test]
async fn a_small_list_and_a_watch_work_the_same_with_compression_on() {
    let server = testserver::TestServer::start().await.unwrap();
    let pods = TypedClient::<Pod>::namespaced(&client(&server), "default");
    pods.create(&pod("web-1"), &WriteOptions::default())
        .await
        .unwrap();
    let list = pods.list(&ListOptions::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    let mut watch = pods
        .watch(
            &ListOptions::default()
                .resource_version(list.metadata.resource_version.clone().unwrap()),
        )
        .await
        .unwrap();
    pods.create(&pod("web-2"), &WriteOptions::default())
        .await
        .unwrap();
    let event = tokio::time::timeout(HANG_GUARD, futures::StreamExt::next(&mut watch))
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match event {
        WatchEvent::Added(p) => assert_eq!(p.name(), "web-2"),
        other => panic!("expected ADDED web-2, got {other:?}"),
    }
}

fn raw_config(url: &str) -> Config {
    let mut c = Config::new(url);
    c.qps = -1.0;
    c.max_retries = 0;
    c.timeout = Some(HANG_GUARD);
    c
}

const EMPTY_POD_LIST: &[u8] =
    br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]}"#;

#[tokio::test]
async fn requests_ask_for_gzip_unless_compression_is_disabled() {
    let (url, mut heads) = raw_server(http_response("", EMPTY_POD_LIST)).await;
    for (disable, want_gzip) in [(false, true), (true, false)] {
        let c = RestClient::new(&raw_config(&url).disable_compression(disable)).unwrap();
        let pods = TypedClient::<Pod>::namespaced(&c, "default");
        let list = tokio::time::timeout(HANG_GUARD, pods.list(&ListOptions::default()))
            .await
            .unwrap()
            .unwrap();
        assert!(list.items.is_empty());
        let head = heads.recv().await.unwrap();
        let accept_encoding = head
            .lines()
            .find_map(|l| l.strip_prefix("accept-encoding:"))
            .map(str::trim);
        if want_gzip {
            assert_eq!(accept_encoding, Some("gzip"), "{head}");
        } else {
            assert_eq!(accept_encoding, None, "{head}");
        }
    }
}

#[tokio::test]
async fn a_gzip_response_is_not_inflated_when_compression_is_disabled() {
    // With compression off the client never asked for gzip, so it leaves the bytes alone: the
    // gzip magic number is then not JSON, and the list fails to decode.
    let gzipped = gzip(EMPTY_POD_LIST);
    let (url, _heads) = raw_server(http_response("content-encoding: gzip\r\n", &gzipped)).await;
    let on = RestClient::new(&raw_config(&url)).unwrap();
    let list = TypedClient::<Pod>::namespaced(&on, "default")
        .list(&ListOptions::default())
        .await
        .unwrap();
    assert_eq!(list.metadata.resource_version.as_deref(), Some("7"));
    let off = RestClient::new(&raw_config(&url).disable_compression(true)).unwrap();
    let err = TypedClient::<Pod>::namespaced(&off, "default")
        .list(&ListOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn a_corrupt_gzip_body_is_an_error_not_a_panic_or_a_hang() {
    let valid = gzip(EMPTY_POD_LIST);
    let mut flipped = valid.clone();
    for b in &mut flipped[12..20] {
        *b ^= 0x5a;
    }
    let bodies: [(&str, Vec<u8>); 4] = [
        ("not gzip at all", b"this is not gzip".to_vec()),
        ("a corrupt deflate stream", flipped),
        ("a truncated stream", valid[..valid.len() / 2].to_vec()),
        ("a wrong checksum", {
            let mut v = valid.clone();
            let n = v.len();
            v[n - 8] ^= 0xff;
            v
        }),
    ];
    for (what, body) in bodies {
        let (url, _heads) = raw_server(http_response("content-encoding: gzip\r\n", &body)).await;
        let c = RestClient::new(&raw_config(&url)).unwrap();
        let pods = TypedClient::<Pod>::namespaced(&c, "default");
        let opts = ListOptions::default();
        let err = tokio::time::timeout(HANG_GUARD, pods.list(&opts))
            .await
            .unwrap_or_else(|_| panic!("{what}: hung"))
            .expect_err(what);
        assert!(
            matches!(
                err,
                Error::Transport {
                    kind: TransportKind::Other | TransportKind::UnexpectedEof,
                    ..
                } | Error::Decode { .. }
            ),
            "{what}: {err:?}"
        );
        let raw = c.get().prefix("/api/v1").resource("pods").into_bytes();
        let err = tokio::time::timeout(HANG_GUARD, raw)
            .await
            .unwrap_or_else(|_| panic!("{what}: raw request hung"))
            .expect_err(what);
        assert!(matches!(err, Error::Transport { .. }), "{what}: {err:?}");
        if what != "a truncated stream" {
            assert!(
                apiclient::error::error_chain(&err).contains("corrupt gzip response body"),
                "{what}: {err}"
            );
        }
    }
}

fn http_chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

#[tokio::test]
async fn a_gzipped_watch_stream_is_inflated_event_by_event_as_its_bytes_arrive() {
    use std::io::Write as _;
    // The server sends the first event (gzip header, deflate data, sync flush) and then waits
    // until the client has decoded it before sending the second: a client that buffered the
    // gzip body before decoding would wait forever and trip the guard.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (first_seen, mut first_seen_rx) = mpsc::unbounded_channel::<()>();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.unwrap();
            assert!(n > 0);
            head.extend_from_slice(&buf[..n]);
        }
        let event = |name: &str, rv: u32| {
            format!(
                "{{\"type\":\"ADDED\",\"object\":{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{{\"name\":\"{name}\",\"resourceVersion\":\"{rv}\"}}}}}}\n"
            )
        };
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        sock.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n",
        )
        .await
        .unwrap();
        enc.write_all(event("first", 1).as_bytes()).unwrap();
        enc.flush().unwrap();
        let part = std::mem::take(enc.get_mut());
        sock.write_all(&http_chunk(&part)).await.unwrap();
        first_seen_rx.recv().await.unwrap();
        enc.write_all(event("second", 2).as_bytes()).unwrap();
        let rest = enc.finish().unwrap();
        sock.write_all(&http_chunk(&rest)).await.unwrap();
        sock.write_all(b"0\r\n\r\n").await.unwrap();
    });
    let c = RestClient::new(&raw_config(&url)).unwrap();
    let pods = TypedClient::<Pod>::namespaced(&c, "default");
    let mut watch = tokio::time::timeout(HANG_GUARD, pods.watch(&ListOptions::default()))
        .await
        .unwrap()
        .unwrap();
    let mut names = Vec::new();
    for _ in 0..2 {
        let event = tokio::time::timeout(HANG_GUARD, futures::StreamExt::next(&mut watch))
            .await
            .expect("the first event must be decoded before the rest of the body is sent")
            .unwrap()
            .unwrap();
        match event {
            WatchEvent::Added(p) => names.push(p.name().to_owned()),
            other => panic!("expected ADDED, got {other:?}"),
        }
        let _ = first_seen.send(());
    }
    assert_eq!(names, ["first", "second"]);
    server.await.unwrap();
}
