//! The in-memory object store: current objects, a global resourceVersion counter, a bounded
//! event history (like the API server's watch cache) and a broadcast channel for live watches.
//!
//! Data flow: handlers mutate through [`Store::write`], which runs a closure on a [`Txn`] under
//! the store lock. Every [`Txn::put`] / [`Txn::remove`] bumps the resourceVersion, appends a
//! [`StoredEvent`] to the history and broadcasts it, all under the lock, so watchers see events
//! in resourceVersion order and a subscription taken under the lock misses nothing.
//!
//! Reads at an older resourceVersion are served by rolling the current state back with the
//! history: the state at `rv` is the current state with, for each key changed after `rv`, the
//! `prev` object of the first such change. That is possible for any `rv >= floor`; older reads
//! get 410 Expired, as after an etcd compaction.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::broadcast;

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects. Sorting by this key
/// gives the API server's list order (etcd key order).
pub(crate) type ObjectKey = (String, String);

/// The kind of change an event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

/// One change, as kept in the history and broadcast to watchers.
#[derive(Debug)]
pub(crate) struct StoredEvent {
    pub rv: u64,
    /// The resource's storage key (`ResourceInfo::key`).
    pub resource: Arc<str>,
    pub kind: EventType,
    pub key: ObjectKey,
    /// The object after the change; for `Deleted`, the last state with the deletion's rv.
    pub object: Arc<Value>,
    /// The object before the change (`None` for `Added`).
    pub prev: Option<Arc<Value>>,
}

/// Why a read at a given resourceVersion cannot be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RvError {
    /// Older than the retained history (`floor`); maps to 410 Expired.
    TooOld { floor: u64 },
    /// Newer than the current resourceVersion; maps to 504 `ResourceVersionTooLarge`.
    TooNew { current: u64 },
}

/// Objects of one resource at one resourceVersion, in key order.
pub(crate) struct Snapshot {
    pub rv: u64,
    pub items: Vec<Arc<Value>>,
}

/// A watch subscription taken atomically with the state it starts from.
pub(crate) struct Subscription {
    /// The resourceVersion the backlog or initial state is at.
    pub rv: u64,
    /// Events to replay before live ones (watch from a resourceVersion).
    pub backlog: Vec<Arc<StoredEvent>>,
    /// Current objects (watch from `""`/`"0"` or with `sendInitialEvents`).
    pub initial: Vec<Arc<Value>>,
    pub live: broadcast::Receiver<Arc<StoredEvent>>,
}

struct Inner {
    rv: u64,
    tables: HashMap<Arc<str>, BTreeMap<ObjectKey, Arc<Value>>>,
    /// Invariant: holds exactly the events with `floor < rv <= self.rv`, oldest first, and at
    /// most `window` of them.
    history: VecDeque<Arc<StoredEvent>>,
    window: usize,
    floor: u64,
}

/// The store; cheap to share behind an `Arc`.
pub(crate) struct Store {
    inner: Mutex<Inner>,
    events: broadcast::Sender<Arc<StoredEvent>>,
}

