//! Port of util/workqueue/delaying_queue.go: a [`Queue`] that can add an item later.
//!
//! # Data flow
//!
//! [`DelayingQueue::add_after`] puts `(ready_at, item)` into a min-heap, keyed by a map from item
//! to its entry. One task (Go's `waitingLoop`) sleeps until the earliest `ready_at`, then moves
//! every ready item into the underlying queue with [`Queue::add`], where the usual deduplication
//! applies. The task wakes only for a deadline, a new earliest entry, or shutdown: no polling.
//!
//! # Invariant
//!
//! An item waits at most once: `entries` maps each waiting item to the single heap entry that
//! counts. A second `add_after` for a waiting item keeps the **earlier** ready time. The heap may
//! hold stale entries (superseded by an earlier time); they are recognised by their sequence
//! number and skipped when popped, which stands in for Go's `heap.Fix`.
//!
//! Differs from Go: `add_after` writes straight into the shared heap under a short lock instead of
//! sending on a 1000-slot channel to the loop, so it never blocks; and the 10 s heartbeat is not
//! needed because the task is woken whenever the head of the heap changes. Time is tokio's clock,
//! so tests pause and advance it instead of injecting Go's `clock.Clock`. The task is not started
//! by the constructor (Go starts its goroutine there) but by the first `add_after` or `get` made
//! inside a tokio runtime, so a queue can be built before any runtime exists.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Deref;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::lock::MutexExt;
use crate::metrics::RetryMetrics;
use crate::queue::{HashMap, Queue, QueueConfig, QueueItem};

/// A work queue with delayed adds.
///
/// Port of delaying_queue.go: `delayingType` (`NewDelayingQueueWithConfig`). Like Go's embedding
/// of `Interface`, it dereferences to the underlying [`Queue`] for `add`, `get`, `done`,
/// `shut_down`, ...; shutting that queue down also stops the waiting task. Cloning the handle is
/// cheap; the waiting task is stopped when the queue shuts down or the last handle is dropped.
/// Differs from Go: the waiting task starts at the first `add_after` or `get` inside a tokio
/// runtime rather than in the constructor, so constructing needs no runtime.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use workqueue::DelayingQueue;
///
/// let queue: DelayingQueue<&str> = DelayingQueue::default();
/// queue.add_after("default/web-1", Duration::from_secs(5));
/// assert_eq!(queue.len(), 0); // still waiting
/// tokio::time::sleep(Duration::from_secs(5)).await;
/// assert_eq!(queue.get().await, Some("default/web-1"));
/// # }
/// ```
#[doc(alias = "DelayingInterface")]
#[doc(alias = "TypedDelayingInterface")]
#[doc(alias = "delayingType")]
pub struct DelayingQueue<T: QueueItem> {
    inner: Arc<Inner<T>>,
}

struct Inner<T: QueueItem> {
    queue: Queue<T>,
    waiting: Arc<Waiting<T>>,
    metrics: RetryMetrics,
    /// The waiting loop, started by the first `add_after` or `get` made inside a tokio runtime;
    /// aborted when the last handle goes away.
    task: OnceLock<JoinHandle<()>>,
}

impl<T: QueueItem> Drop for Inner<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.get() {
            task.abort();
        }
    }
}

struct Waiting<T> {
    state: Mutex<WaitState<T>>,
    /// Wakes the loop when a new entry becomes the earliest.
    wake: Notify,
}

struct WaitState<T> {
    heap: BinaryHeap<Reverse<WaitFor<T>>>,
    /// The live entry for each waiting item: its ready time and sequence number.
    entries: HashMap<T, (Instant, u64)>,
    next_seq: u64,
}

/// Port of delaying_queue.go: `waitFor`. Ordered by ready time, then by insertion.
struct WaitFor<T> {
    ready_at: Instant,
    seq: u64,
    item: T,
}

impl<T> PartialEq for WaitFor<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.ready_at, self.seq) == (other.ready_at, other.seq)
    }
}
impl<T> Eq for WaitFor<T> {}
impl<T> PartialOrd for WaitFor<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for WaitFor<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.ready_at, self.seq).cmp(&(other.ready_at, other.seq))
    }
}

impl<T: QueueItem> Clone for DelayingQueue<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T: QueueItem> Default for DelayingQueue<T> {
    fn default() -> Self {
        Self::new(QueueConfig::default())
    }
}

impl<T: QueueItem> std::fmt::Debug for DelayingQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelayingQueue")
            .field("queue", &self.inner.queue)
            .field("waiting", &self.waiting_len())
            .finish()
    }
}

impl<T: QueueItem> Deref for DelayingQueue<T> {
    type Target = Queue<T>;

    fn deref(&self) -> &Queue<T> {
        &self.inner.queue
    }
}

