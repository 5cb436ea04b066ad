//! Port of tools/cache/the_real_fifo.go: RealFIFO, the informers' default queue since
//! client-go 1.33.
//!
//! Data flow: every call from the reflector appends one [`Delta`] to a single list, in arrival
//! order; nothing is coalesced per key. `pop` hands out one delta at a time (as a one-element
//! [`Deltas`] so consumers are shared with [`crate::DeltaFifo`]). A `replace` (relist) first
//! appends a tombstone deletion for every key that is queued (unless its last queued delta is
//! already a deletion) or known to the cache but absent from the new list, *then* a `Replaced`
//! delta for each listed object, so a consumer sees a deleted-then-recreated object as delete
//! followed by add.
//!
//! Invariants: `items` is in arrival order; the initial population not yet popped is at most `items.len()`.
//! `has_synced` turns true once every delta queued by the first `replace` has been popped
//! (or immediately if an add/update/delete came first).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use apimachinery::Object;
use apimachinery::util::sync::MutexExt;
use futures::future::BoxFuture;
use tokio::sync::Notify;

use crate::delta::{DeletedFinalStateUnknown, Delta, Deltas, ObjectOrTombstone};
use crate::delta_fifo::TransformFunc;
use crate::error::{Error, Result};
use crate::fifo::{InitialPopulation, PopProcess, Queue};
use crate::store::{KeyFunc, KnownObjects, ReflectorStore, default_key_func};
use crate::wait::SyncFlag;

/// Options of [`RealFifo::new`].
pub struct RealFifoOptions<K> {
    /// Key function; `None` means [`crate::store::meta_namespace_key_func`].
    pub key_function: Option<KeyFunc<K>>,
    /// The consumer's cache (required, as in Go's `NewRealFIFO`).
    pub known_objects: Arc<dyn KnownObjects<K>>,
    /// Applied to every incoming object (not to tombstones or resyncs).
    pub transformer: Option<TransformFunc<K>>,
    /// Raised once the initial population has been popped.
    pub synced: SyncFlag,
}

struct State<K> {
    /// Every delta not yet popped, oldest first.
    items: VecDeque<Delta<K>>,
    /// Whether the first `replace` (or a first add/update/delete) has been fully popped.
    initial: InitialPopulation,
    /// Set by `close`.
    closed: bool,
}

/// A queue that delivers every notification, in order. Port of `RealFIFO`.
///
/// Differs from Go: `pop` is async, and the known objects are required by type rather than by
/// a panic in the constructor.
#[doc(alias = "RealFIFO")]
pub struct RealFifo<K> {
    state: Mutex<State<K>>,
    notify: Notify,
    key_func: KeyFunc<K>,
    known_objects: Arc<dyn KnownObjects<K>>,
    transformer: Option<TransformFunc<K>>,
    synced: SyncFlag,
}

impl<K: Object + Send + Sync + 'static> RealFifo<K> {
    /// A new queue. Port of `NewRealFIFO`.
    pub fn new(opts: RealFifoOptions<K>) -> Self {
        RealFifo {
            state: Mutex::new(State {
                items: VecDeque::new(),
                initial: InitialPopulation::default(),
                closed: false,
            }),
            notify: Notify::new(),
            key_func: opts.key_function.unwrap_or_else(default_key_func),
            known_objects: opts.known_objects,
            transformer: opts.transformer,
            synced: opts.synced,
        }
    }
}

