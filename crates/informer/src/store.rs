//! Port of tools/cache/store.go: key functions, the [`Store`] (Go's `cache`: a key function in
//! front of a [`ThreadSafeStore`]), the read-only [`ReadOnlyStore`] view an informer hands out,
//! and the two narrow seams the rest of the package writes and reads through:
//! [`ReflectorStore`] and [`KnownObjects`].
//!
//! Data flow: the reflector writes whole objects into a [`ReflectorStore`] (a FIFO in an
//! informer, or a plain [`Store`]); the informer's loop pops deltas and applies them to its
//! [`Store`], which computes each object's key (`namespace/name`, or `name` for cluster-scoped
//! objects) and keeps it indexed. FIFOs look at the store through [`KnownObjects`] to find
//! deletions missed during a relist.
//!
//! Who may write: a [`Store`] you build yourself (Go's `NewIndexer`, `NewStore`) is yours to
//! write. An informer's cache is written only by the informer; what
//! [`SharedIndexInformer::indexer`](crate::SharedIndexInformer::indexer) hands out is a
//! [`ReadOnlyStore`], so a holder cannot desynchronise the cache from the handlers.
//!
//! ```
//! use informer::store::{meta_namespace_key_func, split_meta_namespace_key};
//! let mut meta = apimachinery::ObjectMeta::default();
//! meta.namespace = Some("prod".into());
//! meta.name = Some("web".into());
//! assert_eq!(meta_namespace_key_func(&meta).unwrap(), "prod/web");
//! assert_eq!(split_meta_namespace_key("prod/web").unwrap(), ("prod".into(), "web".into()));
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use apimachinery::Object;

use crate::delta::ObjectOrTombstone;
use crate::error::{BoxError, Error, Result};
use crate::index::Indexers;
use crate::thread_safe_store::ThreadSafeStore;

/// Computes the store key of an object. Port of `KeyFunc`.
///
/// Differs from Go: typed (`&K`), and shared as an `Arc` so stores and FIFOs can hold it.
pub type KeyFunc<K> = Arc<dyn Fn(&K) -> Result<String, BoxError> + Send + Sync>;

/// `namespace/name`, or `name` when the namespace is empty. Port of `MetaNamespaceKeyFunc`.
///
/// Differs from Go: never fails for a typed object; the `Result` keeps the [`KeyFunc`] shape.
pub fn meta_namespace_key_func<K: Object>(obj: &K) -> Result<String, BoxError> {
    let ns = obj.namespace();
    if ns.is_empty() {
        Ok(obj.name().to_owned())
    } else {
        let mut key = String::with_capacity(ns.len() + 1 + obj.name().len());
        key.push_str(ns);
        key.push('/');
        key.push_str(obj.name());
        Ok(key)
    }
}

/// The default [`KeyFunc`]: [`meta_namespace_key_func`] as an `Arc`.
pub fn default_key_func<K: Object + 'static>() -> KeyFunc<K> {
    Arc::new(meta_namespace_key_func::<K>)
}

/// Splits a key from [`meta_namespace_key_func`] into `(namespace, name)`.
/// Port of `SplitMetaNamespaceKey`.
pub fn split_meta_namespace_key(key: &str) -> Result<(String, String)> {
    let parts: Vec<&str> = key.split('/').collect();
    match parts.as_slice() {
        [name] => Ok((String::new(), (*name).to_owned())),
        [ns, name] => Ok(((*ns).to_owned(), (*name).to_owned())),
        _ => Err(Error::Key {
            source: format!("unexpected key format: {key:?}").into(),
        }),
    }
}

/// The key of an object or a tombstone: a tombstone's recorded key, else `key_func`.
/// Port of `DeletionHandlingMetaNamespaceKeyFunc` (generalised to any key function).
pub fn deletion_handling_key<K>(
    obj: &ObjectOrTombstone<K>,
    key_func: &KeyFunc<K>,
) -> Result<String> {
    match obj {
        ObjectOrTombstone::Tombstone(t) => Ok(t.key.clone()),
        ObjectOrTombstone::Object(o) => key_func(o).map_err(|source| Error::Key { source }),
    }
}

