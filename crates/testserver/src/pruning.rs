//! Port of apiextensions-apiserver `pkg/apiserver/schema/pruning/algorithm.go`: the fields of
//! a custom resource that its CRD's structural schema does not declare are removed before the
//! object is stored, and their paths are reported (`spec.foo`, `spec.items[0].bar`) for
//! `fieldValidation`.
//!
//! Data flow: `crd_schema::coerce` calls [`prune`] on a decoded body (or on a patched
//! object) with the version's `openAPIV3Schema`; every object member is kept only if the
//! schema names it in `properties`, or has `additionalProperties`; below
//! `x-kubernetes-preserve-unknown-fields: true` unknown members stay (known ones are still
//! pruned inside); `apiVersion`, `kind` and `metadata` of the root and of every
//! `x-kubernetes-embedded-resource` object stay (their metadata is `objectmeta`'s
//! business). [`prune_non_nullable_nulls`] is `defaulting/prunenulls.go`'s
//! `PruneNonNullableNullsWithoutDefaults`, which the handler runs right after pruning.
//!
//! ```text
//! schema {spec: {replicas: integer}}      body {spec: {replicas: 1, foo: 2}, bar: 3}
//!   -> stored {spec: {replicas: 1}}       unknown ["bar", "spec.foo"]
//! ```
//!
//! Differs from Go: the schema is read as the CRD's JSON (`properties`, `additionalProperties`,
//! `items`, the `x-kubernetes-*` flags) rather than converted to a `Structural` first, so a
//! schema that is not structural (Go would have refused the CRD) is pruned by what it says.

use serde_json::{Map, Value};

/// The members every resource (and every embedded resource) keeps whatever its schema says.
const META_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// Port of `PruneWithOptions` with `TrackUnknownFieldPaths`: removes from `obj` the fields
/// `schema` does not specify and returns their paths, sorted. `is_resource_root` keeps
/// `apiVersion`, `kind` and `metadata` at the top, as for an embedded resource.
pub(crate) fn prune(obj: &mut Value, schema: &Value, is_resource_root: bool) -> Vec<String> {
    let mut pruner = Pruner::default();
    let s = Node {
        schema: Some(schema),
        embedded: is_resource_root || flag(schema, "x-kubernetes-embedded-resource"),
    };
    pruner.prune(obj, s);
    pruner.unknown.sort();
    pruner.unknown
}

/// Port of `PruneNonNullableNullsWithoutDefaults`: removes `null` members whose schema is
/// neither `nullable` nor has a `default` (they would fail validation, and Go's decoding of a
/// typed object drops them too).
pub(crate) fn prune_non_nullable_nulls(x: &mut Value, s: Option<&Value>) {
    match x {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let schema = s.and_then(|s| field_schema(s, &k)).flatten();
                let drop = map.get(&k).is_some_and(Value::is_null)
                    && schema.is_some_and(|s| !flag(s, "nullable") && s.get("default").is_none());
                if drop {
                    map.remove(&k);
                } else if let Some(v) = map.get_mut(&k) {
                    prune_non_nullable_nulls(v, schema);
                }
            }
        }
        Value::Array(items) => {
            let schema = s.and_then(|s| s.get("items")).filter(|i| i.is_object());
            for item in items {
                prune_non_nullable_nulls(item, schema);
            }
        }
        _ => {}
    }
}

/// A schema node as `Structural` has it: `None` is Go's nil schema (everything below is
/// unknown); `embedded` is `XEmbeddedResource`, forced on at the root.
#[derive(Clone, Copy)]
struct Node<'a> {
    schema: Option<&'a Value>,
    embedded: bool,
}

impl<'a> Node<'a> {
    fn of(schema: Option<&'a Value>) -> Self {
        Node {
            schema,
            embedded: schema.is_some_and(|s| flag(s, "x-kubernetes-embedded-resource")),
        }
    }
}

/// `s.x == true`.
fn flag(s: &Value, name: &str) -> bool {
    s.get(name) == Some(&Value::Bool(true))
}

fn properties(s: &Value) -> Option<&Map<String, Value>> {
    s.get("properties").and_then(Value::as_object)
}

/// `additionalProperties`: `None` when absent; `Some(None)` for a boolean (`StructuralOrBool`
/// without a schema), `Some(Some(schema))` for a schema.
fn additional(s: &Value) -> Option<Option<&Value>> {
    match s.get("additionalProperties")? {
        a @ Value::Object(_) => Some(Some(a)),
        Value::Bool(_) => Some(None),
        _ => None,
    }
}

/// The schema of member `k`: `None` if `s` allows no such member, `Some(None)` for an
/// additional property without a schema. `getSchemaForField` in prunenulls.go.
fn field_schema<'a>(s: &'a Value, k: &str) -> Option<Option<&'a Value>> {
    if let Some(p) = properties(s).and_then(|p| p.get(k)) {
        return Some(Some(p));
    }
    additional(s)
}

/// `UnknownFieldPathOptions`: the path being walked and the unknown paths found.
#[derive(Default)]
struct Pruner {
    /// `ParentPath` joined: `spec.items[0]`.
    path: String,
    unknown: Vec<String>,
}

impl Pruner {
    /// `AppendKey`; returns the length to truncate back to.
    fn push_key(&mut self, key: &str) -> usize {
        let len = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(key);
        len
    }

    /// `AppendIndex`.
    fn push_index(&mut self, i: usize) -> usize {
        let len = self.path.len();
        self.path.push_str(&format!("[{i}]"));
        len
    }

