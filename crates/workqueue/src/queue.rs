//! Port of util/workqueue/queue.go: the deduplicating work queue at the bottom of every
//! controller.
//!
//! # Data flow
//!
//! Producers (informer event handlers) call [`Queue::add`] with a key. Workers loop on
//! [`Queue::get`], process the key, then call [`Queue::done`]. The queue guarantees:
//!
//! - **Fair:** items are processed in the order they were added.
//! - **Stingy:** an item added many times before a worker gets it is processed once.
//! - **Exclusive:** one item is never processed by two workers at once. An item added while it is
//!   being processed is marked *dirty* and queued again when its worker calls `done`.
//!
//! # Invariant
//!
//! Go keeps three collections: `queue` (the order), `dirty` (needs processing) and `processing`
//! (handed to a worker). Every element of `queue` is in `dirty` and not in `processing`; `queue`
//! holds no duplicates. This port folds `dirty` and `processing` into one table of entries, each
//! holding the item (stored once) and two flags; an item with neither flag has no entry. `queue`
//! holds no copy of the item, only the entry's hash and a sequence number that names the entry,
//! so `add` moves the item into the table without cloning it, `get` finds the entry without
//! hashing or comparing the item, and `done` finds it with one hash and re-queues it in place.
//! [`Queue::check_invariants`] (test builds) verifies all of it.
//!
//! # Wake-ups
//!
//! Go's `Add` signals its `sync.Cond` once per item, waking one more goroutine each time. Here
//! parked `get` calls wait in a FIFO list of their own, and at most one of them is *on its way*
//! (woken, not yet running) at a time: an add wakes a parked `get` only when none is on its way,
//! and a `get` that takes an item while more are waiting wakes the next one. A burst of adds
//! therefore costs one wake-up, not one per item, and a busy producer does not push its workers
//! from thread to thread; once running, workers take the waiting items without waking anyone.
//! The cost: a `get` future that was woken but is not polled (kept in a `select!` while its task
//! does other work) holds back wake-ups for the other parked `get` calls until it is polled or
//! dropped. Workers that loop on `get().await` never do that.
//!
//! Differs from Go: `get` is an `async fn` returning `Option<T>` (`None` = Go's `shutdown == true`)
//! instead of blocking on a `sync.Cond`, and metrics come from the queue's [`QueueConfig`] rather
//! than a process-global provider.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::hash::{BuildHasher, Hash};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry as TableEntry;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::lock::MutexExt;
use crate::metrics::{MetricsProvider, QueueMetrics};

/// The hash map used for per-item bookkeeping across the crate: a fast, seeded hasher, since keys
/// (object names) can be chosen by API users.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// How often the unfinished-work gauges are refreshed for a named queue with metrics.
///
/// Port of queue.go: `defaultUnfinishedWorkUpdatePeriod` (500 ms).
pub const DEFAULT_UNFINISHED_WORK_UPDATE_PERIOD: Duration = Duration::from_millis(500);

/// The future of [`Queue::get`]: takes an item, or parks in `State::parked` until woken.
struct Get<'a, T: QueueItem> {
    queue: &'a Queue<T>,
    /// Our id in `State::parked` while parked (or woken and not yet run).
    parked_as: Option<u64>,
}

impl<T: QueueItem> Future for Get<'_, T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let queue = self.queue;
        let mut st = queue.lock();
        if let Some(id) = self.parked_as {
            if let Some(waker) = st.parked.get_mut(&id) {
                // Polled without being woken (say, by a `select!`): keep our place.
                if !waker.will_wake(cx.waker()) {
                    *waker = cx.waker().clone();
                }
                return Poll::Pending;
            }
            // Woken: we are the `get` on its way.
            self.parked_as = None;
            st.woken -= 1;
        }
        if let Some(next) = queue.try_get_locked(&mut st) {
            // More items may be waiting, and adds woke nobody while we were on our way.
            let waker = st.wake_one_if_due();
            drop(st);
            if let Some(waker) = waker {
                waker.wake();
            }
            return Poll::Ready(next);
        }
        let id = st.next_waiter;
        st.next_waiter += 1;
        st.parked.insert(id, cx.waker().clone());
        self.parked_as = Some(id);
        Poll::Pending
    }
}

