//! HTTP/2 (prior knowledge over plain TCP, as after ALPN `h2` on TLS): lists and watches work
//! on multiplexed streams of one connection.

#![allow(clippy::unwrap_used, missing_docs)]

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use testserver::TestServer;
use tokio::net::TcpStream;

const PODS: &str = "/api/v1/namespaces/default/pods";

#[tokio::test]
async fn list_and_watch_share_one_http2_connection() {
    let server = TestServer::start().await.unwrap();
    server
        .create(
            PODS,
            json!({"metadata": {"name": "a"}, "spec": {"containers": [{"name": "c"}]}}),
        )
        .unwrap();
    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let uri = |path: &str| format!("{}{path}", server.url());

    let rv = server.resource_version();
    let watch_req = Request::get(uri(&format!("{PODS}?watch=1&resourceVersion={rv}")))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let watch = sender.send_request(watch_req).await.unwrap();
    assert_eq!(watch.version(), http::Version::HTTP_2);
    let mut events = watch.into_body();

    let list_req = Request::get(uri(PODS)).body(Empty::<Bytes>::new()).unwrap();
    let list = sender.send_request(list_req).await.unwrap();
    let list: Value =
        serde_json::from_slice(&list.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(list["items"][0]["metadata"]["name"], "a");

    server
        .create(
            PODS,
            json!({"metadata": {"name": "b"}, "spec": {"containers": [{"name": "c"}]}}),
        )
        .unwrap();
    let frame = events.frame().await.unwrap().unwrap().into_data().unwrap();
    let event: Value = serde_json::from_slice(frame.strip_suffix(b"\n").unwrap()).unwrap();
    assert_eq!(
        (
            event["type"].clone(),
            event["object"]["metadata"]["name"].clone()
        ),
        (json!("ADDED"), json!("b"))
    );
}
