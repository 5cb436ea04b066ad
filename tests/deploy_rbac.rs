//! The RBAC rules in `deploy/` grant exactly what the pod controller uses.
//!
//! The test runs the pod controller (with leader election, watching every namespace, as
//! `deploy/deployment.yaml` runs it) against a test server that first refuses watch-list (as
//! a server without the WatchList feature does), churns a pod, stops it with SIGTERM
//! (which releases the lease), and reads every resource request the server answered, as
//! kube-apiserver's authorizer sees it (`RequestInfo`: verb, group, resource, namespace). Then:
//! - every request is allowed by a rule bound to the `pod-controller` ServiceAccount in
//!   `deploy/` (a Role only in its own namespace, a ClusterRole everywhere);
//! - every verb on every resource those rules grant was used at least once.
//!
//! It does so twice: for `deploy/` as it is (all namespaces), and for the single-namespace
//! variant (`deploy/single-namespace/rbac.yaml` instead of `cluster-rbac.yaml`, and
//! `--namespace team-a`), where nothing outside `team-a` and the controller's own namespace
//! may be touched.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

const SA: &str = "pod-controller";
const SA_NAMESPACE: &str = "pod-controller";

fn example_binary() -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("examples")
        .join(format!("pod-controller{}", std::env::consts::EXE_SUFFIX))
}

/// One RBAC rule, as `rbac.authorization.k8s.io/v1` writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default)]
    api_groups: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    verbs: Vec<String>,
}

/// A rule and where it applies: `Some(ns)` for a Role bound in `ns`, `None` for a ClusterRole
/// bound cluster-wide.
#[derive(Debug)]
struct Grant {
    namespace: Option<String>,
    rule: Rule,
}

fn matches(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v == "*" || v == value)
}

impl Grant {
    fn allows(&self, verb: &str, group: &str, resource: &str, namespace: &str) -> bool {
        self.namespace.as_deref().is_none_or(|ns| ns == namespace)
            && matches(&self.rule.verbs, verb)
            && matches(&self.rule.api_groups, group)
            && matches(&self.rule.resources, resource)
    }
}

/// Every YAML document of `files` (paths relative to `deploy/`).
fn documents(files: &[&str]) -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let mut docs = Vec::new();
    for f in files {
        let path = dir.join(f);
        let text = std::fs::read_to_string(&path).unwrap();
        for doc in serde_norway::Deserializer::from_str(&text) {
            let v = Value::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if !v.is_null() {
                docs.push(v);
            }
        }
    }
    docs
}

/// The YAML files directly in `deploy/` (not subdirectories: the single-namespace variant
/// replaces the cluster-wide RBAC and is not applied with it), but `except`.
fn deploy_files(except: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".yaml") && f != except)
        .collect();
    files.sort();
    files
}

/// The rules bound to the controller's ServiceAccount.
fn grants(docs: &[Value]) -> Vec<Grant> {
    fn of_kind<'a>(docs: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> {
        docs.iter().filter(move |d| d["kind"] == kind)
    }
    let binds_sa = |b: &Value| {
        b["subjects"].as_array().into_iter().flatten().any(|s| {
            s["kind"] == "ServiceAccount" && s["name"] == SA && s["namespace"] == SA_NAMESPACE
        })
    };
    let rules_of = |kind: &str, name: &str, namespace: Option<&str>| -> Vec<Rule> {
        of_kind(docs, kind)
            .filter(|r| {
                r["metadata"]["name"] == name
                    && namespace.is_none_or(|ns| r["metadata"]["namespace"] == ns)
            })
            .flat_map(|r| {
                serde_json::from_value::<Vec<Rule>>(r["rules"].clone()).unwrap_or_default()
            })
            .collect()
    };
    let mut out = Vec::new();
    for b in of_kind(docs, "RoleBinding").filter(|b| binds_sa(b)) {
        let ns = b["metadata"]["namespace"].as_str().unwrap().to_owned();
        let role = b["roleRef"]["name"].as_str().unwrap();
        let kind = b["roleRef"]["kind"].as_str().unwrap();
        let rules = if kind == "Role" {
            rules_of("Role", role, Some(&ns))
        } else {
            rules_of("ClusterRole", role, None)
        };
        for rule in rules {
            out.push(Grant {
                namespace: Some(ns.clone()),
                rule,
            });
        }
    }
    for b in of_kind(docs, "ClusterRoleBinding").filter(|b| binds_sa(b)) {
        let role = b["roleRef"]["name"].as_str().unwrap();
        for rule in rules_of("ClusterRole", role, None) {
            out.push(Grant {
                namespace: None,
                rule,
            });
        }
    }
    out
}

fn pod(name: &str, namespace: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}
    })
}