impl<T: QueueItem> Drop for Get<'_, T> {
    /// A dropped `get` leaves the parked list; if it had been woken, it passes the wake-up on, so
    /// cancelling a `get` never strands an item.
    fn drop(&mut self) {
        let Some(id) = self.parked_as else { return };
        let mut st = self.queue.lock();
        if st.parked.remove(&id).is_some() {
            return;
        }
        st.woken -= 1;
        let waker = st.wake_one_if_due();
        drop(st);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Options shared by every queue constructor in this crate.
///
/// Port of queue.go: `QueueConfig` (and the `Name`/`MetricsProvider` half of
/// `DelayingQueueConfig` and `RateLimitingQueueConfig`). Differs from Go: there is no global
/// metrics provider; metrics are recorded only when both `name` and `metrics_provider` are set.
#[derive(Clone, Default)]
pub struct QueueConfig {
    /// The queue's name, used as the `name` label of its metrics. Empty means no metrics.
    pub name: String,
    /// Where metrics go. `None` means no metrics.
    pub metrics_provider: Option<Arc<dyn MetricsProvider>>,
}

impl QueueConfig {
    /// A config for a queue called `name` (still without metrics until a provider is set).
    #[must_use]
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            metrics_provider: None,
        }
    }

    /// Sets the metrics provider.
    #[must_use]
    pub fn metrics_provider(mut self, provider: Arc<dyn MetricsProvider>) -> Self {
        self.metrics_provider = Some(provider);
        self
    }
}

impl std::fmt::Debug for QueueConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueConfig")
            .field("name", &self.name)
            .field("metrics_provider", &self.metrics_provider.is_some())
            .finish()
    }
}

/// The bounds every queued item satisfies. Keys are usually `String`s (`namespace/name`).
pub trait QueueItem: Clone + Eq + Hash + Send + Sync + 'static {}
impl<T: Clone + Eq + Hash + Send + Sync + 'static> QueueItem for T {}

const DIRTY: u8 = 1;
const PROCESSING: u8 = 2;

/// One item that is dirty, processing or both (an element of Go's `dirty` ∪ `processing`).
struct Entry<T> {
    item: T,
    /// `DIRTY`, `PROCESSING` or both; never 0 (the entry is removed instead).
    flags: u8,
    /// While queued: the sequence number of its place in `State::queue`.
    seq: u64,
}

struct State<T> {
    /// The order in which items are handed out, as (hash, sequence number) of their entries.
    /// Invariant: each names exactly one entry of `items`, whose flags are exactly `DIRTY`, and
    /// every entry whose flags are exactly `DIRTY` is named once.
    queue: VecDeque<(u64, u64)>,
    /// Go's `dirty` and `processing` sets, as flags on one entry per item.
    items: HashTable<Entry<T>>,
    hasher: foldhash::fast::RandomState,
    /// The sequence number of the next push onto `queue` (never reused).
    next_seq: u64,
    /// Number of entries with the `PROCESSING` flag (Go's `processing.len()`).
    processing: usize,
    /// Parked `get` calls by arrival (ids only grow), with the waker of each. A `get` leaves this
    /// list when it is woken or dropped.
    parked: BTreeMap<u64, Waker>,
    /// Parked `get` calls that were woken (removed from `parked`) and have not run yet.
    /// Invariant: whenever an item waits with a `get` parked and `woken == 0`, a wake-up is due,
    /// and whoever made it so (see [`State::wake_one_if_due`]) issues it before unlocking.
    woken: usize,
    /// The id of the next `get` to park.
    next_waiter: u64,
    shutting_down: bool,
    drain: bool,
    metrics: Option<QueueMetrics<T>>,
}

impl<T> State<T> {
    /// Wakes the longest-parked `get` if an item waits for it and no other `get` is already on its
    /// way. Returns the waker to call once the lock is released.
    #[must_use]
    fn wake_one_if_due(&mut self) -> Option<Waker> {
        if self.queue.is_empty() || self.woken > 0 {
            return None;
        }
        let (_, waker) = self.parked.pop_first()?;
        self.woken += 1;
        Some(waker)
    }
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Wakes `shut_down_with_drain` when nothing is processing any more, or drain is cancelled.
    drained: Notify,
    /// Cancelled by `shut_down`: lets helper tasks (the delaying loop, the metrics ticker) stop.
    shutdown: CancellationToken,
    /// Whether this queue records metrics and so wants the unfinished-work ticker.
    wants_ticker: bool,
    /// Set once the ticker has been spawned (or is being spawned).
    ticker_started: AtomicBool,
    /// The ticker task, aborted when the last handle goes away.
    ticker: Mutex<Option<JoinHandle<()>>>,
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        if let Some(task) = self.ticker.get_mut().ok().and_then(Option::take) {
            task.abort();
        }
    }
}

