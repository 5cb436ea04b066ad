//! The protobuf plan: for each generated struct that has a protobuf message, how each field
//! number maps onto its Rust fields, and how each field is read and written.
//!
//! Inputs: `protobuf/schema.json` (field names, numbers, labels and types of every message,
//! extracted from the 1.32 `generated.proto` files) and `go-fields.json` (per Go struct field:
//! JSON name, pointer, omitempty, embedded; see [`crate::go_fields`]). A proto field finds its
//! Rust field through the Go struct field with the same number, whose json tag names the JSON
//! property. An embedded Go struct (`ProbeHandler` in `Probe`) is a proto field of its own
//! message type whose fields JSON inlines; it maps onto the parent's Rust fields.
//!
//! Rules (the object decoded from protobuf must equal the object decoded from the server's
//! JSON of the same object; encoding writes what Go's gogo-protobuf writes):
//! - Decode: a Go pointer field reads with `merge` (a present zero stays `Some(0)`); a Go
//!   non-pointer scalar with `omitempty` held in an `Option` reads with `merge_omitempty`
//!   (the zero Go always writes reads as `None`, as its absence from JSON does); everything
//!   else reads with `merge`.
//! - Encode, in field-number order: an `Option` of a Go pointer, slice or map is written when
//!   `Some` (`encode_field`); an `Option` of a Go non-pointer value is written always, the zero
//!   value when `None` (`encode_always`); a bare value is written as it is.
//!
//! - Raw JSON types (`pub type JSON = RawExtension`) whose protobuf form is a message convert
//!   as [`RAW_JSON_MESSAGES`] says: `JSON` through `RawExtension`'s `Field` impl, the
//!   `JSONSchemaProps` unions through the hand-written types of [`RAW_JSON_TEMPLATE`].
//!
//! Generation fails, listing every problem, when a proto field or a Rust field cannot be
//! mapped (except [`UNMAPPED_RUST_FIELDS`]), or a raw JSON type has no conversion.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use crate::go_fields::{GoField, GoFields};
use crate::model::{ItemKind, Model};
use crate::names::{Place, TypeName};
use crate::rust_type::{Field, Presence, RustType};

/// One field of a message in `schema.json`.
#[derive(Clone, Debug, Deserialize)]
pub struct ProtoField {
    /// The proto field name.
    pub name: String,
    /// Its number.
    pub number: u32,
    /// `optional`, `repeated` or `map`.
    pub label: String,
    /// A scalar (`string`, `int32`, ...), a message of the same package, a fully qualified
    /// `.k8s.io....` message, or `map`.
    #[serde(rename = "type")]
    pub ty: String,
    /// A map's key type.
    pub key: Option<String>,
    /// A map's value type.
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ProtoPackage {
    source: String,
    messages: BTreeMap<String, Vec<ProtoField>>,
}

/// `schema.json`: proto package → messages.
#[derive(Debug)]
pub struct ProtoSchema {
    packages: BTreeMap<String, ProtoPackage>,
    /// Go package → proto package.
    by_go_package: BTreeMap<String, String>,
}

impl ProtoSchema {
    /// Reads `schema.json`.
    pub fn load(path: &Path) -> Result<ProtoSchema, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let packages: BTreeMap<String, ProtoPackage> =
            serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))?;
        let by_go_package = packages
            .iter()
            .map(|(name, p)| (go_package_of(&p.source), name.clone()))
            .collect();
        Ok(ProtoSchema {
            packages,
            by_go_package,
        })
    }

    /// The Go packages (import paths) the schema covers.
    pub fn go_packages(&self) -> Vec<String> {
        self.by_go_package.keys().cloned().collect()
    }

    fn message(&self, package: &str, name: &str) -> Option<&[ProtoField]> {
        self.packages
            .get(package)?
            .messages
            .get(name)
            .map(Vec::as_slice)
    }

    fn go_package(&self, package: &str) -> Option<String> {
        self.packages.get(package).map(|p| go_package_of(&p.source))
    }
}

fn go_package_of(source: &str) -> String {
    source
        .strip_suffix("/generated.proto")
        .unwrap_or(source)
        .to_owned()
}

