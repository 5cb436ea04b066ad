//! What a synced informer cache costs, per pod, with full objects (managedFields kept) on the
//! default watch-list path, measured with the API server in another process so that only the
//! client's memory is counted.
//!
//! Run: `cargo bench -p informer --bench cache_memory` (env `BENCH_PODS`, default 10000;
//! `BENCH_VARIANTS`, a comma list of, default all:
//! - `api`: this workspace's `api::core::v1::Pod`, JSON, watch-list;
//! - `api-protobuf`: the same in protobuf (`ContentConfig::protobuf()`), watch-list;
//! - `api-list-gzip`: JSON over LIST+WATCH, where the LIST arrives gzipped (client-go's default
//!   wire shape);
//! - `api-protobuf-list`: protobuf over LIST+WATCH, the LIST gzipped (kube-controller-manager's);
//! - `k8s-openapi`: k8s-openapi's `Pod`, JSON, watch-list).
//!
//! The bench binary plays three roles, chosen by `BENCH_ROLE`: the orchestrator (default)
//! starts one server process (this binary with `BENCH_ROLE=server`: an in-process `testserver`
//! seeded with `BENCH_PODS` realistic pods, printing its URL), then one client process per
//! variant (`BENCH_ROLE=client`), so each variant's peak RSS is its own. A client reports:
//! - time from starting the informer to `has_synced`, and the client process's CPU time
//!   (user + system) over that span;
//! - retained heap bytes per pod: live heap at sync minus live heap before the informer
//!   started, counted by a global allocator. This counts everything the cache keeps alive,
//!   including the shared-string table and its entries;
//! - the shared-string table's size;
//! - whole-process peak RSS (`VmHWM`).
//!
//! The pods are the same Deployment-shaped 5.8 KB pods as `initial_sync` (about 2.2 KB of
//! managedFields each).
#![allow(clippy::unwrap_used)]

#[path = "support/pod.rs"]
mod support;

use std::alloc::System;
use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use apimachinery::Object;
use informer::{InformerOptions, ListWatch, SharedIndexInformer};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use support::{NS, pod};
use tokio_util::sync::CancellationToken;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn live_bytes() -> i64 {
    let s = GLOBAL.stats();
    // stats_alloc already adds a realloc's growth to bytes_allocated (and a shrink to
    // bytes_deallocated); bytes_reallocated is the same delta again, so it is not added.
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn pods() -> usize {
    std::env::var("BENCH_PODS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `BENCH_ROLE=server`: seed, print the URL, serve until stdin closes.
fn serve() {
    let n = pods();
    runtime().block_on(async {
        let server = testserver::TestServer::start().await.unwrap();
        let _ = server.create_namespace(NS);
        for i in 0..n {
            server
                .create(&format!("/api/v1/namespaces/{NS}/pods"), pod(i))
                .unwrap();
        }
        println!("{}", server.url());
        std::io::stdout().flush().unwrap();
        tokio::task::spawn_blocking(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        })
        .await
        .unwrap();
        server.shutdown().await;
    });
}

/// CPU seconds (user + system) this process has used, from `/proc/self/stat` (clock ticks of
/// 10 ms).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 12th, stime 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

async fn sync<K>(
    client: apiclient::RestClient,
    n: usize,
    content: apiclient::ContentConfig,
    use_watch_list: bool,
) -> (f64, f64, i64)
where
    K: Object + apimachinery::Resource + serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let before = live_bytes();
    let lw = ListWatch::<K>::for_resource(client, Some(NS)).content_config(content);
    let informer = SharedIndexInformer::new(
        Arc::new(lw),
        InformerOptions {
            reflector: informer::ReflectorConfig {
                use_watch_list,
                ..informer::ReflectorConfig::default()
            },
            ..InformerOptions::default()
        },
    );
    let stop = CancellationToken::new();
    let cpu = cpu_secs();
    let start = Instant::now();
    let task = tokio::spawn({
        let (i, s) = (informer.clone(), stop.clone());
        async move { i.run(s).await }
    });
    assert!(informer.synced().wait().await);
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu;
    assert_eq!(informer.indexer().len(), n);
    let retained = live_bytes() - before;
    stop.cancel();
    task.await.unwrap();
    (secs, cpu, retained)
}

/// `BENCH_ROLE=client`: one variant, one line of results.
fn client() {
    let n = pods();
    let url = std::env::var("BENCH_SERVER").unwrap();
    let variant = std::env::var("BENCH_VARIANT").unwrap();
    runtime().block_on(async {
        let mut config = apiclient::Config::new(url);
        config.qps = 1000.0;
        config.burst = 1000;
        let client = apiclient::RestClient::new(&config).unwrap();
        use api::core::v1::Pod;
        use apiclient::ContentConfig;
        let (json, pb) = (ContentConfig::default(), ContentConfig::protobuf());
        let (secs, cpu, retained) = match variant.as_str() {
            "api" => sync::<Pod>(client, n, json, true).await,
            "api-protobuf" => sync::<Pod>(client, n, pb, true).await,
            "api-list-gzip" => sync::<Pod>(client, n, json, false).await,
            "api-protobuf-list" => sync::<Pod>(client, n, pb, false).await,
            "k8s-openapi" => sync::<k8s_openapi::api::core::v1::Pod>(client, n, json, true).await,
            other => panic!("unknown variant {other}"),
        };
        let (strings, string_bytes) = apimachinery::intern::table_stats();
        println!(
            "{variant:<17} {n} pods: {:.0} ms to has_synced, {:.2} s CPU, {:.0} bytes retained per pod, shared-string table {strings} strings ({string_bytes} bytes of text), peak RSS {:.0} MiB",
            secs * 1e3,
            cpu,
            retained as f64 / n as f64,
            peak_rss_mib()
        );
    });
}

fn main() {
    match std::env::var("BENCH_ROLE").as_deref() {
        Ok("server") => return serve(),
        Ok("client") => return client(),
        _ => {}
    }
    // cargo bench passes `--bench`; nothing else to parse.
    let exe = std::env::current_exe().unwrap();
    let mut server = Command::new(&exe)
        .env("BENCH_ROLE", "server")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut url = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let url = url.trim().to_owned();
    let variants = std::env::var("BENCH_VARIANTS")
        .unwrap_or_else(|_| "api,api-protobuf,api-list-gzip,api-protobuf-list,k8s-openapi".into());
    for v in variants.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        let status = Command::new(&exe)
            .env("BENCH_ROLE", "client")
            .env("BENCH_SERVER", &url)
            .env("BENCH_VARIANT", v)
            .status()
            .unwrap();
        assert!(status.success(), "variant {v} failed");
    }
    drop(server.stdin.take());
    server.wait().unwrap();
}
