//! Port of apiextensions-apiserver `pkg/controller/openapi/builder/builder.go`: the OpenAPI
//! documents of the CustomResourceDefinitions stored, as kube-apiserver publishes them once a
//! CRD is established.
//!
//! Data flow: each stored CRD's served versions with a schema become, per group-version, a v3
//! document (`apis/<group>/<version>`, which the `openapi` module serves and lists in the
//! `/openapi/v3` index) and definitions merged into `/openapi/v2`. This module only builds:
//! the recorded documents it starts from are handed in. A kind's schema is named
//! `<reversed group>.<version>.<Kind>` (`com.example.v1.Widget`, Go's `ToRESTFriendlyName`):
//! the CRD's `openAPIV3Schema` with `apiVersion`, `kind` and `metadata` (a reference to
//! `ObjectMeta`) set, and `x-kubernetes-group-version-kind`; a `<Kind>List` schema goes with it.
//! The paths carry the operations kubectl looks for: a PATCH whose request body lists JSON
//! patch, merge patch and apply (no strategic merge patch, which custom resources refuse)
//! and which takes `fieldValidation`, so `kubectl apply` validates on the server and
//! patches custom resources with merge patches.
//!
//! Differs from Go: the operations are those of a ConfigMap (or Node, for cluster-scoped
//! kinds) in the recorded `api/v1` document with the names replaced, the schema is published
//! as written (no structural-schema pruning of `nullable`, `anyOf`...), and the `status` and
//! `scale` subresources get no paths.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// One served custom kind with its schema.
struct CustomKind {
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
    schema: Value,
}

impl CustomKind {
    /// `ToRESTFriendlyName("<group>/<version>/<kind>")`.
    fn schema_name(&self, kind: &str) -> String {
        let mut group: Vec<&str> = self.group.split('.').collect();
        group.reverse();
        format!("{}.{}.{kind}", group.join("."), self.version)
    }

    fn gvk(&self, kind: &str) -> Value {
        json!({"group": self.group, "version": self.version, "kind": kind})
    }
}

