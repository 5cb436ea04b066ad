//! The model: the Rust items of every module, decided from the [`Catalog`] before any text is
//! written.
//!
//! Each generated schema becomes one [`Item`]: a struct (with its `Resource` and `Object`
//! impls when it is a top-level kind), a `List<T>` alias for a list kind, or a
//! `RawExtension` alias for free-form JSON. Items are grouped by module and version; the
//! references between modules decide the cargo features each module's feature enables.

use std::collections::{BTreeMap, BTreeSet};

use crate::names::{self, Place, TypeName};
use crate::rust_type::{Field, Presence, RustType};
use crate::schema::{Catalog, Collection, Gvk, Schema};

/// Everything the emitter needs.
#[derive(Debug, Default)]
pub struct Model {
    /// Items by module, then version, then type name.
    pub modules: BTreeMap<String, BTreeMap<String, BTreeMap<String, Item>>>,
    /// For each feature (a gated module), the features of the modules it references.
    pub features: BTreeMap<String, BTreeSet<String>>,
}

/// One generated type.
#[derive(Debug)]
pub struct Item {
    /// Its Rust and Go names.
    pub name: TypeName,
    /// The schema's description.
    pub description: Option<String>,
    /// What is generated.
    pub kind: ItemKind,
}

/// What is generated for a schema.
#[derive(Debug)]
pub enum ItemKind {
    /// A struct with these fields (sorted by JSON name).
    Struct {
        /// The fields.
        fields: Vec<Field>,
        /// Set for a top-level kind.
        kind: Option<KindInfo>,
    },
    /// `pub type FooList = apimachinery::meta::List<Foo>;`
    List {
        /// The element type.
        item: TypeName,
    },
    /// `pub type JSON = apimachinery::runtime::RawExtension;`
    RawJson,
}

/// What a top-level kind implements.
#[derive(Debug)]
pub struct KindInfo {
    /// Its group-version-kind.
    pub gvk: Gvk,
    /// Its collection, if it has one; `None` for kinds only served as a subresource
    /// (`Scale`, `Eviction`, `TokenRequest`), which do not implement `Resource`.
    pub collection: Option<Collection>,
    /// True when it has `metadata: ObjectMeta`, so it implements `Object`.
    pub has_object_meta: bool,
}

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

impl Model {
    /// Decides every item.
    pub fn build(catalog: &Catalog) -> Result<Model, String> {
        let mut model = Model::default();
        for (schema_name, schema) in &catalog.schemas {
            let Place::Generated(name) = names::place(schema_name)? else {
                continue;
            };
            let kind = item_kind(catalog, schema_name, schema, &name)
                .map_err(|e| format!("schema {schema_name}: {e}"))?;
            if let ItemKind::Struct { fields, .. } = &kind {
                model.note_references(&name, fields)?;
            }
            if let Some(feature) = name.feature() {
                model.features.entry(feature.to_owned()).or_default();
            }
            let item = Item {
                name: name.clone(),
                description: schema.description.clone(),
                kind,
            };
            model
                .modules
                .entry(name.module)
                .or_default()
                .entry(name.version)
                .or_default()
                .insert(name.name, item);
        }
        model.check_no_inline_cycles()?;
        Ok(model)
    }

