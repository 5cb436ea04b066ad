//! Port of tools/cache/thread_safe_store.go: a map from key to `Arc<K>` plus its indices, behind
//! one read-write lock.
//!
//! Data flow: the informer's `process_deltas` writes here (`add`/`update`/`delete` by key);
//! listers and controllers read (`get`, `list`, `by_index`). Every write updates the items and
//! every index under the same write lock, so a reader never sees an object without its index
//! entries or the reverse.
//!
//! Invariants (checked by `check_invariants` in tests):
//! - for every index, every key in every set is a key of `items`, and no set is empty;
//! - a write whose index function fails changes nothing.
//!
//! Readers get `Arc<K>`: nobody can mutate a cached object, which is what Go's comments ask
//! ("you must not modify anything returned by Get or List") turned into a type rule.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use apimachinery::util::sync::RwLockExt;

use crate::error::{Error, Result};
use crate::index::{Index, Indexers, Indices};

/// The indexers and the indices they maintain. Port of `storeIndex`.
struct StoreIndex<K> {
    indexers: Indexers<K>,
    indices: Indices,
}

/// Index values of one object for every indexer, computed before anything is mutated.
type Computed = Vec<(String, Vec<String>)>;

impl<K> StoreIndex<K> {
    /// Runs every index function on `obj`; the first failure is returned.
    fn compute(&self, key: &str, obj: &K) -> Result<Computed> {
        self.compute_for(self.indexers.keys(), key, obj)
    }

    fn compute_for<'a>(
        &self,
        names: impl Iterator<Item = &'a String>,
        key: &str,
        obj: &K,
    ) -> Result<Computed> {
        let mut out = Vec::with_capacity(self.indexers.len());
        for name in names {
            let Some(f) = self.indexers.get(name) else {
                continue;
            };
            let values = f(obj).map_err(|source| Error::Index {
                index: name.clone(),
                key: key.to_owned(),
                source,
            })?;
            out.push((name.clone(), values));
        }
        Ok(out)
    }

    /// Moves `key` from the old object's entries to the new ones. Port of `updateIndices`.
    /// `old` is recomputed; if the index function now fails on it, the key is removed from the
    /// whole index by scanning (slow but never leaves a stale entry).
    fn apply(&mut self, old: Option<&K>, new: &Computed, key: &str) {
        for (name, new_values) in new {
            let old_values = match old {
                Some(o) => match self.indexers.get(name).map(|f| f(o)) {
                    Some(Ok(v)) => Some(v),
                    _ => None,
                },
                None => Some(Vec::new()),
            };
            let index = self.indices.entry(name.clone()).or_default();
            match old_values {
                // The common case: one unchanged value.
                Some(ov) if ov.len() == 1 && new_values.len() == 1 && ov[0] == new_values[0] => {
                    continue;
                }
                Some(ov) => {
                    for v in &ov {
                        delete_key_from_index(index, key, v);
                    }
                }
                None => {
                    index.retain(|_, set| {
                        set.remove(key);
                        !set.is_empty()
                    });
                }
            }
            for v in new_values {
                index.entry(v.clone()).or_default().insert(key.to_owned());
            }
        }
    }

    /// Removes `key` (whose object is `old`) from every index.
    fn remove(&mut self, old: &K, key: &str) {
        let names: Vec<String> = self.indexers.keys().cloned().collect();
        for name in names {
            let values = self.indexers.get(&name).map(|f| f(old));
            let Some(index) = self.indices.get_mut(&name) else {
                continue;
            };
            match values {
                Some(Ok(vs)) => {
                    for v in &vs {
                        delete_key_from_index(index, key, v);
                    }
                }
                _ => index.retain(|_, set| {
                    set.remove(key);
                    !set.is_empty()
                }),
            }
        }
    }
}

/// Removes `key` from the set of `value`, and the set itself once empty (kubernetes#84959:
/// high-cardinality short-lived values would otherwise leak empty sets).
fn delete_key_from_index(index: &mut Index, key: &str, value: &str) {
    if let Some(set) = index.get_mut(value) {
        set.remove(key);
        if set.is_empty() {
            index.remove(value);
        }
    }
}

