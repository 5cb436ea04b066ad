//! Reading the OpenAPI v3 documents.
//!
//! Data flow: each `openapi/v3-api*.json` file is one group-version document as a
//! kube-apiserver serves it at `/openapi/v3/<group-version>`. [`Catalog::load`] merges their
//! `components.schemas` (a schema such as `io.k8s.api.core.v1.ObjectReference` appears in many
//! documents; every copy must be identical) and indexes their `paths` by group-version-kind to
//! learn each kind's plural resource name and scope. Nothing here knows about Rust; the
//! catalog is the input of [`crate::model`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

/// One schema (or the schema of one property), with the keywords Kubernetes uses.
///
/// Unknown keywords (`default`, `enum`, `x-kubernetes-list-type`, ...) are ignored: they change
/// validation and merge behaviour, not the shape of the data.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Schema {
    /// `#/components/schemas/<name>`: the value is another named schema.
    #[serde(rename = "$ref")]
    pub reference: Option<String>,
    /// `allOf: [{$ref}]`: how Kubernetes references a schema while adding a description.
    #[serde(rename = "allOf")]
    pub all_of: Option<Vec<Schema>>,
    /// `string`, `integer`, `number`, `boolean`, `array`, `object`.
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// `int32`, `int64`, `double`, `byte`, `date-time`, `int-or-string`.
    pub format: Option<String>,
    /// Human text; becomes the Rust doc comment.
    pub description: Option<String>,
    /// Element schema of an array.
    pub items: Option<Box<Schema>>,
    /// Value schema of a map (`type: object` without fixed properties).
    #[serde(rename = "additionalProperties")]
    pub additional_properties: Option<Box<Schema>>,
    /// Fixed properties of an object, by JSON name.
    pub properties: Option<BTreeMap<String, Schema>>,
    /// JSON names of the properties that are not optional.
    #[serde(default)]
    pub required: Vec<String>,
    /// Set on top-level kinds (and on the shared meta kinds, once per group-version).
    #[serde(rename = "x-kubernetes-group-version-kind", default)]
    pub group_version_kind: Vec<Gvk>,
    /// Untagged unions (`Quantity`, `IntOrString`).
    #[serde(rename = "oneOf")]
    pub one_of: Option<Vec<Schema>>,
}

impl Schema {
    /// The schema name this schema refers to, through `$ref` or a one-element `allOf`.
    pub fn referenced_name(&self) -> Option<&str> {
        let reference = match (&self.reference, &self.all_of) {
            (Some(r), _) => r,
            (None, Some(all)) if all.len() == 1 => all[0].reference.as_ref()?,
            _ => return None,
        };
        Some(
            reference
                .strip_prefix(SCHEMA_REF_PREFIX)
                .unwrap_or(reference),
        )
    }
}

/// How every `$ref` in these documents starts.
pub const SCHEMA_REF_PREFIX: &str = "#/components/schemas/";

