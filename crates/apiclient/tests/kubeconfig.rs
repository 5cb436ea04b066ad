//! Kubeconfig loading like kubectl: files written by the test, merged by the rules of
//! clientcmd's loader, and broken ones reported by file and field.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use apiclient::Error;
use apiclient::config::kubeconfig::{Kubeconfig, LoadingRules};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

const FIRST: &str = r#"
apiVersion: v1
kind: Config
current-context: one
clusters:
- name: c1
  cluster:
    server: https://one.example:6443
    certificate-authority: certs/ca.pem
    tls-server-name: api.one
contexts:
- name: one
  context: {cluster: c1, user: u1, namespace: team-one}
- name: shared
  context: {cluster: c1, user: u1}
users:
- name: u1
  user:
    token: first-token
    client-certificate: certs/client.pem
    client-key: /abs/client-key.pem
"#;

const SECOND: &str = r#"
current-context: two
clusters:
- name: c1
  cluster: {server: https://shadowed.example}
- name: c2
  cluster:
    server: http://two.example:8080
    insecure-skip-tls-verify: true
contexts:
- name: shared
  context: {cluster: c2, user: u2}
- name: two
  context: {cluster: c2, user: u2}
users:
- name: u2
  user:
    tokenFile: tok
    as: alice
    as-groups: [admins, devs]
"#;

fn rules(paths: &[&Path]) -> LoadingRules {
    LoadingRules {
        explicit_path: None,
        precedence: paths.iter().map(|p| p.to_path_buf()).collect(),
    }
}

#[test]
fn first_file_wins_for_entries_and_current_context() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a/config", FIRST);
    let b = write(d.path(), "b/config", SECOND);
    let merged = Kubeconfig::load(&rules(&[&a, &b])).unwrap();
    assert_eq!(merged.current_context.as_deref(), Some("one"));
    let c = merged.to_config(None).unwrap();
    assert_eq!(c.host, "https://one.example:6443");
    assert_eq!(c.namespace, "team-one");
    assert_eq!(c.bearer_token.as_deref(), Some("first-token"));
    assert_eq!(c.tls.server_name.as_deref(), Some("api.one"));
    // Relative paths resolve against the file they appear in; absolute ones stay.
    assert_eq!(
        c.tls.ca_file.as_deref(),
        Some(d.path().join("a/certs/ca.pem").as_path())
    );
    assert_eq!(
        c.tls.cert_file.as_deref(),
        Some(d.path().join("a/certs/client.pem").as_path())
    );
    assert_eq!(
        c.tls.key_file.as_deref(),
        Some(Path::new("/abs/client-key.pem"))
    );
    // `shared` is defined in both: the first file's definition wins.
    assert_eq!(
        merged.to_config(Some("shared")).unwrap().host,
        "https://one.example:6443"
    );
    // c1 is shadowed by the first file too.
    assert_eq!(merged.clusters.iter().filter(|c| c.name == "c1").count(), 1);
}

#[test]
fn context_override_uses_entries_from_later_files() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a/config", FIRST);
    let b = write(d.path(), "b/config", SECOND);
    let c = Kubeconfig::load(&rules(&[&a, &b]))
        .unwrap()
        .to_config(Some("two"))
        .unwrap();
    assert_eq!(c.host, "http://two.example:8080");
    assert!(c.tls.insecure);
    assert_eq!(c.namespace, "default");
    assert_eq!(
        c.bearer_token_file.as_deref(),
        Some(d.path().join("b/tok").as_path())
    );
    assert_eq!(c.impersonate.user_name.as_deref(), Some("alice"));
    assert_eq!(c.impersonate.groups, vec!["admins", "devs"]);
}

#[test]
fn current_context_comes_from_the_first_file_that_sets_it() {
    let d = tempfile::tempdir().unwrap();
    let empty = write(d.path(), "empty", "clusters: []\n");
    let b = write(d.path(), "b", SECOND);
    let missing = d.path().join("does-not-exist");
    let merged = Kubeconfig::load(&rules(&[&missing, &empty, &b])).unwrap();
    assert_eq!(merged.current_context.as_deref(), Some("two"));
}

