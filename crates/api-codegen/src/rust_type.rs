//! The field type mapping: how a property's schema becomes a Rust type and serde attributes.
//!
//! This is the reason the generated crate exists: a compact in-memory layout. The rules, each
//! tested below and repeated in the generated crate's documentation:
//!
//! 1. `string` → `Str` (`format: byte` → `ByteString`, `format: date-time` → `Time`);
//!    `integer` → `i32` (int32) or `i64`; `number` → `f64`; `boolean` → `bool`.
//! 2. `array` → `ThinVec<T>` (one pointer; `Option<ThinVec<T>>` too), decoded exact-size:
//!    `apimachinery::compact::opt_vec` when optional, [`REQUIRED_VEC`] when required (which
//!    reads `null` as empty, as Go does).
//! 3. `object` with `additionalProperties` → `StrMap<V>` (`StrMap` alone for strings).
//! 4. A reference to a struct → `Option<Box<T>>` when optional, `T` when required; small
//!    values (`Time`, `MicroTime`, `Quantity`, `IntOrString`, `FieldsV1`, `RawExtension` and its
//!    aliases) stay inline as `Option<T>`; `metadata` (`ObjectMeta`, `ListMeta`) is a bare
//!    `T` even when optional.
//! 5. Optional fields are `Option<…>`, skipped when `None`; required fields are bare,
//!    default when missing (as Go decodes them) and always serialized.
//! 6. Field names are [`crate::names::field_ident`], with `#[serde(rename)]` when it differs.

use std::collections::BTreeSet;

use crate::names::{self, Place, TypeName};
use crate::schema::Schema;

/// Rust paths of the `apimachinery` core types.
pub const STR: &str = "apimachinery::Str";
/// See [`STR`].
pub const STR_MAP: &str = "apimachinery::StrMap";
/// See [`STR`].
pub const BYTE_STRING: &str = "apimachinery::ByteString";
/// The vector type: a thin (one-pointer) vector, since most array fields of a cached object
/// are absent and an absent `Option<ThinVec<T>>` costs 8 bytes where `Option<Vec<T>>` costs 24.
pub const THIN_VEC: &str = "apimachinery::ThinVec";
/// The deserializer of required arrays. It reads `null` as empty: Go writes a nil slice as
/// `null` even in a required field (a watch BOOKMARK's pod has `"containers": null`).
pub const REQUIRED_VEC: &str = "apimachinery::compact::vec";
const TIME_SCHEMA: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Time";
const METADATA_SCHEMAS: [&str; 2] = [
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
];

