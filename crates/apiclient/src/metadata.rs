//! Port of client-go `metadata/metadata.go` and metav1.PartialObjectMetadata: list and watch
//! only the metadata of objects, for memory-light caches (garbage collectors, quota, "does
//! this exist" checks).
//!
//! Data flow: the metadata client sends `Accept: application/json;as=PartialObjectMetadata
//! (List);g=meta.k8s.io;v=v1` so the server strips everything but `metadata`; the body decodes
//! into [`PartialObjectMetadata`]. A server that ignores the `as=` parameter (it falls back to
//! plain JSON, which the header allows) still works: unknown fields are skipped while decoding.

pub use apimachinery::meta::{PartialObjectMetadata, PartialObjectMetadataList};

use crate::meta::ApiResource;
use crate::rest::RestClient;
use crate::typed::TypedClient;

/// `Accept` for one object as metadata only.
pub const ACCEPT_PARTIAL_OBJECT: &str =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
/// `Accept` for a list as metadata only.
pub const ACCEPT_PARTIAL_LIST: &str =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/// A metadata-only client. Port of metadata.Interface.Resource(gvr).Namespace(ns).
pub type MetadataClient = TypedClient<PartialObjectMetadata>;

impl TypedClient<PartialObjectMetadata> {
    /// Metadata of `resource` objects in `namespace` (`None`: all namespaces).
    pub fn metadata(client: &RestClient, resource: ApiResource, namespace: Option<&str>) -> Self {
        Self::for_resource(client, resource, namespace)
            .with_accept(ACCEPT_PARTIAL_OBJECT, ACCEPT_PARTIAL_LIST)
    }
}
