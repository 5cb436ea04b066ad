//! Port of metav1.PartialObjectMetadata and PartialObjectMetadataList (`types.go`): an
//! object's type and metadata, nothing else, for metadata-only clients and caches.
//!
//! Data flow: decoding reads `apiVersion`, `kind` and `metadata` and skips every other field
//! without building it, so a full object decodes as cheaply as its metadata alone.

use serde::{Deserialize, Serialize};

use super::{List, ObjectMeta, TypeMeta};

/// An object's type and metadata, nothing else. Port of metav1.PartialObjectMetadata.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PartialObjectMetadata {
    /// `meta.k8s.io/v1` / `PartialObjectMetadata` (or the object's own, if the server did not
    /// convert).
    #[serde(flatten)]
    pub types: TypeMeta,
    /// The object's metadata.
    pub metadata: ObjectMeta,
}

/// Port of metav1.PartialObjectMetadataList.
pub type PartialObjectMetadataList = List<PartialObjectMetadata>;

impl<'de> Deserialize<'de> for PartialObjectMetadata {
    /// Reads `apiVersion`, `kind` and `metadata`; skips everything else without buffering it.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (types, metadata) = super::deserialize_type_and_meta(d)?;
        Ok(PartialObjectMetadata { types, metadata })
    }
}

crate::impl_object_via_metadata!(PartialObjectMetadata);