impl<T: QueueItem> DelayingQueue<T> {
    /// Creates a delaying queue over a new [`Queue`] built from `config`.
    ///
    /// Port of delaying_queue.go: `NewDelayingQueueWithConfig`. Differs from Go: the waiting task
    /// (Go's `waitingLoop` goroutine) is started later, by the first `add_after` or `get` made
    /// inside a tokio runtime, so this works outside any runtime.
    pub fn new(config: QueueConfig) -> Self {
        let metrics = RetryMetrics::from_config(&config);
        Self::with_queue(Queue::new(config), metrics)
    }

    fn with_queue(queue: Queue<T>, metrics: RetryMetrics) -> Self {
        let waiting = Arc::new(Waiting {
            state: Mutex::new(WaitState {
                heap: BinaryHeap::new(),
                entries: HashMap::default(),
                next_seq: 0,
            }),
            wake: Notify::new(),
        });
        Self {
            inner: Arc::new(Inner {
                queue,
                waiting,
                metrics,
                task: OnceLock::new(),
            }),
        }
    }

    /// Starts the waiting task unless it runs already or we are outside a tokio runtime (then the
    /// next call from inside one starts it). One atomic load once it runs.
    #[inline]
    fn ensure_waiting_loop(&self) {
        if self.inner.task.get().is_none() {
            self.start_waiting_loop();
        }
    }

    #[cold]
    fn start_waiting_loop(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        self.inner.task.get_or_init(|| {
            runtime.spawn(waiting_loop(
                self.inner.queue.clone(),
                Arc::clone(&self.inner.waiting),
            ))
        });
    }

    /// Waits for the next item, as [`Queue::get`] (see there, including cancel safety).
    ///
    /// Port of queue.go: `Type.Get`, which Go's `delayingType` embeds. Differs from Go: it also
    /// starts the waiting task if it is not running yet, so items passed to `add_after` before
    /// any runtime existed still arrive.
    pub async fn get(&self) -> Option<T> {
        self.ensure_waiting_loop();
        self.inner.queue.get().await
    }

    /// Adds `item` to the queue once `delay` has passed.
    ///
    /// Port of delaying_queue.go: `delayingType.AddAfter`. Dropped after shutdown. A zero delay
    /// adds at once (Go's `duration <= 0`; a negative `Duration` cannot exist in Rust). If the
    /// item is already waiting, it keeps whichever ready time is earlier. Counts a retry in the
    /// queue's metrics.
    ///
    /// Outside a tokio runtime the item is recorded, and moved to the queue once the waiting task
    /// runs: it starts at the next `add_after` or `get` made inside a runtime.
    pub fn add_after(&self, item: T, delay: Duration) {
        if self.inner.queue.shutting_down_fast() {
            return;
        }
        self.inner.metrics.retry();
        if delay.is_zero() {
            self.inner.queue.add(item);
            return;
        }
        self.ensure_waiting_loop();
        let ready_at = Instant::now() + delay;
        let mut guard = self.inner.waiting.lock();
        let st = &mut *guard;
        if let Some((existing, _)) = st.entries.get(&item)
            && *existing <= ready_at
        {
            return;
        }
        let seq = st.next_seq;
        st.next_seq += 1;
        let becomes_head = st
            .heap
            .peek()
            .is_none_or(|Reverse(head)| ready_at < head.ready_at);
        st.entries.insert(item.clone(), (ready_at, seq));
        st.heap.push(Reverse(WaitFor {
            ready_at,
            seq,
            item,
        }));
        if becomes_head {
            self.inner.waiting.wake.notify_one();
        }
    }

    /// The number of items waiting for their delay to pass (not yet in the queue).
    pub fn waiting_len(&self) -> usize {
        self.inner.waiting.lock().entries.len()
    }
}

impl<T> Waiting<T> {
    fn lock(&self) -> MutexGuard<'_, WaitState<T>> {
        self.state.lock_unpoisoned()
    }
}

/// Port of delaying_queue.go: `delayingType.waitingLoop`. Runs until the queue shuts down.
async fn waiting_loop<T: QueueItem>(queue: Queue<T>, waiting: Arc<Waiting<T>>) {
    let stop = queue.shutdown_token();
    loop {
        // Register for wake-ups before reading the heap, so an earlier entry added after the read
        // still wakes us.
        let mut woken = pin!(waiting.wake.notified());
        woken.as_mut().enable();
        let next_ready_at = {
            let now = Instant::now();
            let mut st = waiting.lock();
            let mut ready = Vec::new();
            while let Some(Reverse(head)) = st.heap.peek() {
                if head.ready_at > now {
                    break;
                }
                let Some(Reverse(entry)) = st.heap.pop() else {
                    break;
                };
                // Skip entries superseded by an earlier ready time.
                if st.entries.get(&entry.item).map(|(_, seq)| *seq) == Some(entry.seq) {
                    st.entries.remove(&entry.item);
                    ready.push(entry.item);
                }
            }
            let next = st.heap.peek().map(|Reverse(head)| head.ready_at);
            drop(st);
            for item in ready {
                queue.add(item);
            }
            next
        };
        match next_ready_at {
            Some(deadline) => {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = woken => {}
                    _ = tokio::time::sleep_until(deadline) => {}
                }
            }
            None => {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = woken => {}
                }
            }
        }
    }
}
