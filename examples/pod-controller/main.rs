//! A Kubernetes pod controller in the client-go style, on this workspace's crates.
//!
//! ```text
//! API server ─list/watch─▶ Reflector ─▶ FIFO ─▶ Indexer (cache) ─▶ handlers ─▶ RateLimitingQueue
//!                                                     ▲                              │
//!                                                     └──── lister ◀── workers ◀─────┘
//! ```
//!
//! With a kubeconfig (`--kubeconfig`, `KUBECONFIG` or `~/.kube/config`) or in a cluster, it
//! watches that cluster's pods and reconciles each change (read-only: it prints what it sees).
//! With neither, or with `--demo`, it starts the embedded test API server, seeds pods and churns
//! them (creates, updates, deletes, a failing pod, a dropped watch, a compaction that forces a
//! relist), so the whole machine can be watched working; the demo then exits on its own.
//!
//! Run: `cargo run --example pod-controller` (`RUST_LOG=debug` shows every pipeline stage).
//! Flags: `--kubeconfig PATH`, `--namespace NS`, `--workers N`, `--demo`, `--leader-elect`,
//! `--metrics-bind-address ADDR` (`/metrics`; usually `:8080`; `0` or absent: off) and
//! `--health-probe-bind-address ADDR` (`/healthz`, `/readyz`; usually `:8081`; `0` or absent:
//! off), named as in controller-runtime's manager.
//!
//! `/metrics` carries the queue's `workqueue_*` families, `leader_election_master_status` and
//! the REST client's `rest_client_*` families. `/healthz` fails when this replica leads but has
//! not renewed its lease for the lease duration plus 20 s; `/readyz` fails until the pod cache
//! has synced. The informer runs on every replica, leader or not (as controller-runtime runs
//! its caches), so a standby is ready and takes over with a warm cache.
//!
//! With `--leader-elect`, the Lease `pod-controller` lives in the controller's own namespace
//! (the kubeconfig's, or in a cluster its pod's), whatever `--namespace` it watches, and the
//! elector records `became leader` / `stopped leading` as Events about it.

mod demo;
mod serve;

use std::path::PathBuf;
use std::sync::Arc;

use api::core::v1::Pod;
use std::net::SocketAddr;
use std::time::Duration;

use apiclient::metrics::prometheus::RestClientMetrics;
use apiclient::{Config, ContentConfig, Object, RestClient};
use clientgo::controller::leaderelection::{
    HealthzAdaptor, LeaderCallbacks, LeaderElectionConfig, LeaderElector, LeaseLock,
    PrometheusLeaderMetrics,
};
use clientgo::controller::prometheus_client::registry::Registry;
use clientgo::controller::record::{EventBroadcaster, EventSource};
use clientgo::controller::{Action, Controller, ControllerConfig, signals};
use clientgo::informer::{
    InformerOptions, ListWatch, Lister, ObjectOrTombstone, ReflectorConfig,
    ResourceEventHandlerFuncs, SharedIndexInformer,
};
use clientgo::workqueue::PrometheusMetricsProvider;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

