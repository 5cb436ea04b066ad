//! Port of kube-openapi `pkg/schemaconv` (OpenAPI schema → structured-merge-diff schema) and
//! of structured-merge-diff's deduced type (`typed/deduced.go`), as a view over the recorded
//! OpenAPI v3 documents: what `structured_merge` needs to know at each node.
//!
//! Data flow: [`TypeView::for_kind`] finds the kind's schema in the built-in documents
//! ([`crate::openapi::builtin_schemas`]); at each node [`TypeView::atom`] says whether the
//! value is a leaf, a map (struct fields, granular or atomic, `x-kubernetes-map-type`) or a
//! list (`x-kubernetes-list-type` atomic/set/map with `x-kubernetes-list-map-keys`, else the
//! `x-kubernetes-patch-strategy: merge` + `x-kubernetes-patch-merge-key` fallback, else
//! atomic). A kind without a schema (custom resources for now) is SMD's deduced type: maps
//! granular, lists atomic.
//!
//! Differs from Go: the view reads the JSON documents lazily instead of converting them into a
//! `schema.Schema` up front, and a value whose JSON type does not fit its schema is treated as
//! a leaf instead of failing validation, because the testserver stores unknown fields and
//! lets field validation report them.

use serde_json::{Map, Value};

use crate::openapi;

/// How items of a list are identified. Port of SMD's `ElementRelationship` plus `Keys`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListType {
    /// The whole list is one value (`x-kubernetes-list-type: atomic`, the default).
    Atomic,
    /// Scalars identified by value (`set`, or patch strategy `merge` without a key).
    Set,
    /// Maps identified by their key fields (`map` with `x-kubernetes-list-map-keys`, or patch
    /// strategy `merge` with `x-kubernetes-patch-merge-key`).
    Map(Vec<String>),
}

/// What a node of a schema is, for a given value. Port of SMD's `schema.Atom`.
#[derive(Clone, Debug)]
pub(crate) enum Atom<'a> {
    /// A scalar, or anything treated as one value (untyped nodes, type mismatches).
    Leaf,
    /// A struct or map.
    Map {
        /// `x-kubernetes-map-type: atomic`: owned and replaced as one value.
        atomic: bool,
    },
    /// A list, with the type of its items.
    List {
        /// How items are identified.
        list_type: ListType,
        /// The items' type.
        items: TypeView<'a>,
    },
}

#[derive(Clone, Copy, Debug)]
enum Node<'a> {
    /// A node of an OpenAPI document.
    OpenApi(&'a Value),
    /// SMD's `__untyped_deduced_`: maps granular, lists atomic, everything else a leaf.
    Deduced,
    /// SMD's `__untyped_atomic_`: a schema that says nothing; one value.
    Untyped,
}

/// A type in the kind's schema. Port of SMD's `schema.TypeRef` resolved against its schema.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TypeView<'a> {
    schemas: Option<&'a Map<String, Value>>,
    node: Node<'a>,
}

impl TypeView<'static> {
    /// The schema of a built-in kind, or the deduced type for a kind the recorded documents do
    /// not have (custom resources).
    pub(crate) fn for_kind(api_version: &str, kind: &str) -> TypeView<'static> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        openapi::builtin_schemas(group, version)
            .and_then(|schemas| {
                openapi::kind_schema(schemas, group, version, kind).map(|node| TypeView {
                    schemas: Some(schemas),
                    node: Node::OpenApi(node),
                })
            })
            .unwrap_or_else(TypeView::deduced)
    }
}

