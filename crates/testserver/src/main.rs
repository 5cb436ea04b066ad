//! The `testserver` binary: an in-memory Kubernetes API server for kubectl and manual testing.
//!
//! ```text
//! cargo run -p testserver -- --port 8080
//! kubectl --server http://127.0.0.1:8080 get pods -A
//! ```
//!
//! Options: `--port N` (default 8080), `--bind ADDR` (default 127.0.0.1), `--tls` (HTTPS with a
//! generated CA, written to `--ca-file PATH` if given), `--kubeconfig PATH` (write a kubeconfig
//! for this server), `--token T` (require a bearer token),
//! `--client-cert-auth`, `--bookmark-interval-ms N`, `--history-window N`. Fault injection:
//! see the admin endpoint table in the crate docs (`POST /testserver/faults/...`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use testserver::Config;

const USAGE: &str = "usage: testserver [--port N] [--bind ADDR] [--tls] [--ca-file PATH] [--kubeconfig PATH] [--token T] \
[--client-cert-auth] [--bookmark-interval-ms N] [--history-window N]";

struct Args {
    config: Config,
    ca_file: Option<String>,
    kubeconfig: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut config = Config::default();
    let mut ip: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut port: u16 = 8080;
    let mut ca_file = None;
    let mut kubeconfig = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "--bind" => {
                ip = value("--bind")?
                    .parse()
                    .map_err(|e| format!("--bind: {e}"))?
            }
            "--tls" => config = config.tls(true),
            "--ca-file" => ca_file = Some(value("--ca-file")?),
            "--kubeconfig" => kubeconfig = Some(value("--kubeconfig")?),
            "--token" => config = config.bearer_token(value("--token")?),
            "--client-cert-auth" => config = config.client_cert_auth(true),
            "--bookmark-interval-ms" => {
                let ms: u64 = value("--bookmark-interval-ms")?
                    .parse()
                    .map_err(|e| format!("{e}"))?;
                config = config.bookmark_interval(Duration::from_millis(ms));
            }
            "--history-window" => {
                let n: usize = value("--history-window")?
                    .parse()
                    .map_err(|e| format!("{e}"))?;
                config = config.history_window(n);
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    config = config.addr(SocketAddr::new(ip, port));
    Ok(Args {
        config,
        ca_file,
        kubeconfig,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let server = match args.config.start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("testserver: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let (Some(path), Some(pem)) = (&args.ca_file, server.ca_pem())
        && let Err(e) = std::fs::write(path, pem)
    {
        eprintln!("testserver: writing {path}: {e}");
        return ExitCode::FAILURE;
    }
    if let Some(path) = &args.kubeconfig
        && let Err(e) = std::fs::write(path, server.kubeconfig())
    {
        eprintln!("testserver: writing {path}: {e}");
        return ExitCode::FAILURE;
    }
    println!("testserver listening on {}", server.url());
    println!("try: kubectl --server {} get pods -A", server.url());
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("testserver: cannot wait for Ctrl-C; exiting");
    }
    server.shutdown().await;
    ExitCode::SUCCESS
}