    /// `RecordUnknownField`.
    fn record(&mut self, key: &str) {
        let len = self.push_key(key);
        self.unknown.push(self.path.clone());
        self.path.truncate(len);
    }

    fn prune(&mut self, x: &mut Value, s: Node<'_>) {
        if s.schema
            .is_some_and(|s| flag(s, "x-kubernetes-preserve-unknown-fields"))
        {
            self.skip_prune(x, s);
            return;
        }
        match x {
            Value::Object(map) => {
                let Some(schema) = s.schema else {
                    let keys: Vec<String> = map.keys().cloned().collect();
                    for k in keys {
                        self.record(&k);
                    }
                    map.clear();
                    return;
                };
                let keys: Vec<String> = map.keys().cloned().collect();
                for k in keys {
                    if s.embedded && META_FIELDS.contains(&k.as_str()) {
                        continue;
                    }
                    let child = match field_schema(schema, &k) {
                        Some(child) => child,
                        None => {
                            if !META_FIELDS.contains(&k.as_str()) || !self.path.is_empty() {
                                self.record(&k);
                            }
                            map.remove(&k);
                            continue;
                        }
                    };
                    if let Some(v) = map.get_mut(&k) {
                        let len = self.push_key(&k);
                        self.prune(v, Node::of(child));
                        self.path.truncate(len);
                    }
                }
            }
            Value::Array(items) => {
                let item_schema = s
                    .schema
                    .and_then(|s| s.get("items"))
                    .filter(|i| i.is_object());
                for (i, v) in items.iter_mut().enumerate() {
                    let len = self.push_index(i);
                    self.prune(v, Node::of(item_schema));
                    self.path.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// `skipPrune`: below `x-kubernetes-preserve-unknown-fields`, unknown members stay and
    /// known ones are pruned by their own schema.
    fn skip_prune(&mut self, x: &mut Value, s: Node<'_>) {
        let Some(schema) = s.schema else {
            return;
        };
        match x {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if s.embedded && META_FIELDS.contains(&k.as_str()) {
                        continue;
                    }
                    if let Some(child) = field_schema(schema, k) {
                        let len = self.push_key(k);
                        self.prune(v, Node::of(child));
                        self.path.truncate(len);
                    }
                }
            }
            Value::Array(items) => {
                let item_schema = schema.get("items").filter(|i| i.is_object());
                for (i, v) in items.iter_mut().enumerate() {
                    let len = self.push_index(i);
                    self.skip_prune(v, Node::of(item_schema));
                    self.path.truncate(len);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_go_and_their_sorted_paths_come_back() {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "items": {"type": "array", "items": {"type": "object",
                    "properties": {"name": {"type": "string"}}}}}}}});
        let mut obj = json!({"apiVersion": "a/v1", "kind": "K", "metadata": {"name": "x"},
            "zeta": 1, "spec": {"foo": 2, "items": [{"name": "a", "bar": 3}]}});
        let unknown = prune(&mut obj, &schema, true);
        assert_eq!(unknown, ["spec.foo", "spec.items[0].bar", "zeta"]);
        assert_eq!(
            obj,
            json!({"apiVersion": "a/v1", "kind": "K", "metadata": {"name": "x"},
                "spec": {"items": [{"name": "a"}]}})
        );
    }

    #[test]
    fn preserved_subtrees_keep_unknown_fields_but_prune_known_ones() {
        let schema = json!({"type": "object", "properties": {"spec": {
            "type": "object", "x-kubernetes-preserve-unknown-fields": true,
            "properties": {"known": {"type": "object", "properties": {"a": {"type": "string"}}}}}}});
        let mut obj = json!({"spec": {"free": {"x": 1}, "known": {"a": "1", "b": 2}}});
        assert_eq!(prune(&mut obj, &schema, true), ["spec.known.b"]);
        assert_eq!(
            obj,
            json!({"spec": {"free": {"x": 1}, "known": {"a": "1"}}})
        );
    }

    #[test]
    fn embedded_resources_keep_type_and_object_meta() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"template": {"type": "object", "x-kubernetes-embedded-resource": true,
                "properties": {"spec": {"type": "object"}}}}}}});
        let mut obj = json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p"}, "spec": {"x": 1}, "other": 2}}});
        assert_eq!(
            prune(&mut obj, &schema, true),
            ["spec.template.other", "spec.template.spec.x"]
        );
        assert_eq!(
            obj["spec"]["template"],
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}})
        );
    }

    #[test]
    fn nulls_of_non_nullable_fields_without_defaults_are_dropped() {
        let schema = json!({"properties": {"a": {"type": "string"},
            "b": {"type": "string", "nullable": true}, "c": {"type": "string", "default": "x"}}});
        let mut obj = json!({"a": null, "b": null, "c": null});
        prune_non_nullable_nulls(&mut obj, Some(&schema));
        assert_eq!(obj, json!({"b": null, "c": null}));
    }

    #[test]
    fn malformed_schemas_prune_by_what_they_say() {
        let mut obj = json!({"spec": {"a": 1}, "x": [1, {"y": 2}]});
        let schema = json!({"properties": "nonsense", "items": 5});
        assert_eq!(prune(&mut obj, &schema, true), ["spec", "x"]);
        // `additionalProperties: true` has no schema: what is below a member is unknown.
        let mut obj = json!({"spec": {"a": {"b": 1}, "c": [1]}});
        let schema = json!({"properties": {"spec": {"additionalProperties": true}}});
        assert_eq!(prune(&mut obj, &schema, true), ["spec.a.b"]);
        assert_eq!(obj, json!({"spec": {"a": {}, "c": [1]}}));
    }
}
