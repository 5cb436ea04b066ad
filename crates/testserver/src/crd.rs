//! CustomResourceDefinitions: creating or updating one (over HTTP or with
//! [`TestServer::create`](crate::TestServer::create)) serves each of its served versions as a
//! custom resource, as the apiextensions server does once a CRD is established.
//!
//! The schema of each version shapes its custom resources (see `crd_schema`: pruning and
//! ObjectMeta coercion on decoding, `crd_validation` before storing).
//!
//! Differs from Go: established at once; a CRD is stored as sent (its schema is not checked
//! for being structural, so a malformed schema is used as far as it makes sense and never
//! fails a request); schema defaults are not applied; deleting a CRD leaves its resource
//! served (its objects stay too); custom resources registered with
//! [`TestServer::register_custom_resource`](crate::TestServer::register_custom_resource) have
//! no CRD, hence no schema, and are stored as sent.

use apimachinery::util::sync::RwLockExt;
use serde_json::Value;

use crate::objects::Scope;
use crate::resources::CustomResource;
use crate::state::Shared;

/// The custom resources a CRD object defines (one per served version).
pub(crate) fn custom_resources(crd: &Value) -> Vec<CustomResource> {
    let spec = crd.get("spec");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let group = text(spec.and_then(|s| s.get("group")));
    let kind = text(spec.and_then(|s| s.pointer("/names/kind")));
    let plural = text(spec.and_then(|s| s.pointer("/names/plural")));
    let namespaced = spec.and_then(|s| s.get("scope")).and_then(Value::as_str) != Some("Cluster");
    if group.is_empty() || kind.is_empty() || plural.is_empty() {
        return Vec::new();
    }
    spec.and_then(|s| s.get("versions"))
        .and_then(Value::as_array)
        .map(|versions| {
            versions
                .iter()
                .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(true))
                .filter_map(|v| v.get("name").and_then(Value::as_str))
                .map(|version| CustomResource {
                    group: group.clone(),
                    version: version.to_owned(),
                    kind: kind.clone(),
                    plural: plural.clone(),
                    namespaced,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Registers the resources of `object` when it is a stored CRD.
pub(crate) fn serve_if_crd(shared: &Shared, scope: Scope<'_>, object: &Value) {
    if scope.dry_run
        || scope.res.group != "apiextensions.k8s.io"
        || scope.res.kind != "CustomResourceDefinition"
    {
        return;
    }
    let defined = custom_resources(object);
    if defined.is_empty() {
        return;
    }
    let mut registry = shared.registry.write_unpoisoned();
    for crd in &defined {
        tracing::info!(group = %crd.group, version = %crd.version, plural = %crd.plural, "serving custom resource");
        registry.register(crd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn served_versions_become_custom_resources() {
        let crd = json!({"spec": {"group": "example.com", "scope": "Cluster",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1", "served": true}, {"name": "v0", "served": false}]}});
        let defined = custom_resources(&crd);
        assert_eq!(defined.len(), 1);
        assert_eq!(
            (defined[0].version.as_str(), defined[0].namespaced),
            ("v1", false)
        );
        assert!(custom_resources(&json!({"spec": {}})).is_empty());
    }
}
