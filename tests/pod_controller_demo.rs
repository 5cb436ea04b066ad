//! The README's first command works: `pod-controller --demo` starts the embedded API server,
//! syncs, reconciles, retries, survives a relist, and exits cleanly on its own.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// `target/<profile>/examples/pod-controller`, built by `cargo test` along with this test.
fn example_binary() -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop(); // the test binary
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("examples")
        .join(format!("pod-controller{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn the_demo_starts_syncs_reconciles_and_exits() {
    let binary = example_binary();
    assert!(
        binary.exists(),
        "{} is missing: cargo test builds examples; run the suite with `cargo test --workspace`",
        binary.display()
    );
    let child = Command::new(&binary)
        .arg("--demo")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    // The demo script takes about five seconds; allow a loaded machine plenty more.
    let Ok(out) = rx.recv_timeout(Duration::from_secs(120)) else {
        let _ = Command::new("kill").arg(pid.to_string()).status();
        panic!("the demo did not exit within two minutes");
    };
    let out = out.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        out.status
    );
    for expected in [
        "embedded API server",
        "(initial list)",
        "caches synced; starting workers",
        "worker   default/web-0: reconciled",
        "requeuing with back-off",
        "simulated failure (attempt 1)",
        "dropping key out of the queue",
        "tombstone",
        "controller stopped",
        "bye",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}\n{stderr}"
        );
    }
}
