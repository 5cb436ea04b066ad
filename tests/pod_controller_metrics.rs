//! The pod controller's endpoints: run the demo with leader election and both servers on free
//! ports, scrape `/metrics` while it runs, and probe `/healthz` and `/readyz`.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// `target/<profile>/examples/pod-controller`, built by `cargo test` along with this test.
fn example_binary() -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("examples")
        .join(format!("pod-controller{}", std::env::consts::EXE_SUFFIX))
}

/// The example, its stdout lines on a channel, and a guard that kills it if the test fails.
struct Running {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn start(args: &[&str]) -> Self {
        let binary = example_binary();
        assert!(binary.exists(), "{} is missing", binary.display());
        let mut child = Command::new(&binary)
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (up to `deadline`) for a log line containing `needle`; returns what follows it.
    fn wait_for_line(&mut self, needle: &str, deadline: Instant) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return after(line, needle);
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(needle).then(|| after(&line, needle));
                    self.seen.push(line);
                    if let Some(rest) = found {
                        return rest;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => panic!(
                    "no line with {needle:?} before the deadline:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The `host:port` the example logged for `what`.
    fn address_of(&mut self, what: &str, deadline: Instant) -> String {
        let rest = self.wait_for_line(&format!("serving {what} on http://"), deadline);
        rest.split_whitespace().next().unwrap().to_string()
    }
}

fn after(line: &str, needle: &str) -> String {
    let at = line.find(needle).unwrap() + needle.len();
    line[at..].to_string()
}

/// One `GET`: status code and body.
fn get(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Waits for `child` to exit, for at most until `deadline` (then kills it and fails).
fn wait_for_exit(child: &mut std::process::Child, deadline: Instant) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        scope.spawn(move || {
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(status) => status.unwrap(),
            Err(_) => {
                // Unblocks the waiting thread, so the scope can end before the test fails.
                let _ = Command::new("kill").args(["-9", &pid]).status();
                panic!("no exit before the deadline");
            }
        }
    })
}

/// The value of the first sample line starting with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[test]
fn the_demo_serves_metrics_healthz_and_readyz_while_it_leads() {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut demo = Running::start(&[
        "--demo",
        "--leader-elect",
        "--metrics-bind-address=127.0.0.1:0",
        "--health-probe-bind-address",
        "127.0.0.1:0",
    ]);
    let metrics = demo.address_of("/metrics", deadline);
    let probes = demo.address_of("/healthz and /readyz", deadline);

    // A worker reconciles only after the cache has synced (WaitForCacheSync), and only on the
    // leader, whose gauge is set before its workers start; its queue has had adds, and its
    // LIST got a 200. So one scrape after this line must show all of it.
    demo.wait_for_line(": reconciled", deadline);
    let (status, body) = get(&probes, "/readyz").unwrap();
    assert_eq!((status, body.as_str()), (200, "ok"), "ready once synced");
    let (status, body) = get(&probes, "/healthz").unwrap();
    assert_eq!(
        (status, body.as_str()),
        (200, "ok"),
        "healthy while leading"
    );
    assert_eq!(get(&probes, "/nope").unwrap().0, 404);

    let (status, text) = get(&metrics, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        sample(
            &text,
            r#"leader_election_master_status{name="pod-controller"}"#
        ),
        Some(1.0),
        "{text}"
    );
    let adds = sample(&text, r#"workqueue_adds_total{name="pod-controller"}"#);
    assert!(adds.is_some_and(|a| a > 0.0), "{text}");
    let ok_requests: f64 = text
        .lines()
        .filter(|l| l.starts_with("rest_client_requests_total{") && l.contains(r#"code="200""#))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(ok_requests > 0.0, "{text}");
    assert!(
        text.contains("workqueue_depth{name=\"pod-controller\"}"),
        "{text}"
    );

    // The demo ends on its own: the lease is released and the program exits cleanly.
    demo.wait_for_line("released leader lease", deadline);
    demo.wait_for_line("bye", deadline);
    let status = demo.child.wait().unwrap();
    assert!(status.success(), "exit {status:?}");
}

#[test]
fn readyz_fails_until_the_cache_syncs_and_healthz_passes_while_not_leading() {
    // An API server that accepts connections and never answers: nothing ever syncs and the
    // lease is never acquired.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = format!("http://{}", hung.local_addr().unwrap());
    let dir = std::env::temp_dir().join(format!("pod-controller-health-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: hung\n\
             clusters:\n- name: hung\n  cluster:\n    server: {server}\n\
             contexts:\n- name: hung\n  context:\n    cluster: hung\n    user: nobody\n    namespace: default\n\
             users:\n- name: nobody\n  user: {{}}\n"
        ),
    )
    .unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut running = Running::start(&[
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--leader-elect",
        "--health-probe-bind-address=127.0.0.1:0",
    ]);
    let probes = running.address_of("/healthz and /readyz", deadline);
    // The election has started (and is stuck on its first request) before we probe.
    running.wait_for_line("leader election on", deadline);

    let (status, body) = get(&probes, "/readyz").unwrap();
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("[-]informer-sync failed"), "{body}");
    assert!(body.contains("readyz check failed"), "{body}");
    let (status, body) = get(&probes, "/healthz").unwrap();
    assert_eq!(
        (status, body.as_str()),
        (200, "ok"),
        "a candidate that does not lead is healthy"
    );

    // SIGTERM still ends it.
    let pid = running.child.id().to_string();
    assert!(Command::new("kill").arg(&pid).status().unwrap().success());
    let exit = wait_for_exit(&mut running.child, deadline);
    assert!(exit.success(), "exit {exit:?}\n{}", running.seen.join("\n"));
    drop(hung);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bind_address_in_use_is_a_clear_error_at_start_up() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut child = std::process::Command::new(example_binary())
        .args(["--demo", &format!("--metrics-bind-address={addr}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut text);
        let _ = tx.send((child.wait(), text));
    });
    let Ok((status, stderr)) = rx.recv_timeout(Duration::from_secs(60)) else {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
        panic!("the program did not exit on a taken bind address");
    };
    assert_eq!(status.unwrap().code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("error: serving /metrics on {addr}: "))
            && stderr.contains("in use"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
