//! A minimal HTTP(S) client for the tests, built on hyper's connection API so the tests do not
//! depend on the project's own REST client (the server is a check of that client), and the
//! kubectl runner of the `kubectl*.rs` files ([`kubectl`]).

// Each test binary uses a different part of these helpers.
#![allow(clippy::unwrap_used, dead_code, missing_docs)]

pub mod kubectl;

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A response read to the end.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

#[derive(Clone)]
pub struct Client {
    addr: std::net::SocketAddr,
    tls: Option<TlsConnector>,
    pub token: Option<String>,
    pub accept: Option<String>,
    /// Sent as `Accept-Encoding` when set (the default sends none).
    pub accept_encoding: Option<String>,
    /// Sent as `If-None-Match` when set.
    pub if_none_match: Option<String>,
}

impl Client {
    pub fn new(server: &testserver::TestServer) -> Self {
        let tls = server.ca_pem().map(|pem| tls_connector(&pem, None));
        Client {
            addr: server.addr(),
            tls,
            token: None,
            accept: None,
            accept_encoding: None,
            if_none_match: None,
        }
    }

    pub fn with_client_cert(server: &testserver::TestServer, cert: &str, key: &str) -> Self {
        let pem = server.ca_pem().unwrap();
        Client {
            addr: server.addr(),
            tls: Some(tls_connector(&pem, Some((cert, key)))),
            token: None,
            accept: None,
            accept_encoding: None,
            if_none_match: None,
        }
    }

    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    async fn send(&self, req: Request<Full<Bytes>>) -> Result<hyper::Response<Incoming>, String> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|e| e.to_string())?;
        match &self.tls {
            Some(connector) => {
                let name = ServerName::try_from("localhost").unwrap();
                let tls = connector
                    .connect(name, tcp)
                    .await
                    .map_err(|e| e.to_string())?;
                let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::spawn(conn);
                sender.send_request(req).await.map_err(|e| e.to_string())
            }
            None => {
                let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::spawn(conn);
                sender.send_request(req).await.map_err(|e| e.to_string())
            }
        }
    }

    fn build(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Request<Full<Bytes>> {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost");
        if let Some(ct) = content_type {
            b = b.header("content-type", ct);
        }
        if let Some(t) = &self.token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        b = b.header(
            "accept",
            self.accept.as_deref().unwrap_or("application/json"),
        );
        if let Some(enc) = &self.accept_encoding {
            b = b.header("accept-encoding", enc);
        }
        if let Some(tag) = &self.if_none_match {
            b = b.header("if-none-match", tag);
        }
        b.body(Full::new(Bytes::from(body))).unwrap()
    }

    /// Sends a request and reads the whole response.
    pub async fn try_request(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Resp, String> {
        let resp = self
            .send(self.build(method, path, content_type, body))
            .await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Resp {
        self.try_request(method, path, content_type, body)
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.request(Method::GET, path, None, Vec::new()).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.request(
            Method::POST,
            path,
            Some("application/json"),
            body.to_string().into_bytes(),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.request(
            Method::PUT,
            path,
            Some("application/json"),
            body.to_string().into_bytes(),
        )
        .await
    }

    pub async fn patch(&self, path: &str, content_type: &str, body: &Value) -> Resp {
        self.request(
            Method::PATCH,
            path,
            Some(content_type),
            body.to_string().into_bytes(),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.request(Method::DELETE, path, None, Vec::new()).await
    }

    /// Starts a watch; events are read with [`Watch::next`].
    pub async fn watch(&self, path: &str) -> Watch {
        let resp = self
            .send(self.build(Method::GET, path, None, Vec::new()))
            .await
            .unwrap();
        Watch {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.into_body(),
            buf: BytesMut::new(),
        }
    }
}

fn tls_connector(ca_pem: &str, client: Option<(&str, &str)>) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some((cert, key)) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(cert.as_bytes())
                    .map(Result::unwrap)
                    .collect();
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    TlsConnector::from(Arc::new(config))
}

/// What reading a watch stream produced.
#[derive(Debug, PartialEq)]
pub enum Line {
    Event(Value),
    /// A line that is not JSON.
    Malformed(String),
    /// The server ended the stream cleanly.
    End,
    /// The connection broke mid-stream.
    Broken,
}

pub struct Watch {
    pub status: u16,
    pub headers: HeaderMap,
    body: Incoming,
    buf: BytesMut,
}

impl Watch {
    /// The next line of the stream as sent, newline included; `Err` carries what ended the
    /// stream instead (`Line::End` or `Line::Broken`).
    pub async fn next_raw_line(&mut self) -> Result<Bytes, Line> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                return Ok(self.buf.split_to(pos + 1).freeze());
            }
            match self.body.frame().await {
                None => return Err(Line::End),
                Some(Err(_)) => return Err(Line::Broken),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }

    /// The next length-delimited frame of a protobuf watch stream (4-byte big-endian length,
    /// then that many bytes), without its length; `Err` carries what ended the stream instead.
    pub async fn next_frame(&mut self) -> Result<Bytes, Line> {
        loop {
            if let Some(header) = self.buf.first_chunk::<4>() {
                let len = u32::from_be_bytes(*header) as usize;
                if self.buf.len() >= 4 + len {
                    let mut frame = self.buf.split_to(4 + len);
                    return Ok(frame.split_off(4).freeze());
                }
            }
            match self.body.frame().await {
                None => return Err(Line::End),
                Some(Err(_)) => return Err(Line::Broken),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }

    /// The next line of the stream.
    pub async fn next_line(&mut self) -> Line {
        match self.next_raw_line().await {
            Ok(line) => {
                let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
                match serde_json::from_str(&text) {
                    Ok(v) => Line::Event(v),
                    Err(_) => Line::Malformed(text),
                }
            }
            Err(end) => end,
        }
    }

    /// The next event, panicking on anything else.
    pub async fn next(&mut self) -> Value {
        match self.next_line().await {
            Line::Event(v) => v,
            other => panic!("expected a watch event, got {other:?}"),
        }
    }

    /// The next event that is not a BOOKMARK.
    pub async fn next_non_bookmark(&mut self) -> Value {
        loop {
            let ev = self.next().await;
            if ev["type"] != "BOOKMARK" {
                return ev;
            }
        }
    }

    /// `(type, name)` of the next non-bookmark event.
    pub async fn next_summary(&mut self) -> (String, String) {
        let ev = self.next_non_bookmark().await;
        (
            ev["type"].as_str().unwrap_or_default().to_owned(),
            ev["object"]["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }
}

pub fn pod(name: &str, labels: Value) -> Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "main", "image": "registry.example/demo:1.0"}]}
    })
}

pub const PODS: &str = "/api/v1/namespaces/default/pods";