/// The kinds the CRDs serve with a schema.
fn custom_kinds<'a>(crds: impl IntoIterator<Item = &'a Value>) -> Vec<CustomKind> {
    let mut out = Vec::new();
    for crd in crds {
        let Some(spec) = crd.get("spec") else {
            continue;
        };
        let text = |p: &str| {
            spec.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (group, kind, plural) = (text("/group"), text("/names/kind"), text("/names/plural"));
        if group.is_empty() || kind.is_empty() || plural.is_empty() {
            continue;
        }
        let namespaced = text("/scope") != "Cluster";
        for v in spec
            .get("versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let served = v.get("served").and_then(Value::as_bool).unwrap_or(true);
            let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
            let schema = v
                .pointer("/schema/openAPIV3Schema")
                .or_else(|| spec.pointer("/validation/openAPIV3Schema"));
            if let (true, false, Some(schema)) = (served, name.is_empty(), schema) {
                out.push(CustomKind {
                    group: group.clone(),
                    version: name.to_owned(),
                    kind: kind.clone(),
                    plural: plural.clone(),
                    namespaced,
                    schema: schema.clone(),
                });
            }
        }
    }
    out
}

/// `buildKubeNative`: the kind's schema with the Kubernetes object fields set.
fn kind_schema(k: &CustomKind, refs: &str) -> Value {
    let mut schema = k.schema.as_object().cloned().unwrap_or_default();
    schema
        .entry("type")
        .or_insert_with(|| Value::String("object".into()));
    let props = schema
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(props) = props.as_object_mut() {
        props.insert("apiVersion".into(), type_meta_field("apiVersion"));
        props.insert("kind".into(), type_meta_field("kind"));
        props.insert(
            "metadata".into(),
            meta_ref(refs, "ObjectMeta", "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"),
        );
    }
    schema.insert(
        "x-kubernetes-group-version-kind".into(),
        json!([k.gvk(&k.kind)]),
    );
    Value::Object(schema)
}

fn list_schema(k: &CustomKind, refs: &str) -> Value {
    json!({
        "description": format!("{}List is a list of {}", k.kind, k.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": type_meta_field("apiVersion"),
            "items": {
                "description": format!("List of {}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md", k.plural),
                "type": "array",
                "items": {"$ref": format!("{refs}{}", k.schema_name(&k.kind))},
            },
            "kind": type_meta_field("kind"),
            "metadata": meta_ref(refs, "ListMeta", "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"),
        },
        "x-kubernetes-group-version-kind": [k.gvk(&format!("{}List", k.kind))],
    })
}

fn type_meta_field(field: &str) -> Value {
    let description = if field == "kind" {
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
    } else {
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
    };
    json!({"type": "string", "description": description})
}

/// A reference to a `meta/v1` type: `allOf` in v3, a plain `$ref` in v2.
fn meta_ref(refs: &str, ty: &str, description: &str) -> Value {
    let r = format!("{refs}{META}.{ty}");
    if refs.starts_with("#/components") {
        json!({"allOf": [{"$ref": r}], "description": description})
    } else {
        json!({"$ref": r, "description": description})
    }
}

/// The path items of a kind, from the recorded ConfigMap (or Node) ones.
fn paths(k: &CustomKind, template: &Map<String, Value>, v3: bool) -> Map<String, Value> {
    let (item_path, list_path, ty) = if k.namespaced {
        (
            "/api/v1/namespaces/{namespace}/configmaps/{name}",
            "/api/v1/namespaces/{namespace}/configmaps",
            "ConfigMap",
        )
    } else {
        ("/api/v1/nodes/{name}", "/api/v1/nodes", "Node")
    };
    let base = if k.namespaced {
        format!(
            "/apis/{}/{}/namespaces/{{namespace}}/{}",
            k.group, k.version, k.plural
        )
    } else {
        format!("/apis/{}/{}/{}", k.group, k.version, k.plural)
    };
    let mut out = Map::new();
    for (from, to) in [(item_path, format!("{base}/{{name}}")), (list_path, base)] {
        let Some(item) = template.get(from) else {
            continue;
        };
        let text = item
            .to_string()
            .replace(
                &format!("io.k8s.api.core.v1.{ty}List"),
                &k.schema_name(&format!("{}List", k.kind)),
            )
            .replace(&format!("io.k8s.api.core.v1.{ty}"), &k.schema_name(&k.kind))
            .replace(&format!("CoreV1{ty}"), &format!("{}{}", k.kind, k.version))
            .replace(&format!("CoreV1Namespaced{ty}"), &k.kind);
        let Ok(mut item) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if let Some(ops) = item.as_object_mut() {
            for (name, op) in ops.iter_mut() {
                let Some(op) = op.as_object_mut() else {
                    continue;
                };
                if name == "parameters" {
                    continue;
                }
                let kind = if op
                    .get("x-kubernetes-group-version-kind")
                    .and_then(|g| g.get("kind"))
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.ends_with("List"))
                {
                    format!("{}List", k.kind)
                } else {
                    k.kind.clone()
                };
                if op.contains_key("x-kubernetes-group-version-kind") {
                    op.insert("x-kubernetes-group-version-kind".into(), k.gvk(&kind));
                }
                let patch_types = if v3 {
                    op.get_mut("requestBody")
                        .and_then(|b| b.get_mut("content"))
                        .and_then(Value::as_object_mut)
                } else {
                    None
                };
                if let Some(content) = patch_types {
                    content.remove("application/strategic-merge-patch+json");
                }
                if let Some(Value::Array(consumes)) = op.get_mut("consumes") {
                    consumes.retain(|c| c != "application/strategic-merge-patch+json");
                }
                if let Some(Value::Array(produces)) = op.get_mut("produces") {
                    produces.retain(|c| {
                        c.as_str()
                            .is_some_and(|c| !c.contains("protobuf") && !c.contains("cbor"))
                    });
                }
                if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                    for r in responses.values_mut() {
                        if let Some(content) = r.get_mut("content").and_then(Value::as_object_mut) {
                            content.retain(|c, _| !c.contains("protobuf") && !c.contains("cbor"));
                        }
                    }
                }
            }
        }
        out.insert(to, item);
    }
    out
}

/// The schemas `roots` reference, transitively, copied from `from` (the `meta/v1` types the
/// custom kinds point at).
fn closure(from: &Map<String, Value>, roots: &[&str], prefix: &str) -> Map<String, Value> {
    let mut out = Map::new();
    let mut todo: Vec<String> = roots.iter().map(|r| (*r).to_owned()).collect();
    while let Some(name) = todo.pop() {
        if out.contains_key(&name) {
            continue;
        }
        let Some(schema) = from.get(&name) else {
            continue;
        };
        collect_refs(schema, prefix, &mut todo);
        out.insert(name, schema.clone());
    }
    out
}

fn collect_refs(v: &Value, prefix: &str, into: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(prefix))
            {
                into.push(r.to_owned());
            }
            m.values().for_each(|v| collect_refs(v, prefix, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, prefix, into)),
        _ => {}
    }
}

const V3_REFS: &str = "#/components/schemas/";
const V2_REFS: &str = "#/definitions/";
const META_ROOTS: [&str; 5] = [
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
];

