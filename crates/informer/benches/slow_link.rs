//! Initial sync over a slow link: the default watch-list path (a watch stream, which the server
//! never gzips) against LIST `resourceVersion=0` with and without gzip.
//!
//! Run: `cargo bench -p informer --bench slow_link` (env `BENCH_PODS`, default 10000;
//! `BENCH_MBIT`, the cap per direction of each connection in megabits per second, default 100,
//! `0` for no cap; `BENCH_RUNS`, default 3, the median is reported; `BENCH_VARIANTS`, a comma
//! list of `watch-list`, `list-gzip`, `list-identity`, `watch-list-protobuf`,
//! `list-protobuf-gzip`, default all five).
//!
//! An in-process `testserver` is seeded with the realistic 5.8 KB pods of `support/pod.rs`. A
//! throttling TCP proxy written here sits between it and the client: it models a per-connection
//! bandwidth cap (as the 100 Mbit/s proxy of the gzip issue did), each direction of each
//! connection paced by its own token bucket; it adds no latency. With `BENCH_MBIT=0` the proxy
//! still relays and counts, but does not pace (loopback speed).
//!
//! Variants, each an informer over `api::core::v1::Pod` run to `has_synced`:
//! - `watch-list`: the default `ReflectorConfig`, gzip on (apiclient's default). The server never
//!   compresses watch streams, so the initial events cross uncompressed;
//! - `list-gzip`: `use_watch_list: false`, gzip on: LIST `resourceVersion=0`, gzipped by the
//!   server (bodies over 128 KiB, as kube-apiserver does);
//! - `list-identity`: `use_watch_list: false` and `Config::disable_compression = true`;
//! - `watch-list-protobuf`, `list-protobuf-gzip`: the first two in protobuf
//!   (`Config::content = ContentConfig::protobuf()`, as kube-controller-manager sets).
//!
//! Each line reports the median of the runs for: wall time from starting the informer to
//! `has_synced`; bytes the proxy relayed server → client (HTTP headers and chunk framing
//! included); and process CPU time during the sync, from `/proc/self/stat` utime + stime,
//! which are in clock ticks: this assumes USER_HZ = 100 (Linux's value on every mainstream
//! architecture), so the resolution is 10 ms. The server, the proxy and the client share the
//! process (and its two worker threads), so the CPU figure is all three together: the server's
//! encoding and gzip, the proxy's copying, the client's gunzip and decoding.
#![allow(clippy::unwrap_used)]

#[path = "support/pod.rs"]
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use informer::{InformerOptions, ListWatch, ReflectorConfig, SharedIndexInformer};
use support::{NS, pod};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Largest chunk the proxy reads and writes at once, so pacing is smooth.
const CHUNK: usize = 16 * 1024;
/// Token bucket capacity: four chunks, so that tokio's millisecond timer oversleeping a short
/// wait turns into credit for the next chunk instead of lost bandwidth.
const BURST: f64 = (4 * CHUNK) as f64;
/// Clock ticks per second of `/proc/self/stat`'s utime and stime (USER_HZ), assumed.
const USER_HZ: f64 = 100.0;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Process CPU time (user + system, all threads) in seconds, from `/proc/self/stat`.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The command name (field 2) is in parentheses and may hold spaces; fields after the
    // last ')' start at field 3 (state). utime is field 14, stime field 15.
    let rest = &stat[stat.rfind(')').unwrap() + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    ticks as f64 / USER_HZ
}

/// A token bucket over `tokio::time`: `rate` bytes per second, at most [`BURST`] saved up.
struct Bucket {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(mbit: f64) -> Self {
        Bucket {
            rate: mbit * 1e6 / 8.0,
            tokens: BURST,
            last: Instant::now(),
        }
    }

    /// Waits until `n` (≤ [`BURST`]) bytes may be sent, and spends them.
    async fn take(&mut self, n: usize) {
        if self.rate <= 0.0 {
            return;
        }
        let n = n as f64;
        loop {
            let now = Instant::now();
            let earned = now.duration_since(self.last).as_secs_f64() * self.rate;
            self.tokens = (self.tokens + earned).min(BURST);
            self.last = now;
            if self.tokens >= n {
                self.tokens -= n;
                return;
            }
            tokio::time::sleep(Duration::from_secs_f64((n - self.tokens) / self.rate)).await;
        }
    }
}

