//! Port of tools/cache/index.go: named index functions and the namespace index.
//!
//! Data flow: an [`IndexFunc`] maps an object to zero or more *indexed values* (a namespace, a
//! node name, an owner UID...). The store keeps, per index name, a map from indexed value to
//! the set of store keys whose object produced that value, so `by_index("namespace", "prod")`
//! answers from the map instead of scanning every object. The maps themselves live in
//! [`crate::thread_safe_store`], which updates them on every write.
//!
//! ```
//! use informer::index::{namespace_indexers, NAMESPACE_INDEX};
//! let indexers = namespace_indexers::<apimachinery::ObjectMeta>();
//! assert!(indexers.contains_key(NAMESPACE_INDEX));
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use apimachinery::Object;

use crate::error::BoxError;

/// Computes the indexed values of an object; several values put the object under several
/// entries. Port of `IndexFunc`.
///
/// Differs from Go: an `Arc`'d closure so indexers can be cloned and shared between threads;
/// an error is returned to the writer (as [`crate::Error::Index`]) instead of panicking.
pub type IndexFunc<K> = Arc<dyn Fn(&K) -> Result<Vec<String>, BoxError> + Send + Sync>;

/// Index functions by index name. Port of `Indexers`.
pub type Indexers<K> = HashMap<String, IndexFunc<K>>;

/// One index: indexed value → set of store keys. Port of `Index`.
///
/// Invariant: no set is empty (an empty set is removed, as in Go since kubernetes#84959).
pub type Index = HashMap<String, HashSet<String>>;

/// All indices by index name. Port of `Indices`.
pub type Indices = HashMap<String, Index>;

/// The name of the namespace index. Port of `NamespaceIndex`.
pub const NAMESPACE_INDEX: &str = "namespace";

/// Indexes an object by its namespace. Port of `MetaNamespaceIndexFunc`.
pub fn meta_namespace_index_func<K: Object>(obj: &K) -> Result<Vec<String>, BoxError> {
    Ok(vec![obj.namespace().to_owned()])
}

/// Wraps a plain function as an [`IndexFunc`].
pub fn index_func<K, F>(f: F) -> IndexFunc<K>
where
    F: Fn(&K) -> Result<Vec<String>, BoxError> + Send + Sync + 'static,
{
    Arc::new(f)
}

/// The indexers every namespaced informer gets: `{"namespace": meta_namespace_index_func}`.
/// Port of `Indexers{NamespaceIndex: MetaNamespaceIndexFunc}`.
pub fn namespace_indexers<K: Object + 'static>() -> Indexers<K> {
    let mut m: Indexers<K> = HashMap::new();
    m.insert(
        NAMESPACE_INDEX.to_owned(),
        Arc::new(meta_namespace_index_func::<K>),
    );
    m
}
