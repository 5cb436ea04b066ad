//! What an exec credential plugin is told (`KUBERNETES_EXEC_INFO`) and given (stdin), as
//! client-go's exec.go does: plugins written by the test save their input for the test to
//! read.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::IsTerminal;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use apiclient::Error;
use apiclient::config::exec::ExecAuthenticator;
use apiclient::config::kubeconfig::Kubeconfig;
use apiclient::config::{ExecCluster, ExecConfig, ExecInteractiveMode};
use apiclient::{ListOptions, RestClient, TypedClient};
use base64::Engine as _;
use common::Pod;

/// A plugin that saves its `KUBERNETES_EXEC_INFO` to `info.json` and whether its stdin is a
/// terminal to `tty`, then prints a token credential.
fn echo_plugin(dir: &Path) -> String {
    let p = dir.join("plugin.sh");
    let body = format!(
        r#"#!/bin/sh
printf '%s' "$KUBERNETES_EXEC_INFO" > '{dir}/info.json'
if [ -t 0 ]; then echo yes > '{dir}/tty'; else echo no > '{dir}/tty'; fi
printf '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"t"}}}}'
"#,
        dir = dir.display()
    );
    std::fs::write(&p, body).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.to_string_lossy().into_owned()
}

fn info(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("info.json")).unwrap()).unwrap()
}

const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: c
clusters:
- name: k
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority: ca.pem
    tls-server-name: kube.internal
    proxy-url: http://proxy.local:3128
    disable-compression: true
    extensions:
    - name: other
      extension: {ignored: true}
    - name: client.authentication.k8s.io/exec
      extension:
        audience: my-audience
        nested: {a: 1}
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./plugin.sh
      interactiveMode: Never
      provideClusterInfo: true
contexts:
- name: c
  context: {cluster: k, user: u}
"#;

#[tokio::test]
async fn provide_cluster_info_passes_the_whole_cluster_from_the_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    echo_plugin(dir.path());
    let ca = b"-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n";
    std::fs::write(dir.path().join("ca.pem"), ca).unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, KUBECONFIG).unwrap();
    let config = Kubeconfig::read(&path).unwrap().to_config(None).unwrap();
    let exec = config.exec.clone().unwrap();
    assert_eq!(exec.interactive_mode, Some(ExecInteractiveMode::Never));
    let cluster = ExecCluster::from_config(&config).unwrap();
    ExecAuthenticator::new(exec, Some(cluster))
        .credential()
        .await
        .unwrap();
    assert_eq!(
        info(dir.path()),
        serde_json::json!({
            "apiVersion": "client.authentication.k8s.io/v1",
            "kind": "ExecCredential",
            "spec": {
                "cluster": {
                    "server": "https://10.0.0.1:6443",
                    "tls-server-name": "kube.internal",
                    "certificate-authority-data":
                        base64::engine::general_purpose::STANDARD.encode(ca),
                    "proxy-url": "http://proxy.local:3128",
                    "disable-compression": true,
                    "config": {"audience": "my-audience", "nested": {"a": 1}},
                },
                "interactive": false,
            }
        })
    );
}

#[tokio::test]
async fn a_client_sends_its_cluster_only_when_the_plugin_asks() {
    let server = testserver::TestServer::builder()
        .tls(true)
        .start()
        .await
        .unwrap();
    for provide in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = common::config(&server);
        config.exec = Some(ExecConfig {
            api_version: "client.authentication.k8s.io/v1".into(),
            command: echo_plugin(dir.path()),
            interactive_mode: Some(ExecInteractiveMode::Never),
            provide_cluster_info: provide,
            ..ExecConfig::default()
        });
        let client = RestClient::new(&config).unwrap();
        TypedClient::<Pod>::namespaced(&client, "default")
            .list(&ListOptions::default())
            .await
            .unwrap();
        let spec = &info(dir.path())["spec"];
        if !provide {
            assert_eq!(spec, &serde_json::json!({"interactive": false}));
            continue;
        }
        let cluster = &spec["cluster"];
        assert_eq!(cluster["server"], server.url());
        let ca = server.ca_pem().unwrap();
        assert_eq!(
            cluster["certificate-authority-data"],
            base64::engine::general_purpose::STANDARD.encode(ca),
            "the CA the client trusts: {cluster}"
        );
        assert_eq!(cluster["config"], serde_json::Value::Null);
    }
}

