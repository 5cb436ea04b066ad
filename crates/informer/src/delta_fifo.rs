//! Port of tools/cache/delta_fifo.go: the classic DeltaFIFO. The change types every FIFO shares
//! ([`Delta`], [`Deltas`], [`DeletedFinalStateUnknown`], [`ObjectOrTombstone`]) live in
//! [`crate::delta`] and are re-exported here, where Go declares them.
//!
//! Data flow: the reflector calls `add`/`update`/`delete`/`replace`/`resync`; each call appends
//! a [`Delta`] to the *per-key* list of that object's key, enqueuing the key if it was not
//! queued. `pop` hands the consumer the whole [`Deltas`] of the oldest key: everything that
//! happened to that object since it was last processed. A `replace` (relist) also emits a
//! `Deleted` delta holding a [`DeletedFinalStateUnknown`] tombstone for every key that is
//! known (queued, or in the consumer's cache) but absent from the new list: those are
//! deletions missed while the watch was down.
//!
//! Invariants (executable in tests as `check_invariants`):
//! - a key is in `queue` iff it is in `items`; `queue` has no duplicates;
//! - every `Deltas` in `items` has at least one delta;
//! - two consecutive `Deleted` deltas never stay side by side (the one with more information
//!   is kept).
//!
//! ```
//! use informer::{DeltaFifo, DeltaFifoOptions, ReflectorStore, DeltaType};
//! let fifo = DeltaFifo::<apimachinery::ObjectMeta>::new(DeltaFifoOptions::default());
//! let mut m = apimachinery::ObjectMeta::default();
//! m.name = Some("a".into());
//! fifo.add(m.clone())?;
//! fifo.update(m)?;
//! let kinds: Vec<DeltaType> = fifo.get_by_key("a").unwrap().iter().map(|d| d.kind()).collect();
//! assert_eq!(kinds, [DeltaType::Added, DeltaType::Updated]);
//! # Ok::<(), informer::Error>(())
//! ```

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use apimachinery::Object;
use apimachinery::util::sync::MutexExt;
use futures::future::BoxFuture;
use tokio::sync::Notify;

pub use crate::delta::{DeletedFinalStateUnknown, Delta, DeltaType, Deltas, ObjectOrTombstone};
use crate::error::{Error, Result};
use crate::fifo::{InitialPopulation, PopProcess, Queue};
use crate::store::{KeyFunc, KnownObjects, ReflectorStore, default_key_func};
use crate::wait::SyncFlag;

/// Called on every object before it is queued, e.g. to drop `managedFields`.
/// Port of `TransformFunc`.
///
/// Differs from Go: mutates in place and cannot fail; it runs before the object is shared, so
/// mutating is safe and costs no copy. It is never called on tombstones or resync objects
/// (those already went through it).
pub type TransformFunc<K> = Arc<dyn Fn(&mut K) + Send + Sync>;

/// Options of [`DeltaFifo::new`]. Port of `DeltaFIFOOptions`.
pub struct DeltaFifoOptions<K> {
    /// Key function; `None` means [`crate::store::meta_namespace_key_func`].
    pub key_function: Option<KeyFunc<K>>,
    /// The consumer's cache, consulted by `delete`, `replace` and `resync`.
    pub known_objects: Option<Arc<dyn KnownObjects<K>>>,
    /// Emit `Replaced` (instead of `Sync`) for the items of a `replace`. Informers set it.
    pub emit_delta_type_replaced: bool,
    /// Applied to every incoming object.
    pub transformer: Option<TransformFunc<K>>,
    /// Raised once the initial population has been popped.
    pub synced: SyncFlag,
}

impl<K> Default for DeltaFifoOptions<K> {
    fn default() -> Self {
        DeltaFifoOptions {
            key_function: None,
            known_objects: None,
            emit_delta_type_replaced: false,
            transformer: None,
            synced: SyncFlag::new(),
        }
    }
}