/// [`deletion_handling_key`] with [`meta_namespace_key_func`].
/// Port of `DeletionHandlingMetaNamespaceKeyFunc`.
pub fn deletion_handling_meta_namespace_key_func<K: Object>(obj: &ObjectOrTombstone<K>) -> String {
    match obj {
        ObjectOrTombstone::Tombstone(t) => t.key.clone(),
        ObjectOrTombstone::Object(o) => meta_namespace_key_func(o.as_ref()).unwrap_or_default(),
    }
}

/// What a reflector writes into: the part of Go's `Store` interface that `Reflector` calls.
///
/// Port of `ReflectorStore` / `Store` as seen by the reflector. Implemented by [`Store`],
/// [`crate::DeltaFifo`] and [`crate::RealFifo`]. Objects are passed by value so the receiver
/// can transform them before wrapping them in an `Arc` (no deep clone on the way in).
pub trait ReflectorStore<K>: Send + Sync {
    /// A watch `ADDED` event.
    fn add(&self, obj: K) -> Result<()>;
    /// A watch `MODIFIED` event.
    fn update(&self, obj: K) -> Result<()>;
    /// A watch `DELETED` event (the object's last state).
    fn delete(&self, obj: K) -> Result<()>;
    /// A complete list at `resource_version`: whatever is not in `list` is gone.
    fn replace(&self, list: Vec<K>, resource_version: &str) -> Result<()>;
    /// A periodic resync tick.
    fn resync(&self) -> Result<()>;
    /// Told the reflector's latest resourceVersion (after bookmarks too).
    /// Port of `ResourceVersionUpdater`; the default does nothing.
    fn update_resource_version(&self, _resource_version: &str) {}
}

/// Lists keys and gets objects by key: what a FIFO needs of the informer's cache.
/// Port of `KeyListerGetter`.
pub trait KnownObjects<K>: Send + Sync {
    /// Every key. Port of `ListKeys`.
    fn list_keys(&self) -> Vec<String>;
    /// The object at `key`. Port of `GetByKey`.
    fn get_by_key(&self, key: &str) -> Option<Arc<K>>;
}

/// A key function in front of a [`ThreadSafeStore`]: the informer's local cache.
///
/// Port of store.go's `cache`, which implements both `Store` and `Indexer`. Differs from Go:
/// one concrete type for both (an empty [`Indexers`] map makes it a plain store), readers get
/// `Arc<K>`, and an index function's failure is an error instead of a panic.
#[doc(
    alias = "cache",
    alias = "Indexer",
    alias = "NewIndexer",
    alias = "NewStore"
)]
pub struct Store<K> {
    key_func: KeyFunc<K>,
    items: ThreadSafeStore<K>,
}

impl<K> std::fmt::Debug for Store<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("items", &self.items).finish()
    }
}

