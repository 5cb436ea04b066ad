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
    let denied = anonymous.clone().token("wrong").get(PODS).await;
    assert_eq!(denied.status, 401);
    // As recorded in `unauthorized-bad-token`.
    assert_eq!(
        denied.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
    );
    assert_eq!(anonymous.get(PODS).await.status, 403, "no token: anonymous");
    assert_eq!(
        anonymous.clone().token("secret").get(PODS).await.status,
        200
    );
    assert_eq!(
        anonymous.get("/testserver/requests").await.status,
        403,
        "admin endpoint is protected too"
    );
    assert_eq!(
        anonymous
            .clone()
            .token("wrong")
            .get("/testserver/requests")
            .await
            .status,
        401
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
    assert_eq!(without.get(PODS).await.status, 403);
    assert_eq!(without.clone().token("wrong").get(PODS).await.status, 401);
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

#[tokio::test]
async fn health_and_version_answer_the_anonymous_user() {
    let server = TestServer::builder()
        .bearer_token("secret")
        .start()
        .await
        .unwrap();
    let anonymous = Client::new(&server);
    for path in ["/healthz", "/livez", "/readyz"] {
        let r = anonymous.get(path).await;
        assert_eq!((r.status, &r.body[..]), (200, &b"ok"[..]), "{path}");
        let verbose = anonymous.get(&format!("{path}?verbose")).await;
        assert_eq!(verbose.status, 200, "{path}?verbose");
        let text = String::from_utf8_lossy(&verbose.body).into_owned();
        assert!(text.starts_with("[+]ping ok\n"), "{text}");
        let name = path.trim_start_matches('/');
        assert!(text.ends_with(&format!("{name} check passed\n")), "{text}");
    }
    let version = anonymous.get("/version").await;
    assert_eq!(version.status, 200);
    assert!(version.json()["gitVersion"].is_string());
    // A wrong token stays 401 even where anonymous requests are allowed.
    assert_eq!(
        anonymous
            .clone()
            .token("wrong")
            .get("/healthz")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn other_anonymous_requests_are_forbidden_as_the_authorizer_words_it() {
    let server = TestServer::builder()
        .bearer_token("secret")
        .start()
        .await
        .unwrap();
    let anonymous = Client::new(&server);
    let list = anonymous.get("/api/v1/pods").await;
    assert_eq!(list.status, 403);
    assert_eq!(
        list.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" at the cluster scope",
            "reason": "Forbidden", "details": {"kind": "pods"}, "code": 403})
    );
    let get = anonymous
        .get("/apis/coordination.k8s.io/v1/namespaces/default/leases/l")
        .await
        .json();
    assert_eq!(
        get["message"],
        "leases.coordination.k8s.io \"l\" is forbidden: User \"system:anonymous\" cannot get resource \"leases\" in API group \"coordination.k8s.io\" in the namespace \"default\""
    );
    assert_eq!(
        get["details"],
        json!({"name": "l", "group": "coordination.k8s.io", "kind": "leases"})
    );
    let discovery = anonymous.get("/api").await;
    assert_eq!(discovery.status, 403);
    assert_eq!(
        discovery.json()["message"],
        "forbidden: User \"system:anonymous\" cannot get path \"/api\""
    );
    assert_eq!(discovery.json()["details"], json!({}));
    let ns = anonymous.get("/api/v1/namespaces/default").await.json();
    assert_eq!(
        ns["message"],
        "namespaces \"default\" is forbidden: User \"system:anonymous\" cannot get resource \"namespaces\" in API group \"\" in the namespace \"default\""
    );
}
