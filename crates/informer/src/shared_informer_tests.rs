//! Behaviours of client-go's shared_informer_test.go, on a scripted `ListerWatcher`.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use apimachinery::{ObjectMeta, WatchEvent};
use tokio::sync::{Notify, mpsc};

use super::*;
use crate::listwatch::scripted::{Scripted, WatchScript, list_of, meta};

/// Records notifications as strings and wakes waiters on each.
#[derive(Default)]
struct Rec {
    log: Mutex<Vec<String>>,
    notify: Notify,
}

impl Rec {
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
    fn push(&self, s: String) {
        self.log.lock().unwrap().push(s);
        self.notify.notify_waiters();
    }
    /// Waits until `n` notifications were recorded; the deadline only detects failure.
    async fn wait_len(&self, n: usize) -> Vec<String> {
        let deadline = tokio::time::sleep(Duration::from_secs(60));
        tokio::pin!(deadline);
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let log = self.log();
            if log.len() >= n {
                return log;
            }
            tokio::select! {
                _ = notified => {}
                _ = &mut deadline => panic!("only {} of {n} notifications: {log:?}", log.len()),
            }
        }
    }
}

struct H(Arc<Rec>);

impl ResourceEventHandler<ObjectMeta> for H {
    fn on_add(&self, o: &Arc<ObjectMeta>, initial: bool) {
        self.0.push(format!(
            "add {}@{} {initial}",
            o.name(),
            o.resource_version()
        ));
    }
    fn on_update(&self, old: &Arc<ObjectMeta>, new: &Arc<ObjectMeta>) {
        self.0.push(format!(
            "update {}@{}->{}",
            new.name(),
            old.resource_version(),
            new.resource_version()
        ));
    }
    fn on_delete(&self, o: &ObjectOrTombstone<ObjectMeta>) {
        let name = o.object().map(|o| o.name().to_owned()).unwrap_or_default();
        let t = if o.is_tombstone() { " tombstone" } else { "" };
        self.0.push(format!("delete {name}{t}"));
    }
}

fn informer(lw: Arc<Scripted<ObjectMeta>>, resync: Duration) -> SharedIndexInformer<ObjectMeta> {
    SharedIndexInformer::new(
        lw,
        InformerOptions {
            resync_period: resync,
            reflector: ReflectorConfig {
                use_watch_list: false,
                ..ReflectorConfig::default()
            },
            ..InformerOptions::default()
        },
    )
}

fn start(i: &SharedIndexInformer<ObjectMeta>) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let stop = CancellationToken::new();
    let (i2, s2) = (i.clone(), stop.clone());
    (stop, tokio::spawn(async move { i2.run(s2).await }))
}

#[tokio::test(start_paused = true)]
async fn every_handler_gets_every_notification_and_its_registration_syncs() {
    let lw = Arc::new(Scripted::default());
    let (tx, rx) = mpsc::unbounded_channel();
    lw.list(list_of("10", vec![meta("a", "1"), meta("b", "2")]))
        .watch(WatchScript::Channel(rx));
    let i = informer(lw, Duration::ZERO);
    let (r1, r2) = (Arc::new(Rec::default()), Arc::new(Rec::default()));
    let reg1 = i.add_event_handler(H(r1.clone())).unwrap();
    let reg2 = i.add_event_handler(H(r2.clone())).unwrap();
    assert!(!reg1.has_synced());
    let (stop, task) = start(&i);
    assert!(reg1.wait_synced().await && reg2.wait_synced().await);
    assert!(i.has_synced());
    tx.send(Ok(WatchEvent::Modified(meta("a", "11")))).unwrap();
    tx.send(Ok(WatchEvent::Deleted(meta("b", "12")))).unwrap();
    for r in [&r1, &r2] {
        let mut log = r.wait_len(4).await;
        log[..2].sort();
        assert_eq!(
            log,
            vec!["add a@1 true", "add b@2 true", "update a@1->11", "delete b"]
        );
    }
    assert_eq!(i.last_sync_resource_version(), "12");
    assert_eq!(i.indexer().list_keys(), vec!["ns/a"]);
    stop.cancel();
    task.await.unwrap();
    assert!(i.is_stopped());
    assert!(matches!(
        i.add_event_handler(H(r1.clone())),
        Err(Error::Stopped)
    ));
}

