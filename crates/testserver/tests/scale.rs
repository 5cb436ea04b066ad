//! Scale: 100,000 pods held in memory and listed over HTTP as a stream of chunks.

#![allow(clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use testserver::TestServer;
use tokio::net::TcpStream;

const PODS: usize = 100_000;

/// Just enough of a PodList to check it, cheaper to decode than a `Value` tree.
#[derive(serde::Deserialize)]
struct PodList {
    kind: String,
    items: Vec<Item>,
}

#[derive(serde::Deserialize)]
struct Item {
    metadata: Meta,
}

#[derive(serde::Deserialize)]
struct Meta {
    name: String,
}

/// GETs `path` and returns `(frames, bytes)`: how many body chunks arrived and the body.
async fn get_frames(addr: SocketAddr, path: &str) -> (usize, Vec<u8>) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::get(path)
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("transfer-encoding").unwrap(), "chunked");
    let mut body = resp.into_body();
    let (mut frames, mut bytes) = (0, Vec::new());
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            frames += 1;
            bytes.extend_from_slice(&data);
        }
    }
    (frames, bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_pods_list_as_a_chunked_stream() {
    let server = TestServer::builder()
        .history_window(1_000)
        .start()
        .await
        .unwrap();
    for i in 0..PODS {
        server
            .create(
                "/api/v1/namespaces/default/pods",
                json!({"metadata": {"name": format!("pod-{i:06}"), "labels": {"shard": (i % 10).to_string()}},
                       "spec": {"containers": [{"name": "c", "image": "registry.example/app:1"}], "nodeName": format!("node-{}", i % 50)}}),
            )
            .unwrap();
    }
    assert_eq!(server.count("pods"), PODS);
    let (frames, body) = get_frames(server.addr(), "/api/v1/pods").await;
    // Items are written into ~64 KiB chunks as they are serialized, not into one string.
    assert!(
        frames > 100,
        "expected a stream of chunks, got {frames} frame(s) for {} bytes",
        body.len()
    );
    let list: PodList = serde_json::from_slice(&body).unwrap();
    assert_eq!(list.kind, "PodList");
    assert_eq!(list.items.len(), PODS);
    assert_eq!(list.items[0].metadata.name, "pod-000000");
    assert_eq!(
        list.items[PODS - 1].metadata.name,
        format!("pod-{:06}", PODS - 1)
    );

    // Pagination through the same 100k with a selector and a page size.
    let (_, page) = get_frames(
        server.addr(),
        "/api/v1/namespaces/default/pods?limit=500&labelSelector=shard%3D3",
    )
    .await;
    let page: Value = serde_json::from_slice(&page).unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 500);
    assert!(page["metadata"]["continue"].is_string());
    let (_, by_node) = get_frames(
        server.addr(),
        "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-7",
    )
    .await;
    let by_node: Value = serde_json::from_slice(&by_node).unwrap();
    assert_eq!(by_node["items"].as_array().unwrap().len(), PODS / 50);
}
