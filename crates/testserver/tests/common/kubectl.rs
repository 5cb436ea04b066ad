//! Running kubectl 1.32 against a test server, shared by the `kubectl*.rs` test files: finding
//! the binary, a scratch directory per test, and running a command with a bound on its time.
//!
//! kubectl is looked up in `$KUBECTL`, `/usr/bin/kubectl`, `/usr/local/bin/kubectl`, then
//! `PATH`. If it is missing the tests fail with a message saying so: they never pass silently.
//!
//! Every command gets `--server <url>`, its own `--cache-dir` in the scratch directory, a
//! `KUBECONFIG` that does not exist (so the user's never leaks in), no stdin, and
//! `KUBECTL_EXTERNAL_DIFF=diff -u -N` (so `kubectl diff` output does not depend on the host).

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::Command;

/// Upper bound for one kubectl step, so a broken server fails the test instead of hanging it.
pub const STEP: Duration = Duration::from_secs(60);

/// The kubectl binary; panics naming where it looked when there is none.
pub fn kubectl_path() -> PathBuf {
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
pub struct Scratch(PathBuf);

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

/// A fresh scratch directory named after the test binary, the process and `test`.
pub fn scratch(test: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!(
        "testserver-{}-{}-{test}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// kubectl against `server_url`, with `extra` arguments first; the caller adds the rest.
pub fn kubectl(server_url: &str, dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(kubectl_path());
    cmd.arg("--server")
        .arg(server_url)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args(extra)
        .env("KUBECONFIG", dir.join("no-kubeconfig"))
        .env("KUBECTL_EXTERNAL_DIFF", "diff -u -N")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Runs kubectl to completion, whatever its exit code.
pub async fn output(server_url: &str, dir: &Path, args: &[&str]) -> Output {
    tokio::time::timeout(STEP, kubectl(server_url, dir, args).output())
        .await
        .unwrap_or_else(|_| panic!("kubectl {args:?} did not finish"))
        .unwrap()
}

/// Runs kubectl; returns (stdout, stderr), failing the test on a non-zero exit.
pub async fn run_with_stderr(server_url: &str, dir: &Path, args: &[&str]) -> (String, String) {
    let out = output(server_url, dir, args).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    (stdout, stderr)
}

/// Runs kubectl; returns stdout, failing the test on a non-zero exit.
pub async fn run(server_url: &str, dir: &Path, args: &[&str]) -> String {
    run_with_stderr(server_url, dir, args).await.0
}

/// Runs kubectl expecting it to fail; returns its stderr.
pub async fn run_failing(server_url: &str, dir: &Path, args: &[&str]) -> String {
    let out = output(server_url, dir, args).await;
    assert!(
        !out.status.success(),
        "kubectl {args:?} should have failed; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The whitespace-separated columns of one line of kubectl's table output.
pub fn columns(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// The non-blank rows of one or more tables, each split into columns, header first.
pub fn rows(table: &str) -> Vec<Vec<&str>> {
    table
        .lines()
        .map(columns)
        .filter(|r| !r.is_empty())
        .collect()
}