/// The pod controller's process, killed if the test fails before it exits.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Lines of the child's stdout, until `pred` holds for one of them.
fn wait_for(lines: &mpsc::Receiver<String>, seen: &mut Vec<String>, pred: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match lines.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                let hit = pred(&line);
                seen.push(line);
                if hit {
                    return;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    panic!(
        "expected line never came; output so far:\n{}",
        seen.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_rbac_grants_exactly_what_the_pod_controller_uses() {
    let files = deploy_files("");
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let grants = grants(&documents(&files));
    assert!(
        grants.iter().any(|g| g.namespace.is_none())
            && grants.iter().any(|g| g.namespace.is_some()),
        "deploy/ should bind a ClusterRole (pods) and a Role (leases): {grants:?}"
    );
    run_and_check(&grants, "default", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_namespace_rbac_grants_exactly_what_the_pod_controller_uses_with_namespace() {
    let mut files = deploy_files("cluster-rbac.yaml");
    files.push("single-namespace/rbac.yaml".into());
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let grants = grants(&documents(&files));
    assert!(
        grants.iter().all(|g| g.namespace.is_some()),
        "the single-namespace variant binds no ClusterRole: {grants:?}"
    );
    run_and_check(&grants, "team-a", &["--namespace", "team-a"]).await;
}

/// Runs the pod controller with leader election and `args` while pods in `pod_namespace`
/// churn, then checks every request it sent against `grants`, and every grant against the
/// requests.
async fn run_and_check(grants: &[Grant], pod_namespace: &str, args: &[&str]) {
    let pods = format!("/api/v1/namespaces/{pod_namespace}/pods");
    let server = testserver::TestServer::start().await.unwrap();
    server.create_namespace(SA_NAMESPACE).unwrap();
    if pod_namespace != "default" {
        server.create_namespace(pod_namespace).unwrap();
    }
    server.create(&pods, pod("web-0", pod_namespace)).unwrap();

    // A server without watch-list refuses `sendInitialEvents` (422 in 1.32 with the WatchList
    // gate off); the informer then falls back to LIST and WATCH, so `list` is needed too.
    server.faults().fail_next(
        1,
        testserver::FaultMatch::verb(testserver::Verb::Watch).resource("pods"),
        422,
        None,
    );

    // In a cluster the Lease goes to the pod's own namespace; here the kubeconfig's does.
    let kubeconfig = server
        .kubeconfig()
        .replace("namespace: default", &format!("namespace: {SA_NAMESPACE}"));
    let path = std::env::temp_dir().join(format!(
        "deploy-rbac-{}-{pod_namespace}.kubeconfig",
        std::process::id()
    ));
    std::fs::write(&path, kubeconfig).unwrap();

    let mut child = KillOnDrop(
        Command::new(example_binary())
            .arg("--kubeconfig")
            .arg(&path)
            .arg("--leader-elect")
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let (tx, lines) = mpsc::channel();
    let stdout = child.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    wait_for(&lines, &mut seen, |l| {
        l.contains("successfully acquired lease")
    });
    wait_for(&lines, &mut seen, |l| {
        l.contains(&format!("{pod_namespace}/web-0: reconciled"))
    });

    // Churn: a new pod, then its deletion.
    server.create(&pods, pod("web-1", pod_namespace)).unwrap();
    wait_for(&lines, &mut seen, |l| {
        l.contains(&format!("{pod_namespace}/web-1: reconciled"))
    });
    server.delete(&format!("{pods}/web-1")).unwrap();
    wait_for(&lines, &mut seen, |l| {
        l.contains(&format!("DELETE {pod_namespace}/web-1"))
    });

    // SIGTERM: drain, stop leading, release the Lease.
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for(&lines, &mut seen, |l| l.contains("released leader lease"));
    let exit = child.0.wait().unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(exit.success(), "exit {exit:?}:\n{}", seen.join("\n"));

    let requests = server.requests();
    assert!(!requests.is_empty());
    let mut used = BTreeSet::new();
    for r in &requests {
        let resource = if r.subresource.is_empty() {
            r.resource.clone()
        } else {
            format!("{}/{}", r.resource, r.subresource)
        };
        let verb = r.verb.as_str();
        assert!(
            grants
                .iter()
                .any(|g| g.allows(verb, &r.api_group, &resource, &r.namespace)),
            "deploy/ does not allow {verb} {}/{resource} in namespace {:?}, which the controller sent",
            r.api_group,
            r.namespace
        );
        used.insert((verb.to_owned(), r.api_group.clone(), resource));
    }
    for g in grants {
        for verb in &g.rule.verbs {
            for group in &g.rule.api_groups {
                for resource in &g.rule.resources {
                    assert!(
                        used.contains(&(verb.clone(), group.clone(), resource.clone())),
                        "deploy/ grants {verb} {group}/{resource} (namespace {:?}), which the controller never used; used: {used:?}",
                        g.namespace
                    );
                }
            }
        }
    }
}
