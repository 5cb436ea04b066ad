//! The in-memory object store: current objects, a global resourceVersion counter, a bounded
//! event history (like the API server's watch cache) and a broadcast channel for live watches.
//!
//! Data flow: handlers mutate through [`Store::write`], which runs a closure on a [`Txn`] under
//! the store lock. Every [`Txn::put`] / [`Txn::remove`] bumps the resourceVersion, appends a
//! [`StoredEvent`] to the history and broadcasts it, all under the lock, so watchers see events
//! in resourceVersion order and a subscription taken under the lock misses nothing.
//!
//! Stored objects are [`StoredObject`]s behind an `Arc`: immutable once stored (a write stores a
//! new one and never changes the old), each with its compact JSON computed on first use and
//! cached, like the API server's `cachingObject` in its watch cache. A LIST, a GET or any number
//! of watchers then copy the same bytes instead of serializing the object again; history,
//! snapshots and subscriptions share the objects, and so their caches, by `Arc`.
//!
//! Reads at an older resourceVersion are served by rolling the current state back with the
//! history: the state at `rv` is the current state with, for each key changed after `rv`, the
//! `prev` object of the first such change. That is possible for any `rv >= floor`; older reads
//! get 410 Expired, as after an etcd compaction.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::{Deref, Range};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use apimachinery::util::sync::MutexExt;
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::broadcast;

/// An object as stored: its `Value` and, once first asked for, its compact JSON.
///
/// Immutable: there is no way to reach the `Value` mutably, so the cached bytes always match
/// it. Code that changes an object clones the `Value` and stores a new `StoredObject`.
pub(crate) struct StoredObject {
    value: Value,
    encoded: OnceLock<Encoded>,
    /// The object's protobuf message (no envelope), once first asked for; `None` inside when
    /// its kind has no protobuf form.
    protobuf: OnceLock<Option<Bytes>>,
}

/// An object's compact JSON (exactly `serde_json::to_vec(&value)`), with what it takes to
/// write the object without `kind` and `apiVersion`.
struct Encoded {
    json: Bytes,
    /// When the object has `kind` or `apiVersion`: the runs of `json` that remain without
    /// them. Each run is whole `"key":value` entries joined by commas; the object without type
    /// meta is `{`, the runs joined by commas, `}`. `None`: the same as `json`.
    untyped_runs: Option<Vec<Range<usize>>>,
}

impl StoredObject {
    /// Wraps `value`; nothing is serialized until the JSON is first needed.
    pub fn new(value: Value) -> Self {
        StoredObject {
            value,
            encoded: OnceLock::new(),
            protobuf: OnceLock::new(),
        }
    }

    /// The object.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The cached encoding, computing it on first use. Two threads racing here may both
    /// serialize; one result is kept. Errors are not cached (serializing a `Value` into memory
    /// does not fail in practice).
    fn encoded(&self) -> serde_json::Result<&Encoded> {
        if let Some(e) = self.encoded.get() {
            return Ok(e);
        }
        let e = encode(&self.value)?;
        Ok(self.encoded.get_or_init(|| e))
    }

    /// The object's compact JSON, byte for byte `serde_json::to_vec(self.value())`.
    pub fn json(&self) -> serde_json::Result<Bytes> {
        self.encoded().map(|e| e.json.clone())
    }

    /// A whole protobuf body for the object (the `k8s\0` envelope around its cached message);
    /// `None` if its kind has no protobuf form.
    pub fn protobuf_body(&self) -> Option<Result<Vec<u8>, String>> {
        self.protobuf()
            .map(|r| r.map(|raw| crate::protobuf::envelope_of(&self.value, &raw)))
    }

    /// The object's protobuf message (without the `k8s\0` envelope), computed from its JSON on
    /// first use and cached like the JSON; `None` if its kind has no protobuf form. Errors are
    /// not cached.
    pub fn protobuf(&self) -> Option<Result<Bytes, String>> {
        if let Some(cached) = self.protobuf.get() {
            return cached.clone().map(Ok);
        }
        let json = match self.json() {
            Ok(j) => j,
            Err(e) => return Some(Err(e.to_string())),
        };
        match crate::protobuf::object_raw(&self.value, &json) {
            None => self.protobuf.get_or_init(|| None).clone().map(Ok),
            Some(Ok(raw)) => self
                .protobuf
                .get_or_init(|| Some(Bytes::from(raw)))
                .clone()
                .map(Ok),
            Some(Err(e)) => Some(Err(e)),
        }
    }