impl Store {
    /// An empty store starting at `start_rv`, keeping `window` events of history and buffering
    /// `channel_capacity` events per watcher before the slowest is cut off.
    pub fn new(start_rv: u64, window: usize, channel_capacity: usize) -> Self {
        let (events, _) = broadcast::channel(channel_capacity.max(1));
        Store {
            inner: Mutex::new(Inner {
                rv: start_rv,
                tables: HashMap::new(),
                history: VecDeque::new(),
                window: window.max(1),
                floor: start_rv,
            }),
            events,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave `Inner` half-updated in a way that
        // matters to a test server, so poisoning is ignored rather than propagated.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with exclusive access; every change it makes is versioned and broadcast.
    pub fn write<T>(&self, f: impl FnOnce(&mut Txn<'_>) -> T) -> T {
        let mut inner = self.lock();
        let mut txn = Txn {
            inner: &mut inner,
            events: &self.events,
        };
        f(&mut txn)
    }

    /// Runs `f` like [`Store::write`] on a scratch copy that is thrown away: `dryRun=All`.
    /// Costs one `Arc` clone per stored object.
    pub fn write_scratch<T>(&self, f: impl FnOnce(&mut Txn<'_>) -> T) -> T {
        let mut scratch = {
            let inner = self.lock();
            Inner {
                rv: inner.rv,
                tables: inner.tables.clone(),
                history: VecDeque::new(),
                window: 1,
                floor: inner.rv,
            }
        };
        let (events, _) = broadcast::channel(1);
        let mut txn = Txn {
            inner: &mut scratch,
            events: &events,
        };
        f(&mut txn)
    }

    /// The current resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    /// The oldest resourceVersion that can still be read or watched from.
    pub fn floor(&self) -> u64 {
        self.lock().floor
    }

    /// One object.
    pub fn get(&self, resource: &str, key: &ObjectKey) -> Option<Arc<Value>> {
        self.lock()
            .tables
            .get(resource)
            .and_then(|t| t.get(key))
            .cloned()
    }

    /// Objects of `resource` (in `namespace`, if given) with keys after `start_after`, as of
    /// `at` (`None`: now).
    pub fn snapshot(
        &self,
        resource: &str,
        namespace: Option<&str>,
        at: Option<u64>,
        start_after: Option<&ObjectKey>,
    ) -> Result<Snapshot, RvError> {
        let inner = self.lock();
        let at = match at {
            None => inner.rv,
            Some(rv) if rv < inner.floor => return Err(RvError::TooOld { floor: inner.floor }),
            Some(rv) if rv > inner.rv => return Err(RvError::TooNew { current: inner.rv }),
            Some(rv) => rv,
        };
        let in_range = |k: &ObjectKey| {
            namespace.is_none_or(|ns| k.0 == ns) && start_after.is_none_or(|s| k > s)
        };
        let empty = BTreeMap::new();
        let table = inner.tables.get(resource).unwrap_or(&empty);
        if at == inner.rv {
            let items = range(table, namespace, start_after)
                .filter(|(k, _)| in_range(k))
                .map(|(_, v)| Arc::clone(v))
                .collect();
            return Ok(Snapshot { rv: at, items });
        }
        // Roll back: the first change after `at` to each key tells its state at `at`.
        let mut overlay: BTreeMap<ObjectKey, Option<Arc<Value>>> = BTreeMap::new();
        for ev in inner
            .history
            .iter()
            .filter(|e| e.rv > at && *e.resource == *resource)
        {
            if in_range(&ev.key) && !overlay.contains_key(&ev.key) {
                overlay.insert(ev.key.clone(), ev.prev.clone());
            }
        }
        let mut merged: BTreeMap<ObjectKey, Arc<Value>> = range(table, namespace, start_after)
            .filter(|(k, _)| in_range(k) && !overlay.contains_key(*k))
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        merged.extend(overlay.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        Ok(Snapshot {
            rv: at,
            items: merged.into_values().collect(),
        })
    }

    /// Runs `f` over the current objects of `resource` (in `namespace`, if given) with keys
    /// after `start_after`, in key order, under the lock; returns the resourceVersion too.
    pub fn scan_latest<T>(
        &self,
        resource: &str,
        namespace: Option<&str>,
        start_after: Option<&ObjectKey>,
        f: impl FnOnce(&mut dyn Iterator<Item = &Arc<Value>>) -> T,
    ) -> (u64, T) {
        let inner = self.lock();
        let empty = BTreeMap::new();
        let table = inner.tables.get(resource).unwrap_or(&empty);
        // Keys of one namespace are contiguous; a token from another namespace may start
        // before it, so skip up to it, then stop after it.
        let mut iter = range(table, namespace, start_after)
            .skip_while(|(k, _)| namespace.is_some_and(|ns| k.0.as_str() < ns))
            .take_while(|(k, _)| namespace.is_none_or(|ns| k.0 == ns))
            .map(|(_, v)| v);
        (inner.rv, f(&mut iter))
    }

    /// Subscribes to live events, with the history after `from` as backlog.
    pub fn watch_from(&self, resource: &str, from: u64) -> Result<Subscription, RvError> {
        let inner = self.lock();
        if from < inner.floor {
            return Err(RvError::TooOld { floor: inner.floor });
        }
        if from > inner.rv {
            return Err(RvError::TooNew { current: inner.rv });
        }
        let backlog = inner
            .history
            .iter()
            .filter(|e| e.rv > from && *e.resource == *resource)
            .cloned()
            .collect();
        Ok(Subscription {
            rv: from,
            backlog,
            initial: Vec::new(),
            live: self.events.subscribe(),
        })
    }

    /// Subscribes to live events, with the current objects as the initial state.
    pub fn watch_with_state(&self, resource: &str, namespace: Option<&str>) -> Subscription {
        let inner = self.lock();
        let initial = inner
            .tables
            .get(resource)
            .map(|t| {
                range(t, namespace, None)
                    .filter(|(k, _)| namespace.is_none_or(|ns| k.0 == ns))
                    .map(|(_, v)| Arc::clone(v))
                    .collect()
            })
            .unwrap_or_default();
        Subscription {
            rv: inner.rv,
            backlog: Vec::new(),
            initial,
            live: self.events.subscribe(),
        }
    }

    /// Forgets all history: reads and watches from any older resourceVersion get 410.
    pub fn compact(&self) {
        let mut inner = self.lock();
        inner.history.clear();
        inner.floor = inner.rv;
    }

    /// Number of objects of `resource`.
    pub fn count(&self, resource: &str) -> usize {
        self.lock().tables.get(resource).map_or(0, BTreeMap::len)
    }

    /// Checks the history invariant; used by tests.
    #[cfg(test)]
    fn check_invariants(&self) {
        let inner = self.lock();
        assert!(inner.history.len() <= inner.window);
        let mut expected = inner.floor;
        for ev in &inner.history {
            assert!(ev.rv > expected, "history out of order");
            expected = ev.rv;
        }
        assert!(expected <= inner.rv);
    }
}

/// The keys of `table` in `namespace` (all when `None`) after `start_after`.
fn range<'a>(
    table: &'a BTreeMap<ObjectKey, Arc<Value>>,
    namespace: Option<&str>,
    start_after: Option<&ObjectKey>,
) -> Box<dyn Iterator<Item = (&'a ObjectKey, &'a Arc<Value>)> + 'a> {
    use std::ops::Bound;
    let lower = match (namespace, start_after) {
        (_, Some(s)) => Bound::Excluded(s.clone()),
        (Some(ns), None) => Bound::Included((ns.to_owned(), String::new())),
        (None, None) => Bound::Unbounded,
    };
    Box::new(table.range((lower, Bound::Unbounded)))
}

/// Write access to the store for the duration of one [`Store::write`] call.
pub(crate) struct Txn<'a> {
    inner: &'a mut Inner,
    events: &'a broadcast::Sender<Arc<StoredEvent>>,
}

impl Txn<'_> {
    /// The current resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.inner.rv
    }