impl<'a> TypeView<'a> {
    /// SMD's deduced type.
    pub(crate) fn deduced() -> TypeView<'a> {
        TypeView {
            schemas: None,
            node: Node::Deduced,
        }
    }

    /// SMD's untyped atomic type: a node the schema says nothing about, owned as one value.
    pub(crate) fn untyped() -> TypeView<'a> {
        TypeView {
            schemas: None,
            node: Node::Untyped,
        }
    }

    /// A view of an OpenAPI node inside `schemas`.
    #[cfg(test)]
    pub(crate) fn new(schemas: &'a Map<String, Value>, node: &'a Value) -> TypeView<'a> {
        TypeView {
            schemas: Some(schemas),
            node: Node::OpenApi(node),
        }
    }

    fn with(&self, node: Node<'a>) -> TypeView<'a> {
        TypeView {
            schemas: self.schemas,
            node,
        }
    }

    fn resolved(&self) -> Option<&'a Value> {
        match self.node {
            Node::OpenApi(n) => Some(match self.schemas {
                Some(s) => openapi::resolve(s, n),
                None => n,
            }),
            _ => None,
        }
    }

    /// What this node is for `value` (the value decides only for deduced nodes and when it
    /// does not fit the schema).
    pub(crate) fn atom(&self, value: &Value) -> Atom<'a> {
        let deduced = |v: &Value| match v {
            Value::Object(_) => Atom::Map { atomic: false },
            Value::Array(_) => Atom::List {
                list_type: ListType::Atomic,
                items: self.with(Node::Deduced),
            },
            _ => Atom::Leaf,
        };
        let node = match self.node {
            Node::Deduced => return deduced(value),
            Node::Untyped => return Atom::Leaf,
            Node::OpenApi(_) => match self.resolved() {
                Some(n) => n,
                None => return Atom::Leaf,
            },
        };
        let ty = node.get("type").and_then(Value::as_str);
        let preserve = node
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            == Some(true);
        if node
            .get("x-kubernetes-int-or-string")
            .and_then(Value::as_bool)
            == Some(true)
        {
            return Atom::Leaf;
        }
        if ty == Some("array") || node.get("items").is_some() {
            if !value.is_array() {
                return Atom::Leaf;
            }
            let items = node
                .get("items")
                .map_or(self.with(Node::Untyped), |i| self.with(Node::OpenApi(i)));
            return Atom::List {
                list_type: list_type(node),
                items,
            };
        }
        let has_fields = node.get("properties").is_some();
        let has_elements = node
            .get("additionalProperties")
            .is_some_and(|a| a.is_object());
        if ty == Some("object") || has_fields || has_elements {
            if !value.is_object() {
                return Atom::Leaf;
            }
            if !has_fields && !has_elements && !preserve {
                return Atom::Leaf;
            }
            let atomic =
                node.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic");
            return Atom::Map { atomic };
        }
        if preserve {
            return deduced(value);
        }
        Atom::Leaf
    }

    /// The type of map entry `key`: the struct field's, else the map's element type, else
    /// `None` (a field the schema does not declare).
    pub(crate) fn field(&self, key: &str) -> Option<TypeView<'a>> {
        match self.node {
            Node::Deduced => Some(*self),
            Node::Untyped => None,
            Node::OpenApi(_) => {
                let node = self.resolved()?;
                if let Some(f) = node.get("properties").and_then(|p| p.get(key)) {
                    return Some(self.with(Node::OpenApi(f)));
                }
                if let Some(e) = node.get("additionalProperties").filter(|a| a.is_object()) {
                    return Some(self.with(Node::OpenApi(e)));
                }
                if node
                    .get("x-kubernetes-preserve-unknown-fields")
                    .and_then(Value::as_bool)
                    == Some(true)
                {
                    return Some(self.with(Node::Deduced));
                }
                None
            }
        }
    }

    /// Whether `key` is a declared struct field (`properties`), as opposed to a map key.
    /// Go: `schema.Map.FindField`.
    pub(crate) fn is_named_field(&self, key: &str) -> bool {
        self.resolved()
            .and_then(|n| n.get("properties"))
            .is_some_and(|p| p.get(key).is_some())
    }

    /// The struct's `required` fields: in the generated documents, the Go fields without
    /// `omitempty`, which a zero value serializes (as `null` or `{}`).
    pub(crate) fn required_fields(&self) -> Vec<&'a str> {
        self.resolved()
            .and_then(|n| n.get("required"))
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// The `default` the schema gives struct field `key`, used for list map keys an item
    /// leaves out (SMD: keys with defaults may be omitted).
    pub(crate) fn field_default(&self, key: &str) -> Option<&'a Value> {
        let raw = self.resolved()?.get("properties")?.get(key)?;
        let resolved = match self.schemas {
            Some(s) => openapi::resolve(s, raw),
            None => raw,
        };
        raw.get("default").or_else(|| resolved.get("default"))
    }
}

