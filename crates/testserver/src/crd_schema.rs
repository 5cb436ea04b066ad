//! Port of the per-version schema handling of apiextensions-apiserver
//! `pkg/apiserver/customresource_handler.go`: the `openAPIV3Schema` a CRD version gives its
//! custom resources ([`CrSchema`], what `crdInfo` keeps as `structuralSchemas`), and the
//! decoding step every body and patched object of such a resource goes through
//! ([`coerce`], `unstructuredSchemaCoercer.apply`): ObjectMeta pruned to its fields by
//! [`crate::objectmeta`], unknown fields pruned by [`crate::pruning`], the paths of what was
//! dropped reported for `fieldValidation`. Validation against the same schema, before
//! storing, is [`crate::crd_validation`]'s.
//!
//! Differs from Go: the schema is read from the stored CRD on each request (Go caches it per
//! CRD revision), is not required to be structural, and its defaults are not applied.

use serde_json::Value;

use crate::resources::ResourceInfo;
use crate::store::{Store, Txn};

/// Storage key of the CustomResourceDefinitions.
const CRDS: &str = "apiextensions.k8s.io/customresourcedefinitions";

/// The schema one served version of a CRD gives its objects: what `crdInfo` keeps per version
/// (`structuralSchemas`, and `spec.preserveUnknownFields`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CrSchema {
    /// `spec.versions[].schema.openAPIV3Schema`.
    pub schema: Value,
    /// `spec.preserveUnknownFields`: nothing is pruned (a v1beta1 leftover; false in v1).
    pub preserve_unknown_fields: bool,
}

impl CrSchema {
    /// The schema `crd` gives `version`, if it has one (an object).
    pub(crate) fn of(crd: &Value, version: &str) -> Option<Self> {
        let spec = crd.get("spec")?;
        let schema = spec
            .get("versions")?
            .as_array()?
            .iter()
            .find(|v| v.get("name").and_then(Value::as_str) == Some(version))?
            .pointer("/schema/openAPIV3Schema")
            .filter(|s| s.is_object())?;
        Some(CrSchema {
            schema: schema.clone(),
            preserve_unknown_fields: spec.get("preserveUnknownFields") == Some(&Value::Bool(true)),
        })
    }

    /// The schema of custom resource `res`, read inside a write transaction.
    pub(crate) fn in_txn(txn: &Txn<'_>, res: &ResourceInfo) -> Option<Self> {
        if !res.custom {
            return None;
        }
        let crd = txn.get(CRDS, &crd_key(res))?;
        Self::of(crd.value(), &res.version)
    }

    /// The schema of custom resource `res`, as stored now.
    pub(crate) fn current(store: &Store, res: &ResourceInfo) -> Option<Self> {
        if !res.custom {
            return None;
        }
        let crd = store.get(CRDS, &crd_key(res))?;
        Self::of(crd.value(), &res.version)
    }
}

/// A CRD's name is `<plural>.<group>`.
fn crd_key(res: &ResourceInfo) -> (String, String) {
    (String::new(), format!("{}.{}", res.plural, res.group))
}

/// Port of `unstructuredSchemaCoercer.apply` (customresource_handler.go) for an object of the
/// CRD's kind: prunes unknown fields of `metadata` (to ObjectMeta), of the object (by the
/// schema, unless `preserveUnknownFields`), drops non-nullable nulls without a default, and
/// prunes the metadata of embedded resources. Returns the dropped fields' paths in Go's
/// order: metadata first, then the pruned paths sorted, then the embedded metadata sorted.
pub(crate) fn coerce(obj: &mut Value, s: &CrSchema) -> Vec<String> {
    let mut unknown = crate::objectmeta::prune_root(obj);
    if !s.preserve_unknown_fields {
        unknown.extend(crate::pruning::prune(obj, &s.schema, true));
        crate::pruning::prune_non_nullable_nulls(obj, Some(&s.schema));
    }
    unknown.extend(crate::objectmeta::coerce(obj, &s.schema));
    unknown
}