    /// Records which features `owner`'s module needs for the types its fields reference.
    fn note_references(&mut self, owner: &TypeName, fields: &[Field]) -> Result<(), String> {
        for field in fields {
            let mut types = Vec::new();
            field.ty.walk(&mut types);
            for target in types.into_iter().filter_map(RustType::generated) {
                match (owner.feature(), target.feature()) {
                    (Some(from), Some(to)) if from != to => {
                        self.features
                            .entry(from.to_owned())
                            .or_default()
                            .insert(to.to_owned());
                    }
                    (None, Some(to)) => {
                        return Err(format!(
                            "{}.{} is always compiled but references {} behind feature {to}",
                            owner.go_package, owner.name, target.name
                        ));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The item generated for `name`.
    pub fn item(&self, name: &TypeName) -> Option<&Item> {
        self.modules
            .get(&name.module)?
            .get(&name.version)?
            .get(&name.name)
    }

    /// Fails if structs contain each other inline (a required field of struct type): such a
    /// type would have infinite size. None do in Kubernetes; a cycle would need a `Box`.
    fn check_no_inline_cycles(&self) -> Result<(), String> {
        fn visit<'a>(
            model: &'a Model,
            name: &'a TypeName,
            stack: &mut Vec<&'a TypeName>,
            done: &mut BTreeSet<&'a TypeName>,
        ) -> Result<(), String> {
            if done.contains(name) {
                return Ok(());
            }
            if stack.contains(&name) {
                let cycle: Vec<&str> = stack.iter().map(|t| t.name.as_str()).collect();
                return Err(format!(
                    "structs contain each other inline: {} -> {}",
                    cycle.join(" -> "),
                    name.name
                ));
            }
            stack.push(name);
            if let Some(Item {
                kind: ItemKind::Struct { fields, .. },
                ..
            }) = model.item(name)
            {
                for field in fields.iter().filter(|f| f.presence != Presence::Optional) {
                    if let Some(target) = field.ty.generated() {
                        visit(model, target, stack, done)?;
                    }
                }
            }
            stack.pop();
            done.insert(name);
            Ok(())
        }
        let mut done = BTreeSet::new();
        for item in self
            .modules
            .values()
            .flat_map(|v| v.values())
            .flat_map(|i| i.values())
        {
            visit(self, &item.name, &mut Vec::new(), &mut done)?;
        }
        Ok(())
    }
}

/// Decides what to generate for one schema.
fn item_kind(
    catalog: &Catalog,
    schema_name: &str,
    schema: &Schema,
    name: &TypeName,
) -> Result<ItemKind, String> {
    if names::RAW_JSON.contains(&schema_name) {
        return Ok(ItemKind::RawJson);
    }
    if schema.ty.as_deref() != Some("object") {
        return Err(format!(
            "top-level schema of type {:?}; only objects are supported",
            schema.ty
        ));
    }
    let empty = BTreeMap::new();
    let properties = schema.properties.as_ref().unwrap_or(&empty);
    if let Some(item) = list_item(schema, name, properties)? {
        return Ok(ItemKind::List { item });
    }
    let fields = properties
        .iter()
        .map(|(json_name, property)| {
            Field::new(json_name, property, schema.required.contains(json_name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for required in &schema.required {
        if !properties.contains_key(required) {
            return Err(format!("required property {required} is not a property"));
        }
    }
    let kind = match schema.group_version_kind.as_slice() {
        [gvk] if name.feature().is_some() => Some(KindInfo {
            gvk: gvk.clone(),
            collection: catalog.collections.get(gvk).cloned(),
            has_object_meta: properties.get("metadata").and_then(Schema::referenced_name)
                == Some(OBJECT_META),
        }),
        _ => None,
    };
    Ok(ItemKind::Struct { fields, kind })
}

/// The element type if `schema` is a list kind: `FooList` with exactly `apiVersion`, `kind`,
/// `metadata: ListMeta` and `items: [Foo]`.
fn list_item(
    schema: &Schema,
    name: &TypeName,
    properties: &BTreeMap<String, Schema>,
) -> Result<Option<TypeName>, String> {
    let [gvk] = schema.group_version_kind.as_slice() else {
        return Ok(None);
    };
    let keys: Vec<&str> = properties.keys().map(String::as_str).collect();
    let is_list_shape = gvk.kind.ends_with("List")
        && keys == ["apiVersion", "items", "kind", "metadata"]
        && properties["metadata"].referenced_name() == Some(LIST_META);
    if !is_list_shape {
        return Ok(None);
    }
    let items = properties["items"]
        .items
        .as_deref()
        .and_then(Schema::referenced_name);
    let Some(Place::Generated(item)) = items.map(names::place).transpose()? else {
        return Err("list kind whose items are not a generated type".to_owned());
    };
    if format!("{}List", item.name) != name.name {
        return Err(format!("list kind {} of {}", name.name, item.name));
    }
    Ok(Some(item))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn catalog(schemas: &str, paths: &str) -> Catalog {
        let doc = format!(r#"{{"paths": {paths}, "components": {{"schemas": {schemas}}}}}"#);
        Catalog::load(&[("doc.json".into(), doc)]).unwrap()
    }

    const SCHEMAS: &str = r##"{
        "io.k8s.api.apps.v1.Deployment": {"type": "object",
            "x-kubernetes-group-version-kind": [{"group": "apps", "version": "v1", "kind": "Deployment"}],
            "properties": {
                "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]},
                "spec": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}]}}},
        "io.k8s.api.apps.v1.DeploymentList": {"type": "object",
            "x-kubernetes-group-version-kind": [{"group": "apps", "version": "v1", "kind": "DeploymentList"}],
            "required": ["items"],
            "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"}]},
                "items": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.apps.v1.Deployment"}]}}}},
        "io.k8s.api.core.v1.PodSpec": {"type": "object", "properties": {}},
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"type": "object"}
    }"##;

    const PATHS: &str = r#"{"/apis/apps/v1/namespaces/{namespace}/deployments": {"get": {"x-kubernetes-action": "list",
        "x-kubernetes-group-version-kind": {"group": "apps", "version": "v1", "kind": "Deployment"}}}}"#;

    fn item<'a>(model: &'a Model, module: &str, name: &str) -> &'a Item {
        &model.modules[module]["v1"][name]
    }

    #[test]
    fn a_module_feature_enables_the_features_of_modules_it_references() {
        let model = Model::build(&catalog(SCHEMAS, PATHS)).unwrap();
        assert_eq!(model.features["apps"], BTreeSet::from(["core".to_owned()]));
        assert!(model.features["core"].is_empty());
    }

    #[test]
    fn list_kinds_become_list_aliases() {
        let model = Model::build(&catalog(SCHEMAS, PATHS)).unwrap();
        let ItemKind::List { item } = &item(&model, "apps", "DeploymentList").kind else {
            panic!("not a list");
        };
        assert_eq!(item.name, "Deployment");
    }

    #[test]
    fn kinds_with_a_collection_path_are_resources() {
        let model = Model::build(&catalog(SCHEMAS, PATHS)).unwrap();
        let ItemKind::Struct {
            kind: Some(kind), ..
        } = &item(&model, "apps", "Deployment").kind
        else {
            panic!("not a kind");
        };
        assert_eq!(
            kind.collection,
            Some(Collection {
                plural: "deployments".into(),
                namespaced: true
            })
        );
        assert!(kind.has_object_meta);
    }

    #[test]
    fn kinds_without_a_collection_path_are_not_resources() {
        let model = Model::build(&catalog(SCHEMAS, "{}")).unwrap();
        let ItemKind::Struct {
            kind: Some(kind), ..
        } = &item(&model, "apps", "Deployment").kind
        else {
            panic!("not a kind");
        };
        assert_eq!(kind.collection, None);
    }

    #[test]
    fn structs_containing_each_other_inline_are_an_error() {
        let schemas = r##"{
            "io.k8s.api.core.v1.A": {"type": "object", "required": ["b"],
                "properties": {"b": {"$ref": "#/components/schemas/io.k8s.api.core.v1.B"}}},
            "io.k8s.api.core.v1.B": {"type": "object", "required": ["a"],
                "properties": {"a": {"$ref": "#/components/schemas/io.k8s.api.core.v1.A"}}}
        }"##;
        let err = Model::build(&catalog(schemas, "{}")).unwrap_err();
        assert!(err.contains("contain each other inline"), "{err}");
    }
}