    /// One object.
    pub fn get(&self, resource: &str, key: &ObjectKey) -> Option<Arc<Value>> {
        self.inner
            .tables
            .get(resource)
            .and_then(|t| t.get(key))
            .cloned()
    }

    /// Every object of `resource` in `namespace` (all when `None`), in key order.
    pub fn list(&self, resource: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
        self.inner
            .tables
            .get(resource)
            .map(|t| {
                range(t, namespace, None)
                    .filter(|(k, _)| namespace.is_none_or(|ns| k.0 == ns))
                    .map(|(_, v)| Arc::clone(v))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every resource key that has objects.
    pub fn resources(&self) -> Vec<Arc<str>> {
        self.inner.tables.keys().cloned().collect()
    }

    /// Stores `object` under a new resourceVersion (written into `metadata.resourceVersion`)
    /// and records ADDED or MODIFIED.
    pub fn put(&mut self, resource: &Arc<str>, key: ObjectKey, mut object: Value) -> Arc<Value> {
        self.inner.rv += 1;
        let rv = self.inner.rv;
        set_rv(&mut object, rv);
        let object = Arc::new(object);
        let prev = self
            .inner
            .tables
            .entry(Arc::clone(resource))
            .or_default()
            .insert(key.clone(), Arc::clone(&object));
        let kind = if prev.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.record(StoredEvent {
            rv,
            resource: Arc::clone(resource),
            kind,
            key,
            object: Arc::clone(&object),
            prev,
        });
        object
    }

    /// Removes an object under a new resourceVersion and records DELETED; returns the last
    /// state stamped with the deletion's resourceVersion.
    pub fn remove(&mut self, resource: &Arc<str>, key: &ObjectKey) -> Option<Arc<Value>> {
        let prev = self.inner.tables.get_mut(resource)?.remove(key)?;
        self.inner.rv += 1;
        let rv = self.inner.rv;
        let mut last = (*prev).clone();
        set_rv(&mut last, rv);
        let last = Arc::new(last);
        self.record(StoredEvent {
            rv,
            resource: Arc::clone(resource),
            kind: EventType::Deleted,
            key: key.clone(),
            object: Arc::clone(&last),
            prev: Some(prev),
        });
        Some(last)
    }

    fn record(&mut self, event: StoredEvent) {
        let event = Arc::new(event);
        self.inner.history.push_back(Arc::clone(&event));
        while self.inner.history.len() > self.inner.window {
            if let Some(old) = self.inner.history.pop_front() {
                self.inner.floor = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.events.send(event);
    }
}

fn set_rv(object: &mut Value, rv: u64) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(name: &str) -> ObjectKey {
        ("ns".into(), name.into())
    }

    fn obj(name: &str, v: i64) -> Value {
        json!({"metadata": {"name": name, "namespace": "ns"}, "v": v})
    }

    #[test]
    fn snapshot_at_an_older_rv_rolls_back_later_changes() {
        let store = Store::new(1, 100, 16);
        let r: Arc<str> = Arc::from("/pods");
        store.write(|t| {
            t.put(&r, key("a"), obj("a", 1));
            t.put(&r, key("b"), obj("b", 1));
        });
        let at = store.current_rv();
        store.write(|t| {
            t.put(&r, key("a"), obj("a", 2));
            t.remove(&r, &key("b"));
            t.put(&r, key("c"), obj("c", 1));
        });
        let old = store.snapshot("/pods", Some("ns"), Some(at), None);
        let old = old.map(|s| {
            s.items
                .iter()
                .map(|o| (o["metadata"]["name"].clone(), o["v"].clone()))
                .collect::<Vec<_>>()
        });
        assert_eq!(
            old,
            Ok(vec![(json!("a"), json!(1)), (json!("b"), json!(1))])
        );
        let now = store
            .snapshot("/pods", None, None, None)
            .map(|s| s.items.len());
        assert_eq!(now, Ok(2));
        store.check_invariants();
    }

    #[test]
    fn history_window_moves_the_floor_and_old_reads_expire() {
        let store = Store::new(10, 2, 16);
        let r: Arc<str> = Arc::from("/pods");
        store.write(|t| {
            for i in 0..5 {
                t.put(&r, key(&format!("p{i}")), obj("p", i));
            }
        });
        store.check_invariants();
        assert_eq!(store.floor(), 13);
        assert!(matches!(
            store.snapshot("/pods", None, Some(12), None),
            Err(RvError::TooOld { floor: 13 })
        ));
        assert!(matches!(
            store.watch_from("/pods", 99),
            Err(RvError::TooNew { current: 15 })
        ));
        assert_eq!(
            store.watch_from("/pods", 13).map(|s| s.backlog.len()).ok(),
            Some(2)
        );
        store.compact();
        assert!(store.watch_from("/pods", 14).is_err());
    }
}