impl<K: Send + Sync + 'static> RealFifo<K> {
    fn lock(&self) -> MutexGuard<'_, State<K>> {
        self.state.lock_unpoisoned()
    }

    fn wrap(&self, mut obj: K) -> Result<(String, Arc<K>)> {
        let key = (self.key_func)(&obj).map_err(|source| Error::Key { source })?;
        if let Some(t) = &self.transformer {
            t(&mut obj);
        }
        Ok((key, Arc::new(obj)))
    }

    fn push(&self, st: &mut State<K>, key: &str, delta: Delta<K>) {
        tracing::debug!(key, delta = ?delta.kind(), "RealFIFO: queued delta");
        st.items.push_back(delta);
        self.notify.notify_waiters();
    }

    fn publish_synced(&self, st: &State<K>) {
        if st.initial.is_synced() {
            self.synced.set();
        }
    }

    /// See [`Queue::has_synced`]. Port of `HasSynced`.
    pub fn has_synced(&self) -> bool {
        let st = self.lock();
        st.initial.is_synced()
    }

    /// The sync flag.
    pub fn synced_flag(&self) -> &SyncFlag {
        &self.synced
    }

    /// Number of queued deltas.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// True if nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.lock().items.is_empty()
    }

    fn add_action(&self, obj: K, make: fn(Arc<K>) -> Delta<K>) -> Result<()> {
        let (key, obj) = self.wrap(obj)?;
        let mut st = self.lock();
        st.initial.mark_populated();
        self.push(&mut st, &key, make(obj));
        self.publish_synced(&st);
        Ok(())
    }
}

impl<K: Send + Sync + 'static> ReflectorStore<K> for RealFifo<K> {
    fn add(&self, obj: K) -> Result<()> {
        self.add_action(obj, Delta::Added)
    }

    fn update(&self, obj: K) -> Result<()> {
        self.add_action(obj, Delta::Updated)
    }

    fn delete(&self, obj: K) -> Result<()> {
        self.add_action(obj, |o| Delta::Deleted(ObjectOrTombstone::Object(o)))
    }

    /// Tombstones for vanished keys first, then `Replaced` for every listed object.
    /// Port of `Replace`.
    fn replace(&self, list: Vec<K>, resource_version: &str) -> Result<()> {
        let mut new_items = Vec::with_capacity(list.len());
        for obj in list {
            new_items.push(self.wrap(obj)?);
        }
        let new_keys: HashSet<&str> = new_items.iter().map(|(k, _)| k.as_str()).collect();
        let mut st = self.lock();

        // The last queued delta of each queued key, in first-seen order.
        let mut queued_keys: Vec<String> = Vec::new();
        let mut last_for_key: HashMap<String, usize> = HashMap::new();
        for (i, d) in st.items.iter().enumerate() {
            let key = d.key(&self.key_func)?;
            if last_for_key.insert(key.clone(), i).is_none() {
                queued_keys.push(key);
            }
        }
        let mut tombstones = Vec::new();
        for key in &queued_keys {
            if new_keys.contains(key.as_str()) {
                continue;
            }
            let Some(last) = last_for_key.get(key).and_then(|i| st.items.get(*i)) else {
                continue;
            };
            // Already deleted in the queue: nothing more to say.
            if let Delta::Deleted(_) = last {
                continue;
            }
            tombstones.push(DeletedFinalStateUnknown {
                key: key.clone(),
                obj: last.object().cloned(),
            });
        }
        for key in self.known_objects.list_keys() {
            if new_keys.contains(key.as_str()) || last_for_key.contains_key(&key) {
                continue;
            }
            let obj = self.known_objects.get_by_key(&key);
            if obj.is_none() {
                tracing::warn!(
                    key,
                    "RealFIFO: known key vanished during replace; tombstone without object"
                );
            }
            tombstones.push(DeletedFinalStateUnknown { key, obj });
        }
        let n_tombstones = tombstones.len();
        for t in tombstones {
            tracing::debug!(key = %t.key, "RealFIFO: relist lacks key; queued tombstone");
            let key = t.key.clone();
            self.push(
                &mut st,
                &key,
                Delta::Deleted(ObjectOrTombstone::Tombstone(t)),
            );
        }
        let n_items = new_items.len();
        for (key, obj) in new_items {
            self.push(&mut st, &key, Delta::Replaced(obj));
        }
        let queued = st.items.len();
        st.initial.first_replace(queued);
        tracing::debug!(
            items = n_items,
            tombstones = n_tombstones,
            resource_version,
            "RealFIFO: replaced"
        );
        self.publish_synced(&st);
        Ok(())
    }

    /// Queues `Sync` for every known object with nothing queued. Port of `Resync`.
    fn resync(&self) -> Result<()> {
        let mut st = self.lock();
        let mut in_queue: HashSet<String> = HashSet::with_capacity(st.items.len());
        for d in &st.items {
            in_queue.insert(d.key(&self.key_func)?);
        }
        let mut n = 0;
        for key in self.known_objects.list_keys() {
            if in_queue.contains(&key) {
                continue;
            }
            let Some(obj) = self.known_objects.get_by_key(&key) else {
                continue;
            };
            n += 1;
            self.push(&mut st, &key, Delta::Sync(obj));
        }
        tracing::debug!(queued = n, "RealFIFO: resync");
        Ok(())
    }
}