impl<K: Send + Sync + 'static> Store<K> {
    /// A store with `key_func` and `indexers`. Port of `NewIndexer` (`NewStore` when
    /// `indexers` is empty).
    pub fn new(key_func: KeyFunc<K>, indexers: Indexers<K>) -> Self {
        Store {
            key_func,
            items: ThreadSafeStore::new(indexers),
        }
    }

    /// The key of `obj`.
    pub fn key_of(&self, obj: &K) -> Result<String> {
        (self.key_func)(obj).map_err(|source| Error::Key { source })
    }

    /// The key of an object or tombstone.
    pub fn key_of_deleted(&self, obj: &ObjectOrTombstone<K>) -> Result<String> {
        deletion_handling_key(obj, &self.key_func)
    }

    /// The key function.
    pub fn key_func(&self) -> &KeyFunc<K> {
        &self.key_func
    }

    /// Inserts or replaces `obj`. Port of `Add`.
    pub fn add(&self, obj: Arc<K>) -> Result<()> {
        let key = self.key_of(&obj)?;
        self.items.add(&key, obj)
    }

    /// Inserts or replaces `obj`. Port of `Update`.
    pub fn update(&self, obj: Arc<K>) -> Result<()> {
        let key = self.key_of(&obj)?;
        self.items.update(&key, obj)
    }

    /// Removes the object with `obj`'s key. Port of `Delete`.
    pub fn delete(&self, obj: &K) -> Result<()> {
        let key = self.key_of(obj)?;
        self.items.delete(&key);
        Ok(())
    }

    /// Removes the object at `key`; returns it if it was there.
    pub fn delete_by_key(&self, key: &str) -> Option<Arc<K>> {
        self.items.delete(key)
    }

    /// The cached object with `obj`'s key. Port of `Get`.
    pub fn get(&self, obj: &K) -> Result<Option<Arc<K>>> {
        Ok(self.items.get(&self.key_of(obj)?))
    }

    /// The cached object at `key`. Port of `GetByKey`.
    pub fn get_by_key(&self, key: &str) -> Option<Arc<K>> {
        self.items.get(key)
    }

    /// Every cached object. Port of `List`.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.items.list()
    }

    /// Every key. Port of `ListKeys`.
    pub fn list_keys(&self) -> Vec<String> {
        self.items.list_keys()
    }

    /// Number of cached objects.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True if nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Replaces the whole content. Port of `Replace`.
    pub fn replace(&self, list: Vec<Arc<K>>) -> Result<()> {
        let mut items = HashMap::with_capacity(list.len());
        for obj in list {
            items.insert(self.key_of(&obj)?, obj);
        }
        self.items.replace(items)
    }

    /// See [`ThreadSafeStore::index`]. Port of `Index`.
    pub fn index(&self, index_name: &str, obj: &K) -> Result<Vec<Arc<K>>> {
        self.items.index(index_name, obj)
    }

    /// See [`ThreadSafeStore::by_index`]. Port of `ByIndex`.
    pub fn by_index(&self, index_name: &str, value: &str) -> Result<Vec<Arc<K>>> {
        self.items.by_index(index_name, value)
    }

    /// See [`ThreadSafeStore::index_keys`]. Port of `IndexKeys`.
    pub fn index_keys(&self, index_name: &str, value: &str) -> Result<Vec<String>> {
        self.items.index_keys(index_name, value)
    }

    /// See [`ThreadSafeStore::list_index_func_values`]. Port of `ListIndexFuncValues`.
    pub fn list_index_func_values(&self, index_name: &str) -> Vec<String> {
        self.items.list_index_func_values(index_name)
    }

    /// The names of the registered indexers. Port of `GetIndexers`.
    pub fn indexer_names(&self) -> Vec<String> {
        self.items.indexer_names()
    }

    /// Adds indexers and indexes existing items. Port of `AddIndexers`.
    pub fn add_indexers(&self, indexers: Indexers<K>) -> Result<()> {
        self.items.add_indexers(indexers)
    }

    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        self.items.check_invariants();
    }
}

impl<K: Send + Sync + 'static> ReflectorStore<K> for Store<K> {
    fn add(&self, obj: K) -> Result<()> {
        Store::add(self, Arc::new(obj))
    }
    fn update(&self, obj: K) -> Result<()> {
        Store::update(self, Arc::new(obj))
    }
    fn delete(&self, obj: K) -> Result<()> {
        Store::delete(self, &obj)
    }
    fn replace(&self, list: Vec<K>, _resource_version: &str) -> Result<()> {
        Store::replace(self, list.into_iter().map(Arc::new).collect())
    }
    fn resync(&self) -> Result<()> {
        Ok(())
    }
}

impl<K: Send + Sync + 'static> KnownObjects<K> for Store<K> {
    fn list_keys(&self) -> Vec<String> {
        Store::list_keys(self)
    }
    fn get_by_key(&self, key: &str) -> Option<Arc<K>> {
        Store::get_by_key(self, key)
    }
}

