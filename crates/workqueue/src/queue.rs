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
//! holds no duplicates. This port folds `dirty` and `processing` into one map from item to two
//! flags, so each operation costs a single hash lookup; an item with neither flag has no entry.
//! [`Queue::check_invariants`] (test builds) verifies all of it.
//!
//! Differs from Go: `get` is an `async fn` returning `Option<T>` (`None` = Go's `shutdown == true`)
//! instead of blocking on a `sync.Cond`, and metrics come from the queue's [`QueueConfig`] rather
//! than a process-global provider.

use std::collections::VecDeque;
use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::metrics::{MetricsProvider, QueueMetrics};

/// The hash map used for per-item bookkeeping across the crate: a fast, seeded hasher, since keys
/// (object names) can be chosen by API users.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// How often the unfinished-work gauges are refreshed for a named queue with metrics.
///
/// Port of queue.go: `defaultUnfinishedWorkUpdatePeriod` (500 ms).
pub const DEFAULT_UNFINISHED_WORK_UPDATE_PERIOD: Duration = Duration::from_millis(500);

/// Counts a parked `get` for as long as it waits, including when its future is dropped.
struct IdleGetter<'a, T: QueueItem>(&'a Queue<T>);

impl<T: QueueItem> Drop for IdleGetter<'_, T> {
    fn drop(&mut self) {
        self.0.lock().idle_getters -= 1;
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

struct State<T> {
    /// The order in which items are handed out. Invariant: every element has the `DIRTY` flag and
    /// not the `PROCESSING` flag in `flags`, and appears once.
    queue: VecDeque<T>,
    /// Go's `dirty` and `processing` sets, as flags. An item with no flag has no entry.
    flags: HashMap<T, u8>,
    /// Number of entries with the `PROCESSING` flag (Go's `processing.len()`).
    processing: usize,
    /// Number of `get` calls parked on `item_ready`: adds skip the wake-up when nobody waits.
    idle_getters: usize,
    shutting_down: bool,
    drain: bool,
    metrics: Option<QueueMetrics<T>>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Wakes a `get` waiting for an item (Go's `cond.Signal`).
    item_ready: Notify,
    /// Wakes `shut_down_with_drain` when nothing is processing any more, or drain is cancelled.
    drained: Notify,
    /// Cancelled by `shut_down`: lets helper tasks (the delaying loop, the metrics ticker) stop.
    shutdown: CancellationToken,
}

/// A fair, deduplicating work queue with exclusive processing per item.
///
/// Port of queue.go: `Type` (`workqueue.New`, `NewWithConfig`). Cloning the handle is cheap and
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
    /// [`DEFAULT_UNFINISHED_WORK_UPDATE_PERIOD`]; it needs a tokio runtime and ends when the queue
    /// shuts down or is dropped. Outside a runtime those two gauges are not refreshed (and a
    /// warning is logged); all other metrics still work.
    pub fn new(config: QueueConfig) -> Self {
        let metrics = QueueMetrics::from_config(&config);
        let with_metrics = metrics.is_some();
        let queue = Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    flags: HashMap::default(),
                    processing: 0,
                    idle_getters: 0,
                    shutting_down: false,
                    drain: false,
                    metrics,
                }),
                item_ready: Notify::new(),
                drained: Notify::new(),
                shutdown: CancellationToken::new(),
            }),
        };
        if with_metrics {
            queue.spawn_unfinished_work_loop(DEFAULT_UNFINISHED_WORK_UPDATE_PERIOD);
        }
        queue
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic while the lock is held cannot leave the state half-updated (every critical
        // section finishes its bookkeeping before calling out), so a poisoned lock is still
        // consistent and we keep going, as Go would.
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks `item` as needing processing.
    ///
    /// Port of queue.go: `Type.Add`. Dropped after shutdown; a no-op if the item is already waiting;
    /// if the item is being processed it is only marked dirty and queued again by [`Queue::done`].
    pub fn add(&self, item: T) {
        let mut guard = self.lock();
        if guard.shutting_down {
            return;
        }
        let st = &mut *guard;
        let flags = match st.flags.entry(item) {
            Entry::Occupied(e) if *e.get() & DIRTY != 0 => return,
            Entry::Occupied(mut e) => {
                *e.get_mut() |= DIRTY;
                if let Some(m) = st.metrics.as_mut() {
                    m.add(e.key());
                }
                // Being processed: `done` will queue it.
                return;
            }
            Entry::Vacant(e) => e,
        };
        if let Some(m) = st.metrics.as_mut() {
            m.add(flags.key());
        }
        st.queue.push_back(flags.key().clone());
        flags.insert(DIRTY);
        let wake = st.idle_getters > 0;
        drop(guard);
        if wake {
            self.shared.item_ready.notify_one();
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
        // Fast path: an item is waiting, no need to register for a wake-up.
        if let Some(next) = self.try_get() {
            return next;
        }
        loop {
            // Register interest before looking, so an `add` between the look and the wait still
            // wakes us (Go gets the same from holding the cond's lock).
            let mut notified = pin!(self.shared.item_ready.notified());
            notified.as_mut().enable();
            {
                let mut st = self.lock();
                if let Some(next) = Self::try_get_locked(&mut st) {
                    return next;
                }
                st.idle_getters += 1;
            }
            let _parked = IdleGetter(self);
            notified.await;
        }
    }

    /// `Some(Some(item))`: got one; `Some(None)`: shut down and empty; `None`: wait.
    pub(crate) fn try_get(&self) -> Option<Option<T>> {
        Self::try_get_locked(&mut self.lock())
    }

    fn try_get_locked(st: &mut State<T>) -> Option<Option<T>> {
        let Some(item) = st.queue.pop_front() else {
            return st.shutting_down.then_some(None);
        };
        if let Some(flags) = st.flags.get_mut(&item) {
            *flags = PROCESSING;
        }
        st.processing += 1;
        if let Some(m) = st.metrics.as_mut() {
            m.get(&item);
        }
        // Someone else may be waiting too and more items may be queued: Go's cond would have
        // been signalled once per add, and so was our Notify, so nothing more to do here.
        Some(Some(item))
    }

    /// Marks `item` as done processing. If it was added again meanwhile, it is queued again.
    ///
    /// Port of queue.go: `Type.Done`. Calling `done` for an item that is not being processed does
    /// nothing.
    pub fn done(&self, item: &T) {
        let mut guard = self.lock();
        let st = &mut *guard;
        // One hash for the common case (not re-added): take the entry out, put it back only if
        // it must stay.
        let Some((key, flags)) = st.flags.remove_entry(item) else {
            return;
        };
        if flags & PROCESSING == 0 {
            st.flags.insert(key, flags);
            return;
        }
        if let Some(m) = st.metrics.as_mut() {
            m.done(item);
        }
        st.processing -= 1;
        let requeue = flags & DIRTY != 0;
        if requeue {
            st.queue.push_back(key.clone());
            st.flags.insert(key, DIRTY);
        }
        let wake_getter = requeue && st.idle_getters > 0;
        let wake_drain = !requeue && st.drain && st.processing == 0;
        drop(guard);
        if wake_getter {
            self.shared.item_ready.notify_one();
        } else if wake_drain {
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
        {
            let mut st = self.lock();
            st.drain = drain;
            st.shutting_down = true;
        }
        self.shared.shutdown.cancel();
        self.shared.item_ready.notify_waiters();
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

    /// Port of queue.go: `Type.updateUnfinishedWorkLoop`. Holds only a weak reference, so the
    /// task ends when the last handle is dropped as well as on shutdown.
    fn spawn_unfinished_work_loop(&self, period: Duration) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                "workqueue created outside a tokio runtime: unfinished-work metrics are not refreshed"
            );
            return;
        };
        let weak: Weak<Shared<T>> = Arc::downgrade(&self.shared);
        let stop = self.shared.shutdown.clone();
        runtime.spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = ticker.tick() => {}
                }
                let Some(shared) = weak.upgrade() else { return };
                let mut st = shared
                    .state
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if let Some(m) = st.metrics.as_mut() {
                    m.update_unfinished_work();
                }
            }
        });
    }

    /// Checks the queue's invariant: every queued item is dirty and not processing, appears once,
    /// and the processing count matches.
    ///
    /// # Panics
    ///
    /// Panics with a description of the first violation found.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        let st = self.lock();
        let mut seen = std::collections::HashSet::new();
        for item in &st.queue {
            assert!(seen.insert(item), "item queued twice");
            let flags = st.flags.get(item).copied().unwrap_or(0);
            assert!(flags & DIRTY != 0, "queued item is not dirty");
            assert!(flags & PROCESSING == 0, "queued item is processing");
        }
        let processing = st.flags.values().filter(|f| **f & PROCESSING != 0).count();
        assert_eq!(processing, st.processing, "processing count out of step");
        assert!(st.flags.values().all(|f| *f != 0), "entry without flags");
        let dirty_not_processing = st.flags.values().filter(|f| **f == DIRTY).count();
        assert_eq!(
            dirty_not_processing,
            st.queue.len(),
            "a dirty item that is not processing must be queued"
        );
    }

    /// Whether the item is waiting or being processed (test builds only).
    #[cfg(test)]
    pub(crate) fn is_known(&self, item: &T) -> bool {
        self.lock().flags.contains_key(item)
    }
}
