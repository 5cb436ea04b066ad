//! TLS and authentication against `testserver` over real sockets: a generated CA, bearer
//! tokens, a rotated token file, client certificates, and exec plugins written by the test.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use apiclient::config::{ExecConfig, ExecInteractiveMode};
use apiclient::{Config, Error, ListOptions, RestClient, TypedClient};
use common::Pod;

async fn list_pods(config: &Config) -> apiclient::Result<usize> {
    let c = RestClient::new(config)?;
    Ok(TypedClient::<Pod>::namespaced(&c, "default")
        .list(&ListOptions::default())
        .await?
        .items
        .len())
}

#[tokio::test]
async fn https_with_generated_ca_and_bearer_token() {
    let server = testserver::TestServer::builder()
        .tls(true)
        .bearer_token("s3cret")
        .start()
        .await
        .unwrap();
    assert!(server.url().starts_with("https://"));
    let mut config = common::config(&server);
    config.bearer_token = Some("s3cret".into());
    assert_eq!(list_pods(&config).await.unwrap(), 0);

    config.bearer_token = Some("wrong".into());
    let e = list_pods(&config).await.unwrap_err();
    assert!(e.is_unauthorized(), "{e}");

    // Without the CA the platform roots do not trust the generated one.
    let mut untrusted = config.clone();
    untrusted.tls.ca_data = None;
    untrusted.bearer_token = Some("s3cret".into());
    let e = list_pods(&untrusted).await.unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e}");

    // insecure skips verification.
    untrusted.tls.insecure = true;
    assert_eq!(list_pods(&untrusted).await.unwrap(), 0);

    // ... but not together with a CA: client-go refuses the pair rather than ignore the CA.
    let mut both = config.clone();
    both.tls.insecure = true;
    let e = RestClient::new(&both).unwrap_err();
    assert!(
        apiclient::error::error_chain(&e)
            .contains("specifying a root certificates file with the insecure flag is not allowed"),
        "{e}"
    );

    // A configured server name must match the certificate.
    let mut renamed = config.clone();
    renamed.bearer_token = Some("s3cret".into());
    renamed.tls.server_name = Some("not-the-server.example".into());
    assert!(matches!(
        list_pods(&renamed).await.unwrap_err(),
        Error::Tls { .. }
    ));
}

#[tokio::test]
async fn client_certificate_authenticates() {
    let server = testserver::TestServer::builder()
        .client_cert_auth(true)
        .start()
        .await
        .unwrap();
    let (cert, key) = server.issue_client_cert("alice").unwrap();
    let mut config = common::config(&server);
    // Without a certificate the request is anonymous, which kube-apiserver forbids.
    let e = list_pods(&config).await.unwrap_err();
    assert!(e.is_forbidden(), "no certificate: {e}");
    config.tls.cert_data = Some(cert.into_bytes());
    config.tls.key_data = Some(key.into_bytes());
    assert_eq!(list_pods(&config).await.unwrap(), 0);
    assert!(!format!("{config:?}").contains("PRIVATE KEY"));

    // A key from another pair is refused when the client is built, with Go's message,
    // instead of failing later in the handshake.
    let (_, other_key) = server.issue_client_cert("mallory").unwrap();
    config.tls.key_data = Some(other_key.into_bytes());
    let e = RestClient::new(&config).unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e}");
    assert!(
        apiclient::error::error_chain(&e).contains("tls: private key does not match public key"),
        "{e}"
    );
}

#[tokio::test(start_paused = true)]
async fn rotated_token_file_is_picked_up_after_a_minute() {
    let server = testserver::TestServer::builder()
        .bearer_token("new-token")
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "old-token\n").unwrap();
    let mut config = common::config(&server);
    config.bearer_token_file = Some(token.clone());
    let c = RestClient::new(&config).unwrap();
    let pods = TypedClient::<Pod>::namespaced(&c, "default");
    assert!(
        pods.list(&ListOptions::default())
            .await
            .unwrap_err()
            .is_unauthorized()
    );
    std::fs::write(&token, "new-token\n").unwrap();
    assert!(
        pods.list(&ListOptions::default())
            .await
            .unwrap_err()
            .is_unauthorized(),
        "still cached"
    );
    tokio::time::advance(Duration::from_secs(61)).await;
    pods.list(&ListOptions::default()).await.unwrap();
}