/// Go package of the CustomResourceDefinition types.
const APIEXTENSIONS_V1: &str = "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1";

/// Types kept as raw JSON here (`pub type JSON = RawExtension`) whose protobuf form is a
/// message, and how a field of that type is converted: `None` for a message shaped like
/// `RawExtension` itself (`{bytes raw = 1}`, read by its `Field` impl), or the name of the
/// hand-written union type in [`RAW_JSON_TEMPLATE`] that converts the JSON text to and from
/// the message (Go's `MarshalJSON`/`UnmarshalJSON` of that type). A field of any other raw
/// JSON type fails generation.
pub const RAW_JSON_MESSAGES: [(&str, &str, Option<&str>); 4] = [
    (APIEXTENSIONS_V1, "JSON", None),
    (
        APIEXTENSIONS_V1,
        "JSONSchemaPropsOrArray",
        Some("PbJSONSchemaPropsOrArray"),
    ),
    (
        APIEXTENSIONS_V1,
        "JSONSchemaPropsOrBool",
        Some("PbJSONSchemaPropsOrBool"),
    ),
    (
        APIEXTENSIONS_V1,
        "JSONSchemaPropsOrStringArray",
        Some("PbJSONSchemaPropsOrStringArray"),
    ),
];

/// The hand-written conversions named in [`RAW_JSON_MESSAGES`], appended to the `_pb.rs`
/// file whose messages use them.
pub const RAW_JSON_TEMPLATE: &str = include_str!("../templates/raw_json_unions.rs");

/// How a field of raw JSON type `name` converts, if it is in [`RAW_JSON_MESSAGES`].
fn raw_json_message(name: &TypeName) -> Option<Option<&'static str>> {
    RAW_JSON_MESSAGES
        .iter()
        .find(|(p, n, _)| *p == name.go_package && *n == name.name)
        .map(|(_, _, helper)| *helper)
}

/// Structs left without protobuf on purpose, with the reason: fields whose proto form has
/// no `Field` shape here yet. None today.
pub const NO_PROTOBUF_TYPES: [(&str, &str, &str); 0] = [];

/// Rust fields that no proto field carries, on purpose: `apiVersion` and `kind` travel in the
/// protobuf envelope (`runtime.Unknown.typeMeta`), not in the object's message.
pub const UNMAPPED_RUST_FIELDS: [&str; 2] = ["apiVersion", "kind"];

/// `apimachinery` types that implement `Field` (messages and the special forms); a struct
/// referencing any other `apimachinery` type (`WatchEvent`) gets no protobuf.
pub const EXTERNAL_WITH_PROTOBUF: [&str; 18] = [
    "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Condition",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause",
    "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
];

