//! The reflector's rules, each on a scripted `ListerWatcher` and a paused clock. Behaviours
//! follow client-go's reflector_test.go.
#![allow(clippy::unwrap_used)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use apimachinery::meta::{StatusCause, StatusDetails};
use apimachinery::{ObjectMeta, Status};
use tokio::sync::mpsc;

use super::*;
use crate::listwatch::scripted::{
    Call, Scripted, WatchScript, bookmark, connection_refused, list_of, meta, status_error,
};

#[derive(Default)]
struct Recorder {
    ops: Mutex<Vec<String>>,
    resyncs: AtomicUsize,
    /// Names whose `add` the store refuses.
    refuse: Mutex<Vec<String>>,
}

impl Recorder {
    fn ops(&self) -> Vec<String> {
        self.ops.lock().unwrap().clone()
    }
    fn push(&self, s: String) {
        self.ops.lock().unwrap().push(s);
    }
}

impl ReflectorStore<ObjectMeta> for Recorder {
    fn add(&self, o: ObjectMeta) -> Result<()> {
        if self.refuse.lock().unwrap().iter().any(|n| n == o.name()) {
            self.push(format!("refused {}@{}", o.name(), o.resource_version()));
            return Err(Error::Key {
                source: "refused by the test store".into(),
            });
        }
        self.push(format!("add {}@{}", o.name(), o.resource_version()));
        Ok(())
    }
    fn update(&self, o: ObjectMeta) -> Result<()> {
        self.push(format!("update {}@{}", o.name(), o.resource_version()));
        Ok(())
    }
    fn delete(&self, o: ObjectMeta) -> Result<()> {
        self.push(format!("delete {}@{}", o.name(), o.resource_version()));
        Ok(())
    }
    fn replace(&self, list: Vec<ObjectMeta>, rv: &str) -> Result<()> {
        let mut names: Vec<&str> = list.iter().map(|o| o.name()).collect();
        names.sort();
        self.push(format!("replace [{}]@{rv}", names.join(",")));
        Ok(())
    }
    fn resync(&self) -> Result<()> {
        self.resyncs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

struct Running {
    lw: Arc<Scripted<ObjectMeta>>,
    store: Arc<Recorder>,
    rv: LastSyncResourceVersion,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap();
    }
}

fn list_only() -> ReflectorConfig {
    ReflectorConfig {
        use_watch_list: false,
        ..ReflectorConfig::default()
    }
}

fn start(lw: Arc<Scripted<ObjectMeta>>, config: ReflectorConfig) -> Running {
    start_with(lw, config, |_| {})
}

fn start_with(
    lw: Arc<Scripted<ObjectMeta>>,
    config: ReflectorConfig,
    setup: impl FnOnce(&mut Reflector<ObjectMeta>),
) -> Running {
    let store = Arc::new(Recorder::default());
    let mut r = Reflector::new(lw.clone(), store.clone(), config);
    setup(&mut r);
    let rv = r.last_sync_resource_version_reader();
    let stop = CancellationToken::new();
    let s = stop.clone();
    let task = tokio::spawn(async move { r.run(s).await });
    Running {
        lw,
        store,
        rv,
        stop,
        task,
    }
}

fn rv_of(o: &ListOptions) -> Option<&str> {
    o.resource_version.as_deref()
}

fn gap(calls: &[(Call, ListOptions, Instant)], i: usize) -> Duration {
    calls[i].2.duration_since(calls[i - 1].2)
}

#[tokio::test(start_paused = true)]
async fn first_list_asks_for_rv_0_in_pages_then_watches_from_the_list_rv() {
    let lw = Arc::new(Scripted::default());
    lw.list(list_of("10", vec![meta("a", "5"), meta("b", "6")]));
    let r = start(lw, list_only());
    let calls = r.lw.wait_calls(2).await;
    assert_eq!(calls[0].0, Call::List);
    assert_eq!(rv_of(&calls[0].1), Some("0"));
    assert_eq!(calls[0].1.limit, Some(500));
    assert_eq!(calls[1].0, Call::Watch);
    assert_eq!(rv_of(&calls[1].1), Some("10"));
    assert!(calls[1].1.allow_watch_bookmarks);
    let t = calls[1].1.timeout_seconds.unwrap();
    assert!((300..600).contains(&t), "timeout {t} not in [300, 600)");
    assert_eq!(r.store.ops(), vec!["replace [a,b]@10"]);
    assert_eq!(r.rv.get(), "10");
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn watch_410_relists_from_the_last_rv_after_a_backoff() {
    let lw = Arc::new(Scripted::default());
    lw.list(list_of("10", vec![]))
        .list(list_of("12", vec![]))
        .watch(WatchScript::Events(vec![
            Ok(WatchEvent::Modified(meta("a", "11"))),
            Err(status_error(410, "Expired")),
        ]));
    let r = start(lw, list_only());
    let calls = r.lw.wait_calls(4).await;
    let kinds: Vec<Call> = calls.iter().map(|c| c.0).collect();
    assert_eq!(
        kinds,
        vec![Call::List, Call::Watch, Call::List, Call::Watch]
    );
    assert_eq!(
        rv_of(&calls[2].1),
        Some("11"),
        "relist from the last RV, not from scratch"
    );
    assert_eq!(calls[2].1.limit, None, "an RV-pinned list is not paged");
    assert_eq!(rv_of(&calls[3].1), Some("12"));
    let g = gap(&calls, 2);
    assert!(
        g >= Duration::from_millis(800) && g <= Duration::from_millis(1600),
        "{g:?}"
    );
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn list_410_relists_at_once_with_a_consistent_read() {
    let lw = Arc::new(Scripted::default());
    lw.list(Err(status_error(410, "Expired")))
        .list(list_of("20", vec![]));
    let r = start(lw, list_only());
    let calls = r.lw.wait_calls(3).await;
    assert_eq!(rv_of(&calls[0].1), Some("0"));
    assert_eq!(calls[1].0, Call::List);
    assert_eq!(rv_of(&calls[1].1), Some(""));
    assert_eq!(calls[1].1.limit, Some(500));
    assert_eq!(
        gap(&calls, 1),
        Duration::ZERO,
        "no back-off inside one list attempt"
    );
    assert_eq!(rv_of(&calls[2].1), Some("20"));
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn too_large_resource_version_on_list_also_relists_with_a_consistent_read() {
    let too_large = apimachinery::Error::from_status(Status {
        code: 504,
        reason: "Timeout".into(),
        message: "Timeout: Too large resource version: 999, current: 206".into(),
        details: Some(StatusDetails {
            causes: vec![StatusCause {
                reason: "ResourceVersionTooLarge".into(),
                message: "Too large resource version".into(),
                field: String::new(),
            }],
            retry_after_seconds: 1,
            ..StatusDetails::default()
        }),
        ..Status::default()
    });
    let lw = Arc::new(Scripted::default());
    lw.list(Err(too_large)).list(list_of("20", vec![]));
    let r = start(lw, list_only());
    let calls = r.lw.wait_calls(3).await;
    assert_eq!(rv_of(&calls[1].1), Some(""));
    assert_eq!(calls[2].0, Call::Watch);
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn watch_open_429_or_connection_refused_backs_off_and_rewatches_without_relisting() {
    let lw = Arc::new(Scripted::default());
    lw.list(list_of("10", vec![]))
        .watch(WatchScript::Fail(status_error(429, "TooManyRequests")))
        .watch(WatchScript::Fail(connection_refused()));
    let r = start(lw, list_only());
    let calls = r.lw.wait_calls(4).await;
    let kinds: Vec<Call> = calls.iter().map(|c| c.0).collect();
    assert_eq!(
        kinds,
        vec![Call::List, Call::Watch, Call::Watch, Call::Watch]
    );
    assert!(calls[1..].iter().all(|c| rv_of(&c.1) == Some("10")));
    let (g1, g2) = (gap(&calls, 2), gap(&calls, 3));
    assert!(
        g1 >= Duration::from_millis(800) && g1 <= Duration::from_millis(1600),
        "{g1:?}"
    );
    assert!(
        g2 >= Duration::from_millis(1600) && g2 <= Duration::from_millis(3200),
        "{g2:?}"
    );
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn other_watch_errors_relist() {
    let lw = Arc::new(Scripted::default());
    lw.list(list_of("10", vec![]))
        .list(list_of("10", vec![]))
        .watch(WatchScript::Events(vec![Err(status_error(
            500,
            "InternalError",
        ))]));
    let r = start(lw, list_only());
    let calls = r.lw.wait_calls(3).await;
    assert_eq!(calls[2].0, Call::List);
    assert_eq!(rv_of(&calls[2].1), Some("10"));
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn bookmarks_advance_the_rv_and_a_clean_close_rewatches_at_once() {
    let lw = Arc::new(Scripted::default());
    lw.list(list_of("10", vec![]))
        .watch(WatchScript::Events(vec![
            Ok(WatchEvent::Added(meta("c", "11"))),
            Ok(WatchEvent::Deleted(meta("c", "12"))),
            bookmark("20", false),
        ]));
    let r = start(lw, list_only());
    // Let the first watch last a while so it is not "very short".
    let calls = r.lw.wait_calls(3).await;
    assert_eq!(calls[2].0, Call::Watch);
    assert_eq!(rv_of(&calls[2].1), Some("20"));
    assert_eq!(gap(&calls, 2), Duration::ZERO);
    assert_eq!(
        r.store.ops(),
        vec!["replace []@10", "add c@11", "delete c@12"]
    );
    assert_eq!(r.rv.get(), "20");
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_very_short_watch_with_no_events_relists() {
    let lw = Arc::new(Scripted::default());
    lw.list(list_of("10", vec![]))
        .list(list_of("11", vec![]))
        .watch(WatchScript::Events(vec![]));
    let r = start(lw, list_only());
    let calls = r.lw.wait_calls(3).await;
    assert_eq!(calls[2].0, Call::List);
    assert!(gap(&calls, 2) >= Duration::from_millis(800));
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_watch_started_at_empty_rv_does_not_advance_on_added_events() {
    let lw = Arc::new(Scripted::default());
    lw.list(list_of("", vec![]))
        .watch(WatchScript::Events(vec![Ok(WatchEvent::Added(meta(
            "x", "5",
        )))]))
        .watch(WatchScript::Events(vec![Ok(WatchEvent::Modified(meta(
            "x", "6",
        )))]));
    let r = start(lw, list_only());
    let calls = r.lw.wait_calls(4).await;
    let rvs: Vec<Option<&str>> = calls.iter().map(|c| rv_of(&c.1)).collect();
    assert_eq!(rvs, vec![Some("0"), Some(""), Some(""), Some("6")]);
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn backoff_doubles_from_800ms_to_30s_with_jitter_and_resets_after_2_quiet_minutes() {
    let lw = Arc::new(Scripted::default());
    for _ in 0..8 {
        lw.list(Err(status_error(500, "InternalError")));
    }
    lw.list(list_of("10", vec![]));
    let (tx, rx) = mpsc::unbounded_channel();
    lw.watch(WatchScript::Channel(rx));
    let r = start(lw, list_only());
    let calls = r.lw.wait_calls(10).await;
    let bounds_ms = [
        (800, 1600),
        (1600, 3200),
        (3200, 6400),
        (6400, 12800),
        (12800, 25600),
        (25600, 51200),
        (30000, 60000),
        (30000, 60000),
    ];
    for (i, (lo, hi)) in bounds_ms.iter().enumerate() {
        // Jitter is [base, 2 × base); tokio's timer rounds a deadline up to the next
        // millisecond, so the upper bound itself can be reached.
        let g = gap(&calls, i + 1).as_millis() as u64;
        assert!(
            (*lo..=*hi).contains(&g),
            "delay {i}: {g} ms not in [{lo}, {hi}]"
        );
    }
    assert_eq!(calls[9].0, Call::Watch);
    // Two and a half quiet minutes, then trouble: the back-off starts over.
    tokio::time::sleep(Duration::from_secs(150)).await;
    let failed_at = Instant::now();
    tx.send(Err(status_error(500, "InternalError"))).unwrap();
    let calls = r.lw.wait_calls(11).await;
    let g = calls[10].2.duration_since(failed_at);
    assert!(
        g >= Duration::from_millis(800) && g <= Duration::from_millis(1600),
        "{g:?}"
    );
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_paginated_rv0_list_keeps_later_relists_paged() {
    let lw = Arc::new(Scripted::default());
    let mut page1 = list_of("10", vec![meta("a", "1")]).unwrap();
    page1.metadata.continue_token = Some("c1".into());
    lw.list(Ok(page1))
        .list(list_of("10", vec![meta("b", "2")]))
        .list(list_of("11", vec![]))
        .watch(WatchScript::Events(vec![Err(status_error(410, "Expired"))]));
    let r = start(lw, list_only());
    let calls = r.lw.wait_calls(5).await;
    assert_eq!(calls[1].1.continue_token.as_deref(), Some("c1"));
    assert_eq!(
        rv_of(&calls[1].1),
        None,
        "continue pages carry no resourceVersion"
    );
    assert_eq!(r.store.ops()[0], "replace [a,b]@10");
    assert_eq!(calls[3].0, Call::List);
    assert_eq!(rv_of(&calls[3].1), Some("10"));
    assert_eq!(calls[3].1.limit, Some(500), "no watch cache: keep paging");
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_expired_continue_token_falls_back_to_one_full_list() {
    let lw = Arc::new(Scripted::default());
    let mut page1 = list_of("10", vec![meta("a", "1")]).unwrap();
    page1.metadata.continue_token = Some("c1".into());
    lw.list(Ok(page1))
        .list(Err(status_error(410, "Expired")))
        .list(list_of("12", vec![meta("a", "1"), meta("b", "2")]));
    let r = start(lw, list_only());
    let calls = r.lw.wait_calls(4).await;
    assert_eq!(calls[2].0, Call::List);
    assert_eq!(calls[2].1.limit, None);
    assert_eq!(calls[2].1.continue_token, None);
    assert_eq!(rv_of(&calls[2].1), Some("0"));
    assert_eq!(r.store.ops(), vec!["replace [a,b]@12"]);
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn watch_list_replaces_the_store_at_the_bookmark_and_keeps_the_same_watch() {
    let lw = Arc::new(Scripted::default());
    lw.watch(WatchScript::EventsThenHang(vec![
        Ok(WatchEvent::Added(meta("a", "5"))),
        Ok(WatchEvent::Added(meta("b", "6"))),
        bookmark("10", true),
        Ok(WatchEvent::Modified(meta("a", "11"))),
    ]));
    let r = start(lw, ReflectorConfig::default());
    let calls = r.lw.wait_calls(1).await;
    let o = &calls[0].1;
    assert_eq!(calls[0].0, Call::Watch);
    assert_eq!(o.send_initial_events, Some(true));
    assert_eq!(
        o.resource_version_match,
        Some(ResourceVersionMatch::NotOlderThan)
    );
    assert!(o.allow_watch_bookmarks);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(r.store.ops(), vec!["replace [a,b]@10", "update a@11"]);
    assert_eq!(r.rv.get(), "11");
    assert_eq!(r.lw.calls().len(), 1, "no LIST, no second watch");
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_refused_watch_list_falls_back_to_list_and_is_tried_again_on_the_next_relist() {
    let lw = Arc::new(Scripted::default());
    lw.watch(WatchScript::Fail(status_error(422, "Invalid")))
        .list(list_of("10", vec![]))
        .watch(WatchScript::Events(vec![Err(status_error(410, "Expired"))]))
        .watch(WatchScript::Fail(status_error(422, "Invalid")))
        .list(list_of("11", vec![]));
    let r = start(lw, ReflectorConfig::default());
    let calls = r.lw.wait_calls(6).await;
    let kinds: Vec<Call> = calls.iter().map(|c| c.0).collect();
    assert_eq!(
        kinds,
        vec![
            Call::Watch,
            Call::List,
            Call::Watch,
            Call::Watch,
            Call::List,
            Call::Watch
        ]
    );
    // After the fallback LIST comes a plain watch; the relist after its 410 starts with
    // watch-list again, as each call of Go's ListAndWatch does.
    let send_initial: Vec<Option<bool>> = calls.iter().map(|c| c.1.send_initial_events).collect();
    assert_eq!(
        send_initial,
        vec![Some(true), None, None, Some(true), None, None]
    );
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_watch_list_without_the_end_bookmark_falls_back_to_list() {
    let lw = Arc::new(Scripted::default());
    lw.watch(WatchScript::Events(vec![Ok(WatchEvent::Added(meta(
        "a", "5",
    )))]))
    .list(list_of("10", vec![meta("a", "5")]));
    lw.watch(WatchScript::Events(vec![Err(status_error(410, "Expired"))]));
    let r = start(lw, ReflectorConfig::default());
    let calls = r.lw.wait_calls(4).await;
    assert_eq!(calls[1].0, Call::List);
    assert_eq!(r.store.ops(), vec!["replace [a]@10"]);
    // A short stream may have been a dropped connection: the next relist tries watch-list again.
    assert_eq!(calls[3].0, Call::Watch);
    assert_eq!(calls[3].1.send_initial_events, Some(true));
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_resync_timer_calls_store_resync_only_when_due() {
    for (due, expected) in [(true, 3), (false, 0)] {
        let lw = Arc::new(Scripted::default());
        lw.list(list_of("10", vec![]));
        let config = ReflectorConfig {
            resync_period: Duration::from_secs(30),
            ..list_only()
        };
        let r = start_with(lw, config, |r| r.set_should_resync(Arc::new(move || due)));
        r.lw.wait_calls(2).await;
        tokio::time::sleep(Duration::from_secs(95)).await;
        assert_eq!(r.store.resyncs.load(Ordering::SeqCst), expected);
        r.stop().await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_watch_error_handler_sees_list_failures() {
    let seen = Arc::new(AtomicUsize::new(0));
    let lw = Arc::new(Scripted::default());
    lw.list(Err(status_error(500, "InternalError")))
        .list(list_of("10", vec![]));
    let s = seen.clone();
    let r = start_with(lw, list_only(), move |r| {
        r.set_watch_error_handler(Arc::new(move |_, e| {
            assert!(matches!(e, Error::Api { verb: "list", .. }));
            s.fetch_add(1, Ordering::SeqCst);
        }))
    });
    r.lw.wait_calls(3).await;
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_watch_from_empty_rv_advances_on_added_once_another_event_arrived() {
    // Go 1.36: past the first non-ADDED event the watch is beyond the synthetic initial
    // state, so later ADDED events advance the resourceVersion too.
    let lw = Arc::new(Scripted::default());
    lw.list(list_of("", vec![])).watch(WatchScript::Events(vec![
        Ok(WatchEvent::Added(meta("x", "5"))),
        Ok(WatchEvent::Modified(meta("x", "6"))),
        Ok(WatchEvent::Added(meta("y", "7"))),
    ]));
    let r = start(lw, list_only());
    let calls = r.lw.wait_calls(3).await;
    assert_eq!(calls[2].0, Call::Watch);
    assert_eq!(rv_of(&calls[2].1), Some("7"));
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_store_refusal_is_logged_and_the_watch_goes_on_with_the_rv_advanced() {
    // Go's handleAnyWatch: utilruntime.HandleError, then the next event; the refused event's
    // resourceVersion still counts. No relist.
    let lw = Arc::new(Scripted::default());
    lw.list(list_of("10", vec![]))
        .list(list_of("10", vec![]))
        .watch(WatchScript::Events(vec![
            Ok(WatchEvent::Added(meta("bad", "11"))),
            Ok(WatchEvent::Added(meta("good", "12"))),
            Ok(WatchEvent::Added(meta("bad", "13"))),
        ]));
    let r = start(lw, list_only());
    r.store.refuse.lock().unwrap().push("bad".into());
    let calls = r.lw.wait_calls(3).await;
    assert_eq!(
        r.store.ops(),
        vec![
            "replace []@10",
            "refused bad@11",
            "add good@12",
            "refused bad@13"
        ]
    );
    assert_eq!(calls[2].0, Call::Watch, "a refused event must not relist");
    assert_eq!(rv_of(&calls[2].1), Some("13"));
    assert_eq!(gap(&calls, 2), Duration::ZERO);
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn internal_errors_rewatch_within_max_internal_error_retry_duration_then_relist() {
    let lw = Arc::new(Scripted::default());
    let (tx1, rx1) = mpsc::unbounded_channel();
    let (tx2, rx2) = mpsc::unbounded_channel();
    let (tx3, rx3) = mpsc::unbounded_channel();
    lw.list(list_of("10", vec![]))
        .list(list_of("20", vec![]))
        .watch(WatchScript::Channel(rx1))
        .watch(WatchScript::Channel(rx2))
        .watch(WatchScript::Channel(rx3));
    let config = ReflectorConfig {
        max_internal_error_retry_duration: Duration::from_secs(30),
        ..list_only()
    };
    let r = start(lw, config);
    r.lw.wait_calls(2).await;
    let internal = || Err(status_error(500, "InternalError"));

    // First InternalError: re-watch at once from the last resourceVersion, no relist.
    tx1.send(Ok(WatchEvent::Added(meta("a", "11")))).unwrap();
    tx1.send(internal()).unwrap();
    let calls = r.lw.wait_calls(3).await;
    assert_eq!(calls[2].0, Call::Watch);
    assert_eq!(rv_of(&calls[2].1), Some("11"));
    assert_eq!(gap(&calls, 2), Duration::ZERO);

    // 30 s into the burst: still within the deadline.
    tokio::time::advance(Duration::from_secs(30)).await;
    tx2.send(internal()).unwrap();
    let calls = r.lw.wait_calls(4).await;
    assert_eq!(calls[3].0, Call::Watch);
    assert_eq!(rv_of(&calls[3].1), Some("11"));

    // 31 s into the burst: give up and relist (after the back-off).
    tokio::time::advance(Duration::from_secs(1)).await;
    tx3.send(internal()).unwrap();
    let calls = r.lw.wait_calls(5).await;
    assert_eq!(calls[4].0, Call::List);
    assert_eq!(rv_of(&calls[4].1), Some("11"));
    r.stop().await;
}

#[tokio::test(start_paused = true)]
async fn internal_errors_relist_at_once_by_default_as_go() {
    assert_eq!(
        ReflectorConfig::default().max_internal_error_retry_duration,
        Duration::ZERO
    );
    let lw = Arc::new(Scripted::default());
    lw.list(list_of("10", vec![]))
        .list(list_of("10", vec![]))
        .watch(WatchScript::Events(vec![
            Ok(WatchEvent::Added(meta("a", "11"))),
            Err(status_error(500, "InternalError")),
        ]));
    let r = start(lw, list_only());
    let calls = r.lw.wait_calls(3).await;
    assert_eq!(calls[2].0, Call::List);
    r.stop().await;
}

#[test]
fn watch_timeout_is_jittered_in_min_to_twice_min_seconds() {
    let lw: Arc<Scripted<ObjectMeta>> = Arc::new(Scripted::default());
    let r = Reflector::new(lw, Arc::new(Recorder::default()), list_only());
    let mut seen = std::collections::HashSet::new();
    for _ in 0..2000 {
        let t = r.watch_timeout_seconds();
        assert!((300..600).contains(&t), "{t}");
        seen.insert(t);
    }
    assert!(
        seen.len() > 100,
        "the timeout must be spread, got {} values",
        seen.len()
    );
}
