//! Property: whatever sequence of creates, updates and deletes happens, with whatever faults
//! interleaved, the informer's cache and its handler's view end equal to the server's objects.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use proptest::prelude::*;
use testserver::{FaultMatch, TestServer, Verb};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug)]
enum Op {
    Create(u8),
    Update(u8, u8),
    Delete(u8),
    DropWatches,
    Compact,
    Restart,
    TooManyRequests(u8),
    Malformed,
    WatchFails(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..12).prop_map(Op::Create),
        4 => (0u8..12, any::<u8>()).prop_map(|(a, b)| Op::Update(a, b)),
        3 => (0u8..12).prop_map(Op::Delete),
        1 => Just(Op::DropWatches),
        1 => Just(Op::Compact),
        1 => Just(Op::Restart),
        1 => (1u8..5).prop_map(Op::TooManyRequests),
        1 => Just(Op::Malformed),
        1 => (1u8..3).prop_map(Op::WatchFails),
    ]
}

async fn run_case(ops: Vec<Op>, watch_list: bool) {
    let server = TestServer::start().await.unwrap();
    let _ = server.create_namespace(NS);
    let i = pod_informer(
        &server,
        informer::ReflectorConfig {
            use_watch_list: watch_list,
            ..fast_reflector()
        },
    );
    let view = Arc::new(View::default());
    i.add_event_handler(ViewHandler(view.clone())).unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let (i, s) = (i.clone(), stop.clone());
        async move { i.run(s).await }
    });
    assert!(i.synced().wait().await);
    let f = server.faults();
    for op in ops {
        let path = |n: u8| format!("{}/p{n}", pods_path());
        match op {
            Op::Create(n) => drop(server.create(&pods_path(), pod_json(&format!("p{n}"), 0))),
            Op::Update(n, v) => {
                drop(server.update(&path(n), pod_json(&format!("p{n}"), u64::from(v))))
            }
            Op::Delete(n) => drop(server.delete(&path(n))),
            Op::DropWatches => f.drop_watches(),
            Op::Compact => f.compact(),
            Op::Restart => f.restart(),
            Op::TooManyRequests(k) => f.fail_next(usize::from(k), FaultMatch::any(), 429, None),
            Op::Malformed => f.inject_malformed_watch_line(),
            Op::WatchFails(k) => {
                f.fail_next(usize::from(k), FaultMatch::verb(Verb::Watch), 500, None)
            }
        }
        tokio::task::yield_now().await;
    }
    f.clear();
    wait_converged(&server, &i, &view, Duration::from_secs(30)).await;
    stop.cancel();
    task.await.unwrap();
    server.shutdown().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_changes_with_random_faults_converge(ops in proptest::collection::vec(op(), 1..40), watch_list in any::<bool>()) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run_case(ops, watch_list));
    }
}
