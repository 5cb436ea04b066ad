//! [`Object`] and [`Resource`] for k8s-openapi's types (feature `k8s-openapi`), so
//! `TypedClient<k8s_openapi::api::core::v1::Pod>` works. The library selects no Kubernetes
//! version feature of k8s-openapi; the application does.
//!
//! Port of nothing in Go (client-go's types implement metav1.Object directly); this is the
//! bridge from k8s-openapi's metadata type to this crate's accessors.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta as K8sMeta;

use crate::Str;
use crate::meta::{Object, OwnerReference, Resource, StringMap, Time};

/// Maps k8s-openapi's scope marker types to a `namespaced` flag.
pub trait ScopeNamespaced {
    /// True for namespace-scoped resources.
    const NAMESPACED: bool;
}

impl ScopeNamespaced for k8s_openapi::NamespaceResourceScope {
    const NAMESPACED: bool = true;
}
impl ScopeNamespaced for k8s_openapi::ClusterResourceScope {
    const NAMESPACED: bool = false;
}
impl ScopeNamespaced for k8s_openapi::SubResourceScope {
    const NAMESPACED: bool = true;
}

impl<K> Resource for K
where
    K: k8s_openapi::Resource,
    K::Scope: ScopeNamespaced,
{
    const GROUP: &'static str = K::GROUP;
    const VERSION: &'static str = K::VERSION;
    const KIND: &'static str = K::KIND;
    const PLURAL: &'static str = K::URL_PATH_SEGMENT;
    const NAMESPACED: bool = <K::Scope as ScopeNamespaced>::NAMESPACED;
}

impl<K> Object for K
where
    K: k8s_openapi::Metadata<Ty = K8sMeta>,
{
    fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or("")
    }
    fn namespace(&self) -> &str {
        self.metadata().namespace.as_deref().unwrap_or("")
    }
    fn uid(&self) -> &str {
        self.metadata().uid.as_deref().unwrap_or("")
    }
    fn resource_version(&self) -> &str {
        self.metadata().resource_version.as_deref().unwrap_or("")
    }
    fn generation(&self) -> i64 {
        self.metadata().generation.unwrap_or(0)
    }
    fn labels(&self) -> Cow<'_, StringMap> {
        Cow::Owned(
            self.metadata()
                .labels
                .iter()
                .flatten()
                .map(|(k, v)| (k, Str::from(v)))
                .collect(),
        )
    }
    fn annotations(&self) -> Cow<'_, StringMap> {
        Cow::Owned(
            self.metadata()
                .annotations
                .iter()
                .flatten()
                .map(|(k, v)| (k, Str::from(v)))
                .collect(),
        )
    }
    fn deletion_timestamp(&self) -> Option<Time> {
        self.metadata()
            .deletion_timestamp
            .as_ref()
            .map(|t| Time::from_unix(t.0.as_second()))
    }
    fn owner_references(&self) -> Cow<'_, [OwnerReference]> {
        let refs = self.metadata().owner_references.as_deref().unwrap_or(&[]);
        Cow::Owned(
            refs.iter()
                .map(|r| OwnerReference {
                    api_version: Str::from(&r.api_version),
                    kind: Str::from(&r.kind),
                    name: Str::from(&r.name),
                    uid: Str::from(&r.uid),
                    controller: r.controller,
                    block_owner_deletion: r.block_owner_deletion,
                })
                .collect(),
        )
    }
    fn finalizers(&self) -> Cow<'_, [Str]> {
        Cow::Owned(
            self.metadata()
                .finalizers
                .iter()
                .flatten()
                .map(Str::from)
                .collect(),
        )
    }
    fn set_resource_version(&mut self, rv: &str) {
        self.metadata_mut().resource_version = Some(rv.to_owned());
    }
    fn clear_managed_fields(&mut self) {
        self.metadata_mut().managed_fields = None;
    }
}
