//! Port of `processorListener` and `sharedProcessor` from tools/cache/shared_informer.go: how
//! one notification reaches many handlers without a slow one holding up the rest.
//!
//! Data flow: the informer's loop calls `SharedProcessor::distribute` for every change it
//! applied to the cache. Each registered handler has a `ProcessorListener`: an unbounded
//! channel (Go's ring buffer plus its two goroutines) drained by one task that calls the
//! handler, one notification at a time, in order. A handler that panics loses that one
//! notification (logged) and keeps receiving the next ones.
//!
//! Resync: updates whose old and new resourceVersion are equal are "sync" notifications; they
//! go only to listeners whose own resync period is due, as decided in
//! `SharedProcessor::should_resync` at each reflector resync tick.
//!
//! Per-registration sync: a listener counts the initial-list adds it has been given but not
//! yet delivered; its registration has synced when the informer has and that count is zero.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use apimachinery::util::sync::MutexExt;
use futures::future::BoxFuture;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::controller::ResourceEventHandler;
use crate::delta::ObjectOrTombstone;
use crate::wait::{CacheSynced, SyncedSignal};

/// One notification for one handler. Port of `addNotification`, `updateNotification`,
/// `deleteNotification`.
pub(crate) enum Notification<K> {
    Add {
        obj: Arc<K>,
        is_in_initial_list: bool,
    },
    Update {
        old: Arc<K>,
        new: Arc<K>,
    },
    Delete(ObjectOrTombstone<K>),
}

impl<K> Clone for Notification<K> {
    fn clone(&self) -> Self {
        match self {
            Notification::Add {
                obj,
                is_in_initial_list,
            } => Notification::Add {
                obj: obj.clone(),
                is_in_initial_list: *is_in_initial_list,
            },
            Notification::Update { old, new } => Notification::Update {
                old: old.clone(),
                new: new.clone(),
            },
            Notification::Delete(o) => Notification::Delete(o.clone()),
        }
    }
}

/// The resync bookkeeping of a listener. Port of the resync fields of `processorListener`.
struct Resync {
    /// What the handler asked for (after the 1 s minimum).
    requested: Duration,
    /// What applies: zero when the informer does no resyncs.
    period: Duration,
    /// Earliest time of the next resync.
    next: Instant,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Relays notifications to one handler through an unbounded buffer and a task.
/// Port of `processorListener`.
pub(crate) struct ProcessorListener<K> {
    id: u64,
    handler: Arc<dyn ResourceEventHandler<K>>,
    tx: mpsc::UnboundedSender<Notification<K>>,
    /// Taken by the task when it starts.
    rx: Mutex<Option<mpsc::UnboundedReceiver<Notification<K>>>>,
    /// Initial-list adds given but not yet delivered. Port of `synctrack.SingleFileTracker`.
    pending_initial: Arc<watch::Sender<usize>>,
    resync: Mutex<Resync>,
    /// Stops the task (removal or informer shutdown).
    cancel: CancellationToken,
}

impl<K: Send + Sync + 'static> ProcessorListener<K> {
    pub(crate) fn new(
        handler: Arc<dyn ResourceEventHandler<K>>,
        requested_resync: Duration,
        resync: Duration,
    ) -> Arc<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        Arc::new(ProcessorListener {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            handler,
            tx,
            rx: Mutex::new(Some(rx)),
            pending_initial: Arc::new(watch::channel(0).0),
            resync: Mutex::new(Resync {
                requested: requested_resync,
                period: resync,
                next: Instant::now() + resync,
            }),
            cancel: CancellationToken::new(),
        })
    }

    fn resync_lock(&self) -> MutexGuard<'_, Resync> {
        self.resync.lock_unpoisoned()
    }

    /// The handle returned to whoever registered the handler.
    pub(crate) fn registration(&self, upstream: SyncedSignal) -> ResourceEventHandlerRegistration {
        ResourceEventHandlerRegistration {
            id: self.id,
            upstream,
            pending: self.pending_initial.subscribe(),
        }
    }

    /// Queues a notification. Port of `processorListener.add`.
    pub(crate) fn add(&self, n: Notification<K>) {
        if let Notification::Add {
            is_in_initial_list: true,
            ..
        } = n
        {
            self.pending_initial.send_modify(|c| *c += 1);
        }
        // Fails only once the task has stopped; the notification is then moot.
        let _ = self.tx.send(n);
    }

    /// Delivers notifications until cancelled or the channel closes. Port of
    /// `processorListener.run` (and `pop`, whose buffering the unbounded channel does).
    fn run(self: Arc<Self>) -> BoxFuture<'static, ()> {
        let rx = self.rx.lock_unpoisoned().take();
        Box::pin(async move {
            let Some(mut rx) = rx else { return };
            loop {
                let n = tokio::select! {
                    biased;
                    _ = self.cancel.cancelled() => break,
                    n = rx.recv() => match n { Some(n) => n, None => break },
                };
                self.deliver(n);
            }
            tracing::debug!(listener = self.id, "listener stopped");
        })
    }

    fn deliver(&self, n: Notification<K>) {
        let h = &self.handler;
        let initial = matches!(
            n,
            Notification::Add {
                is_in_initial_list: true,
                ..
            }
        );
        let kind = match &n {
            Notification::Add { .. } => "add",
            Notification::Update { .. } => "update",
            Notification::Delete(_) => "delete",
        };
        tracing::debug!(listener = self.id, notification = kind, "notifying handler");
        let result = catch_unwind(AssertUnwindSafe(|| match &n {
            Notification::Add {
                obj,
                is_in_initial_list,
            } => h.on_add(obj, *is_in_initial_list),
            Notification::Update { old, new } => h.on_update(old, new),
            Notification::Delete(o) => h.on_delete(o),
        }));
        if result.is_err() {
            tracing::error!(
                listener = self.id,
                notification = kind,
                "event handler panicked; this notification is lost, the next ones will be delivered"
            );
        }
        if initial {
            self.pending_initial
                .send_modify(|c| *c = c.saturating_sub(1));
        }
    }

    /// True if this listener's resync period is due at `now`. Port of `shouldResync`.
    fn should_resync(&self, now: Instant) -> bool {
        let r = self.resync_lock();
        !r.period.is_zero() && now >= r.next
    }

    fn determine_next_resync(&self, now: Instant) {
        let mut r = self.resync_lock();
        r.next = now + r.period;
    }

    fn set_resync_period(&self, check: Duration) {
        let mut r = self.resync_lock();
        r.period = determine_resync_period(r.requested, check);
    }
}