/// Copies `from` to `to` in chunks of at most [`CHUNK`] bytes, paced by its own bucket,
/// adding what it relays to `count`.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mbit: f64, count: Arc<AtomicU64>) {
    let mut bucket = Bucket::new(mbit);
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        bucket.take(n).await;
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        count.fetch_add(n as u64, Ordering::Relaxed);
    }
    let _ = to.shutdown().await;
}

/// The throttling proxy: accepts on 127.0.0.1:0 and relays each connection to `upstream`,
/// each direction capped at `mbit` megabits per second (0: no cap). Bytes relayed server →
/// client are added to `down`. Returns the address it listens on.
async fn start_proxy(upstream: SocketAddr, mbit: f64, down: Arc<AtomicU64>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                continue;
            };
            let down = down.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, mbit, Arc::new(AtomicU64::new(0))));
                tokio::spawn(pump(sr, cw, mbit, down));
            });
        }
    });
    addr
}

struct Run {
    secs: f64,
    wire_bytes: f64,
    cpu_secs: f64,
}

async fn sync_once(
    client: apiclient::RestClient,
    n: usize,
    watch_list: bool,
    down: &AtomicU64,
) -> Run {
    let lw = ListWatch::<api::core::v1::Pod>::for_resource(client, Some(NS));
    let informer = SharedIndexInformer::new(
        Arc::new(lw),
        InformerOptions {
            reflector: ReflectorConfig {
                use_watch_list: watch_list,
                ..ReflectorConfig::default()
            },
            ..InformerOptions::default()
        },
    );
    let stop = CancellationToken::new();
    let bytes_before = down.load(Ordering::Relaxed);
    let cpu_before = cpu_secs();
    let start = Instant::now();
    let task = tokio::spawn({
        let (i, s) = (informer.clone(), stop.clone());
        async move { i.run(s).await }
    });
    assert!(informer.synced().wait().await);
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu_before;
    let wire = down.load(Ordering::Relaxed) - bytes_before;
    assert_eq!(informer.indexer().len(), n);
    stop.cancel();
    task.await.unwrap();
    Run {
        secs,
        wire_bytes: wire as f64,
        cpu_secs: cpu,
    }
}

fn main() {
    let n: usize = env_or("BENCH_PODS", 10_000);
    let mbit: f64 = env_or("BENCH_MBIT", 100.0);
    let runs: usize = env_or("BENCH_RUNS", 3).max(1);
    let variants = std::env::var("BENCH_VARIANTS").unwrap_or_else(|_| {
        "watch-list,list-gzip,list-identity,watch-list-protobuf,list-protobuf-gzip".into()
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = testserver::TestServer::start().await.unwrap();
        let _ = server.create_namespace(NS);
        for i in 0..n {
            server
                .create(&format!("/api/v1/namespaces/{NS}/pods"), pod(i))
                .unwrap();
        }
        let down = Arc::new(AtomicU64::new(0));
        let proxy = start_proxy(server.addr(), mbit, down.clone()).await;
        let link = if mbit > 0.0 {
            format!("{mbit} Mbit/s")
        } else {
            "unthrottled".into()
        };

        for v in variants.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            let (watch_list, disable_compression, protobuf) = match v {
                "watch-list" => (true, false, false),
                "list-gzip" => (false, false, false),
                "list-identity" => (false, true, false),
                "watch-list-protobuf" => (true, false, true),
                "list-protobuf-gzip" => (false, false, true),
                other => panic!("unknown variant {other}"),
            };
            let mut config = apiclient::Config::new(format!("http://{proxy}"));
            config.qps = 1000.0;
            config.burst = 1000;
            config.disable_compression = disable_compression;
            if protobuf {
                config.content = apiclient::ContentConfig::protobuf();
            }
            let client = apiclient::RestClient::new(&config).unwrap();
            let (mut secs, mut wire, mut cpu) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..runs {
                let r = sync_once(client.clone(), n, watch_list, &down).await;
                secs.push(r.secs);
                wire.push(r.wire_bytes);
                cpu.push(r.cpu_secs);
            }
            println!(
                "{v:<20} {n} pods, {link}: {:.0} ms to has_synced, {:.1} MB server->client, {:.0} ms CPU (process)",
                median(secs) * 1e3,
                median(wire) / 1e6,
                median(cpu) * 1e3,
            );
        }
        server.shutdown().await;
    });
}