/// A fair, deduplicating work queue with exclusive processing per item.
///
/// Port of queue.go: `Type`, the `Interface`/`TypedInterface` implementation (`workqueue.New`,
/// `NewNamed`, `NewWithConfig`, `NewTyped`). Cloning the handle is cheap and
/// every clone refers to the same queue.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use workqueue::Queue;
///
/// let queue: Queue<String> = Queue::default();
/// queue.add("default/web-1".to_string());
/// queue.add("default/web-1".to_string()); // collapsed: still one entry
/// assert_eq!(queue.len(), 1);
///
/// let key = queue.get().await.unwrap();
/// // ... reconcile `key` ...
/// queue.done(&key);
/// # }
/// ```
#[doc(alias = "Type")]
#[doc(alias = "Interface")]
pub struct Queue<T: QueueItem> {
    shared: Arc<Shared<T>>,
}

impl<T: QueueItem> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T: QueueItem> Default for Queue<T> {
    fn default() -> Self {
        Self::new(QueueConfig::default())
    }
}

impl<T: QueueItem> std::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("Queue")
            .field("len", &st.queue.len())
            .field("processing", &st.processing)
            .field("shutting_down", &st.shutting_down)
            .finish()
    }
}

impl<T: QueueItem> Queue<T> {
    /// Creates a queue.
    ///
    /// Port of queue.go: `NewWithConfig`. When the config names the queue and has a metrics
    /// provider, a task refreshes the unfinished-work gauges every
    /// [`DEFAULT_UNFINISHED_WORK_UPDATE_PERIOD`] and ends when the queue shuts down or is dropped.
    /// Differs from Go: that task needs a tokio runtime, so it starts here when called inside
    /// one, and otherwise at the first `add` or `get` made inside one; constructing a queue never
    /// needs a runtime.
    pub fn new(config: QueueConfig) -> Self {
        let metrics = QueueMetrics::from_config(&config);
        let wants_ticker = metrics.is_some();
        let queue = Self {
            shared: Arc::new(Shared {
                wants_ticker,
                ticker_started: AtomicBool::new(false),
                ticker: Mutex::new(None),
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    items: HashTable::new(),
                    hasher: foldhash::fast::RandomState::default(),
                    next_seq: 0,
                    processing: 0,
                    parked: BTreeMap::new(),
                    woken: 0,
                    next_waiter: 0,
                    shutting_down: false,
                    drain: false,
                    metrics,
                }),
                drained: Notify::new(),
                shutdown: CancellationToken::new(),
            }),
        };
        queue.ensure_ticker();
        queue
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.shared.state.lock_unpoisoned()
    }

    /// Starts the unfinished-work ticker if this queue wants one, it is not running yet, and we are
    /// inside a tokio runtime. One relaxed load for queues without metrics.
    #[inline]
    fn ensure_ticker(&self) {
        if self.shared.wants_ticker && !self.shared.ticker_started.load(Ordering::Relaxed) {
            self.start_ticker();
        }
    }

    #[cold]
    fn start_ticker(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.shared.ticker_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let task = runtime.spawn(unfinished_work_loop(
            Arc::downgrade(&self.shared),
            self.shared.shutdown.clone(),
            DEFAULT_UNFINISHED_WORK_UPDATE_PERIOD,
        ));
        *self.shared.ticker.lock_unpoisoned() = Some(task);
    }

    /// Marks `item` as needing processing.
    ///
    /// Port of queue.go: `Type.Add`. Dropped after shutdown; a no-op if the item is already waiting;
    /// if the item is being processed it is only marked dirty and queued again by [`Queue::done`].
    pub fn add(&self, item: T) {
        self.ensure_ticker();
        let mut guard = self.lock();
        if guard.shutting_down {
            return;
        }
        let st = &mut *guard;
        let hash = st.hasher.hash_one(&item);
        let hasher = &st.hasher;
        match st
            .items
            .entry(hash, |e| e.item == item, |e| hasher.hash_one(&e.item))
        {
            TableEntry::Occupied(mut e) => {
                let entry = e.get_mut();
                if entry.flags & DIRTY != 0 {
                    return;
                }
                // Being processed: mark it dirty, and `done` will queue it.
                entry.flags |= DIRTY;
                if let Some(m) = st.metrics.as_mut() {
                    m.add(&entry.item);
                }
                return;
            }
            TableEntry::Vacant(e) => {
                if let Some(m) = st.metrics.as_mut() {
                    m.add(&item);
                }
                let seq = st.next_seq;
                st.next_seq += 1;
                e.insert(Entry {
                    item,
                    flags: DIRTY,
                    seq,
                });
                st.queue.push_back((hash, seq));
            }
        }
        let waker = st.wake_one_if_due();
        drop(guard);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The number of items waiting to be handed out (not those being processed).
    ///
    /// Port of queue.go: `Type.Len`. For information only: do not gate `add` or `get` on it.
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Whether no item is waiting. See [`Queue::len`].
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for the next item and marks it as processing. The caller must call [`Queue::done`]
    /// with it when finished.
    ///
    /// Returns `None` only once the queue is shut down **and** empty: after
    /// [`Queue::shut_down`], items already queued are still handed out. Port of queue.go:
    /// `Type.Get`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. An item is taken off the queue only in the same poll that returns it, so a
    /// dropped `get` future never loses an item; a wake-up it had received is passed on to another
    /// waiting `get`.
    pub async fn get(&self) -> Option<T> {
        self.ensure_ticker();
        Get {
            queue: self,
            parked_as: None,
        }
        .await
    }

    /// `Some(Some(item))`: got one; `Some(None)`: shut down and empty; `None`: wait.
    #[cfg(test)]
    pub(crate) fn try_get(&self) -> Option<Option<T>> {
        self.try_get_locked(&mut self.lock())
    }

    fn try_get_locked(&self, st: &mut State<T>) -> Option<Option<T>> {
        let Some((hash, seq)) = st.queue.pop_front() else {
            return st.shutting_down.then_some(None);
        };
        // The queue invariant says the entry is there; without it, hand out nothing rather than
        // panic (a waiting `get` looks again at the next add).
        let entry = st
            .items
            .find_mut(hash, |e| e.seq == seq && e.flags == DIRTY)?;
        entry.flags = PROCESSING;
        // The caller owns what it gets; the entry keeps the item for `add` and `done` to find.
        let item = entry.item.clone();
        st.processing += 1;
        if let Some(m) = st.metrics.as_mut() {
            m.get(&item);
        }
        Some(Some(item))
    }

    /// Marks `item` as done processing. If it was added again meanwhile, it is queued again.
    ///
    /// Port of queue.go: `Type.Done`. Differs from Go: calling `done` for an item that is not
    /// being processed does nothing. Go's `Done` pushes a dirty item onto the queue even then, so
    /// an item still waiting would be queued twice and could go to two workers at once; this
    /// port keeps one entry and one queue place per item, which cannot hold a second copy, and
    /// exclusivity is worth more than repeating a caller's mistake.
    pub fn done(&self, item: &T) {
        let mut guard = self.lock();
        let st = &mut *guard;
        let hash = st.hasher.hash_one(item);
        let Ok(mut found) = st.items.find_entry(hash, |e| e.item == *item) else {
            return;
        };
        let entry = found.get_mut();
        if entry.flags & PROCESSING == 0 {
            return;
        }
        let requeue = entry.flags & DIRTY != 0;
        if requeue {
            // Added again while processing: queue it again, in place.
            entry.flags = DIRTY;
            entry.seq = st.next_seq;
            st.next_seq += 1;
            st.queue.push_back((hash, entry.seq));
        } else {
            found.remove();
        }
        if let Some(m) = st.metrics.as_mut() {
            m.done(item);
        }
        st.processing -= 1;
        let waker = st.wake_one_if_due();
        let wake_drain = !requeue && st.drain && st.processing == 0;
        drop(guard);
        if let Some(waker) = waker {
            waker.wake();
        }
        if wake_drain {
            self.shared.drained.notify_waiters();
        }
    }

    /// Stops accepting items and tells workers to exit once the queue is empty, without waiting
    /// for items being processed.
    ///
    /// Port of queue.go: `Type.ShutDown`. Safe to call more than once, and to call while
    /// [`Queue::shut_down_with_drain`] is waiting, which makes that return at once.
    pub fn shut_down(&self) {
        self.shut_down_inner(false);
    }

    fn shut_down_inner(&self, drain: bool) {
        let parked = {
            let mut st = self.lock();
            st.drain = drain;
            st.shutting_down = true;
            let parked = std::mem::take(&mut st.parked);
            st.woken += parked.len();
            parked
        };
        self.shared.shutdown.cancel();
        // Go's cond.Broadcast: every parked `get` looks again.
        for waker in parked.into_values() {
            waker.wake();
        }
        self.shared.drained.notify_waiters();
    }

    /// Stops accepting items, then waits until every item handed out by `get` has been passed to
    /// `done`.
    ///
    /// Port of queue.go: `Type.ShutDownWithDrain`. Waits only while items are *processing*; items
    /// still queued are left for workers to `get` (they keep getting them until the queue is
    /// empty). Workers must call `done` for every item or this waits forever; a later
    /// [`Queue::shut_down`] ends the wait.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the queue is shut down by the first poll; dropping the future only stops the
    /// waiting.
    pub async fn shut_down_with_drain(&self) {
        self.shut_down_inner(true);
        loop {
            let mut drained = pin!(self.shared.drained.notified());
            drained.as_mut().enable();
            {
                let st = self.lock();
                if st.processing == 0 || !st.drain {
                    return;
                }
            }
            drained.await;
        }
    }

    /// Whether [`Queue::shut_down`] or [`Queue::shut_down_with_drain`] has been called.
    ///
    /// Port of queue.go: `Type.ShuttingDown`.
    pub fn shutting_down(&self) -> bool {
        self.lock().shutting_down
    }

    /// A token cancelled when the queue shuts down, for tasks that live as long as the queue.
    pub(crate) fn shutdown_token(&self) -> CancellationToken {
        self.shared.shutdown.clone()
    }

    /// [`Queue::shutting_down`] without taking the lock (one atomic load), for hot paths.
    pub(crate) fn shutting_down_fast(&self) -> bool {
        self.shared.shutdown.is_cancelled()
    }

    /// Checks the queue's invariant: every queued item is dirty and not processing, appears once,
    /// the processing count matches, and no item waits with a `get` parked and none woken.
    ///
    /// # Panics
    ///
    /// Panics with a description of the first violation found.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        let st = self.lock();
        let mut seen = std::collections::HashSet::new();
        for (hash, seq) in &st.queue {
            assert!(seen.insert(*seq), "sequence number queued twice");
            let entry = st
                .items
                .find(*hash, |e| e.seq == *seq)
                .expect("queued sequence number names no entry");
            assert_eq!(entry.flags, DIRTY, "queued item is not just dirty");
            assert_eq!(
                st.hasher.hash_one(&entry.item),
                *hash,
                "queued hash is not the item's"
            );
        }
        let processing = st
            .items
            .iter()
            .filter(|e| e.flags & PROCESSING != 0)
            .count();
        assert_eq!(processing, st.processing, "processing count out of step");
        assert!(st.items.iter().all(|e| e.flags != 0), "entry without flags");
        let dirty_not_processing = st.items.iter().filter(|e| e.flags == DIRTY).count();
        assert_eq!(
            dirty_not_processing,
            st.queue.len(),
            "a dirty item that is not processing must be queued"
        );
        assert!(
            st.queue.is_empty() || st.parked.is_empty() || st.woken > 0,
            "an item waits with a get parked and none woken"
        );
    }

    /// Whether the item is waiting or being processed (test builds only).
    #[cfg(test)]
    pub(crate) fn is_known(&self, item: &T) -> bool {
        let st = self.lock();
        let hash = st.hasher.hash_one(item);
        st.items.find(hash, |e| e.item == *item).is_some()
    }
}

/// Port of queue.go: `Type.updateUnfinishedWorkLoop`. Holds only a weak reference, so the task ends
/// when the last handle is dropped as well as on shutdown.
async fn unfinished_work_loop<T: QueueItem>(
    weak: Weak<Shared<T>>,
    stop: CancellationToken,
    period: Duration,
) {
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let Some(shared) = weak.upgrade() else { return };
        let mut st = shared.state.lock_unpoisoned();
        if let Some(m) = st.metrics.as_mut() {
            m.update_unfinished_work();
        }
    }
}