/// How a field is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decode {
    /// `wire::merge`.
    Merge,
    /// `wire::merge_omitempty`: a zero reads as `None`.
    Omitempty,
    /// `map<string, ExtraValue>` into `Option<StrMap<ThinVec<Str>>>` (`crate::pb` helpers).
    StringListMap,
    /// A `{repeated string items = 1}` message (meta's `Verbs`) into a `ThinVec<Str>`.
    StringList,
    /// A union message into an `Option<RawExtension>`, through the named union type of
    /// [`RAW_JSON_TEMPLATE`].
    RawJsonUnion(&'static str),
    /// A `map<string, union>` into an `Option<StrMap<RawExtension>>`, likewise.
    RawJsonUnionMap(&'static str),
}

/// How a field is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encode {
    /// `Field::encode_field`: nothing for `None`.
    Field,
    /// `wire::encode_always`: the zero value for `None`.
    Always,
    /// See [`Decode::StringListMap`].
    StringListMap,
    /// See [`Decode::StringList`]: written when not empty.
    StringList,
    /// See [`Decode::RawJsonUnion`]: nothing for `None`.
    RawJsonUnion(&'static str),
    /// See [`Decode::RawJsonUnionMap`]: nothing for `None`.
    RawJsonUnionMap(&'static str),
}

/// One proto field of a planned message.
#[derive(Clone, Debug, PartialEq)]
pub enum PbField {
    /// A field held by one Rust field.
    Plain {
        /// Field number.
        number: u32,
        /// The Rust field.
        ident: String,
        /// How it is read.
        decode: Decode,
        /// How it is written.
        encode: Encode,
        /// A repeated field, shrunk to size once decoded.
        repeated: bool,
    },
    /// An embedded Go struct: a nested message whose fields are the parent's.
    Embedded {
        /// Field number.
        number: u32,
        /// The proto field name in snake case (`handler`), naming the helper methods.
        method: String,
        /// The embedded message's Go name, for errors.
        message: String,
        /// Its fields, mapped onto the parent's Rust fields.
        fields: Vec<PbField>,
    },
}

/// The protobuf plan of every generated struct.
#[derive(Debug, Default)]
pub struct PbPlan {
    /// Structs with a `Message` impl, and their fields in number order.
    pub messages: BTreeMap<TypeName, (String, Vec<PbField>)>,
    /// Structs without one, and why.
    pub excluded: BTreeMap<TypeName, String>,
}

impl PbPlan {
    /// True if `name` gets a `Message` impl.
    pub fn has(&self, name: &TypeName) -> bool {
        self.messages.contains_key(name)
    }

    /// True if a module's version has any message (and so a `<version>_pb.rs` file).
    pub fn has_version(&self, module: &str, version: &str) -> bool {
        self.messages
            .keys()
            .any(|t| t.module == module && t.version == version)
    }

    /// Decides the plan.
    pub fn build(model: &Model, proto: &ProtoSchema, go: &GoFields) -> Result<PbPlan, String> {
        let mut plan = PbPlan::default();
        let mut errors = Vec::new();
        let mut references: BTreeMap<TypeName, Vec<RustType>> = BTreeMap::new();
        let raw_json: BTreeSet<TypeName> = model
            .modules
            .values()
            .flat_map(|v| v.values())
            .flat_map(|i| i.values())
            .filter(|i| matches!(i.kind, ItemKind::RawJson))
            .map(|i| i.name.clone())
            .collect();
        for item in model
            .modules
            .values()
            .flat_map(|v| v.values())
            .flat_map(|i| i.values())
        {
            let ItemKind::Struct { fields, .. } = &item.kind else {
                continue;
            };
            let name = &item.name;
            if let Some((_, _, why)) = NO_PROTOBUF_TYPES
                .iter()
                .find(|(p, n, _)| *p == name.go_package && *n == name.name)
            {
                plan.excluded.insert(name.clone(), (*why).to_owned());
                continue;
            }
            let Some(package) = proto.by_go_package.get(&name.go_package) else {
                plan.excluded.insert(
                    name.clone(),
                    "its package has no protobuf schema".to_owned(),
                );
                continue;
            };
            let Some(message) = proto.message(package, &name.name) else {
                plan.excluded
                    .insert(name.clone(), "it has no protobuf message".to_owned());
                continue;
            };
            let mut mapper = Mapper {
                proto,
                go,
                rust: fields,
                raw_json: &raw_json,
                used: BTreeSet::new(),
                errors: Vec::new(),
            };
            let pb_fields = mapper.message(package, &name.name, message, 0);
            for field in fields {
                if !mapper.used.contains(&field.json_name)
                    && !UNMAPPED_RUST_FIELDS.contains(&field.json_name.as_str())
                {
                    mapper.errors.push(format!(
                        "JSON property {} has no proto field",
                        field.json_name
                    ));
                }
            }
            errors.extend(
                mapper
                    .errors
                    .into_iter()
                    .map(|e| format!("{}.{}: {e}", name.go_package, name.name)),
            );
            references.insert(name.clone(), fields.iter().map(|f| f.ty.clone()).collect());
            plan.messages
                .insert(name.clone(), (name.name.clone(), pb_fields));
        }
        if !errors.is_empty() {
            return Err(format!(
                "protobuf mapping failed:\n  {}",
                errors.join("\n  ")
            ));
        }
        // A struct whose fields reference a type without protobuf cannot have it either.
        loop {
            let mut dropped = Vec::new();
            for (name, types) in &references {
                if !plan.messages.contains_key(name) {
                    continue;
                }
                let mut all = Vec::new();
                types.iter().for_each(|t| t.walk(&mut all));
                let missing = all.into_iter().find_map(|t| match t {
                    RustType::Named {
                        place: Place::Generated(target),
                        ..
                    } if !(plan.messages.contains_key(target)
                        || (raw_json.contains(target) && raw_json_message(target).is_some())) =>
                    {
                        Some(target.name.clone())
                    }
                    RustType::Named {
                        schema,
                        place: Place::External(_),
                    } if !EXTERNAL_WITH_PROTOBUF.contains(&schema.as_str()) => {
                        Some(schema.rsplit('.').next().unwrap_or(schema).to_owned())
                    }
                    _ => None,
                });
                if let Some(target) = missing {
                    dropped.push((
                        name.clone(),
                        format!("it references {target}, which has no protobuf form here"),
                    ));
                }
            }
            if dropped.is_empty() {
                break;
            }
            for (name, why) in dropped {
                plan.messages.remove(&name);
                plan.excluded.insert(name, why);
            }
        }
        Ok(plan)
    }
}

/// Maps the fields of one message (and of the structs it embeds) onto a struct's Rust fields.
struct Mapper<'a> {
    proto: &'a ProtoSchema,
    go: &'a GoFields,
    rust: &'a [Field],
    /// The generated raw JSON types (`pub type JSON = RawExtension`).
    raw_json: &'a BTreeSet<TypeName>,
    /// JSON names of the Rust fields mapped so far.
    used: BTreeSet<String>,
    errors: Vec<String>,
}

impl Mapper<'_> {
    fn message(
        &mut self,
        package: &str,
        message: &str,
        fields: &[ProtoField],
        depth: usize,
    ) -> Vec<PbField> {
        let Some(go_package) = self.proto.go_package(package) else {
            self.errors.push(format!("unknown proto package {package}"));
            return Vec::new();
        };
        let go_struct = self.go.get(&go_package).and_then(|p| p.get(message));
        let mut sorted: Vec<&ProtoField> = fields.iter().collect();
        sorted.sort_by_key(|f| f.number);
        let mut out = Vec::new();
        for pf in sorted {
            let Some(gf) = go_struct.and_then(|s| s.get(&pf.number)) else {
                self.errors.push(format!(
                    "{message}.{} (= {}) is not in go-fields.json",
                    pf.name, pf.number
                ));
                continue;
            };
            if gf.inline {
                let (pkg, name) = resolve(package, &pf.ty);
                let Some(inner) = self.proto.message(&pkg, &name) else {
                    self.errors
                        .push(format!("{message}.{}: embedded {} unknown", pf.name, pf.ty));
                    continue;
                };
                if depth > 4 {
                    self.errors.push(format!("{message}: embedding too deep"));
                    continue;
                }
                let fields = self.message(&pkg, &name, inner, depth + 1);
                out.push(PbField::Embedded {
                    number: pf.number,
                    method: crate::names::field_ident(&pf.name)
                        .trim_end_matches('_')
                        .to_owned(),
                    message: name,
                    fields,
                });
                continue;
            }
            let Some(rust) = self.rust.iter().find(|f| f.json_name == gf.json) else {
                self.errors.push(format!(
                    "{message}.{} (= {}): no JSON property {:?}",
                    pf.name, pf.number, gf.json
                ));
                continue;
            };
            if !self.used.insert(rust.json_name.clone()) {
                self.errors
                    .push(format!("JSON property {} mapped twice", rust.json_name));
            }
            match self.plain(package, pf, gf, rust) {
                Ok(f) => out.push(f),
                Err(e) => self
                    .errors
                    .push(format!("{message}.{} (= {}): {e}", pf.name, pf.number)),
            }
        }
        out
    }

    fn plain(
        &self,
        package: &str,
        pf: &ProtoField,
        gf: &GoField,
        rust: &Field,
    ) -> Result<PbField, String> {
        let optional = rust.presence == Presence::Optional;
        let repeated = pf.label == "repeated";
        let (decode, encode) = match pf.label.as_str() {
            "map" => {
                let RustType::Map(value) = &rust.ty else {
                    return Err(format!("map, but Rust has {:?}", rust.ty));
                };
                if pf.key.as_deref() != Some("string") {
                    return Err(format!("map key {:?}", pf.key));
                }
                let value_ty = pf.value.as_deref().unwrap_or_default();
                if self.is_string_list(package, value_ty) && **value == vec_of_str() {
                    if !optional {
                        return Err("a required map of string lists".to_owned());
                    }
                    return Ok(PbField::Plain {
                        number: pf.number,
                        ident: rust.ident.clone(),
                        decode: Decode::StringListMap,
                        encode: Encode::StringListMap,
                        repeated: false,
                    });
                }
                self.compatible(package, value_ty, value)?;
                match self.raw_json_union(value)? {
                    Some(helper) if optional => (
                        Decode::RawJsonUnionMap(helper),
                        Encode::RawJsonUnionMap(helper),
                    ),
                    Some(_) => return Err("a required map of raw JSON unions".to_owned()),
                    None => (Decode::Merge, Encode::Field),
                }
            }
            "repeated" => {
                let RustType::Vec(inner) = &rust.ty else {
                    return Err(format!("repeated, but Rust has {:?}", rust.ty));
                };
                self.compatible(package, &pf.ty, inner)?;
                if self.raw_json_union(inner)?.is_some() {
                    return Err("a repeated raw JSON union".to_owned());
                }
                (Decode::Merge, Encode::Field)
            }
            _ if self.is_string_list(package, &pf.ty) && rust.ty == vec_of_str() => {
                if optional {
                    return Err("an optional string-list message".to_owned());
                }
                (Decode::StringList, Encode::StringList)
            }
            _ => {
                self.compatible(package, &pf.ty, &rust.ty)?;
                if let Some(helper) = self.raw_json_union(&rust.ty)? {
                    // Go's union fields are pointers: written when set.
                    if !optional || !gf.pointer {
                        return Err("a raw JSON union that is not a Go pointer".to_owned());
                    }
                    return Ok(PbField::Plain {
                        number: pf.number,
                        ident: rust.ident.clone(),
                        decode: Decode::RawJsonUnion(helper),
                        encode: Encode::RawJsonUnion(helper),
                        repeated: false,
                    });
                }
                let scalar =
                    ["string", "int32", "int64", "bool", "double"].contains(&pf.ty.as_str());
                let decode = if !gf.pointer && scalar && gf.omitempty && optional {
                    Decode::Omitempty
                } else {
                    Decode::Merge
                };
                let encode = if !optional || gf.pointer || pf.ty == "bytes" {
                    Encode::Field
                } else {
                    Encode::Always
                };
                (decode, encode)
            }
        };
        Ok(PbField::Plain {
            number: pf.number,
            ident: rust.ident.clone(),
            decode,
            encode,
            repeated,
        })
    }

    /// The union type converting a raw JSON type, `None` for any other type (and for a raw
    /// JSON type whose message is `RawExtension`'s `{bytes raw = 1}`); an error for a raw JSON
    /// type without a conversion.
    fn raw_json_union(&self, rust: &RustType) -> Result<Option<&'static str>, String> {
        let RustType::Named {
            place: Place::Generated(target),
            ..
        } = rust
        else {
            return Ok(None);
        };
        if !self.raw_json.contains(target) {
            return Ok(None);
        }
        match raw_json_message(target) {
            Some(None) => {
                let package = self.proto.by_go_package.get(&target.go_package);
                let message = package.and_then(|p| self.proto.message(p, &target.name));
                match message {
                    Some([f]) if f.number == 1 && f.ty == "bytes" && f.label == "optional" => {
                        Ok(None)
                    }
                    _ => Err(format!(
                        "{} is raw JSON, but its message is not {{bytes raw = 1}}",
                        target.name
                    )),
                }
            }
            Some(Some(helper)) => Ok(Some(helper)),
            None => Err(format!(
                "{} is raw JSON here and has no conversion to its protobuf message \
                 (see RAW_JSON_MESSAGES)",
                target.name
            )),
        }
    }

    /// A message with a single `repeated string items = 1` (Go `type ExtraValue []string`).
    fn is_string_list(&self, package: &str, ty: &str) -> bool {
        let (pkg, name) = resolve(package, ty);
        matches!(self.proto.message(&pkg, &name), Some([f]) if f.label == "repeated" && f.ty == "string")
    }

    /// Checks that a proto type and a Rust type hold the same values.
    fn compatible(&self, package: &str, proto: &str, rust: &RustType) -> Result<(), String> {
        let ok = match (proto, rust) {
            ("string", RustType::Str)
            | ("int32", RustType::I32)
            | ("int64", RustType::I64)
            | ("bool", RustType::Bool)
            | ("double", RustType::F64)
            | ("bytes", RustType::ByteString) => true,
            (_, RustType::Named { schema, .. }) => {
                let (pkg, name) = resolve(package, proto);
                schema_as_proto(schema) == (pkg, name)
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("proto type {proto} but Rust type {rust:?}"))
        }
    }
}