struct State<K> {
    /// Key → its pending deltas. Each `Deltas` has at least one delta.
    items: HashMap<String, Deltas<K>>,
    /// Keys in FIFO order. No duplicates; a key is in `queue` iff it is in `items`.
    queue: VecDeque<String>,
    /// Whether the first `replace` (or a first add/update/delete) has been fully popped.
    initial: InitialPopulation,
    /// Set by `close`.
    closed: bool,
}

/// A queue of per-object delta lists. Port of `DeltaFIFO`.
///
/// Differs from Go: `pop` is async (a [`Notify`] instead of a `sync.Cond`), `has_synced` is
/// also observable as a [`SyncFlag`], and `add_if_not_present` takes `Deltas` by type.
#[doc(alias = "DeltaFIFO")]
pub struct DeltaFifo<K> {
    state: Mutex<State<K>>,
    notify: Notify,
    key_func: KeyFunc<K>,
    known_objects: Option<Arc<dyn KnownObjects<K>>>,
    emit_delta_type_replaced: bool,
    transformer: Option<TransformFunc<K>>,
    synced: SyncFlag,
}

impl<K: Object + Send + Sync + 'static> DeltaFifo<K> {
    /// A new queue. Port of `NewDeltaFIFOWithOptions`.
    pub fn new(opts: DeltaFifoOptions<K>) -> Self {
        DeltaFifo {
            state: Mutex::new(State {
                items: HashMap::new(),
                queue: VecDeque::new(),
                initial: InitialPopulation::default(),
                closed: false,
            }),
            notify: Notify::new(),
            key_func: opts.key_function.unwrap_or_else(default_key_func),
            known_objects: opts.known_objects,
            emit_delta_type_replaced: opts.emit_delta_type_replaced,
            transformer: opts.transformer,
            synced: opts.synced,
        }
    }
}

impl<K: Send + Sync + 'static> DeltaFifo<K> {
    // Every mutation computes what it can fail on before changing anything, so the state is
    // consistent even if a panic poisoned the lock.
    fn lock(&self) -> MutexGuard<'_, State<K>> {
        self.state.lock_unpoisoned()
    }

    fn key_of(&self, obj: &K) -> Result<String> {
        (self.key_func)(obj).map_err(|source| Error::Key { source })
    }

    fn wrap(&self, mut obj: K) -> Arc<K> {
        if let Some(t) = &self.transformer {
            t(&mut obj);
        }
        Arc::new(obj)
    }

    /// Raises the sync flag when the initial population has been processed.
    fn publish_synced(&self, st: &State<K>) {
        if st.initial.is_synced() {
            self.synced.set();
        }
    }

    /// Appends `delta` under `id`, de-duplicating trailing deletions. Port of
    /// `queueActionLocked`.
    fn queue_action_locked(&self, st: &mut State<K>, id: String, delta: Delta<K>) {
        tracing::debug!(key = %id, delta = ?delta.kind(), "DeltaFIFO: queued delta");
        match st.items.get_mut(&id) {
            Some(deltas) => {
                deltas.push(delta);
                dedup_deltas(deltas);
            }
            None => {
                st.queue.push_back(id.clone());
                st.items.insert(id, vec![delta]);
            }
        }
        self.notify.notify_waiters();
    }

    /// True if an add/update/delete came first, or the first `replace`'s items were popped.
    /// Port of `HasSynced`.
    pub fn has_synced(&self) -> bool {
        let st = self.lock();
        st.initial.is_synced()
    }

    /// The sync flag (raised when [`DeltaFifo::has_synced`] becomes true).
    pub fn synced_flag(&self) -> &SyncFlag {
        &self.synced
    }

    /// Queues `deltas` under their key unless that key is already queued. Port of
    /// `AddIfNotPresent`: lets a single consumer retry an item without clobbering newer ones.
    pub fn add_if_not_present(&self, deltas: Deltas<K>) -> Result<()> {
        let Some(newest) = deltas.last() else {
            return Err(Error::Key {
                source: "0 length Deltas object; can't get key".into(),
            });
        };
        let id = newest.key(&self.key_func)?;
        let mut st = self.lock();
        st.initial.mark_populated();
        if !st.items.contains_key(&id) {
            st.queue.push_back(id.clone());
            st.items.insert(id, deltas);
            self.notify.notify_waiters();
        }
        self.publish_synced(&st);
        Ok(())
    }

    /// The newest object of every queued key. Port of `List`.
    pub fn list(&self) -> Vec<Arc<K>> {
        let st = self.lock();
        st.items
            .values()
            .filter_map(|d| d.last().and_then(Delta::object).cloned())
            .collect()
    }

    /// The queued keys in FIFO order. Port of `ListKeys`.
    pub fn list_keys(&self) -> Vec<String> {
        self.lock().queue.iter().cloned().collect()
    }

    /// A copy of the deltas queued for `key`. Port of `GetByKey`.
    pub fn get_by_key(&self, key: &str) -> Option<Deltas<K>> {
        self.lock().items.get(key).cloned()
    }

    /// Number of queued keys.
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// True if nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.lock().queue.is_empty()
    }

    /// Panics if "a key is in `queue` iff it is in `items`" or "no empty `Deltas`" is broken.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        let st = self.lock();
        let q: HashSet<&String> = st.queue.iter().collect();
        assert_eq!(q.len(), st.queue.len(), "duplicate key in queue");
        let i: HashSet<&String> = st.items.keys().collect();
        assert_eq!(q, i, "queue and items disagree");
        assert!(st.items.values().all(|d| !d.is_empty()), "empty Deltas");
    }
}

