//! kubectl against the manifests in `deploy/`: a server-side dry run of the whole directory,
//! the RBAC and ServiceAccount kinds it holds, and `kubectl auth can-i`.
//!
//! kubectl is looked up in `$KUBECTL`, `/usr/bin/kubectl`, `/usr/local/bin/kubectl`, then
//! `PATH`. If it is missing these tests fail with a message saying so.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use testserver::TestServer;
use tokio::process::Command;

/// Upper bound for one kubectl step, so a broken server fails the test instead of hanging it.
const STEP: Duration = Duration::from_secs(60);

fn kubectl_path() -> PathBuf {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("KUBECTL") {
        candidates.push(p.into());
    }
    candidates.push("/usr/bin/kubectl".into());
    candidates.push("/usr/local/bin/kubectl".into());
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("kubectl")));
    }
    candidates.into_iter().find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "kubectl NOT FOUND: these tests need kubectl 1.32 (looked in $KUBECTL, /usr/bin, /usr/local/bin, PATH). \
             Install it or set KUBECTL=/path/to/kubectl."
        )
    })
}

/// A scratch directory for kubectl's cache and manifests, unique per test, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

fn scratch(test: &str) -> Scratch {
    let dir =
        std::env::temp_dir().join(format!("testserver-kubectl-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

fn kubectl(server_url: &str, dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(kubectl_path());
    cmd.arg("--server")
        .arg(server_url)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args(extra)
        .env("KUBECONFIG", dir.join("no-kubeconfig"))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Runs kubectl to completion; returns stdout, failing the test on a non-zero exit.
async fn run(server_url: &str, dir: &Path, args: &[&str]) -> String {
    let out = tokio::time::timeout(STEP, kubectl(server_url, dir, &[]).args(args).output())
        .await
        .unwrap_or_else(|_| panic!("kubectl {args:?} did not finish"))
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

async fn run_failing(server_url: &str, dir: &Path, args: &[&str]) -> String {
    let out = tokio::time::timeout(STEP, kubectl(server_url, dir, &[]).args(args).output())
        .await
        .unwrap_or_else(|_| panic!("kubectl {args:?} did not finish"))
        .unwrap();
    assert!(
        !out.status.success(),
        "kubectl {args:?} should have failed; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

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
