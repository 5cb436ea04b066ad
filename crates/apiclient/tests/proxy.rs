//! kubeconfig's `proxy-url`: requests go to the proxy, in absolute form, as with Go's
//! `http.ProxyURL`.
#![allow(clippy::unwrap_used)]

mod common;

use apiclient::Config;
use apiclient::rest::RestClient;

#[tokio::test]
async fn requests_go_through_the_configured_proxy() {
    let body = br#"{"kind":"Status","apiVersion":"v1","status":"Success"}"#;
    let mut response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    let (proxy, mut heads) = common::raw_server(response).await;
    // The API server's name does not resolve: only the proxy can answer.
    let mut config = Config::new("http://apiserver.invalid:6443");
    config.proxy_url = Some(proxy);
    let client = RestClient::new(&config).unwrap();
    client
        .get()
        .group_version("", "v1")
        .namespace("default")
        .resource("pods")
        .into_bytes()
        .await
        .unwrap();
    let head = heads.recv().await.unwrap();
    assert!(
        head.starts_with("get http://apiserver.invalid:6443/api/v1/namespaces/default/pods "),
        "{head}"
    );
}

#[test]
fn a_socks_or_malformed_proxy_is_a_config_error() {
    for bad in ["socks5://127.0.0.1:1080", "not a url"] {
        let mut config = Config::new("http://h");
        config.proxy_url = Some(bad.into());
        let e = RestClient::new(&config).unwrap_err();
        assert!(e.to_string().contains("proxy-url"), "{e}");
    }
}
