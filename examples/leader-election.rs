//! Two leader-election candidates in one process against the embedded API server: one leads,
//! the other waits; stop the leader and watch the other take over.
//!
//! Port of client-go's `examples/leader-election`, with both candidates in one process so the
//! hand-over can be watched without a cluster. The lock is a `coordination.k8s.io/v1` Lease;
//! the timings are shortened (lease 4 s, renew 3 s, retry 500 ms) so the demo takes seconds.
//!
//! Run: `cargo run --example leader-election`. The first leader is stopped *without* releasing
//! the lease, so the standby takes over only after the lease expires; then the second is stopped
//! *with* a release (`release_on_cancel`), which hands over at once to a third candidate.

use std::time::{Duration, Instant};

use apiclient::{Config, RestClient};
use clientgo::controller::leaderelection::{
    LeaderCallbacks, LeaderElectionConfig, LeaderElector, LeaseLock,
};
use testserver::TestServer;
use tokio_util::sync::CancellationToken;

fn candidate(
    client: &RestClient,
    id: &'static str,
    release_on_cancel: bool,
    t0: Instant,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let config = LeaderElectionConfig {
        lease_duration: Duration::from_secs(4),
        renew_deadline: Duration::from_secs(3),
        retry_period: Duration::from_millis(500),
        release_on_cancel,
        name: "demo".into(),
    };
    let lock = LeaseLock::new(client, "default", "demo-lock", id);
    let elector = LeaderElector::new(config, lock).expect("valid timings");
    let stop = CancellationToken::new();
    let callbacks = LeaderCallbacks::new(move |leading: CancellationToken| async move {
        println!(
            "{:>6.1}s  {id}: started leading: doing the work",
            t0.elapsed().as_secs_f32()
        );
        leading.cancelled().await;
    })
    .on_stopped_leading(move || {
        println!("{:>6.1}s  {id}: stopped", t0.elapsed().as_secs_f32());
    })
    .on_new_leader(move |leader| {
        if !leader.is_empty() && leader != id {
            println!(
                "{:>6.1}s  {id}: sees {leader} as the leader",
                t0.elapsed().as_secs_f32()
            );
        }
    });
    let task = tokio::spawn(elector.run(stop.clone(), callbacks));
    (stop, task)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = TestServer::start().await?;
    let client = RestClient::new(&Config::new(server.url()))?;
    let t0 = Instant::now();

    let (stop_a, a) = candidate(&client, "alpha", false, t0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (stop_b, b) = candidate(&client, "bravo", true, t0);
    tokio::time::sleep(Duration::from_secs(2)).await;

    println!(
        "{:>6.1}s  -- stopping alpha without releasing: bravo waits for the lease to expire",
        t0.elapsed().as_secs_f32()
    );
    stop_a.cancel();
    a.await?;
    tokio::time::sleep(Duration::from_secs(6)).await;

    let (stop_c, c) = candidate(&client, "charlie", false, t0);
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "{:>6.1}s  -- stopping bravo with release_on_cancel: charlie takes over at once",
        t0.elapsed().as_secs_f32()
    );
    stop_b.cancel();
    b.await?;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let lease = server.get("/apis/coordination.k8s.io/v1/namespaces/default/leases/demo-lock")?;
    println!(
        "lease: holder={} transitions={}",
        lease["spec"]["holderIdentity"], lease["spec"]["leaseTransitions"]
    );
    stop_c.cancel();
    c.await?;
    server.shutdown().await;
    Ok(())
}