/// The Rust type of a value, before `Option`/`Box` wrapping.
#[derive(Clone, Debug, PartialEq)]
pub enum RustType {
    /// `bool`
    Bool,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f64`
    F64,
    /// `apimachinery::Str`
    Str,
    /// `apimachinery::ByteString` (base64 in JSON)
    ByteString,
    /// Another schema, generated or provided by `apimachinery`.
    Named {
        /// The OpenAPI schema name.
        schema: String,
        /// Where its Rust type lives.
        place: Place,
    },
    /// `Vec<T>`
    Vec(Box<RustType>),
    /// `StrMap<V>`
    Map(Box<RustType>),
}

impl RustType {
    /// Maps a value schema to its Rust type (rules 1 to 3; references are [`RustType::Named`]).
    pub fn of(schema: &Schema) -> Result<RustType, String> {
        if let Some(name) = schema.referenced_name() {
            return named(name);
        }
        let format = schema.format.as_deref();
        match (schema.ty.as_deref(), format) {
            (Some("string"), Some("byte")) => Ok(RustType::ByteString),
            (Some("string"), Some("date-time")) => named(TIME_SCHEMA),
            (Some("string"), _) => Ok(RustType::Str),
            (Some("integer"), Some("int32")) => Ok(RustType::I32),
            (Some("integer"), Some("int64") | None) => Ok(RustType::I64),
            (Some("number"), _) => Ok(RustType::F64),
            (Some("boolean"), _) => Ok(RustType::Bool),
            (Some("array"), _) => {
                let items = schema.items.as_deref().ok_or("array without items")?;
                Ok(RustType::Vec(Box::new(RustType::of(items)?)))
            }
            (Some("object"), _) => {
                let values = schema
                    .additional_properties
                    .as_deref()
                    .ok_or("object property without additionalProperties (inline struct)")?;
                Ok(RustType::Map(Box::new(RustType::of(values)?)))
            }
            (ty, format) => Err(format!(
                "unsupported property schema: type {ty:?}, format {format:?}"
            )),
        }
    }

    /// The generated type this is, if it is one.
    pub fn generated(&self) -> Option<&TypeName> {
        match self {
            RustType::Named {
                place: Place::Generated(t),
                ..
            } => Some(t),
            _ => None,
        }
    }

    /// Every type this mentions, innermost included, in the order met.
    pub fn walk<'a>(&'a self, out: &mut Vec<&'a RustType>) {
        out.push(self);
        if let RustType::Vec(inner) | RustType::Map(inner) = self {
            inner.walk(out);
        }
    }

    /// Full Rust paths (`apimachinery::Str`, `crate::core::v1::PodSpec`) this type mentions.
    pub fn paths(&self, out: &mut BTreeSet<String>) {
        match self {
            RustType::Bool | RustType::I32 | RustType::I64 | RustType::F64 => {}
            RustType::Str => {
                out.insert(STR.to_owned());
            }
            RustType::ByteString => {
                out.insert(BYTE_STRING.to_owned());
            }
            RustType::Named { place, .. } => {
                out.insert(full_path(place));
            }
            RustType::Vec(inner) => {
                out.insert(THIN_VEC.to_owned());
                inner.paths(out);
            }
            RustType::Map(inner) => {
                out.insert(STR_MAP.to_owned());
                if **inner != RustType::Str {
                    inner.paths(out);
                }
            }
        }
    }

    /// The type as written in code; `spell` turns a full path into how the file writes it.
    pub fn render(&self, spell: &dyn Fn(&str) -> String) -> String {
        match self {
            RustType::Bool => "bool".to_owned(),
            RustType::I32 => "i32".to_owned(),
            RustType::I64 => "i64".to_owned(),
            RustType::F64 => "f64".to_owned(),
            RustType::Str => spell(STR),
            RustType::ByteString => spell(BYTE_STRING),
            RustType::Named { place, .. } => spell(&full_path(place)),
            RustType::Vec(inner) => format!("{}<{}>", spell(THIN_VEC), inner.render(spell)),
            RustType::Map(inner) if **inner == RustType::Str => spell(STR_MAP),
            RustType::Map(inner) => format!("{}<{}>", spell(STR_MAP), inner.render(spell)),
        }
    }
}

fn named(schema: &str) -> Result<RustType, String> {
    Ok(RustType::Named {
        schema: schema.to_owned(),
        place: names::place(schema)?,
    })
}

/// The full Rust path of a named type.
pub fn full_path(place: &Place) -> String {
    match place {
        Place::Generated(t) => format!("crate::{}::{}::{}", t.module, t.version, t.name),
        Place::External(path) => (*path).to_owned(),
    }
}

/// How a field holds its value (rules 4 and 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Not in `required`: `Option<T>` (`Option<Box<T>>` for structs), skipped when `None`.
    Optional,
    /// In `required`: bare `T`, default when missing, always serialized.
    Required,
    /// `metadata: ObjectMeta` or `ListMeta`: bare `T` whether required or not, as k8s-openapi
    /// does, since every object has metadata.
    Metadata,
}

/// One struct field.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The JSON property name.
    pub json_name: String,
    /// The Rust field name.
    pub ident: String,
    /// The value type.
    pub ty: RustType,
    /// How the value is held.
    pub presence: Presence,
    /// The property's description.
    pub description: Option<String>,
}

impl Field {
    /// The field for property `json_name` of a struct, `required` if the struct lists it.
    pub fn new(json_name: &str, schema: &Schema, required: bool) -> Result<Field, String> {
        let ty = RustType::of(schema).map_err(|e| format!("property {json_name}: {e}"))?;
        let is_metadata = json_name == "metadata"
            && matches!(&ty, RustType::Named { schema, .. } if METADATA_SCHEMAS.contains(&schema.as_str()));
        let presence = match (is_metadata, required) {
            (true, _) => Presence::Metadata,
            (false, true) => Presence::Required,
            (false, false) => Presence::Optional,
        };
        Ok(Field {
            json_name: json_name.to_owned(),
            ident: names::field_ident(json_name),
            ty,
            presence,
            description: schema.description.clone(),
        })
    }

    /// True when an optional value of this type is boxed: references to structs, which would
    /// otherwise make every absent field cost the struct's full size.
    pub fn boxed(&self) -> bool {
        match (&self.ty, self.presence) {
            (RustType::Named { schema, .. }, Presence::Optional) => {
                !names::SMALL_VALUES.contains(&schema.as_str())
            }
            _ => false,
        }
    }

    /// The field's type as written in code.
    pub fn render_type(&self, spell: &dyn Fn(&str) -> String) -> String {
        let inner = self.ty.render(spell);
        match self.presence {
            Presence::Optional if self.boxed() => format!("Option<Box<{inner}>>"),
            Presence::Optional => format!("Option<{inner}>"),
            Presence::Required | Presence::Metadata => inner,
        }
    }

    /// The `#[serde(...)]` attribute's contents.
    pub fn serde_attribute(&self) -> String {
        let mut parts = Vec::new();
        if self.ident != self.json_name {
            parts.push(format!("rename = \"{}\"", self.json_name));
        }
        parts.push("default".to_owned());
        let is_vec = matches!(self.ty, RustType::Vec(_));
        match self.presence {
            Presence::Optional => {
                if is_vec {
                    parts.push("deserialize_with = \"apimachinery::compact::opt_vec\"".to_owned());
                }
                parts.push("skip_serializing_if = \"Option::is_none\"".to_owned());
            }
            Presence::Required | Presence::Metadata => {
                if is_vec {
                    parts.push(format!("deserialize_with = \"{REQUIRED_VEC}\""));
                }
            }
        }
        parts.join(", ")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Spells every path by its last segment, as a file importing everything would.
    fn short(path: &str) -> String {
        path.rsplit("::").next().unwrap_or(path).to_owned()
    }

    fn schema(json: &str) -> Schema {
        serde_json::from_str(json).unwrap()
    }

    fn field(json_name: &str, json: &str, required: bool) -> Field {
        Field::new(json_name, &schema(json), required).unwrap()
    }

    fn optional(json: &str) -> String {
        field("f", json, false).render_type(&short)
    }

    fn required(json: &str) -> String {
        field("f", json, true).render_type(&short)
    }

    const POD_SPEC_REF: &str =
        r##"{"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}]}"##;

    #[test]
    fn strings_become_interned_str() {
        assert_eq!(required(r#"{"type": "string"}"#), "Str");
        assert_eq!(
            optional(r#"{"type": "string", "enum": ["A"]}"#),
            "Option<Str>"
        );
    }

    #[test]
    fn byte_strings_become_byte_string() {
        assert_eq!(
            optional(r#"{"type": "string", "format": "byte"}"#),
            "Option<ByteString>"
        );
    }

    #[test]
    fn date_time_strings_become_time() {
        assert_eq!(
            optional(r#"{"type": "string", "format": "date-time"}"#),
            "Option<Time>"
        );
    }

    #[test]
    fn int32_becomes_i32_and_other_integers_become_i64() {
        assert_eq!(required(r#"{"type": "integer", "format": "int32"}"#), "i32");
        assert_eq!(required(r#"{"type": "integer", "format": "int64"}"#), "i64");
        assert_eq!(required(r#"{"type": "integer"}"#), "i64");
    }

    #[test]
    fn numbers_become_f64_and_booleans_become_bool() {
        assert_eq!(
            optional(r#"{"type": "number", "format": "double"}"#),
            "Option<f64>"
        );
        assert_eq!(optional(r#"{"type": "boolean"}"#), "Option<bool>");
    }

    #[test]
    fn arrays_become_thin_vecs_decoded_exact_size() {
        let req = field(
            "f",
            r#"{"type": "array", "items": {"type": "string"}}"#,
            true,
        );
        assert_eq!(req.render_type(&short), "ThinVec<Str>");
        assert_eq!(
            req.serde_attribute(),
            "default, deserialize_with = \"apimachinery::compact::vec\""
        );
        let opt = field(
            "f",
            r#"{"type": "array", "items": {"type": "string"}}"#,
            false,
        );
        assert_eq!(opt.render_type(&short), "Option<ThinVec<Str>>");
        assert_eq!(
            opt.serde_attribute(),
            "default, deserialize_with = \"apimachinery::compact::opt_vec\", skip_serializing_if = \"Option::is_none\""
        );
    }

    #[test]
    fn maps_become_str_maps_and_string_maps_drop_the_value_type() {
        assert_eq!(
            optional(r#"{"type": "object", "additionalProperties": {"type": "string"}}"#),
            "Option<StrMap>"
        );
        assert_eq!(
            optional(
                r##"{"type": "object", "additionalProperties": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"}}"##
            ),
            "Option<StrMap<Quantity>>"
        );
    }

    #[test]
    fn nested_arrays_and_maps_compose() {
        let extra = r#"{"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}"#;
        assert_eq!(optional(extra), "Option<StrMap<ThinVec<Str>>>");
        assert_eq!(
            optional(
                r#"{"type": "array", "items": {"type": "array", "items": {"type": "string"}}}"#
            ),
            "Option<ThinVec<ThinVec<Str>>>"
        );
        // Map values are not decoded through the compact functions: only the outermost array is.
        let f = field("f", extra, false);
        assert!(!f.serde_attribute().contains("compact"));
    }

    #[test]
    fn optional_references_to_structs_are_boxed() {
        assert_eq!(optional(POD_SPEC_REF), "Option<Box<PodSpec>>");
        assert_eq!(
            optional(
                r##"{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"}"##
            ),
            "Option<Box<LabelSelector>>"
        );
    }

    #[test]
    fn required_references_to_structs_are_inline() {
        assert_eq!(required(POD_SPEC_REF), "PodSpec");
    }

    #[test]
    fn small_values_stay_inline_when_optional() {
        for name in [
            "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
            "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
            "io.k8s.apimachinery.pkg.api.resource.Quantity",
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
            "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
            "io.k8s.apimachinery.pkg.runtime.RawExtension",
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
        ] {
            let ty = optional(&format!(r##"{{"$ref": "#/components/schemas/{name}"}}"##));
            assert_eq!(
                ty,
                format!("Option<{}>", short(name.rsplit('.').next().unwrap())),
                "{name}"
            );
        }
    }

    #[test]
    fn metadata_is_a_bare_value_even_when_optional() {
        let meta = field(
            "metadata",
            r##"{"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]}"##,
            false,
        );
        assert_eq!(meta.presence, Presence::Metadata);
        assert_eq!(meta.render_type(&short), "ObjectMeta");
        assert_eq!(meta.serde_attribute(), "default");
        let list_meta = field(
            "metadata",
            r##"{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"}"##,
            false,
        );
        assert_eq!(list_meta.render_type(&short), "ListMeta");
    }

    #[test]
    fn optional_fields_are_skipped_when_none() {
        let f = field("name", r#"{"type": "string"}"#, false);
        assert_eq!(
            f.serde_attribute(),
            "default, skip_serializing_if = \"Option::is_none\""
        );
    }

    #[test]
    fn required_fields_default_when_missing_and_are_always_serialized() {
        let f = field("name", r#"{"type": "string"}"#, true);
        assert_eq!(f.serde_attribute(), "default");
    }

    #[test]
    fn fields_whose_rust_name_differs_are_renamed() {
        let f = field(
            "containerPort",
            r#"{"type": "integer", "format": "int32"}"#,
            true,
        );
        assert_eq!(f.ident, "container_port");
        assert_eq!(f.serde_attribute(), "rename = \"containerPort\", default");
        assert_eq!(
            field("type", r#"{"type": "string"}"#, true).serde_attribute(),
            "rename = \"type\", default"
        );
    }

    #[test]
    fn unsupported_schemas_are_an_error() {
        assert!(Field::new("f", &schema(r#"{"type": "object"}"#), false).is_err());
        assert!(
            Field::new(
                "f",
                &schema(r#"{"type": "integer", "format": "int8"}"#),
                false
            )
            .is_err()
        );
        assert!(Field::new("f", &schema(r#"{"description": "untyped"}"#), false).is_err());
    }
}