#[test]
fn base64_data_fields_are_decoded() {
    let d = tempfile::tempdir().unwrap();
    let text = r#"
current-context: x
clusters: [{name: c, cluster: {server: "https://h", certificate-authority-data: "Q0EtUEVN"}}]
users: [{name: u, user: {client-certificate-data: "Q0VSVA==", client-key-data: "S0VZ"}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
"#;
    let p = write(d.path(), "config", text);
    let c = apiclient::Config::from_kubeconfig(Some(&p), None).unwrap();
    assert_eq!(c.tls.ca_data.as_deref(), Some(&b"CA-PEM"[..]));
    assert_eq!(c.tls.cert_data.as_deref(), Some(&b"CERT"[..]));
    assert_eq!(c.tls.key_data.as_deref(), Some(&b"KEY"[..]));
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("CERT") && !shown.contains("KEY\""),
        "{shown}"
    );
}

fn config_error(text: &str, context: Option<&str>) -> (PathBuf, Error) {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "config", text);
    let e = apiclient::Config::from_kubeconfig(Some(&p), context).unwrap_err();
    // Keep the directory alive only as long as needed: the error holds the path as text.
    (p, e)
}

#[test]
fn broken_files_name_the_file_and_the_field() {
    let cases: &[(&str, &str)] = &[
        (
            "current-context: x\nclusters: [{name: c, cluster: {server: https://h, certificate-authority-data: '!!notbase64'}}]\ncontexts: [{name: x, context: {cluster: c}}]\n",
            "clusters[c].cluster.certificate-authority-data",
        ),
        (
            "current-context: x\nclusters: [{name: c, cluster: {server: https://h}}]\nusers: [{name: u, user: {client-key-data: '%%%'}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n",
            "users[u].user.client-key-data",
        ),
        (
            "current-context: x\nclusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: c}}]\n",
            "clusters[c].cluster.server",
        ),
        (
            "current-context: x\ncontexts: [{name: x, context: {cluster: nope}}]\n",
            "contexts[x].context.cluster",
        ),
        ("clusters: 5\n", "clusters"),
        ("{{{{ not yaml", "(document)"),
        (
            "current-context: x\nclusters: [{name: c, cluster: {server: https://h}}]\nusers: [{name: u, user: {exec: {apiVersion: nope, command: x}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n",
            "users[u].user.exec.apiVersion",
        ),
    ];
    for (text, field) in cases {
        let (path, e) = config_error(text, None);
        let Error::Config(ce) = &e else {
            panic!("want a config error, got {e}")
        };
        assert_eq!(ce.field, *field, "{e}");
        if ce.file.is_some() {
            assert_eq!(ce.file.as_deref(), Some(path.as_path()));
        }
        assert!(e.to_string().contains(field), "{e}");
    }
}

#[test]
fn a_missing_explicit_file_is_an_error_naming_it() {
    let e = apiclient::Config::from_kubeconfig(Some(Path::new("/nonexistent/kubeconfig")), None)
        .unwrap_err();
    assert!(e.to_string().contains("/nonexistent/kubeconfig"), "{e}");
}

#[test]
fn unknown_context_is_an_error() {
    let (_, e) = config_error(FIRST, Some("nope"));
    assert!(e.to_string().contains("contexts[nope]"), "{e}");
}

#[test]
fn a_clusters_disable_compression_reaches_the_config() {
    let d = tempfile::tempdir().unwrap();
    let text = r#"
current-context: x
clusters:
- {name: plain, cluster: {server: "https://h"}}
- {name: quiet, cluster: {server: "https://h", disable-compression: true}}
contexts:
- {name: x, context: {cluster: plain}}
- {name: y, context: {cluster: quiet}}
"#;
    let p = write(d.path(), "config", text);
    let x = apiclient::Config::from_kubeconfig(Some(&p), None).unwrap();
    assert!(!x.disable_compression);
    let y = apiclient::Config::from_kubeconfig(Some(&p), Some("y")).unwrap();
    assert!(y.disable_compression);
    assert!(format!("{y:?}").contains("disable_compression: true"));
}