/// A group-version-kind, as in `x-kubernetes-group-version-kind`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Gvk {
    /// API group; `""` for the core group.
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Pod`.
    pub kind: String,
}

/// Where a kind's objects live: `/api/v1/namespaces/{namespace}/pods` gives `pods`, namespaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collection {
    /// The plural resource name: the last path segment of the collection path.
    pub plural: String,
    /// True if some collection path of the kind contains `{namespace}`.
    pub namespaced: bool,
}

/// Every schema and every collection path of all documents.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Schemas by name (`io.k8s.api.core.v1.Pod`).
    pub schemas: BTreeMap<String, Schema>,
    /// Collection paths by the kind they serve.
    pub collections: BTreeMap<Gvk, Collection>,
}

/// The parts of a document we read.
#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    paths: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    components: Components,
}

#[derive(Deserialize)]
struct Components {
    schemas: BTreeMap<String, serde_json::Value>,
}

/// The operation keys of an OpenAPI path item whose `x-kubernetes-action` marks a collection.
const COLLECTION_ACTIONS: [&str; 3] = ["list", "post", "deletecollection"];

impl Catalog {
    /// Merges documents given as `(file name, JSON text)`, in the given order.
    pub fn load(documents: &[(String, String)]) -> Result<Catalog, String> {
        let mut raw: BTreeMap<String, (String, serde_json::Value)> = BTreeMap::new();
        let mut catalog = Catalog::default();
        for (file, text) in documents {
            let doc: Document = serde_json::from_str(text)
                .map_err(|e| format!("{file}: not an OpenAPI v3 document: {e}"))?;
            for (name, value) in doc.components.schemas {
                match raw.get(&name) {
                    Some((first, seen)) if *seen != value => {
                        return Err(format!("schema {name} differs between {first} and {file}"));
                    }
                    Some(_) => {}
                    None => {
                        raw.insert(name, (file.clone(), value));
                    }
                }
            }
            for (path, item) in &doc.paths {
                catalog.index_path(file, path, item)?;
            }
        }
        for (name, (file, value)) in raw {
            let schema: Schema =
                serde_json::from_value(value).map_err(|e| format!("{file}: schema {name}: {e}"))?;
            catalog.schemas.insert(name, schema);
        }
        Ok(catalog)
    }

    /// Records `path` if it is a collection path (`.../pods`, not `.../pods/{name}/status`
    /// and not `.../watch/...`).
    fn index_path(
        &mut self,
        file: &str,
        path: &str,
        item: &BTreeMap<String, serde_json::Value>,
    ) -> Result<(), String> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let Some(plural) = segments.last() else {
            return Ok(());
        };
        if segments.contains(&"watch")
            || segments
                .iter()
                .any(|s| s.starts_with('{') && *s != "{namespace}")
        {
            return Ok(());
        }
        let kinds: BTreeSet<Gvk> = item
            .values()
            .filter(|op| {
                op.get("x-kubernetes-action")
                    .and_then(|a| a.as_str())
                    .is_some_and(|a| COLLECTION_ACTIONS.contains(&a))
            })
            .filter_map(|op| op.get("x-kubernetes-group-version-kind"))
            .map(|gvk| serde_json::from_value::<Gvk>(gvk.clone()))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{file}: path {path}: {e}"))?;
        let namespaced = segments.contains(&"{namespace}");
        for gvk in kinds {
            let entry = self.collections.entry(gvk.clone()).or_insert(Collection {
                plural: (*plural).to_owned(),
                namespaced,
            });
            if entry.plural != *plural {
                return Err(format!(
                    "{file}: {}/{} {} is served as both {} and {plural}",
                    gvk.group, gvk.version, gvk.kind, entry.plural
                ));
            }
            entry.namespaced |= namespaced;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn doc(paths: &str, schemas: &str) -> String {
        format!(r#"{{"paths": {paths}, "components": {{"schemas": {schemas}}}}}"#)
    }

    const POD_PATHS: &str = r#"{
        "/api/v1/pods": {"get": {"x-kubernetes-action": "list",
            "x-kubernetes-group-version-kind": {"group": "", "version": "v1", "kind": "Pod"}}},
        "/api/v1/namespaces/{namespace}/pods": {"post": {"x-kubernetes-action": "post",
            "x-kubernetes-group-version-kind": {"group": "", "version": "v1", "kind": "Pod"}}},
        "/api/v1/namespaces/{namespace}/pods/{name}/eviction": {"post": {"x-kubernetes-action": "post",
            "x-kubernetes-group-version-kind": {"group": "policy", "version": "v1", "kind": "Eviction"}}},
        "/api/v1/watch/namespaces/{namespace}/things": {"get": {"x-kubernetes-action": "watchlist",
            "x-kubernetes-group-version-kind": {"group": "", "version": "v1", "kind": "Thing"}}}
    }"#;

    fn gvk(group: &str, kind: &str) -> Gvk {
        Gvk {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
        }
    }

    #[test]
    fn a_kind_with_a_namespaced_collection_path_is_namespaced() {
        let catalog = Catalog::load(&[("a.json".into(), doc(POD_PATHS, "{}"))]).unwrap();
        let pods = &catalog.collections[&gvk("", "Pod")];
        assert_eq!(
            pods,
            &Collection {
                plural: "pods".into(),
                namespaced: true
            }
        );
    }

    #[test]
    fn subresource_and_watch_paths_are_not_collections() {
        let catalog = Catalog::load(&[("a.json".into(), doc(POD_PATHS, "{}"))]).unwrap();
        assert!(!catalog.collections.contains_key(&gvk("policy", "Eviction")));
        assert!(!catalog.collections.contains_key(&gvk("", "Thing")));
    }

    #[test]
    fn a_schema_repeated_in_two_documents_must_be_identical() {
        let a = doc("{}", r#"{"x.A": {"type": "string"}}"#);
        let b = doc("{}", r#"{"x.A": {"type": "integer"}}"#);
        let err = Catalog::load(&[("a.json".into(), a.clone()), ("b.json".into(), b)]).unwrap_err();
        assert!(
            err.contains("x.A differs between a.json and b.json"),
            "{err}"
        );
        let same = Catalog::load(&[("a.json".into(), a.clone()), ("b.json".into(), a)]).unwrap();
        assert_eq!(same.schemas.len(), 1);
    }

    #[test]
    fn all_of_with_one_ref_names_the_referenced_schema() {
        let s: Schema =
            serde_json::from_str(r##"{"allOf": [{"$ref": "#/components/schemas/a.B"}]}"##).unwrap();
        assert_eq!(s.referenced_name(), Some("a.B"));
    }
}