/// A read-only view of a [`Store`]: what an informer hands its users (Go: the `Indexer` returned
/// by `GetIndexer` / `GetStore`, used only through its read methods).
///
/// Differs from Go: Go's `GetIndexer()` returns the writable `Indexer` and relies on convention
/// ("do not write to it") to keep handlers and cache in step; here the informer keeps the
/// writer inside and hands out this type, which has no `add`, `update`, `delete` or `replace`,
/// so the rule is a type rule (as kube-runtime's reflector `Store`/`Writer` split). Cloning is
/// cheap and shares the same cache.
///
/// ```
/// # async fn demo(informer: informer::SharedIndexInformer<apimachinery::ObjectMeta>) {
/// let cache: informer::ReadOnlyStore<apimachinery::ObjectMeta> = informer.indexer();
/// let _pod = cache.get_by_key("default/web-0");
/// let _all = cache.list();
/// # }
/// ```
///
/// Writing through the view does not compile:
///
/// ```compile_fail,E0599
/// # use std::sync::Arc;
/// # fn demo(informer: informer::SharedIndexInformer<apimachinery::ObjectMeta>) {
/// let cache = informer.indexer();
/// cache.add(Arc::new(apimachinery::ObjectMeta::default()));
/// # }
/// ```
#[doc(alias = "GetIndexer", alias = "GetStore", alias = "Reader")]
pub struct ReadOnlyStore<K> {
    store: Arc<Store<K>>,
}

impl<K> Clone for ReadOnlyStore<K> {
    fn clone(&self) -> Self {
        ReadOnlyStore {
            store: self.store.clone(),
        }
    }
}

impl<K> std::fmt::Debug for ReadOnlyStore<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ReadOnlyStore").field(&self.store).finish()
    }
}

impl<K> From<Arc<Store<K>>> for ReadOnlyStore<K> {
    /// A read-only view of a store you own; you keep the `Arc` (and its write methods).
    fn from(store: Arc<Store<K>>) -> Self {
        ReadOnlyStore { store }
    }
}

impl<K: Send + Sync + 'static> ReadOnlyStore<K> {
    /// A read-only view of `store`. The same as `ReadOnlyStore::from(store)`.
    pub fn new(store: Arc<Store<K>>) -> Self {
        ReadOnlyStore { store }
    }

    /// The key of `obj`.
    pub fn key_of(&self, obj: &K) -> Result<String> {
        self.store.key_of(obj)
    }

    /// The key function.
    pub fn key_func(&self) -> &KeyFunc<K> {
        self.store.key_func()
    }

    /// The cached object with `obj`'s key. Port of `Get`.
    pub fn get(&self, obj: &K) -> Result<Option<Arc<K>>> {
        self.store.get(obj)
    }

    /// The cached object at `key`. Port of `GetByKey`.
    pub fn get_by_key(&self, key: &str) -> Option<Arc<K>> {
        self.store.get_by_key(key)
    }

    /// Every cached object. Port of `List`.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.store.list()
    }

    /// Every key. Port of `ListKeys`.
    pub fn list_keys(&self) -> Vec<String> {
        self.store.list_keys()
    }

    /// Number of cached objects.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// True if nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// Objects whose `index_name` values overlap `obj`'s. Port of `Index`.
    pub fn index(&self, index_name: &str, obj: &K) -> Result<Vec<Arc<K>>> {
        self.store.index(index_name, obj)
    }

    /// Objects with `value` in index `index_name`. Port of `ByIndex`.
    pub fn by_index(&self, index_name: &str, value: &str) -> Result<Vec<Arc<K>>> {
        self.store.by_index(index_name, value)
    }

    /// Keys with `value` in index `index_name`. Port of `IndexKeys`.
    pub fn index_keys(&self, index_name: &str, value: &str) -> Result<Vec<String>> {
        self.store.index_keys(index_name, value)
    }

    /// Every value of index `index_name`. Port of `ListIndexFuncValues`.
    pub fn list_index_func_values(&self, index_name: &str) -> Vec<String> {
        self.store.list_index_func_values(index_name)
    }

    /// The names of the registered indexers. Port of `GetIndexers`.
    pub fn indexer_names(&self) -> Vec<String> {
        self.store.indexer_names()
    }
}

