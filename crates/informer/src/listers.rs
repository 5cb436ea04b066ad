//! Port of tools/cache/listers.go: read-only, label-selector-aware views of an informer's cache.
//!
//! Data flow: a controller asks a [`Lister`] (or its per-namespace [`NamespaceLister`]) for
//! objects; the lister reads the informer's cache through a [`ReadOnlyStore`], using the
//! namespace index when there is one, and filters by a [`LabelSelector`] exactly as the server
//! would. Nothing here talks to the API server.

use std::sync::Arc;

use apimachinery::Object;
use apimachinery::selectors::LabelSelector;

use crate::error::{Error, Result};
use crate::index::NAMESPACE_INDEX;
use crate::store::ReadOnlyStore;

/// Lists and gets objects of one resource from a cache. Port of `GenericLister` / the typed
/// listers generated for each resource (`PodLister`...).
///
/// Differs from Go: generic instead of generated per type; returns `Arc<K>`.
#[doc(alias = "GenericLister")]
pub struct Lister<K> {
    indexer: ReadOnlyStore<K>,
    resource: String,
}

impl<K> Clone for Lister<K> {
    fn clone(&self) -> Self {
        Lister {
            indexer: self.indexer.clone(),
            resource: self.resource.clone(),
        }
    }
}

impl<K: Object + Send + Sync + 'static> Lister<K> {
    /// A lister over `indexer` (an informer's [`ReadOnlyStore`], or an `Arc<Store>` of your
    /// own); `resource` names the resource in NotFound errors. Port of `NewGenericLister`.
    ///
    /// Differs from Go: the lister holds a read-only view, so it cannot write the cache.
    pub fn new(indexer: impl Into<ReadOnlyStore<K>>, resource: impl Into<String>) -> Self {
        Lister {
            indexer: indexer.into(),
            resource: resource.into(),
        }
    }

    /// Every cached object matching `selector`. Port of `ListAll` / `Lister.List`.
    pub fn list(&self, selector: &LabelSelector) -> Vec<Arc<K>> {
        filter(self.indexer.list(), selector)
    }

    /// The cluster-scoped object `name`, or [`Error::NotFound`]. Port of `Lister.Get`.
    pub fn get(&self, name: &str) -> Result<Arc<K>> {
        self.indexer
            .get_by_key(name)
            .ok_or_else(|| Error::NotFound {
                resource: self.resource.clone(),
                name: name.to_owned(),
            })
    }

    /// A lister for one namespace. Port of `ByNamespace`.
    pub fn namespace(&self, namespace: impl Into<String>) -> NamespaceLister<K> {
        NamespaceLister {
            indexer: self.indexer.clone(),
            resource: self.resource.clone(),
            namespace: namespace.into(),
        }
    }
}

/// Lists and gets objects of one namespace. Port of `GenericNamespaceLister`.
#[doc(alias = "GenericNamespaceLister")]
pub struct NamespaceLister<K> {
    indexer: ReadOnlyStore<K>,
    resource: String,
    namespace: String,
}

impl<K: Object + Send + Sync + 'static> NamespaceLister<K> {
    /// Objects of this namespace matching `selector`, through the namespace index when the
    /// cache has one. Port of `ListAllByNamespace`.
    pub fn list(&self, selector: &LabelSelector) -> Vec<Arc<K>> {
        match self.indexer.by_index(NAMESPACE_INDEX, &self.namespace) {
            Ok(items) => filter(items, selector),
            Err(_) => {
                tracing::debug!(namespace = %self.namespace, "lister: no namespace index; scanning the cache");
                let ns = self.namespace.as_str();
                filter(
                    self.indexer
                        .list()
                        .into_iter()
                        .filter(|o| o.namespace() == ns)
                        .collect(),
                    selector,
                )
            }
        }
    }

    /// The object `namespace/name`, or [`Error::NotFound`]. Port of `Get`.
    pub fn get(&self, name: &str) -> Result<Arc<K>> {
        let key = format!("{}/{}", self.namespace, name);
        self.indexer
            .get_by_key(&key)
            .ok_or_else(|| Error::NotFound {
                resource: self.resource.clone(),
                name: name.to_owned(),
            })
    }
}

fn filter<K: Object>(items: Vec<Arc<K>>, selector: &LabelSelector) -> Vec<Arc<K>> {
    if selector.is_empty() {
        return items;
    }
    items
        .into_iter()
        .filter(|o| selector.matches(o.labels().as_ref()))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::index::namespace_indexers;
    use crate::store::{Store, default_key_func};
    use apimachinery::ObjectMeta;

    fn meta(ns: &str, name: &str, app: &str) -> Arc<ObjectMeta> {
        Arc::new(ObjectMeta {
            namespace: (!ns.is_empty()).then(|| ns.into()),
            name: Some(name.into()),
            labels: Some(apimachinery::StrMap::from([("app", app)])),
            ..ObjectMeta::default()
        })
    }

    #[test]
    fn lists_by_namespace_and_selector_and_get_reports_not_found() {
        for indexers in [namespace_indexers(), Default::default()] {
            let s = Arc::new(Store::new(default_key_func(), indexers));
            s.add(meta("a", "1", "web")).unwrap();
            s.add(meta("a", "2", "db")).unwrap();
            s.add(meta("b", "1", "web")).unwrap();
            let l = Lister::new(s, "pods");
            let web: LabelSelector = "app=web".parse().unwrap();
            assert_eq!(l.list(&web).len(), 2);
            assert_eq!(l.list(&LabelSelector::everything()).len(), 3);
            let a = l.namespace("a");
            assert_eq!(a.list(&web).len(), 1);
            assert_eq!(a.list(&LabelSelector::everything()).len(), 2);
            assert_eq!(a.get("2").unwrap().name(), "2");
            let err = a.get("3").unwrap_err();
            assert!(err.is_not_found());
            assert!(l.get("x").unwrap_err().is_not_found());
        }
    }
}
