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

/// Every YAML document of every `deploy/*.yaml` (not subdirectories: the single-namespace
/// variant replaces the cluster-wide one and is not applied with it).
fn deploy_documents() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for doc in serde_norway::Deserializer::from_str(&text) {
            let v = Value::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            if !v.is_null() {
                docs.push(v);
            }
        }
    }
    docs
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

fn pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}
    })
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
    let grants = grants(&deploy_documents());
    assert!(
        grants.iter().any(|g| g.namespace.is_none())
            && grants.iter().any(|g| g.namespace.is_some()),
        "deploy/ should bind a ClusterRole (pods) and a Role (leases): {grants:?}"
    );

    let server = testserver::TestServer::start().await.unwrap();
    server.create_namespace(SA_NAMESPACE).unwrap();
    server
        .create("/api/v1/namespaces/default/pods", pod("web-0"))
        .unwrap();

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
    let path = std::env::temp_dir().join(format!("deploy-rbac-{}.kubeconfig", std::process::id()));
    std::fs::write(&path, kubeconfig).unwrap();

    let mut child = Command::new(example_binary())
        .arg("--kubeconfig")
        .arg(&path)
        .arg("--leader-elect")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
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
        l.contains("default/web-0: reconciled")
    });

    // Churn: a new pod, then its deletion.
    server
        .create("/api/v1/namespaces/default/pods", pod("web-1"))
        .unwrap();
    wait_for(&lines, &mut seen, |l| {
        l.contains("default/web-1: reconciled")
    });
    server
        .delete("/api/v1/namespaces/default/pods/web-1")
        .unwrap();
    wait_for(&lines, &mut seen, |l| l.contains("DELETE default/web-1"));

    // SIGTERM: drain, stop leading, release the Lease.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for(&lines, &mut seen, |l| l.contains("released leader lease"));
    let exit = child.wait().unwrap();
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
    for g in &grants {
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