impl<K: Send + Sync + 'static> KnownObjects<K> for ReadOnlyStore<K> {
    fn list_keys(&self) -> Vec<String> {
        self.store.list_keys()
    }
    fn get_by_key(&self, key: &str) -> Option<Arc<K>> {
        self.store.get_by_key(key)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::delta::DeletedFinalStateUnknown;
    use crate::index::{NAMESPACE_INDEX, namespace_indexers};
    use apimachinery::ObjectMeta;

    fn meta(ns: &str, name: &str) -> ObjectMeta {
        ObjectMeta {
            namespace: (!ns.is_empty()).then(|| ns.into()),
            name: Some(name.into()),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn key_is_namespace_slash_name_or_just_name() {
        assert_eq!(meta_namespace_key_func(&meta("a", "b")).unwrap(), "a/b");
        assert_eq!(
            meta_namespace_key_func(&meta("", "node1")).unwrap(),
            "node1"
        );
    }

    #[test]
    fn split_key_accepts_one_or_two_parts_only() {
        assert_eq!(
            split_meta_namespace_key("n").unwrap(),
            (String::new(), "n".into())
        );
        assert_eq!(
            split_meta_namespace_key("a/b").unwrap(),
            ("a".into(), "b".into())
        );
        assert!(split_meta_namespace_key("a/b/c").is_err());
    }

    #[test]
    fn tombstone_key_is_its_recorded_key() {
        let t: ObjectOrTombstone<ObjectMeta> =
            ObjectOrTombstone::Tombstone(DeletedFinalStateUnknown {
                key: "x/y".into(),
                obj: None,
            });
        assert_eq!(deletion_handling_meta_namespace_key_func(&t), "x/y");
        let o = ObjectOrTombstone::Object(Arc::new(meta("a", "b")));
        assert_eq!(deletion_handling_meta_namespace_key_func(&o), "a/b");
    }

    #[test]
    fn a_read_only_view_sees_every_write_of_the_owner() {
        let owner = Arc::new(Store::new(default_key_func(), namespace_indexers()));
        let view = ReadOnlyStore::from(owner.clone());
        assert!(view.is_empty());
        owner.add(Arc::new(meta("a", "1"))).unwrap();
        owner.add(Arc::new(meta("b", "2"))).unwrap();
        assert_eq!(view.len(), 2);
        assert_eq!(view.list_keys().len(), 2);
        assert!(view.get_by_key("a/1").is_some());
        assert!(view.get(&meta("b", "2")).unwrap().is_some());
        assert_eq!(view.by_index(NAMESPACE_INDEX, "a").unwrap().len(), 1);
        assert_eq!(view.index_keys(NAMESPACE_INDEX, "b").unwrap(), vec!["b/2"]);
        assert_eq!(
            view.index(NAMESPACE_INDEX, &meta("a", "x")).unwrap().len(),
            1
        );
        assert_eq!(view.indexer_names(), vec![NAMESPACE_INDEX]);
        owner.delete(&meta("a", "1")).unwrap();
        assert!(view.clone().get_by_key("a/1").is_none());
        assert_eq!(KnownObjects::list_keys(&view), vec!["b/2"]);
    }

    #[test]
    fn store_crud_and_namespace_index() {
        let s = Store::new(default_key_func(), namespace_indexers());
        s.add(Arc::new(meta("a", "1"))).unwrap();
        s.add(Arc::new(meta("a", "2"))).unwrap();
        s.add(Arc::new(meta("b", "1"))).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(
            s.index_keys(NAMESPACE_INDEX, "a").unwrap(),
            vec!["a/1", "a/2"]
        );
        s.delete(&meta("a", "1")).unwrap();
        assert_eq!(s.index_keys(NAMESPACE_INDEX, "a").unwrap(), vec!["a/2"]);
        assert!(s.get(&meta("a", "1")).unwrap().is_none());
        assert!(s.get_by_key("b/1").is_some());
        s.replace(vec![Arc::new(meta("c", "1"))]).unwrap();
        assert_eq!(s.list_keys(), vec!["c/1"]);
        assert_eq!(s.list_index_func_values(NAMESPACE_INDEX), vec!["c"]);
        s.check_invariants();
    }
}