fn write_script(dir: &Path, body: &str) -> String {
    let p = dir.join("plugin.sh");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.to_string_lossy().into_owned()
}

fn exec_config(dir: &Path, command: String) -> ExecConfig {
    ExecConfig {
        api_version: "client.authentication.k8s.io/v1".into(),
        command,
        args: vec!["--flag".into()],
        env: vec![("STATE_DIR".into(), dir.to_string_lossy().into_owned())],
        interactive_mode: Some(ExecInteractiveMode::Never),
        ..ExecConfig::default()
    }
}

#[tokio::test]
async fn exec_plugin_token_is_cached_and_rerun_on_401() {
    let server = testserver::TestServer::builder()
        .bearer_token("good")
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Counts its runs; the first run hands out a token the server rejects.
    let script = write_script(
        dir.path(),
        r#"n=$(cat "$STATE_DIR/runs" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$STATE_DIR/runs"
[ "$1" = "--flag" ] || exit 3
case "$KUBERNETES_EXEC_INFO" in *ExecCredential*) ;; *) exit 4;; esac
if [ $n -eq 1 ]; then tok=stale; else tok=good; fi
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$tok""#,
    );
    let mut config = common::config(&server);
    config.exec = Some(exec_config(dir.path(), script));
    let c = RestClient::new(&config).unwrap();
    let pods = TypedClient::<Pod>::namespaced(&c, "default");
    pods.list(&ListOptions::default()).await.unwrap();
    let runs = || {
        std::fs::read_to_string(dir.path().join("runs"))
            .unwrap()
            .trim()
            .to_owned()
    };
    assert_eq!(runs(), "2", "401 with the stale token re-ran the plugin");
    pods.list(&ListOptions::default()).await.unwrap();
    pods.list(&ListOptions::default()).await.unwrap();
    assert_eq!(runs(), "2", "no expiry: the token stays cached");
}

#[tokio::test]
async fn exec_plugin_reruns_after_expiry() {
    let server = testserver::TestServer::builder()
        .bearer_token("good")
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(
        dir.path(),
        r#"n=$(cat "$STATE_DIR/runs" 2>/dev/null || echo 0); echo $((n+1)) > "$STATE_DIR/runs"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"good","expirationTimestamp":"2000-01-01T00:00:00Z"}}'"#,
    );
    let mut config = common::config(&server);
    config.exec = Some(exec_config(dir.path(), script));
    let c = RestClient::new(&config).unwrap();
    let pods = TypedClient::<Pod>::namespaced(&c, "default");
    pods.list(&ListOptions::default()).await.unwrap();
    pods.list(&ListOptions::default()).await.unwrap();
    let runs = std::fs::read_to_string(dir.path().join("runs")).unwrap();
    assert_eq!(runs.trim(), "2", "an expired credential is fetched again");
}

#[tokio::test]
async fn exec_plugin_client_certificate() {
    let server = testserver::TestServer::builder()
        .client_cert_auth(true)
        .start()
        .await
        .unwrap();
    let (cert, key) = server.issue_client_cert("bob").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cred = serde_json::json!({
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"clientCertificateData": cert, "clientKeyData": key}
    });
    std::fs::write(dir.path().join("cred.json"), cred.to_string()).unwrap();
    let script = write_script(dir.path(), r#"cat "$STATE_DIR/cred.json""#);
    let mut config = common::config(&server);
    let mut exec = exec_config(dir.path(), script);
    exec.api_version = "client.authentication.k8s.io/v1beta1".into();
    config.exec = Some(exec);
    assert_eq!(list_pods(&config).await.unwrap(), 0);
}

#[tokio::test]
async fn failing_exec_plugin_is_an_auth_error() {
    let server = testserver::TestServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = write_script(dir.path(), "echo 'no credentials for you' >&2; exit 1");
    let mut config = common::config(&server);
    config.exec = Some(exec_config(dir.path(), script));
    let e = list_pods(&config).await.unwrap_err();
    assert!(
        matches!(&e, Error::Auth { message, .. } if message.contains("no credentials")),
        "{e}"
    );
}
