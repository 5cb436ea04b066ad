//! Port of apiextensions-apiserver `pkg/apiserver/schema/objectmeta` (`coerce.go`'s
//! `GetObjectMetaWithOptions`, `algorithm.go`'s `CoerceWithOptions`): the `metadata` of a
//! custom resource, and of every `x-kubernetes-embedded-resource` object inside it, is decoded
//! as an ObjectMeta, so its unknown fields are dropped and reported (`metadata.foo`,
//! `spec.template.metadata.bar`) whatever the CRD's schema says.
//!
//! Data flow: `crd_schema::coerce` calls [`prune_root`] first, then, after pruning,
//! [`coerce`] for the embedded resources; ObjectMeta's fields come from the recorded
//! `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` schema ([`crate::openapi`]).
//!
//! Differs from Go: metadata fields of the wrong type (`labels: 5`) are kept, where Go fails
//! the decoding, and `apiVersion`/`kind` of an embedded resource are not checked for being
//! strings; a `null` embedded `creationTimestamp` is dropped as Go drops a zero one.

use serde_json::{Map, Value};

use crate::openapi;

/// ObjectMeta's schema and the document it resolves references in.
fn object_meta() -> Option<(&'static Map<String, Value>, &'static Value)> {
    let schemas = openapi::builtin_schemas("", "v1")?;
    let schema = schemas.get("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")?;
    Some((schemas, schema))
}

/// Drops the unknown fields of `obj.metadata` (at `prefix.metadata`); returns their paths.
fn prune_metadata(obj: &mut Map<String, Value>, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (Some((schemas, schema)), Some(meta)) = (object_meta(), obj.get_mut("metadata")) else {
        return out;
    };
    let path = child(prefix, "metadata");
    openapi::drop_unknown(schemas, schema, meta, &path, &mut out);
    out
}

/// `GetObjectMetaWithOptions` at the root: prunes `metadata` to ObjectMeta's fields and
/// returns the paths dropped (`metadata.foo`).
pub(crate) fn prune_root(obj: &mut Value) -> Vec<String> {
    match obj.as_object_mut() {
        Some(map) => prune_metadata(map, ""),
        None => Vec::new(),
    }
}

/// `CoerceWithOptions(nil, obj, schema, false, ...)`: prunes the metadata of the embedded
/// resources below the root; returns the paths dropped, sorted.
pub(crate) fn coerce(obj: &mut Value, schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(obj, schema, "", &mut out);
    out.sort();
    out
}

/// `field.Path.Child`.
fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn walk(x: &mut Value, s: &Value, path: &str, out: &mut Vec<String>) {
    match x {
        Value::Object(map) => {
            if s.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true))
                && map.contains_key("metadata")
            {
                out.extend(prune_metadata(map, path));
                if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut)
                    && meta.get("creationTimestamp").is_some_and(Value::is_null)
                {
                    meta.remove("creationTimestamp");
                }
            }
            let properties = s.get("properties").and_then(Value::as_object);
            let additional = s.get("additionalProperties").filter(|a| a.is_object());
            for (k, v) in map.iter_mut() {
                if let Some(p) = properties.and_then(|p| p.get(k)) {
                    walk(v, p, &child(path, k), out);
                } else if let Some(a) = additional {
                    walk(v, a, &format!("{path}[{k}]"), out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = s.get("items").filter(|i| i.is_object()) {
                for (i, v) in items.iter_mut().enumerate() {
                    walk(v, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn root_metadata_keeps_only_object_meta_fields() {
        let mut obj = json!({"metadata": {"name": "a", "labels": {"x": "y"}, "foo": 1,
            "ownerReferences": [{"name": "o", "bar": 2}]}});
        let mut dropped = prune_root(&mut obj);
        dropped.sort();
        assert_eq!(dropped, ["metadata.foo", "metadata.ownerReferences[0].bar"]);
        assert_eq!(
            obj,
            json!({"metadata": {"name": "a", "labels": {"x": "y"},
                "ownerReferences": [{"name": "o"}]}})
        );
    }

    #[test]
    fn embedded_metadata_is_coerced_with_its_path() {
        let schema = json!({"properties": {"spec": {"properties": {"templates": {
            "additionalProperties": {"x-kubernetes-embedded-resource": true,
                "x-kubernetes-preserve-unknown-fields": true}}}}}});
        let mut obj = json!({"spec": {"templates": {"a": {"metadata": {"name": "n",
            "creationTimestamp": null, "zz": 1}}}}});
        assert_eq!(coerce(&mut obj, &schema), ["spec.templates[a].metadata.zz"]);
        assert_eq!(
            obj["spec"]["templates"]["a"],
            json!({"metadata": {"name": "n"}})
        );
    }
}