/// The period a handler actually gets. Port of `determineResyncPeriod`: zero stays zero; no
/// resyncs if the informer does none; never shorter than the informer's check period.
pub(crate) fn determine_resync_period(desired: Duration, check: Duration) -> Duration {
    if desired.is_zero() {
        return desired;
    }
    if check.is_zero() {
        tracing::warn!(
            ?desired,
            "resync period ignored: this informer does not resync"
        );
        return Duration::ZERO;
    }
    if desired < check {
        tracing::warn!(
            ?desired,
            ?check,
            "resync period raised to the informer's resync check period"
        );
        return check;
    }
    desired
}

/// A handler's registration on a shared informer: remove it with
/// [`crate::SharedIndexInformer::remove_event_handler`], or ask whether it has seen every item
/// of the initial list. Port of `ResourceEventHandlerRegistration`.
#[derive(Clone, Debug)]
pub struct ResourceEventHandlerRegistration {
    id: u64,
    upstream: SyncedSignal,
    pending: watch::Receiver<usize>,
}

impl ResourceEventHandlerRegistration {
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// True once the informer has synced and this handler has been given every item of the
    /// initial list. Port of `HasSynced`.
    pub fn has_synced(&self) -> bool {
        self.upstream.has_synced() && *self.pending.borrow() == 0
    }

    /// Resolves once [`Self::has_synced`] is true (`false` if the informer went away first).
    ///
    /// # Cancel safety
    /// Cancel-safe.
    pub async fn wait_synced(&self) -> bool {
        if !self.upstream.wait().await {
            return false;
        }
        let mut p = self.pending.clone();
        p.wait_for(|c| *c == 0).await.is_ok()
    }
}

impl CacheSynced for ResourceEventHandlerRegistration {
    fn has_synced(&self) -> bool {
        ResourceEventHandlerRegistration::has_synced(self)
    }
    fn wait_synced(&self) -> BoxFuture<'static, bool> {
        let r = self.clone();
        Box::pin(async move { ResourceEventHandlerRegistration::wait_synced(&r).await })
    }
}

