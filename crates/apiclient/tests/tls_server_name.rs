//! kubeconfig `tls-server-name` (client-go `rest.TLSClientConfig.ServerName`) against
//! `testserver` over real TLS: the name is sent as SNI and the certificate is verified against
//! it, while the connection still goes to the URL's host (`127.0.0.1`).
//!
//! The SNI assertions assume no `HTTPS_PROXY`/`ALL_PROXY` in the environment (with one, SNI
//! stays the URL's host; see `apiclient::rest` server_name docs).
#![allow(clippy::unwrap_used)]

mod common;

use apiclient::{Config, Error, ListOptions, RestClient, TypedClient};
use common::Pod;

const NAME: &str = "kubernetes.default.svc";

async fn list_pods(config: &Config) -> apiclient::Result<usize> {
    let c = RestClient::new(config)?;
    Ok(TypedClient::<Pod>::namespaced(&c, "default")
        .list(&ListOptions::default())
        .await?
        .items
        .len())
}

/// A TLS server whose certificate names only `kubernetes.default.svc`, not `127.0.0.1`.
async fn dns_named_server() -> testserver::TestServer {
    testserver::TestServer::builder()
        .tls(true)
        .serving_cert_names([NAME])
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn certificate_for_a_dns_name_needs_tls_server_name_which_is_sent_as_sni() {
    let server = dns_named_server().await;
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let mut config = common::config(&server);

    let e = list_pods(&config).await.unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e}");

    config.tls.server_name = Some(NAME.into());
    assert_eq!(list_pods(&config).await.unwrap(), 0);
    assert_eq!(server.last_sni().as_deref(), Some(NAME));
}

#[tokio::test]
async fn wrong_tls_server_name_fails_with_a_tls_error_naming_it() {
    let server = dns_named_server().await;
    let mut config = common::config(&server);
    config.tls.server_name = Some("wrong.example".into());
    let e = list_pods(&config).await.unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e}");
    let chain = error_chain(&e);
    assert!(chain.contains("wrong.example"), "{chain}");
    assert!(chain.contains("not valid for name"), "{chain}");
}

#[tokio::test]
async fn insecure_still_sends_tls_server_name_as_sni() {
    let server = dns_named_server().await;
    let mut config = common::config(&server);
    config.tls.ca_data = None;
    config.tls.insecure = true;
    config.tls.server_name = Some(NAME.into());
    assert_eq!(list_pods(&config).await.unwrap(), 0);
    assert_eq!(server.last_sni().as_deref(), Some(NAME));
}

#[tokio::test]
async fn ip_tls_server_name_is_verified_and_sends_no_sni() {
    // The default certificate names localhost, 127.0.0.1 and ::1.
    let server = testserver::TestServer::builder()
        .tls(true)
        .start()
        .await
        .unwrap();
    let mut config = common::config(&server);
    config.host = format!("https://localhost:{}", server.addr().port());
    assert_eq!(list_pods(&config).await.unwrap(), 0);
    assert_eq!(server.last_sni().as_deref(), Some("localhost"));

    // As Go's crypto/tls: an IP ServerName is checked against IP SANs and not sent as SNI.
    config.tls.server_name = Some("127.0.0.1".into());
    assert_eq!(list_pods(&config).await.unwrap(), 0);
    assert_eq!(server.last_sni(), None);

    config.tls.server_name = Some("10.0.0.1".into());
    let e = list_pods(&config).await.unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e}");
}

#[tokio::test]
async fn tls_server_name_from_kubeconfig_reaches_the_connection() {
    let server = dns_named_server().await;
    let text = server.kubeconfig().replacen(
        "    server: ",
        &format!("    tls-server-name: {NAME}\n    server: "),
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, text).unwrap();

    let mut config = Config::from_kubeconfig(Some(&path), None).unwrap();
    assert_eq!(config.tls.server_name.as_deref(), Some(NAME));
    config.qps = -1.0;
    assert_eq!(list_pods(&config).await.unwrap(), 0);
    assert_eq!(server.last_sni().as_deref(), Some(NAME));
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}