    /// Appends the object's compact JSON to `buf`; with `without_type_meta`, leaves out the
    /// top-level `kind` and `apiVersion` entries, as list items of built-in kinds are written.
    pub fn write_json(&self, buf: &mut Vec<u8>, without_type_meta: bool) -> serde_json::Result<()> {
        let e = self.encoded()?;
        match (&e.untyped_runs, without_type_meta) {
            (Some(runs), true) => {
                buf.push(b'{');
                for (i, run) in runs.iter().enumerate() {
                    if i > 0 {
                        buf.push(b',');
                    }
                    buf.extend_from_slice(e.json.get(run.clone()).unwrap_or_default());
                }
                buf.push(b'}');
            }
            _ => buf.extend_from_slice(&e.json),
        }
        Ok(())
    }
}

/// Serializes `value` as `serde_json::to_vec` does, entry by entry for an object so the
/// positions of `kind` and `apiVersion` are known. serde_json's compact map output is `{`,
/// the `"key":value` entries joined by commas, `}`, which this reproduces.
fn encode(value: &Value) -> serde_json::Result<Encoded> {
    let Value::Object(map) = value else {
        return Ok(Encoded {
            json: Bytes::from(serde_json::to_vec(value)?),
            untyped_runs: None,
        });
    };
    let mut buf = Vec::with_capacity(1024);
    buf.push(b'{');
    let mut runs = Vec::new();
    let mut run: Option<Range<usize>> = None;
    let mut has_type_meta = false;
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        let start = buf.len();
        serde_json::to_writer(&mut buf, k)?;
        buf.push(b':');
        serde_json::to_writer(&mut buf, v)?;
        let end = buf.len();
        if k == "kind" || k == "apiVersion" {
            has_type_meta = true;
            runs.extend(run.take());
        } else {
            run = Some(run.map_or(start..end, |r| r.start..end));
        }
    }
    runs.extend(run);
    buf.push(b'}');
    Ok(Encoded {
        json: Bytes::from(buf),
        untyped_runs: has_type_meta.then_some(runs),
    })
}

impl Deref for StoredObject {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.value
    }
}

impl std::fmt::Debug for StoredObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}

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
    pub object: Arc<StoredObject>,
    /// The object before the change (`None` for `Added`).
    pub prev: Option<Arc<StoredObject>>,
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
    pub items: Vec<Arc<StoredObject>>,
}

/// A watch subscription taken atomically with the state it starts from.
pub(crate) struct Subscription {
    /// The resourceVersion the backlog or initial state is at.
    pub rv: u64,
    /// Events to replay before live ones (watch from a resourceVersion).
    pub backlog: Vec<Arc<StoredEvent>>,
    /// Current objects (watch from `""`/`"0"` or with `sendInitialEvents`).
    pub initial: Vec<Arc<StoredObject>>,
    pub live: broadcast::Receiver<Arc<StoredEvent>>,
}