fn vec_of_str() -> RustType {
    RustType::Vec(Box::new(RustType::Str))
}

/// A proto type name as (package, message).
fn resolve(package: &str, ty: &str) -> (String, String) {
    match ty.strip_prefix('.') {
        Some(full) => match full.rsplit_once('.') {
            Some((p, n)) => (p.to_owned(), n.to_owned()),
            None => (String::new(), full.to_owned()),
        },
        None => (package.to_owned(), ty.to_owned()),
    }
}

/// An OpenAPI schema name as (proto package, message): `io.k8s.api.core.v1.Pod` →
/// (`k8s.io.api.core.v1`, `Pod`).
fn schema_as_proto(schema: &str) -> (String, String) {
    let (package, name) = schema.rsplit_once('.').unwrap_or(("", schema));
    let package = match package.strip_prefix("io.k8s.") {
        Some(rest) => format!("k8s.io.{rest}"),
        None => package.to_owned(),
    };
    (package.replace('-', "_"), name.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_map_to_proto_packages() {
        assert_eq!(
            schema_as_proto("io.k8s.api.core.v1.Pod"),
            ("k8s.io.api.core.v1".to_owned(), "Pod".to_owned())
        );
        assert_eq!(
            schema_as_proto("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON").0,
            "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1"
        );
    }

    #[test]
    fn a_raw_json_type_without_a_conversion_fails_the_mapping() {
        let alias = |name: &str| TypeName {
            module: "apiextensions".to_owned(),
            version: "v1".to_owned(),
            name: name.to_owned(),
            go_package: APIEXTENSIONS_V1.to_owned(),
        };
        let named = |name: &str| RustType::Named {
            schema: format!("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.{name}"),
            place: Place::Generated(alias(name)),
        };
        let proto = ProtoSchema {
            packages: BTreeMap::new(),
            by_go_package: BTreeMap::new(),
        };
        let go = GoFields::new();
        let raw_json: BTreeSet<TypeName> = ["JSONSchemaPropsOrBool", "JSONSchemaPropsOrMaybe"]
            .into_iter()
            .map(alias)
            .collect();
        let mapper = Mapper {
            proto: &proto,
            go: &go,
            rust: &[],
            raw_json: &raw_json,
            used: BTreeSet::new(),
            errors: Vec::new(),
        };
        assert_eq!(
            mapper.raw_json_union(&named("JSONSchemaPropsOrBool")),
            Ok(Some("PbJSONSchemaPropsOrBool"))
        );
        assert!(
            mapper
                .raw_json_union(&named("JSONSchemaPropsOrMaybe"))
                .unwrap_err()
                .contains("no conversion")
        );
        assert_eq!(mapper.raw_json_union(&RustType::Str), Ok(None));
    }

    #[test]
    fn proto_types_resolve_relative_to_their_package() {
        assert_eq!(
            resolve("k8s.io.api.core.v1", "PodSpec"),
            ("k8s.io.api.core.v1".to_owned(), "PodSpec".to_owned())
        );
        assert_eq!(
            resolve("x", ".k8s.io.apimachinery.pkg.apis.meta.v1.Time"),
            (
                "k8s.io.apimachinery.pkg.apis.meta.v1".to_owned(),
                "Time".to_owned()
            )
        );
    }
}