struct ProcState<K> {
    /// Listeners and whether each is due for the current resync.
    listeners: Vec<(Arc<ProcessorListener<K>>, bool)>,
    /// Set while running: where listener tasks are spawned.
    runtime: Option<tokio::runtime::Handle>,
    /// Every listener task ever started; owned here, joined by `stop`.
    tasks: JoinSet<()>,
}

/// Fans notifications out to listeners. Port of `sharedProcessor`.
pub(crate) struct SharedProcessor<K> {
    state: Mutex<ProcState<K>>,
}

impl<K: Send + Sync + 'static> SharedProcessor<K> {
    pub(crate) fn new() -> Self {
        SharedProcessor {
            state: Mutex::new(ProcState {
                listeners: Vec::new(),
                runtime: None,
                tasks: JoinSet::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ProcState<K>> {
        self.state.lock_unpoisoned()
    }

    /// Adds a listener, starting its task if the processor runs. Port of `addListener`.
    pub(crate) fn add_listener(&self, l: Arc<ProcessorListener<K>>) {
        let mut st = self.lock();
        if let Some(rt) = st.runtime.clone() {
            st.tasks.spawn_on(l.clone().run(), &rt);
        }
        st.listeners.push((l, true));
    }

    /// Removes and stops a listener. Port of `removeListener`; returns false if unknown.
    pub(crate) fn remove_listener(&self, id: u64) -> bool {
        let mut st = self.lock();
        let Some(i) = st.listeners.iter().position(|(l, _)| l.id == id) else {
            return false;
        };
        let (l, _) = st.listeners.remove(i);
        l.cancel.cancel();
        true
    }

    /// Number of registered listeners.
    pub(crate) fn len(&self) -> usize {
        self.lock().listeners.len()
    }

    /// Gives `n` to every listener, or for a sync notification only to those due for a
    /// resync. Port of `distribute`.
    pub(crate) fn distribute(&self, n: Notification<K>, sync: bool) {
        let st = self.lock();
        for (l, syncing) in &st.listeners {
            if !sync || *syncing {
                l.add(n.clone());
            }
        }
    }

    /// Starts every listener's task on `rt`. Port of `sharedProcessor.run` (start half).
    pub(crate) fn start(&self, rt: tokio::runtime::Handle) {
        let mut st = self.lock();
        let ls: Vec<_> = st.listeners.iter().map(|(l, _)| l.clone()).collect();
        for l in ls {
            st.tasks.spawn_on(l.run(), &rt);
        }
        st.runtime = Some(rt);
    }

    /// Stops every listener and waits for their tasks. Port of `sharedProcessor.run`
    /// (stop half).
    ///
    /// # Cancel safety
    /// Dropping the future aborts the remaining tasks (the `JoinSet` owns them).
    pub(crate) async fn stop(&self) {
        let mut tasks = {
            let mut st = self.lock();
            for (l, _) in st.listeners.drain(..) {
                l.cancel.cancel();
            }
            st.runtime = None;
            std::mem::take(&mut st.tasks)
        };
        while let Some(r) = tasks.join_next().await {
            if let Err(e) = r
                && e.is_panic()
            {
                tracing::error!("listener task panicked: {e}");
            }
        }
    }

    /// Stops every listener and aborts their tasks without waiting (the run future was
    /// dropped).
    pub(crate) fn abort(&self) {
        let mut st = self.lock();
        for (l, _) in st.listeners.drain(..) {
            l.cancel.cancel();
        }
        st.runtime = None;
        st.tasks.abort_all();
    }

    /// Marks which listeners are due and returns whether any is. Port of `shouldResync`.
    pub(crate) fn should_resync(&self) -> bool {
        let mut st = self.lock();
        let now = Instant::now();
        let mut any = false;
        for (l, syncing) in st.listeners.iter_mut() {
            *syncing = l.should_resync(now);
            if *syncing {
                any = true;
                l.determine_next_resync(now);
            }
        }
        any
    }

    /// Re-derives every listener's period after the check period changed. Port of
    /// `resyncCheckPeriodChanged`.
    pub(crate) fn resync_check_period_changed(&self, check: Duration) {
        for (l, _) in &self.lock().listeners {
            l.set_resync_period(check);
        }
    }
}
