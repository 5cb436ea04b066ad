//! Transport errors: a server that accepts connections and closes them before answering
//! (as an API server does while shutting down). GETs are retried on the unexpected EOF, up to
//! the retry budget; other verbs never retry on a transport error. No HTTP is spoken here, so
//! nothing is mocked: only the connection fails.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use apiclient::error::TransportKind;
use apiclient::{Config, RestClient, TypedClient};
use common::{Pod, pod};
use tokio::io::AsyncReadExt;

/// Accepts connections, reads a little of the request, and closes; counts connections.
async fn hang_up_server() -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            c.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 64];
            let _ = sock.read(&mut buf).await;
            drop(sock);
        }
    });
    (url, count, task)
}

#[tokio::test]
async fn get_retries_a_dropped_connection_but_post_does_not() {
    let (url, count, task) = hang_up_server().await;
    let mut config = Config::new(url);
    config.qps = -1.0;
    config.max_retries = 3;
    let pods = TypedClient::<Pod>::namespaced(&RestClient::new(&config).unwrap(), "default");

    let e = pods.get("x").await.unwrap_err();
    // Closing with unread request bytes makes the kernel send a reset; either way the GET retries.
    assert!(
        e.is_transport(TransportKind::UnexpectedEof)
            || e.is_transport(TransportKind::ConnectionReset),
        "{e}"
    );
    assert_eq!(
        count.load(Ordering::SeqCst),
        4,
        "one attempt and three retries"
    );

    count.store(0, Ordering::SeqCst);
    let e = pods
        .create(&pod("x"), &Default::default())
        .await
        .unwrap_err();
    assert!(matches!(e, apiclient::Error::Transport { .. }), "{e}");
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "writes are never retried on transport errors"
    );
    task.abort();
}

#[tokio::test]
async fn connection_refused_is_a_connect_error_and_not_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut config = Config::new(url);
    config.qps = -1.0;
    let pods = TypedClient::<Pod>::namespaced(&RestClient::new(&config).unwrap(), "default");
    let e = pods.get("x").await.unwrap_err();
    assert!(e.is_transport(TransportKind::Connect), "{e}");
}

#[tokio::test]
async fn a_server_that_never_finishes_tls_fails_the_request_within_the_connect_bound() {
    // Accepts TCP and holds the connection without a word: a hung TLS handshake.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            open.push(sock);
        }
    });
    let mut config = Config::new(url);
    config.qps = -1.0;
    config.tls.insecure = true;
    let pods = TypedClient::<Pod>::namespaced(&RestClient::new(&config).unwrap(), "default");
    // The guard only turns a hang into a failure; the client gives up after
    // `CONNECT_TIMEOUT` (10 s, Go's TLS handshake timeout) on its own.
    let guard = apiclient::rest::client::CONNECT_TIMEOUT * 3;
    let e = tokio::time::timeout(guard, pods.get("x"))
        .await
        .expect("the request hung past the connect bound")
        .unwrap_err();
    assert!(
        e.is_transport(TransportKind::Timeout) || e.is_transport(TransportKind::Connect),
        "{e}"
    );
    held.abort();
}
