//! TLS with the generated CA, bearer tokens and client certificates.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{Client, PODS};
use serde_json::json;
use testserver::TestServer;

#[tokio::test]
async fn tls_serves_with_a_certificate_signed_by_the_handed_out_ca() {
    let server = TestServer::builder().tls(true).start().await.unwrap();
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let pem = server.ca_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let c = Client::new(&server);
    assert_eq!(
        c.get("/api/v1/namespaces/default").await.json()["metadata"]["name"],
        "default"
    );
    assert!(TestServer::start().await.unwrap().ca_pem().is_none());
}

#[tokio::test]
async fn bearer_tokens_are_required_when_configured() {
    let server = TestServer::builder()
        .bearer_token("secret")
        .start()
        .await
        .unwrap();
    let anonymous = Client::new(&server);
    let denied = anonymous.get(PODS).await;
    assert_eq!(denied.status, 401);
    assert_eq!(
        denied.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
    );
    assert_eq!(anonymous.clone().token("wrong").get(PODS).await.status, 401);
    assert_eq!(
        anonymous.clone().token("secret").get(PODS).await.status,
        200
    );
    assert_eq!(
        anonymous.get("/testserver/requests").await.status,
        401,
        "admin endpoint is protected too"
    );
}

#[tokio::test]
async fn client_certificates_signed_by_the_ca_authenticate() {
    let server = TestServer::builder()
        .client_cert_auth(true)
        .bearer_token("secret")
        .start()
        .await
        .unwrap();
    let (cert, key) = server.issue_client_cert("alice").unwrap();
    assert!(cert.contains("BEGIN CERTIFICATE") && key.contains("PRIVATE KEY"));
    let with_cert = Client::with_client_cert(&server, &cert, &key);
    assert_eq!(with_cert.get(PODS).await.status, 200);
    let without = Client::new(&server);
    assert_eq!(without.get(PODS).await.status, 401);
    assert_eq!(without.token("secret").get(PODS).await.status, 200);

    // A certificate from another server's CA fails the TLS handshake.
    let other = TestServer::builder()
        .client_cert_auth(true)
        .start()
        .await
        .unwrap();
    let (foreign_cert, foreign_key) = other.issue_client_cert("mallory").unwrap();
    let foreign = Client::with_client_cert(&server, &foreign_cert, &foreign_key);
    let result = foreign
        .try_request(http::Method::GET, PODS, None, Vec::new())
        .await;
    assert!(
        result.is_err(),
        "a foreign certificate must not get through: {result:?}"
    );
}

#[tokio::test]
async fn client_certs_need_tls() {
    let server = TestServer::start().await.unwrap();
    assert!(matches!(
        server.issue_client_cert("x"),
        Err(testserver::Error::NoTls)
    ));
}