struct Inner {
    rv: u64,
    tables: HashMap<Arc<str>, BTreeMap<ObjectKey, Arc<StoredObject>>>,
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
        self.inner.lock_unpoisoned()
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
    pub fn get(&self, resource: &str, key: &ObjectKey) -> Option<Arc<StoredObject>> {
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
        let mut overlay: BTreeMap<ObjectKey, Option<Arc<StoredObject>>> = BTreeMap::new();
        for ev in inner
            .history
            .iter()
            .filter(|e| e.rv > at && *e.resource == *resource)
        {
            if in_range(&ev.key) && !overlay.contains_key(&ev.key) {
                overlay.insert(ev.key.clone(), ev.prev.clone());
            }
        }
        let mut merged: BTreeMap<ObjectKey, Arc<StoredObject>> =
            range(table, namespace, start_after)
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
        f: impl FnOnce(&mut dyn Iterator<Item = &Arc<StoredObject>>) -> T,
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

    /// Subscribes to live events, with the history after `from` as backlog. A `from` ahead
    /// of the store is no error: like the cacher's `getAllEventsSinceLocked`, the watch starts
    /// there, with no backlog, and sees only events after `from`.
    pub fn watch_from(&self, resource: &str, from: u64) -> Result<Subscription, RvError> {
        let inner = self.lock();
        if from < inner.floor {
            return Err(RvError::TooOld { floor: inner.floor });
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
    table: &'a BTreeMap<ObjectKey, Arc<StoredObject>>,
    namespace: Option<&str>,
    start_after: Option<&ObjectKey>,
) -> Box<dyn Iterator<Item = (&'a ObjectKey, &'a Arc<StoredObject>)> + 'a> {
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
    pub fn get(&self, resource: &str, key: &ObjectKey) -> Option<Arc<StoredObject>> {
        self.inner
            .tables
            .get(resource)
            .and_then(|t| t.get(key))
            .cloned()
    }

    /// Every object of `resource` in `namespace` (all when `None`), in key order.
    pub fn list(&self, resource: &str, namespace: Option<&str>) -> Vec<Arc<StoredObject>> {
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
    pub fn put(
        &mut self,
        resource: &Arc<str>,
        key: ObjectKey,
        mut object: Value,
    ) -> Arc<StoredObject> {
        self.inner.rv += 1;
        let rv = self.inner.rv;
        set_rv(&mut object, rv);
        let object = Arc::new(StoredObject::new(object));
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
    pub fn remove(&mut self, resource: &Arc<str>, key: &ObjectKey) -> Option<Arc<StoredObject>> {
        let prev = self.inner.tables.get_mut(resource)?.remove(key)?;
        self.inner.rv += 1;
        let rv = self.inner.rv;
        let mut last = prev.value().clone();
        set_rv(&mut last, rv);
        let last = Arc::new(StoredObject::new(last));
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

    /// The old way list items of built-in kinds were written: `WithoutTypeMeta` in body.rs.
    fn old_without_type_meta(v: &Value) -> Vec<u8> {
        match v {
            Value::Object(m) => {
                let mut m = m.clone();
                m.remove("kind");
                m.remove("apiVersion");
                serde_json::to_vec(&m).unwrap_or_default()
            }
            other => serde_json::to_vec(other).unwrap_or_default(),
        }
    }

    #[test]
    fn cached_json_is_byte_for_byte_serde_json() {
        let values = [
            json!({}),
            json!({"kind": "Pod"}),
            json!({"apiVersion": "v1", "kind": "Pod"}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a\"b": "\u{e9}\n"}}, "spec": {"x": [1, 2.5, null, true]}}),
            // Keys sorting before and between the type meta, as in ConfigMaps and Secrets.
            json!({"apiVersion": "v1", "binaryData": {"k": "AA=="}, "data": {"a": "b"}, "immutable": false, "kind": "ConfigMap", "metadata": {}}),
            json!({"aaa": 1, "apiVersion": "v1", "b": 2, "kind": "X", "z": {}}),
            json!({"metadata": {"name": "no-type-meta"}}),
            json!([1, {"kind": "nested"}]),
            json!("a string"),
            json!(null),
        ];
        for v in values {
            let stored = StoredObject::new(v.clone());
            for _ in 0..2 {
                // First call fills the cache, the second reads it.
                let old = serde_json::to_vec(&v).unwrap_or_default();
                assert_eq!(stored.json().ok().as_deref(), Some(&old[..]), "{v}");
                let mut full = Vec::new();
                assert!(stored.write_json(&mut full, false).is_ok());
                assert_eq!(full, old, "{v}");
                let mut untyped = b"prefix".to_vec();
                assert!(stored.write_json(&mut untyped, true).is_ok());
                let mut want = b"prefix".to_vec();
                want.extend(old_without_type_meta(&v));
                assert_eq!(
                    String::from_utf8_lossy(&untyped),
                    String::from_utf8_lossy(&want)
                );
            }
        }
    }

    #[test]
    fn writes_store_new_objects_and_keep_old_ones_and_their_caches() {
        let store = Store::new(1, 100, 16);
        let r: Arc<str> = Arc::from("/pods");
        let first = store.write(|t| t.put(&r, key("a"), obj("a", 1)));
        let first_json = first.json().unwrap_or_default();
        let second = store.write(|t| t.put(&r, key("a"), obj("a", 2)));
        let deleted = store.write(|t| t.remove(&r, &key("a")));
        // The old object and its bytes are untouched; the new ones serialize themselves.
        assert_eq!(first.json().unwrap_or_default(), first_json);
        assert_eq!(
            first.json().ok().map(|b| b.to_vec()),
            serde_json::to_vec(first.value()).ok()
        );
        for o in [Some(second), deleted] {
            let o = o.map(|o| (o.json().ok(), serde_json::to_vec(o.value()).ok()));
            assert!(matches!(o, Some((Some(a), Some(b))) if a == b));
        }
        assert_eq!(first["v"], 1);
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
        let ahead = store.watch_from("/pods", 99);
        assert_eq!(
            ahead.as_ref().map(|s| (s.rv, s.backlog.len())).ok(),
            Some((99, 0))
        );
        assert_eq!(
            store.watch_from("/pods", 13).map(|s| s.backlog.len()).ok(),
            Some(2)
        );
        store.compact();
        assert!(store.watch_from("/pods", 14).is_err());
    }
}