#[tokio::test(start_paused = true)]
async fn a_handler_added_after_start_first_receives_the_cache_as_initial_adds() {
    let lw = Arc::new(Scripted::default());
    let (tx, rx) = mpsc::unbounded_channel();
    lw.list(list_of("10", vec![meta("a", "1"), meta("b", "2")]))
        .watch(WatchScript::Channel(rx));
    let i = informer(lw, Duration::ZERO);
    let (stop, task) = start(&i);
    assert!(i.synced().wait().await);
    let late = Arc::new(Rec::default());
    let reg = i.add_event_handler(H(late.clone())).unwrap();
    tx.send(Ok(WatchEvent::Added(meta("c", "11")))).unwrap();
    assert!(reg.wait_synced().await);
    let mut log = late.wait_len(3).await;
    log[..2].sort();
    assert_eq!(log, vec!["add a@1 true", "add b@2 true", "add c@11 false"]);
    stop.cancel();
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_removed_handler_gets_nothing_more() {
    let lw = Arc::new(Scripted::default());
    let (tx, rx) = mpsc::unbounded_channel();
    lw.list(list_of("10", vec![]))
        .watch(WatchScript::Channel(rx));
    let i = informer(lw, Duration::ZERO);
    let (gone, kept) = (Arc::new(Rec::default()), Arc::new(Rec::default()));
    let reg = i.add_event_handler(H(gone.clone())).unwrap();
    i.add_event_handler(H(kept.clone())).unwrap();
    let (stop, task) = start(&i);
    assert!(i.synced().wait().await);
    assert!(i.remove_event_handler(&reg));
    assert!(!i.remove_event_handler(&reg), "removal is idempotent");
    tx.send(Ok(WatchEvent::Added(meta("x", "11")))).unwrap();
    kept.wait_len(1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(gone.log().is_empty());
    stop.cancel();
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn resync_updates_go_only_to_handlers_due_a_resync() {
    let lw = Arc::new(Scripted::default());
    lw.list(list_of("10", vec![meta("a", "1")]));
    let i = informer(lw, Duration::from_secs(10));
    let (resyncing, quiet) = (Arc::new(Rec::default()), Arc::new(Rec::default()));
    i.add_event_handler(H(resyncing.clone())).unwrap();
    i.add_event_handler_with_resync_period(H(quiet.clone()), Duration::ZERO)
        .unwrap();
    let (stop, task) = start(&i);
    assert!(i.synced().wait().await);
    let log = resyncing.wait_len(3).await;
    assert_eq!(&log[1..3], &["update a@1->1", "update a@1->1"]);
    assert_eq!(quiet.log(), vec!["add a@1 true"]);
    stop.cancel();
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn resync_periods_follow_gos_adjustment_rules() {
    assert_eq!(
        determine_resync_period(Duration::ZERO, Duration::from_secs(5)),
        Duration::ZERO
    );
    assert_eq!(
        determine_resync_period(Duration::from_secs(3), Duration::ZERO),
        Duration::ZERO
    );
    assert_eq!(
        determine_resync_period(Duration::from_secs(3), Duration::from_secs(5)),
        Duration::from_secs(5)
    );
    let lw = Arc::new(Scripted::default());
    let i = informer(lw, Duration::from_secs(30));
    // Before start, a shorter period (raised to the 1 s minimum) shrinks the check period.
    i.add_event_handler_with_resync_period(H(Arc::default()), Duration::from_millis(10))
        .unwrap();
    assert_eq!(i.state().resync_check_period, MINIMUM_RESYNC_PERIOD);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_handler_loses_one_notification_and_keeps_running() {
    struct Flaky(Arc<Rec>, AtomicUsize);
    impl ResourceEventHandler<ObjectMeta> for Flaky {
        fn on_add(&self, o: &Arc<ObjectMeta>, i: bool) {
            if self.1.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("first add explodes");
            }
            H(self.0.clone()).on_add(o, i);
        }
        fn on_update(&self, _: &Arc<ObjectMeta>, _: &Arc<ObjectMeta>) {}
        fn on_delete(&self, _: &ObjectOrTombstone<ObjectMeta>) {}
    }
    let lw = Arc::new(Scripted::default());
    let (tx, rx) = mpsc::unbounded_channel();
    lw.list(list_of("10", vec![]))
        .watch(WatchScript::Channel(rx));
    let i = informer(lw, Duration::ZERO);
    let rec = Arc::new(Rec::default());
    i.add_event_handler(Flaky(rec.clone(), AtomicUsize::new(0)))
        .unwrap();
    let (stop, task) = start(&i);
    assert!(i.synced().wait().await);
    tx.send(Ok(WatchEvent::Added(meta("a", "11")))).unwrap();
    tx.send(Ok(WatchEvent::Added(meta("b", "12")))).unwrap();
    assert_eq!(rec.wait_len(1).await, vec!["add b@12 false"]);
    stop.cancel();
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn transform_runs_before_caching_and_settings_are_refused_after_start() {
    let lw = Arc::new(Scripted::default());
    lw.list(list_of("10", vec![meta("a", "1")]));
    let i = informer(lw, Duration::ZERO);
    i.set_transform(Arc::new(|o: &mut ObjectMeta| o.generation = Some(7)))
        .unwrap();
    let (stop, task) = start(&i);
    assert!(i.synced().wait().await);
    assert_eq!(i.indexer().get_by_key("ns/a").unwrap().generation(), 7);
    assert!(matches!(
        i.set_transform(Arc::new(|_: &mut ObjectMeta| {})),
        Err(Error::AlreadyStarted)
    ));
    assert!(matches!(
        i.set_watch_error_handler(Arc::new(|_, _| {})),
        Err(Error::AlreadyStarted)
    ));
    assert!(i.add_indexers(Indexers::new()).is_err());
    stop.cancel();
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn run_stops_every_task_it_started() {
    let sentinel = Arc::new(());
    struct Holder(#[allow(dead_code)] Arc<()>);
    impl ResourceEventHandler<ObjectMeta> for Holder {
        fn on_add(&self, _: &Arc<ObjectMeta>, _: bool) {}
        fn on_update(&self, _: &Arc<ObjectMeta>, _: &Arc<ObjectMeta>) {}
        fn on_delete(&self, _: &ObjectOrTombstone<ObjectMeta>) {}
    }
    let lw = Arc::new(Scripted::default());
    lw.list(list_of("10", vec![]));
    let i = informer(lw.clone(), Duration::ZERO);
    i.add_event_handler(Holder(sentinel.clone())).unwrap();
    let (stop, task) = start(&i);
    assert!(i.synced().wait().await);
    // Second run returns at once.
    i.run(CancellationToken::new()).await;
    stop.cancel();
    task.await.unwrap();
    assert_eq!(
        Arc::strong_count(&sentinel),
        1,
        "listener task and handler dropped"
    );
    assert_eq!(
        Arc::strong_count(&lw),
        2,
        "reflector task dropped its ListerWatcher"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_handler_does_not_hold_up_the_others() {
    struct Blocked(Arc<Rec>, Mutex<std::sync::mpsc::Receiver<()>>);
    impl ResourceEventHandler<ObjectMeta> for Blocked {
        fn on_add(&self, o: &Arc<ObjectMeta>, i: bool) {
            let _ = self.1.lock().unwrap().recv();
            H(self.0.clone()).on_add(o, i);
        }
        fn on_update(&self, _: &Arc<ObjectMeta>, _: &Arc<ObjectMeta>) {}
        fn on_delete(&self, _: &ObjectOrTombstone<ObjectMeta>) {}
    }
    let lw = Arc::new(Scripted::default());
    let objs: Vec<ObjectMeta> = (0..50).map(|n| meta(&format!("o{n}"), "1")).collect();
    lw.list(list_of("10", objs));
    let i = informer(lw, Duration::ZERO);
    let (slow, fast) = (Arc::new(Rec::default()), Arc::new(Rec::default()));
    let (release, gate) = std::sync::mpsc::channel();
    i.add_event_handler(Blocked(slow.clone(), Mutex::new(gate)))
        .unwrap();
    let fast_reg = i.add_event_handler(H(fast.clone())).unwrap();
    let (stop, task) = start(&i);
    fast.wait_len(50).await;
    assert!(fast_reg.wait_synced().await);
    assert!(slow.log().is_empty());
    for _ in 0..50 {
        release.send(()).unwrap();
    }
    slow.wait_len(50).await;
    stop.cancel();
    task.await.unwrap();
}