/// Collapses the last two deltas if both are deletions, keeping the one with more
/// information (a real final state beats a tombstone). Port of `dedupDeltas`.
fn dedup_deltas<K>(deltas: &mut Deltas<K>) {
    let n = deltas.len();
    if n < 2 {
        return;
    }
    let (a, b) = (&deltas[n - 1], &deltas[n - 2]);
    if let (Delta::Deleted(_), Delta::Deleted(older)) = (a, b) {
        if older.is_tombstone() {
            // Keep the newer one: drop the older.
            deltas.remove(n - 2);
        } else {
            deltas.pop();
        }
    }
}

impl<K: Send + Sync + 'static> ReflectorStore<K> for DeltaFifo<K> {
    fn add(&self, obj: K) -> Result<()> {
        let id = self.key_of(&obj)?;
        let obj = self.wrap(obj);
        let mut st = self.lock();
        st.initial.mark_populated();
        self.queue_action_locked(&mut st, id, Delta::Added(obj));
        self.publish_synced(&st);
        Ok(())
    }

    fn update(&self, obj: K) -> Result<()> {
        let id = self.key_of(&obj)?;
        let obj = self.wrap(obj);
        let mut st = self.lock();
        st.initial.mark_populated();
        self.queue_action_locked(&mut st, id, Delta::Updated(obj));
        self.publish_synced(&st);
        Ok(())
    }

    /// Queues a deletion unless the key is unknown both here and in the known objects (then
    /// a relist already reported it). Port of `Delete`.
    fn delete(&self, obj: K) -> Result<()> {
        let id = self.key_of(&obj)?;
        let mut st = self.lock();
        st.initial.mark_populated();
        let queued = st.items.contains_key(&id);
        let known = match &self.known_objects {
            Some(k) => k.get_by_key(&id).is_some(),
            None => false,
        };
        if !queued && !known {
            tracing::debug!(key = %id, "DeltaFIFO: ignored delete of unknown key (already gone)");
            self.publish_synced(&st);
            return Ok(());
        }
        let obj = self.wrap(obj);
        self.queue_action_locked(&mut st, id, Delta::Deleted(ObjectOrTombstone::Object(obj)));
        self.publish_synced(&st);
        Ok(())
    }

    /// Queues `Replaced` (or `Sync`) for every listed object, then a tombstone deletion for
    /// every queued or known key missing from `list`. Port of `Replace`.
    fn replace(&self, list: Vec<K>, resource_version: &str) -> Result<()> {
        let mut keyed = Vec::with_capacity(list.len());
        for obj in list {
            keyed.push((self.key_of(&obj)?, obj));
        }
        let mut st = self.lock();
        let mut keys: HashSet<String> = HashSet::with_capacity(keyed.len());
        for (key, obj) in keyed {
            let obj = self.wrap(obj);
            let delta = if self.emit_delta_type_replaced {
                Delta::Replaced(obj)
            } else {
                Delta::Sync(obj)
            };
            keys.insert(key.clone());
            self.queue_action_locked(&mut st, key, delta);
        }
        // Deletions among queued keys: their newest delta is the last known state.
        let mut queued_deletions = 0;
        let missing: Vec<(String, Option<Arc<K>>)> = st
            .items
            .iter()
            .filter(|(k, _)| !keys.contains(*k))
            .map(|(k, d)| (k.clone(), d.last().and_then(Delta::object).cloned()))
            .collect();
        for (key, obj) in missing {
            tracing::debug!(key = %key, "DeltaFIFO: relist lacks a queued key; queued tombstone");
            queued_deletions += 1;
            let t = DeletedFinalStateUnknown {
                key: key.clone(),
                obj,
            };
            self.queue_action_locked(
                &mut st,
                key,
                Delta::Deleted(ObjectOrTombstone::Tombstone(t)),
            );
        }
        // Deletions among known keys with nothing queued.
        if let Some(known) = &self.known_objects {
            for key in known.list_keys() {
                if keys.contains(&key) || st.items.get(&key).is_some_and(|d| !d.is_empty()) {
                    continue;
                }
                let obj = known.get_by_key(&key);
                tracing::debug!(key = %key, "DeltaFIFO: relist lacks a cached key; queued tombstone");
                queued_deletions += 1;
                let t = DeletedFinalStateUnknown {
                    key: key.clone(),
                    obj,
                };
                self.queue_action_locked(
                    &mut st,
                    key,
                    Delta::Deleted(ObjectOrTombstone::Tombstone(t)),
                );
            }
        }
        st.initial.first_replace(keys.len() + queued_deletions);
        tracing::debug!(
            items = keys.len(),
            tombstones = queued_deletions,
            resource_version,
            "DeltaFIFO: replaced"
        );
        self.publish_synced(&st);
        Ok(())
    }

    /// Queues `Sync` for every known object whose key has nothing queued. Port of `Resync`.
    fn resync(&self) -> Result<()> {
        let Some(known) = &self.known_objects else {
            return Ok(());
        };
        let mut st = self.lock();
        let mut n = 0;
        for key in known.list_keys() {
            let Some(obj) = known.get_by_key(&key) else {
                continue;
            };
            // A queued event for this key is newer than the cached object: skip, or the
            // resync would deliver a stale state after it.
            if st.items.get(&key).is_some_and(|d| !d.is_empty()) {
                continue;
            }
            n += 1;
            self.queue_action_locked(&mut st, key, Delta::Sync(obj));
        }
        tracing::debug!(queued = n, "DeltaFIFO: resync");
        Ok(())
    }
}

impl<K: Send + Sync + 'static> Queue<K> for DeltaFifo<K> {
    fn pop<'a>(&'a self, process: &'a mut PopProcess<'_, K>) -> BoxFuture<'a, Result<Deltas<K>>> {
        Box::pin(async move {
            loop {
                let notified = self.notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                {
                    let mut st = self.lock();
                    while let Some(id) = st.queue.pop_front() {
                        let is_in_initial_list = st.initial.pop();
                        let Some(deltas) = st.items.remove(&id) else {
                            tracing::error!(key = %id, "DeltaFIFO: key in queue but not in items; skipped");
                            continue;
                        };
                        tracing::debug!(key = %id, deltas = deltas.len(), is_in_initial_list, "DeltaFIFO: popped");
                        process(&deltas, is_in_initial_list);
                        self.publish_synced(&st);
                        return Ok(deltas);
                    }
                    if st.closed {
                        return Err(Error::FifoClosed);
                    }
                }
                notified.await;
            }
        })
    }

    fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
    }

    fn is_closed(&self) -> bool {
        self.lock().closed
    }

    fn has_synced(&self) -> bool {
        DeltaFifo::has_synced(self)
    }
}

#[cfg(test)]
#[path = "delta_fifo_tests.rs"]
mod tests;