/// The objects by key. Go's map is seeded per map with a fast hash; foldhash's seeded
/// `RandomState` is the Rust equivalent (std's SipHash costs several times more per key).
type Items<K> = HashMap<String, Arc<K>, foldhash::fast::RandomState>;

struct Inner<K> {
    items: Items<K>,
    index: StoreIndex<K>,
}

/// A concurrent map of `Arc<K>` by key, with indices. Port of `ThreadSafeStore`
/// (`threadSafeMap`).
///
/// Differs from Go: writes return an error when an index function fails (Go panics), and
/// leave the store unchanged in that case.
pub struct ThreadSafeStore<K> {
    inner: RwLock<Inner<K>>,
}

impl<K> std::fmt::Debug for ThreadSafeStore<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = self.read();
        f.debug_struct("ThreadSafeStore")
            .field("items", &g.items.len())
            .field("indexers", &g.index.indexers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<K> ThreadSafeStore<K> {
    /// An empty store with the given indexers. Port of `NewThreadSafeStore`.
    pub fn new(indexers: Indexers<K>) -> Self {
        ThreadSafeStore {
            inner: RwLock::new(Inner {
                items: Items::default(),
                index: StoreIndex {
                    indexers,
                    indices: Indices::new(),
                },
            }),
        }
    }

    // A panic while holding the lock cannot leave a half-applied write (every write computes
    // first, then mutates infallibly), so a poisoned lock is safe to keep using.
    fn read(&self) -> RwLockReadGuard<'_, Inner<K>> {
        self.inner.read_unpoisoned()
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner<K>> {
        self.inner.write_unpoisoned()
    }

    /// Inserts or replaces the object at `key`. Port of `Add` (same as `Update`).
    pub fn add(&self, key: &str, obj: Arc<K>) -> Result<()> {
        self.update(key, obj)
    }

    /// Inserts or replaces the object at `key`, moving its index entries. Port of `Update`.
    ///
    /// Errors with [`Error::Index`] if an index function fails on `obj`; nothing changes then.
    pub fn update(&self, key: &str, obj: Arc<K>) -> Result<()> {
        let mut g = self.write();
        let computed = g.index.compute(key, &obj)?;
        let old = g.items.insert(key.to_owned(), obj);
        g.index.apply(old.as_deref(), &computed, key);
        Ok(())
    }

    /// Removes the object at `key`, if any. Port of `Delete`.
    pub fn delete(&self, key: &str) -> Option<Arc<K>> {
        let mut g = self.write();
        let old = g.items.remove(key)?;
        g.index.remove(&old, key);
        Some(old)
    }

    /// The object at `key`. Port of `Get`.
    pub fn get(&self, key: &str) -> Option<Arc<K>> {
        self.read().items.get(key).cloned()
    }

    /// Every object, in no particular order. Port of `List`.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.read().items.values().cloned().collect()
    }

    /// Every key, in no particular order. Port of `ListKeys`.
    pub fn list_keys(&self) -> Vec<String> {
        self.read().items.keys().cloned().collect()
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.read().items.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.read().items.is_empty()
    }

    /// Replaces every object and rebuilds every index. Port of `Replace`.
    ///
    /// Errors with [`Error::Index`] on the first failing index function; nothing changes then.
    pub fn replace(&self, items: HashMap<String, Arc<K>>) -> Result<()> {
        let mut g = self.write();
        let mut indices = Indices::new();
        for (key, obj) in &items {
            for (name, values) in g.index.compute(key, obj)? {
                let index = indices.entry(name).or_default();
                for v in values {
                    index.entry(v).or_default().insert(key.clone());
                }
            }
        }
        let mut map = Items::with_capacity_and_hasher(items.len(), Default::default());
        map.extend(items);
        g.items = map;
        g.index.indices = indices;
        Ok(())
    }

    /// Objects sharing an indexed value with `obj` in the named index. Port of `Index`.
    pub fn index(&self, index_name: &str, obj: &K) -> Result<Vec<Arc<K>>> {
        let g = self.read();
        let f = g
            .index
            .indexers
            .get(index_name)
            .ok_or_else(|| Error::IndexNotFound(index_name.to_owned()))?;
        let values = f(obj).map_err(|source| Error::Index {
            index: index_name.to_owned(),
            key: String::new(),
            source,
        })?;
        let Some(index) = g.index.indices.get(index_name) else {
            return Ok(Vec::new());
        };
        let mut keys: HashSet<&String> = HashSet::new();
        for v in &values {
            if let Some(set) = index.get(v) {
                keys.extend(set);
            }
        }
        Ok(keys
            .into_iter()
            .filter_map(|k| g.items.get(k).cloned())
            .collect())
    }

    /// Objects whose indexed values in `index_name` include `value`. Port of `ByIndex`.
    pub fn by_index(&self, index_name: &str, value: &str) -> Result<Vec<Arc<K>>> {
        let g = self.read();
        let set = Self::keys_by_index(&g, index_name, value)?;
        Ok(set
            .map(|s| s.iter().filter_map(|k| g.items.get(k).cloned()).collect())
            .unwrap_or_default())
    }

    /// Store keys whose indexed values in `index_name` include `value`. Port of `IndexKeys`.
    pub fn index_keys(&self, index_name: &str, value: &str) -> Result<Vec<String>> {
        let g = self.read();
        let set = Self::keys_by_index(&g, index_name, value)?;
        let mut keys: Vec<String> = set.map(|s| s.iter().cloned().collect()).unwrap_or_default();
        keys.sort();
        Ok(keys)
    }

    fn keys_by_index<'g>(
        g: &'g Inner<K>,
        index_name: &str,
        value: &str,
    ) -> Result<Option<&'g HashSet<String>>> {
        if !g.index.indexers.contains_key(index_name) {
            return Err(Error::IndexNotFound(index_name.to_owned()));
        }
        Ok(g.index.indices.get(index_name).and_then(|i| i.get(value)))
    }

    /// Every indexed value present in the named index. Port of `ListIndexFuncValues`.
    pub fn list_index_func_values(&self, index_name: &str) -> Vec<String> {
        self.read()
            .index
            .indices
            .get(index_name)
            .map(|i| i.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The names of the registered indexers. Port of `GetIndexers` (names only).
    pub fn indexer_names(&self) -> Vec<String> {
        self.read().index.indexers.keys().cloned().collect()
    }

    /// Adds indexers and indexes the existing items with them. Port of `AddIndexers`.
    ///
    /// Errors with [`Error::IndexerConflict`] if a name already exists, or [`Error::Index`] if
    /// a new index function fails on an existing item; nothing changes in either case.
    pub fn add_indexers(&self, new: Indexers<K>) -> Result<()> {
        let mut g = self.write();
        let mut conflicts: Vec<String> = new
            .keys()
            .filter(|k| g.index.indexers.contains_key(*k))
            .cloned()
            .collect();
        if !conflicts.is_empty() {
            conflicts.sort();
            return Err(Error::IndexerConflict(conflicts));
        }
        let probe = StoreIndex {
            indexers: new,
            indices: Indices::new(),
        };
        let mut built = Indices::new();
        for (key, obj) in &g.items {
            for (name, values) in probe.compute(key, obj)? {
                let index = built.entry(name).or_default();
                for v in values {
                    index.entry(v).or_default().insert(key.clone());
                }
            }
        }
        for (name, f) in probe.indexers {
            g.index.indexers.insert(name, f);
        }
        g.index.indices.extend(built);
        Ok(())
    }

    /// Panics if an index refers to a missing key or holds an empty set. For tests.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        let g = self.read();
        for (name, index) in &g.index.indices {
            for (value, set) in index {
                assert!(!set.is_empty(), "empty set for {name}={value}");
                for k in set {
                    assert!(g.items.contains_key(k), "{name}={value} names missing {k}");
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::index::index_func;

    #[derive(Debug, PartialEq)]
    struct Thing {
        name: String,
        tags: Vec<String>,
    }

    fn thing(name: &str, tags: &[&str]) -> Arc<Thing> {
        Arc::new(Thing {
            name: name.into(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
        })
    }

    fn by_tag() -> Indexers<Thing> {
        let mut m: Indexers<Thing> = HashMap::new();
        m.insert(
            "tag".into(),
            index_func(|t: &Thing| {
                if t.tags.iter().any(|t| t == "bad") {
                    return Err("bad tag".into());
                }
                Ok(t.tags.clone())
            }),
        );
        m
    }

    #[test]
    fn multi_valued_index_finds_an_object_under_every_value() {
        let s = ThreadSafeStore::new(by_tag());
        s.add("a", thing("a", &["x", "y"])).unwrap();
        s.add("b", thing("b", &["y"])).unwrap();
        assert_eq!(s.index_keys("tag", "y").unwrap(), vec!["a", "b"]);
        assert_eq!(s.index_keys("tag", "x").unwrap(), vec!["a"]);
        let mut vals = s.list_index_func_values("tag");
        vals.sort();
        assert_eq!(vals, vec!["x", "y"]);
        s.check_invariants();
    }

    #[test]
    fn update_moves_the_key_and_removes_empty_sets() {
        let s = ThreadSafeStore::new(by_tag());
        s.add("a", thing("a", &["x"])).unwrap();
        s.update("a", thing("a", &["z"])).unwrap();
        assert!(s.index_keys("tag", "x").unwrap().is_empty());
        assert_eq!(s.list_index_func_values("tag"), vec!["z"]);
        s.delete("a");
        assert!(s.list_index_func_values("tag").is_empty());
        s.check_invariants();
    }

    #[test]
    fn an_index_error_is_returned_and_changes_nothing() {
        let s = ThreadSafeStore::new(by_tag());
        s.add("a", thing("a", &["x"])).unwrap();
        let err = s.update("a", thing("a", &["bad"])).unwrap_err();
        assert!(matches!(err, Error::Index { ref index, .. } if index == "tag"));
        assert_eq!(s.get("a").unwrap().tags, vec!["x"]);
        assert_eq!(s.index_keys("tag", "x").unwrap(), vec!["a"]);
        let mut m = HashMap::new();
        m.insert("b".to_string(), thing("b", &["bad"]));
        assert!(s.replace(m).is_err());
        assert_eq!(s.list_keys(), vec!["a"]);
        s.check_invariants();
    }

    #[test]
    fn unknown_index_name_is_an_error() {
        let s = ThreadSafeStore::<Thing>::new(HashMap::new());
        assert!(matches!(
            s.by_index("nope", "x"),
            Err(Error::IndexNotFound(_))
        ));
        assert!(s.index_keys("nope", "x").is_err());
    }

    #[test]
    fn add_indexers_indexes_existing_items_and_rejects_conflicts() {
        let s = ThreadSafeStore::new(HashMap::new());
        s.add("a", thing("a", &["x"])).unwrap();
        s.add_indexers(by_tag()).unwrap();
        assert_eq!(s.index_keys("tag", "x").unwrap(), vec!["a"]);
        assert!(matches!(
            s.add_indexers(by_tag()),
            Err(Error::IndexerConflict(n)) if n == vec!["tag".to_string()]
        ));
        s.check_invariants();
    }

    #[test]
    fn replace_rebuilds_indices() {
        let s = ThreadSafeStore::new(by_tag());
        s.add("a", thing("a", &["x"])).unwrap();
        let mut m = HashMap::new();
        m.insert("b".to_string(), thing("b", &["y"]));
        s.replace(m).unwrap();
        assert!(s.index_keys("tag", "x").unwrap().is_empty());
        assert_eq!(s.by_index("tag", "y").unwrap()[0].name, "b");
        s.check_invariants();
    }

    #[test]
    fn index_returns_objects_sharing_any_value_once() {
        let s = ThreadSafeStore::new(by_tag());
        s.add("a", thing("a", &["x", "y"])).unwrap();
        s.add("b", thing("b", &["y"])).unwrap();
        let probe = thing("p", &["x", "y"]);
        let mut names: Vec<String> = s
            .index("tag", &probe)
            .unwrap()
            .iter()
            .map(|t| t.name.clone())
            .collect();
        names.sort();
        assert_eq!(names, vec!["a", "b"]);
    }
}