/// The v3 documents of the custom group-versions (`apis/<group>/<version>`), except those
/// `builtin` says a recorded document serves; `core` is the recorded `api/v1` document, whose
/// `meta/v1` schemas and ConfigMap/Node operations the documents reuse.
pub(crate) fn v3_documents<'a>(
    crds: impl IntoIterator<Item = &'a Value>,
    core: Option<&Value>,
    builtin: impl Fn(&str) -> bool,
) -> BTreeMap<String, Value> {
    let mut docs: BTreeMap<String, Value> = BTreeMap::new();
    let empty = Map::new();
    let core_schemas = core
        .and_then(|d| d.pointer("/components/schemas"))
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let core_paths = core
        .and_then(|d| d.get("paths"))
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for k in custom_kinds(crds) {
        let gv = format!("apis/{}/{}", k.group, k.version);
        if builtin(&gv) {
            continue;
        }
        let doc = docs.entry(gv).or_insert_with(|| {
            json!({
                "openapi": "3.0.0",
                "info": {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"},
                "paths": {},
                "components": {"schemas": closure(core_schemas, &META_ROOTS, V3_REFS)},
            })
        });
        if let Some(schemas) = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
        {
            schemas.insert(k.schema_name(&k.kind), kind_schema(&k, V3_REFS));
            schemas.insert(
                k.schema_name(&format!("{}List", k.kind)),
                list_schema(&k, V3_REFS),
            );
        }
        if let Some(p) = doc.get_mut("paths").and_then(Value::as_object_mut) {
            p.extend(paths(&k, core_paths, true));
        }
    }
    docs
}

/// The recorded v2 document with the custom kinds' definitions and paths merged in.
pub(crate) fn merge_into_v2<'a>(v2: &Value, crds: impl IntoIterator<Item = &'a Value>) -> Value {
    let mut doc = v2.clone();
    let template = v2
        .get("paths")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for k in custom_kinds(crds) {
        if let Some(defs) = doc.get_mut("definitions").and_then(Value::as_object_mut) {
            let text = kind_schema(&k, V2_REFS).to_string();
            defs.insert(
                k.schema_name(&k.kind),
                serde_json::from_str(&text).unwrap_or(Value::Null),
            );
            defs.insert(
                k.schema_name(&format!("{}List", k.kind)),
                list_schema(&k, V2_REFS),
            );
        }
        let paths = paths(&k, &template, false);
        if let Some(p) = doc.get_mut("paths").and_then(Value::as_object_mut) {
            p.extend(paths);
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widget_crd() -> Value {
        json!({"spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object", "description": "A widget.",
                "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]}})
    }

    #[test]
    fn a_crd_version_becomes_a_document_with_its_kind_list_and_patch_path() {
        let crd = widget_crd();
        let core: Value =
            serde_json::from_slice(include_bytes!("../../api-codegen/openapi/v3-api-v1.json"))
                .unwrap_or_default();
        let docs = v3_documents([&crd], Some(&core), |_| false);
        let Some(doc) = docs.get("apis/example.com/v1") else {
            panic!("no document for example.com/v1: {docs:?}");
        };
        let kind = &doc["components"]["schemas"]["com.example.v1.Widget"];
        assert_eq!(
            kind["x-kubernetes-group-version-kind"],
            json!([{"group": "example.com", "version": "v1", "kind": "Widget"}])
        );
        assert_eq!(
            kind["properties"]["spec"]["properties"]["size"]["type"],
            "integer"
        );
        assert!(
            doc["components"]["schemas"]
                .get("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
                .is_some()
        );
        let patch =
            &doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"];
        assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Widget");
        assert!(
            patch["parameters"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["name"] == "fieldValidation"))
        );
        let content = patch["requestBody"]["content"]
            .as_object()
            .map(|c| c.keys().cloned().collect::<Vec<_>>());
        assert_eq!(
            content,
            Some(vec![
                "application/apply-patch+yaml".to_owned(),
                "application/json-patch+json".to_owned(),
                "application/merge-patch+json".to_owned()
            ])
        );
    }

    #[test]
    fn unserved_versions_and_schemaless_crds_publish_nothing() {
        let mut crd = widget_crd();
        crd["spec"]["versions"][0]["served"] = json!(false);
        assert!(v3_documents([&crd], None, |_| false).is_empty());
        assert!(v3_documents([&json!({"spec": {}})], None, |_| false).is_empty());
        let served = widget_crd();
        assert!(v3_documents([&served], None, |gv| gv == "apis/example.com/v1").is_empty());
    }
}