/// The list type of an array node, as kube-openapi's `getListElementRelationship` reads it.
fn list_type(node: &Value) -> ListType {
    match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => return ListType::Set,
        Some("map") => {
            let keys = node
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|ks| {
                    ks.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            return ListType::Map(keys);
        }
        Some(_) => return ListType::Atomic,
        None => {}
    }
    let strategy = node
        .get("x-kubernetes-patch-strategy")
        .and_then(Value::as_str)
        .unwrap_or("");
    if strategy.split(',').any(|s| s == "merge") {
        return match node
            .get("x-kubernetes-patch-merge-key")
            .and_then(Value::as_str)
        {
            Some(key) => ListType::Map(vec![key.to_owned()]),
            None => ListType::Set,
        };
    }
    ListType::Atomic
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path<'a>(mut t: TypeView<'a>, keys: &[&str]) -> TypeView<'a> {
        for k in keys {
            t = match t.atom(&json!({})) {
                Atom::List { items, .. } => items,
                _ => t.field(k).expect("declared"),
            };
        }
        t
    }

    fn list_of(t: TypeView<'_>) -> ListType {
        match t.atom(&json!([])) {
            Atom::List { list_type, .. } => list_type,
            other => panic!("not a list: {other:?}"),
        }
    }

    #[test]
    fn pod_lists_follow_their_extensions() {
        let pod = TypeView::for_kind("v1", "Pod");
        let containers = path(pod, &["spec", "containers"]);
        assert_eq!(list_of(containers), ListType::Map(vec!["name".into()]));
        let Atom::List { items, .. } = containers.atom(&json!([])) else {
            panic!("list")
        };
        assert_eq!(
            list_of(items.field("ports").expect("ports")),
            ListType::Map(vec!["containerPort".into(), "protocol".into()])
        );
        assert_eq!(
            list_of(items.field("args").expect("args")),
            ListType::Atomic
        );
        assert_eq!(
            list_of(path(pod, &["metadata", "finalizers"])),
            ListType::Set
        );
        assert_eq!(
            list_of(path(pod, &["metadata", "ownerReferences"])),
            ListType::Map(vec!["uid".into()])
        );
    }

    #[test]
    fn atomic_maps_are_marked_and_labels_are_granular() {
        let dep = TypeView::for_kind("apps/v1", "Deployment");
        let selector = path(dep, &["spec", "selector"]);
        assert!(matches!(
            selector.atom(&json!({})),
            Atom::Map { atomic: true }
        ));
        let labels = path(dep, &["metadata", "labels"]);
        assert!(matches!(
            labels.atom(&json!({})),
            Atom::Map { atomic: false }
        ));
        assert!(!labels.is_named_field("app"));
        assert!(path(dep, &["spec"]).is_named_field("replicas"));
    }

    #[test]
    fn kinds_without_a_schema_are_deduced() {
        let cr = TypeView::for_kind("example.com/v1", "Widget");
        assert!(matches!(cr.atom(&json!({})), Atom::Map { atomic: false }));
        assert!(matches!(
            cr.atom(&json!([1])),
            Atom::List {
                list_type: ListType::Atomic,
                ..
            }
        ));
        assert!(!cr.is_named_field("spec"));
    }

    #[test]
    fn list_map_key_defaults_are_read() {
        let pod = TypeView::for_kind("v1", "Pod");
        let Atom::List { items, .. } = path(pod, &["spec", "containers"]).atom(&json!([])) else {
            panic!("list")
        };
        let Atom::List { items: port, .. } = items.field("ports").expect("ports").atom(&json!([]))
        else {
            panic!("list")
        };
        assert_eq!(port.field_default("protocol"), Some(&json!("TCP")));
    }
}