/// How long past its lease a leader that cannot renew stays healthy: kube-controller-manager's
/// `leaderElectionHealthzAdaptorTimeout`.
const LEADER_HEALTHZ_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the exit waits for queued events (`stopped leading`) to be written: well within
/// a pod's default 30 s termination grace period.
const EVENT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Args {
    kubeconfig: Option<PathBuf>,
    namespace: Option<String>,
    workers: usize,
    demo: bool,
    leader_elect: bool,
    metrics_bind_address: Option<SocketAddr>,
    health_probe_bind_address: Option<SocketAddr>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        kubeconfig: None,
        namespace: None,
        workers: 2,
        demo: false,
        leader_elect: false,
        metrics_bind_address: None,
        health_probe_bind_address: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--kubeconfig" => args.kubeconfig = Some(value()?.into()),
            "--namespace" | "-n" => args.namespace = Some(value()?),
            "--workers" => {
                args.workers = value()?.parse().map_err(|e| format!("--workers: {e}"))?;
            }
            "--demo" => args.demo = true,
            "--leader-elect" => args.leader_elect = true,
            "--metrics-bind-address" => {
                args.metrics_bind_address = serve::parse_bind_address(&flag, &value()?)?;
            }
            "--health-probe-bind-address" => {
                args.health_probe_bind_address = serve::parse_bind_address(&flag, &value()?)?;
            }
            "--help" | "-h" => {
                println!(
                    "usage: pod-controller [--kubeconfig PATH] [--namespace NS] [--workers N] \
                     [--demo] [--leader-elect] [--metrics-bind-address ADDR (e.g. :8080)] \
                     [--health-probe-bind-address ADDR (e.g. :8081)]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown flag {other} (try --help)")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // The whole cause chain, as Go's `%v` of a wrapped error prints it.
            eprintln!(
                "error: {}",
                apimachinery::api::errors::error_chain(err.as_ref())
            );
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .compact()
        .init();
    let args = parse_args()?;
    let shutdown = signals::setup_signal_handler();

    // Metrics: the queue's, the leader election's and the REST client's families in one
    // registry, which `/metrics` encodes.
    let mut registry = Registry::default();
    let queue_metrics = PrometheusMetricsProvider::new();
    queue_metrics.register(&mut registry);
    let leader_metrics = PrometheusLeaderMetrics::new();
    leader_metrics.register(&mut registry);
    RestClientMetrics::new(&mut registry).install();
    let _metrics_server = match args.metrics_bind_address {
        Some(addr) => Some(serve::serve(addr, "/metrics", serve::metrics_handler(registry)).await?),
        None => None,
    };
    let leader_healthz = args
        .leader_elect
        .then(|| HealthzAdaptor::new(LEADER_HEALTHZ_TIMEOUT));

    // A real cluster if one is configured, else the embedded API server with a scripted demo.
    let cluster = if args.demo {
        None
    } else {
        let loaded = match &args.kubeconfig {
            Some(path) => Config::from_kubeconfig(Some(path), None),
            None => Config::infer(),
        };
        match loaded {
            Ok(config) => Some(config),
            Err(err) if args.kubeconfig.is_none() => {
                tracing::info!("no cluster configured ({err}); starting the embedded test server");
                None
            }
            Err(err) => return Err(err.into()),
        }
    };
    let (mut config, demo) = match cluster {
        Some(config) => (config, None),
        None => {
            let demo = demo::Demo::start().await?;
            (Config::new(demo.url()), Some(demo))
        }
    };
    // Protobuf for built-in types, JSON as the fallback in Accept: what kube-controller-manager
    // sets (client-go's own default is JSON).
    config.content = ContentConfig::protobuf();
    let namespace = args
        .namespace
        .clone()
        .or_else(|| demo.as_ref().map(|_| "default".to_string()));
    tracing::info!(server = %config.host, namespace = namespace.as_deref().unwrap_or("(all)"), "connecting");
    let client = RestClient::new(&config)?;

    // The informer: a reflector listing and watching pods into a cache, with managedFields
    // dropped before caching (half of a pod's bytes, and no controller reads them).
    let lw = ListWatch::<Pod>::for_resource(client.clone(), namespace.as_deref());
    let options = InformerOptions {
        reflector: ReflectorConfig {
            name: "pods".into(),
            ..ReflectorConfig::default()
        },
        ..InformerOptions::default()
    };
    let informer = SharedIndexInformer::new(Arc::new(lw), options);
    informer.set_transform(Arc::new(|pod: &mut Pod| pod.clear_managed_fields()))?;
    let _probe_server = match args.health_probe_bind_address {
        Some(addr) => {
            let cache = informer.clone();
            let synced = Arc::new(move || cache.has_synced());
            let handler = serve::probes_handler(leader_healthz.clone(), synced);
            Some(serve::serve(addr, "/healthz and /readyz", handler).await?)
        }
        None => None,
    };
    informer.add_event_handler(
        ResourceEventHandlerFuncs::new()
            .on_add(|pod: &Arc<Pod>, initial| {
                let why = if initial { " (initial list)" } else { "" };
                tracing::info!("handler  ADD    {}{why}", key(pod.as_ref()));
            })
            .on_update(|old: &Arc<Pod>, new: &Arc<Pod>| {
                let (was, now) = (old.resource_version(), new.resource_version());
                if was == now {
                    tracing::info!(
                        "handler  UPDATE {} (unchanged: relist or resync)",
                        key(new.as_ref())
                    );
                } else {
                    tracing::info!("handler  UPDATE {} (rv {was} -> {now})", key(new.as_ref()));
                }
            })
            .on_delete(|obj: &ObjectOrTombstone<Pod>| {
                let what = if obj.is_tombstone() {
                    " (tombstone: deleted while the watch was down)"
                } else {
                    ""
                };
                if let Some(pod) = obj.object() {
                    tracing::info!("handler  DELETE {}{what}", key(pod.as_ref()));
                }
            }),
    )?;
    let controller = Controller::new(
        informer.clone(),
        ControllerConfig {
            name: "pod-controller".into(),
            metrics_provider: Some(Arc::new(queue_metrics)),
            ..ControllerConfig::default()
        },
    )?;
    // The informer runs on every replica, so a standby has a warm cache and passes /readyz; the
    // controller only starts it itself when it has not started yet.
    let informer_stop = CancellationToken::new();
    let informer_task = {
        let (informer, stop) = (informer.clone(), informer_stop.clone());
        AbortOnDropHandle::new(tokio::spawn(async move { informer.run(stop).await }))
    };

    // The demo's churn runs beside the controller and ends the program when done.
    let churn = demo.map(|d| {
        let stop = shutdown.clone();
        tokio::spawn(async move { d.churn_then_stop(stop).await })
    });

    let workers = args.workers;
    let run = move |token: CancellationToken| async move {
        if let Err(err) = controller.run(workers, token, reconcile).await {
            tracing::error!("{err}");
        }
    };
    if args.leader_elect {
        let identity = format!(
            "{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "pod-controller".into()),
            std::process::id()
        );
        // The Lease lives in the controller's own namespace (in a cluster: its pod's, from the
        // service account), whichever namespace it watches; `deploy/` grants it there.
        let ns = client.default_namespace().to_string();
        tracing::info!(%identity, lease = %format!("{ns}/pod-controller"), "leader election on");
        // "became leader" and "stopped leading" are recorded as Events about the Lease, as
        // client-go's LeaseLock does with `ResourceLockConfig.EventRecorder`.
        let broadcaster = EventBroadcaster::new(&client);
        let recorder = broadcaster.new_recorder(EventSource {
            component: Some("pod-controller".into()),
            host: std::env::var("NODE_NAME").ok().map(Into::into),
        });
        let lock =
            LeaseLock::new(&client, ns, "pod-controller", identity).with_event_recorder(recorder);
        let config = LeaderElectionConfig {
            release_on_cancel: true,
            name: "pod-controller".into(),
            ..LeaderElectionConfig::default()
        };
        let elector = LeaderElector::new(config, lock)?.with_metrics(Arc::new(leader_metrics));
        if let Some(healthz) = &leader_healthz {
            healthz.set_leader_election(&elector);
        }
        elector
            .run(shutdown.clone(), LeaderCallbacks::new(run))
            .await;
        // Write "stopped leading" before exiting, within the pod's grace period.
        if tokio::time::timeout(EVENT_FLUSH_TIMEOUT, broadcaster.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("events not written within {EVENT_FLUSH_TIMEOUT:?}: dropped");
        }
    } else {
        run(shutdown.clone()).await;
    }
    informer_stop.cancel();
    informer_task.await?;
    if let Some(churn) = churn {
        churn.await?.shutdown().await;
    }
    tracing::info!("bye");
    Ok(())
}

fn key(pod: &Pod) -> String {
    format!("{}/{}", pod.namespace(), pod.name())
}

/// Why a reconcile failed. A type of the program's own, so callers can tell failures apart;
/// the controller logs it with its whole `source()` chain and retries the key with back-off.
#[derive(Debug)]
enum ReconcileError {
    /// The key is not `namespace/name`.
    BadKey(String),
    /// The demo's annotation asked this attempt to fail.
    Simulated { attempt: usize },
}

impl std::fmt::Display for ReconcileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReconcileError::BadKey(key) => write!(f, "bad key {key}"),
            ReconcileError::Simulated { attempt } => {
                write!(f, "simulated failure (attempt {attempt})")
            }
        }
    }
}

impl std::error::Error for ReconcileError {}

/// The business logic: given a key and the cache, bring the world in line. This one reports
/// what it finds; pods annotated `demo.clientgo/fail: "N"` fail their first N reconciles (and
/// `"always"` never succeeds) to show retries with back-off.
async fn reconcile(key: String, pods: Lister<Pod>) -> Result<Action, ReconcileError> {
    let Some((ns, name)) = key.split_once('/') else {
        return Err(ReconcileError::BadKey(key));
    };
    let pod = match pods.namespace(ns).get(name) {
        Ok(pod) => pod,
        Err(_) => {
            tracing::info!("worker   {key}: gone from the cache: deleted, nothing to do");
            return Ok(Action::Done);
        }
    };
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Unknown".into());
    if let Some(fail) = pod.annotations().get("demo.clientgo/fail") {
        let attempt = demo::attempt(&key);
        let failing = fail == "always" || fail.parse::<usize>().is_ok_and(|n| attempt <= n);
        if failing {
            return Err(ReconcileError::Simulated { attempt });
        }
    }
    tracing::info!(
        "worker   {key}: reconciled (phase {phase}, rv {})",
        pod.resource_version()
    );
    Ok(Action::Done)
}