async fn run_with_mode(mode: ExecInteractiveMode) -> (tempfile::TempDir, apiclient::Result<()>) {
    let dir = tempfile::tempdir().unwrap();
    let exec = ExecConfig {
        api_version: "client.authentication.k8s.io/v1".into(),
        command: echo_plugin(dir.path()),
        interactive_mode: Some(mode),
        ..ExecConfig::default()
    };
    let r = ExecAuthenticator::new(exec, None)
        .credential()
        .await
        .map(drop);
    (dir, r)
}

#[tokio::test]
async fn never_gives_the_plugin_no_stdin_and_says_so() {
    let (dir, r) = run_with_mode(ExecInteractiveMode::Never).await;
    r.unwrap();
    assert_eq!(info(dir.path())["spec"]["interactive"], false);
    let tty = std::fs::read_to_string(dir.path().join("tty")).unwrap();
    assert_eq!(tty.trim(), "no");
}

#[tokio::test]
async fn if_available_passes_stdin_exactly_when_it_is_a_terminal() {
    let (dir, r) = run_with_mode(ExecInteractiveMode::IfAvailable).await;
    r.unwrap();
    let terminal = std::io::stdin().is_terminal();
    assert_eq!(info(dir.path())["spec"]["interactive"], terminal);
    let tty = std::fs::read_to_string(dir.path().join("tty")).unwrap();
    assert_eq!(tty.trim(), if terminal { "yes" } else { "no" });
}

#[tokio::test]
async fn always_needs_a_terminal_on_stdin() {
    let (dir, r) = run_with_mode(ExecInteractiveMode::Always).await;
    if std::io::stdin().is_terminal() {
        r.unwrap();
        assert_eq!(info(dir.path())["spec"]["interactive"], true);
        return;
    }
    let e = r.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    assert!(
        e.to_string().contains(
            "exec plugin cannot support interactive mode: standard input is not a terminal"
        ),
        "{e}"
    );
    assert!(
        !dir.path().join("info.json").exists(),
        "the plugin did not run"
    );
}

fn exec_kubeconfig(api_version: &str, interactive: Option<&str>) -> apiclient::Result<ExecConfig> {
    let mode = interactive
        .map(|m| format!("\n      interactiveMode: {m}"))
        .unwrap_or_default();
    let text = format!(
        "current-context: c\nclusters: [{{name: k, cluster: {{server: https://h}}}}]\n\
         contexts: [{{name: c, context: {{cluster: k, user: alice}}}}]\n\
         users:\n- name: alice\n  user:\n    exec:\n      apiVersion: {api_version}\n      command: plugin{mode}\n"
    );
    Kubeconfig::parse(&text, Path::new("/k/config"))?
        .to_config(None)
        .map(|c| c.exec.unwrap())
}

#[test]
fn interactive_mode_is_required_for_v1_and_defaults_for_v1beta1() {
    let e = exec_kubeconfig("client.authentication.k8s.io/v1", None).unwrap_err();
    assert!(
        e.to_string().contains(
            "interactiveMode must be specified for alice to use exec authentication plugin"
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("users[alice].user.exec.interactiveMode"),
        "{e}"
    );
    assert_eq!(
        exec_kubeconfig("client.authentication.k8s.io/v1beta1", None)
            .unwrap()
            .interactive_mode,
        Some(ExecInteractiveMode::IfAvailable)
    );
    for (mode, want) in [
        ("Never", ExecInteractiveMode::Never),
        ("IfAvailable", ExecInteractiveMode::IfAvailable),
        ("Always", ExecInteractiveMode::Always),
    ] {
        assert_eq!(
            exec_kubeconfig("client.authentication.k8s.io/v1", Some(mode))
                .unwrap()
                .interactive_mode,
            Some(want)
        );
    }
    let e = exec_kubeconfig("client.authentication.k8s.io/v1", Some("Sometimes")).unwrap_err();
    assert!(
        e.to_string()
            .contains(r#"invalid interactiveMode for alice: "Sometimes""#),
        "{e}"
    );
}
