//! Shared test helpers: a minimal typed `Pod` and clients for a `testserver`.
#![allow(dead_code, clippy::unwrap_used)]

use apiclient::meta::{ObjectMeta, Resource, TypeMeta};
use apiclient::{Config, RestClient};
use serde::{Deserialize, Serialize};

/// A pod as far as these tests care: metadata typed, spec and status as JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pod {
    #[serde(flatten)]
    pub types: TypeMeta,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub spec: serde_json::Value,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub status: serde_json::Value,
}

apiclient::impl_object_via_metadata!(Pod);

impl Resource for Pod {
    const GROUP: &'static str = "";
    const VERSION: &'static str = "v1";
    const KIND: &'static str = "Pod";
    const PLURAL: &'static str = "pods";
    const NAMESPACED: bool = true;
}

pub fn pod(name: &str) -> Pod {
    Pod {
        types: TypeMeta {
            api_version: "v1".into(),
            kind: "Pod".into(),
        },
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        spec: serde_json::json!({"containers": [{"name": "c", "image": "nginx"}]}),
        status: serde_json::Value::Null,
    }
}

/// A config for `server` with throttling off, so tests measure only what they mean to.
pub fn config(server: &testserver::TestServer) -> Config {
    let mut c = Config::new(server.url());
    c.qps = -1.0;
    if let Some(ca) = server.ca_pem() {
        c.tls.ca_data = Some(ca.into_bytes());
    }
    c
}

pub fn client(server: &testserver::TestServer) -> RestClient {
    RestClient::new(&config(server)).unwrap()
}

/// A one-connection-at-a-time HTTP/1.1 server that reports each request's head and answers
/// every request with `response`, then closes the connection.
pub async fn raw_server(
    response: Vec<u8>,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (heads, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = heads.send(String::from_utf8_lossy(&head).to_ascii_lowercase());
            let _ = sock.write_all(&response).await;
            let _ = sock.shutdown().await;
        }
    });
    (url, rx)
}

pub fn http_response(extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{extra_headers}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}
