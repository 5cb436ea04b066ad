//! kubectl against the manifests in `deploy/`: a server-side dry run of the whole directory,
//! the RBAC and ServiceAccount kinds it holds, and `kubectl auth can-i`.
//!
//! kubectl is found and run by `common::kubectl`; without it these tests fail saying so.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::{Path, PathBuf};

use common::kubectl::{run, run_failing, scratch};
use testserver::TestServer;

/// The workspace's `deploy/` directory.
fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_dry_run_of_the_deploy_manifests_validates_and_stores_nothing() {
    let server = TestServer::start().await.unwrap();
    let url = server.url();
    let dir = scratch("deploy-dry-run");
    let ns = deploy_dir().join("namespace.yaml");
    let out = run(
        &url,
        &dir,
        &["apply", "--dry-run=server", "-f", ns.to_str().unwrap()],
    )
    .await;
    assert_eq!(
        out.trim(),
        "namespace/pod-controller created (server dry run)"
    );
    let err = run_failing(&url, &dir, &["get", "namespace", "pod-controller"]).await;
    assert!(
        err.contains("namespaces \"pod-controller\" not found"),
        "{err}"
    );

    // The namespaced objects need their namespace, as NamespaceLifecycle admission demands.
    server
        .create(
            "/api/v1/namespaces",
            serde_json::json!({"metadata": {"name": "pod-controller"}}),
        )
        .unwrap();
    let deploy = deploy_dir();
    let out = run(
        &url,
        &dir,
        &["apply", "--dry-run=server", "-f", deploy.to_str().unwrap()],
    )
    .await;
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "clusterrole.rbac.authorization.k8s.io/pod-controller created (server dry run)",
            "clusterrolebinding.rbac.authorization.k8s.io/pod-controller created (server dry run)",
            "deployment.apps/pod-controller created (server dry run)",
            "namespace/pod-controller configured (server dry run)",
            "role.rbac.authorization.k8s.io/pod-controller-leader-election created (server dry run)",
            "rolebinding.rbac.authorization.k8s.io/pod-controller-leader-election created (server dry run)",
            "serviceaccount/pod-controller created (server dry run)",
        ]
    );
    for kind in ["deployments", "serviceaccounts", "roles", "rolebindings"] {
        let out = run(
            &url,
            &dir,
            &["get", kind, "-n", "pod-controller", "-o", "name"],
        )
        .await;
        assert_eq!(out, "", "{kind} stored by a dry run");
    }
    for kind in ["clusterroles", "clusterrolebindings"] {
        let out = run(&url, &dir, &["get", kind, "-o", "name"]).await;
        assert_eq!(out, "", "{kind} stored by a dry run");
    }

    // Applied for real, the same manifests are stored and listed.
    let out = run(&url, &dir, &["apply", "-f", deploy.to_str().unwrap()]).await;
    assert!(
        out.contains("serviceaccount/pod-controller created"),
        "{out}"
    );
    let out = run(
        &url,
        &dir,
        &["get", "sa", "-n", "pod-controller", "-o", "name"],
    )
    .await;
    assert_eq!(out.trim(), "serviceaccount/pod-controller");
    let out = run(&url, &dir, &["get", "clusterrolebindings", "-o", "name"]).await;
    assert_eq!(
        out.trim(),
        "clusterrolebinding.rbac.authorization.k8s.io/pod-controller"
    );
    // Tables with kube-apiserver's printer columns.
    let out = run(
        &url,
        &dir,
        &["get", "rolebindings", "-n", "pod-controller", "-o", "wide"],
    )
    .await;
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"],
        "{out}"
    );
    assert_eq!(rows[1][0], "pod-controller-leader-election");
    assert_eq!(rows[1][1], "Role/pod-controller-leader-election");
    assert_eq!(rows[1][3], "pod-controller/pod-controller", "{out}");
    let out = run(&url, &dir, &["get", "sa", "-n", "pod-controller"]).await;
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["NAME", "SECRETS", "AGE"], "{out}");
    assert_eq!(rows[1][..2], ["pod-controller", "0"]);
    let out = run(&url, &dir, &["get", "clusterroles"]).await;
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["NAME", "CREATED", "AT"], "{out}");
    assert!(rows[1][1].ends_with('Z'), "{out}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_can_i_answers_yes_and_lists_the_admin_rules() {
    let server = TestServer::start().await.unwrap();
    let url = server.url();
    let dir = scratch("auth-can-i");
    let out = run(&url, &dir, &["auth", "can-i", "list", "pods"]).await;
    assert_eq!(out, "yes\n");
    let out = run(
        &url,
        &dir,
        &[
            "auth",
            "can-i",
            "create",
            "leases.coordination.k8s.io",
            "-n",
            "x",
        ],
    )
    .await;
    assert_eq!(out, "yes\n");
    let out = run(&url, &dir, &["auth", "can-i", "--list"]).await;
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "Resources",
            "Non-Resource",
            "URLs",
            "Resource",
            "Names",
            "Verbs"
        ],
        "{out}"
    );
    assert!(rows.contains(&vec!["*.*", "[]", "[]", "[*]"]), "{out}");
    assert!(rows.contains(&vec!["[*]", "[]", "[*]"]), "{out}");
    assert!(
        rows.contains(&vec![
            "selfsubjectaccessreviews.authorization.k8s.io",
            "[]",
            "[]",
            "[create]"
        ]),
        "{out}"
    );
    server.shutdown().await;
}