impl<K: Send + Sync + 'static> Queue<K> for RealFifo<K> {
    fn pop<'a>(&'a self, process: &'a mut PopProcess<'_, K>) -> BoxFuture<'a, Result<Deltas<K>>> {
        Box::pin(async move {
            loop {
                let notified = self.notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                {
                    let mut st = self.lock();
                    if let Some(item) = st.items.pop_front() {
                        let is_in_initial_list = st.initial.pop();
                        let deltas = vec![item];
                        tracing::debug!(delta = ?deltas[0].kind(), is_in_initial_list, depth = st.items.len(), "RealFIFO: popped");
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
        RealFifo::has_synced(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::delta::DeltaType;
    use crate::store::Store;
    use apimachinery::ObjectMeta;

    fn obj(name: &str, value: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            resource_version: Some(value.into()),
            ..ObjectMeta::default()
        }
    }

    fn fifo(known: &[ObjectMeta]) -> (RealFifo<ObjectMeta>, Arc<Store<ObjectMeta>>) {
        let s = Arc::new(Store::new(default_key_func(), Default::default()));
        for o in known {
            s.add(Arc::new(o.clone())).unwrap();
        }
        let f = RealFifo::new(RealFifoOptions {
            key_function: None,
            known_objects: s.clone(),
            transformer: None,
            synced: SyncFlag::new(),
        });
        (f, s)
    }

    async fn drain(f: &RealFifo<ObjectMeta>) -> Vec<(DeltaType, String, bool)> {
        let mut out = Vec::new();
        while !f.is_empty() {
            let mut initial = false;
            let d = f
                .pop(&mut |_: &Deltas<ObjectMeta>, i| initial = i)
                .await
                .unwrap();
            assert_eq!(d.len(), 1);
            let v = match &d[0] {
                Delta::Deleted(ObjectOrTombstone::Tombstone(t)) => format!(
                    "tombstone:{}:{}",
                    t.key,
                    t.obj.as_ref().map(|o| o.resource_version()).unwrap_or("-")
                ),
                other => other
                    .object()
                    .map(|o| format!("{}={}", o.name(), o.resource_version()))
                    .unwrap_or_default(),
            };
            out.push((d[0].kind(), v, initial));
        }
        out
    }

    #[tokio::test]
    async fn every_event_is_delivered_in_arrival_order_without_coalescing() {
        let (f, _) = fifo(&[]);
        f.add(obj("a", "1")).unwrap();
        f.update(obj("a", "2")).unwrap();
        f.add(obj("b", "1")).unwrap();
        f.delete(obj("a", "3")).unwrap();
        let got: Vec<_> = drain(&f)
            .await
            .into_iter()
            .map(|(k, v, _)| (k, v))
            .collect();
        assert_eq!(
            got,
            vec![
                (DeltaType::Added, "a=1".into()),
                (DeltaType::Updated, "a=2".into()),
                (DeltaType::Added, "b=1".into()),
                (DeltaType::Deleted, "a=3".into()),
            ]
        );
    }

    #[tokio::test]
    async fn replace_emits_tombstones_for_vanished_keys_then_replaced() {
        let (f, _) = fifo(&[obj("known-gone", "5"), obj("kept", "5")]);
        f.add(obj("queued-gone", "1")).unwrap();
        f.add(obj("deleted", "1")).unwrap();
        f.delete(obj("deleted", "2")).unwrap();
        let _ = drain(&f).await;
        f.add(obj("queued-gone", "2")).unwrap();
        f.delete(obj("already-deleted", "3")).unwrap();
        f.replace(vec![obj("kept", "6"), obj("new", "1")], "10")
            .unwrap();
        let got: Vec<_> = drain(&f)
            .await
            .into_iter()
            .map(|(k, v, _)| (k, v))
            .collect();
        assert_eq!(
            got,
            vec![
                (DeltaType::Added, "queued-gone=2".into()),
                (DeltaType::Deleted, "already-deleted=3".into()),
                (DeltaType::Deleted, "tombstone:queued-gone:2".into()),
                (DeltaType::Deleted, "tombstone:known-gone:5".into()),
                (DeltaType::Replaced, "kept=6".into()),
                (DeltaType::Replaced, "new=1".into()),
            ]
        );
    }

    #[tokio::test]
    async fn has_synced_only_after_the_initial_population_is_processed() {
        let (f, _) = fifo(&[obj("gone", "1")]);
        assert!(!f.has_synced());
        f.replace(vec![obj("a", "1")], "1").unwrap();
        f.add(obj("b", "1")).unwrap();
        let got = drain(&f).await;
        assert_eq!(
            got.iter().map(|(_, _, i)| *i).collect::<Vec<_>>(),
            vec![true, true, false],
            "tombstone and replaced are initial, the later add is not: {got:?}"
        );
        assert!(f.has_synced());
        assert!(f.synced_flag().is_set());
    }

    #[tokio::test]
    async fn resync_queues_sync_for_known_keys_not_in_queue() {
        let (f, _) = fifo(&[obj("a", "1"), obj("b", "1")]);
        f.update(obj("a", "2")).unwrap();
        f.resync().unwrap();
        let got: Vec<_> = drain(&f)
            .await
            .into_iter()
            .map(|(k, v, _)| (k, v))
            .collect();
        assert_eq!(
            got,
            vec![
                (DeltaType::Updated, "a=2".into()),
                (DeltaType::Sync, "b=1".into()),
            ]
        );
    }

    #[tokio::test]
    async fn close_unblocks_pop_once_empty() {
        let (f, _) = fifo(&[]);
        f.add(obj("a", "1")).unwrap();
        f.close();
        let mut noop = |_: &Deltas<ObjectMeta>, _| {};
        assert!(f.pop(&mut noop).await.is_ok());
        assert!(matches!(f.pop(&mut noop).await, Err(Error::FifoClosed)));
    }

    proptest::proptest! {
        /// Random operations: `has_synced` turns true exactly when the initial population has
        /// been popped, and never turns false again.
        #[test]
        fn initial_population_is_counted_exactly(ops in proptest::collection::vec((0u8..5, 0u8..4), 1..50)) {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let (f, _) = fifo(&[obj("k0", "0")]);
            let mut synced_once = false;
            rt.block_on(async {
                for (op, k) in ops {
                    let name = format!("k{k}");
                    match op {
                        0 => f.add(obj(&name, "1")).unwrap(),
                        1 => f.delete(obj(&name, "2")).unwrap(),
                        2 => f.replace(vec![obj(&name, "3")], "1").unwrap(),
                        3 => f.resync().unwrap(),
                        _ => {
                            if !f.is_empty() {
                                let mut noop = |_: &Deltas<ObjectMeta>, _| {};
                                f.pop(&mut noop).await.unwrap();
                            }
                        }
                    }
                    let st = f.lock();
                    proptest::prop_assert!(st.initial.remaining() <= st.items.len());
                    drop(st);
                    if synced_once {
                        proptest::prop_assert!(f.has_synced());
                    }
                    synced_once |= f.has_synced();
                    proptest::prop_assert_eq!(f.has_synced(), f.synced_flag().is_set());
                }
                Ok(())
            })?;
        }
    }
}
