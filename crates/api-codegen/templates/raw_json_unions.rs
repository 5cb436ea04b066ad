// JSONSchemaProps' unions (hand-written; copied from
// crates/api-codegen/templates/raw_json_unions.rs). Port of the `JSONSchemaPropsOrBool`,
// `JSONSchemaPropsOrArray` and `JSONSchemaPropsOrStringArray` parts of `generated.pb.go`, and
// of their `MarshalJSON`/`UnmarshalJSON` in `marshal.go`.
//
// These types are raw JSON here (`RawExtension` aliases) and messages in protobuf. Decoding
// reads the message and writes the JSON Go's `MarshalJSON` writes for it; encoding reads the
// JSON as Go's `UnmarshalJSON` does and writes the message:
//
// | type | JSON | message |
// |---|---|---|
// | `...OrBool` | `true` / `false` | `{allows}` |
// | | an object | `{allows: true, schema}` |
// | `...OrArray` | an object / an array | `{schema}` / `{jSONSchemas}` |
// | `...OrStringArray` | an object / an array of strings | `{schema}` / `{property}` |
//
// Differs from Go: Go refuses JSON that fits none of these forms (`additionalProperties: 1`)
// when the object is decoded; here the JSON is kept as it came and such a field is left out
// of the protobuf. Encoding parses the JSON of a union each time it is sized or written.

/// A union kept as raw JSON here, in its protobuf shape.
trait RawJsonUnion: w::Message {
    /// The union Go's `UnmarshalJSON` reads from `json`; `None` where Go refuses it.
    fn from_json(json: &str) -> Option<Self>;

    /// The JSON Go's `MarshalJSON` writes.
    fn to_json(&self) -> Result<String, serde_json::Error>;
}

/// Parses `json` as `T`; `None` if it is not one.
fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Option<T> {
    serde_json::from_str(json).ok()
}

fn union_to_raw<U: RawJsonUnion>(
    union: &U,
) -> Result<apimachinery::runtime::RawExtension, w::ProtoError> {
    union
        .to_json()
        .map(|json| apimachinery::runtime::RawExtension(apimachinery::Str::from(json)))
        .map_err(|e| w::ProtoError::Invalid(format!("{} as JSON: {e}", U::NAME)))
}

/// The union of a field's JSON; `None` for `null` (Go's nil pointer) and JSON Go refuses.
fn union_of<U: RawJsonUnion>(raw: &apimachinery::runtime::RawExtension) -> Option<U> {
    match raw.raw().trim() {
        "null" => None,
        json => U::from_json(json),
    }
}

/// Reads a union field into its raw JSON; a repeated field merges, as Go's `Unmarshal` does.
fn pb_union_merge<U: RawJsonUnion>(
    slot: &mut Option<apimachinery::runtime::RawExtension>,
    message: &'static str,
    field: u32,
    wire: w::WireType,
    r: &mut w::Reader<'_>,
) -> Result<(), w::ProtoError> {
    if wire != w::WireType::Len {
        return Err(w::ProtoError::WrongWireType {
            message,
            field,
            got: wire,
        });
    }
    let mut union: U = slot.as_ref().and_then(union_of).unwrap_or_default();
    r.nested()?.merge_into(&mut union)?;
    *slot = Some(union_to_raw(&union)?);
    Ok(())
}

/// Bytes of a union field; none for `None` or JSON Go refuses.
fn pb_union_len<U: RawJsonUnion>(
    slot: &Option<apimachinery::runtime::RawExtension>,
    field: u32,
) -> usize {
    slot.as_ref()
        .and_then(union_of::<U>)
        .map_or(0, |u| w::len_field_len(field, u.encoded_len()))
}

/// Writes a union field; nothing for `None` or JSON Go refuses.
fn pb_union_encode<U: RawJsonUnion>(
    slot: &Option<apimachinery::runtime::RawExtension>,
    field: u32,
    out: &mut Vec<u8>,
) {
    if let Some(union) = slot.as_ref().and_then(union_of::<U>) {
        w::put_message_field(out, field, &union);
    }
}

/// Reads one `map<string, union>` entry: `{1: key, 2: union}`.
fn pb_union_map_merge<U: RawJsonUnion>(
    slot: &mut Option<apimachinery::StrMap<apimachinery::runtime::RawExtension>>,
    message: &'static str,
    field: u32,
    wire: w::WireType,
    r: &mut w::Reader<'_>,
) -> Result<(), w::ProtoError> {
    if wire != w::WireType::Len {
        return Err(w::ProtoError::WrongWireType {
            message,
            field,
            got: wire,
        });
    }
    let mut entry = r.nested()?;
    let mut key = apimachinery::Str::default();
    let mut union = U::default();
    while let Some((f, wire)) = entry.key()? {
        match f {
            1 => w::merge(&mut key, message, field, wire, &mut entry)?,
            2 => {
                if wire != w::WireType::Len {
                    return Err(w::ProtoError::WrongWireType {
                        message,
                        field,
                        got: wire,
                    });
                }
                entry.nested()?.merge_into(&mut union)?;
            }
            _ => entry.skip(wire)?,
        }
    }
    slot.get_or_insert_with(Default::default)
        .insert(key, union_to_raw(&union)?);
    Ok(())
}

/// A map entry's union: Go writes every value, so JSON it would refuse is an empty union.
fn map_entry_union<U: RawJsonUnion>(raw: &apimachinery::runtime::RawExtension) -> U {
    union_of(raw).unwrap_or_default()
}

fn union_entry_len<U: RawJsonUnion>(key: &apimachinery::Str, union: &U) -> usize {
    key.field_len(1) + w::len_field_len(2, union.encoded_len())
}

/// Bytes of a `map<string, union>` field.
fn pb_union_map_len<U: RawJsonUnion>(
    slot: &Option<apimachinery::StrMap<apimachinery::runtime::RawExtension>>,
    field: u32,
) -> usize {
    slot.as_ref().map_or(0, |m| {
        m.as_slice()
            .iter()
            .map(|(k, v)| w::len_field_len(field, union_entry_len(k, &map_entry_union::<U>(v))))
            .sum()
    })
}

/// Writes a `map<string, union>` field, entries in key order as gogo writes them.
fn pb_union_map_encode<U: RawJsonUnion>(
    slot: &Option<apimachinery::StrMap<apimachinery::runtime::RawExtension>>,
    field: u32,
    out: &mut Vec<u8>,
) {
    let Some(m) = slot else { return };
    for (k, v) in m.as_slice() {
        let union = map_entry_union::<U>(v);
        w::put_key(out, field, w::WireType::Len);
        w::put_varint(out, union_entry_len(k, &union) as u64);
        k.encode_field(1, out);
        w::put_message_field(out, 2, &union);
    }
}

/// Go: `JSONSchemaPropsOrBool{Allows bool; Schema *JSONSchemaProps}`.
#[derive(Default)]
struct PbJSONSchemaPropsOrBool {
    allows: bool,
    schema: Option<Box<JSONSchemaProps>>,
}

impl w::Message for PbJSONSchemaPropsOrBool {
    const NAME: &'static str = "JSONSchemaPropsOrBool";

    fn merge_field(
        &mut self,
        field: u32,
        wire: w::WireType,
        r: &mut w::Reader<'_>,
    ) -> Result<(), w::ProtoError> {
        match field {
            1 => w::merge(&mut self.allows, Self::NAME, field, wire, r),
            2 => w::merge(&mut self.schema, Self::NAME, field, wire, r),
            _ => r.skip(wire),
        }
    }
    fn encoded_len(&self) -> usize {
        self.allows.field_len(1) + self.schema.field_len(2)
    }
    fn encode_raw(&self, out: &mut Vec<u8>) {
        self.allows.encode_field(1, out);
        self.schema.encode_field(2, out);
    }
}

impl RawJsonUnion for PbJSONSchemaPropsOrBool {
    fn from_json(json: &str) -> Option<Self> {
        match json {
            "" | "false" => Some(Self::default()),
            "true" => Some(Self {
                allows: true,
                schema: None,
            }),
            _ if json.starts_with('{') => Some(Self {
                allows: true,
                schema: Some(parse(json)?),
            }),
            _ => None,
        }
    }
    fn to_json(&self) -> Result<String, serde_json::Error> {
        match &self.schema {
            Some(schema) => serde_json::to_string(schema),
            None => Ok(self.allows.to_string()),
        }
    }
}

/// Go: `JSONSchemaPropsOrArray{Schema *JSONSchemaProps; JSONSchemas []JSONSchemaProps}`.
#[derive(Default)]
struct PbJSONSchemaPropsOrArray {
    schema: Option<Box<JSONSchemaProps>>,
    json_schemas: apimachinery::ThinVec<JSONSchemaProps>,
}

impl w::Message for PbJSONSchemaPropsOrArray {
    const NAME: &'static str = "JSONSchemaPropsOrArray";

    fn merge_field(
        &mut self,
        field: u32,
        wire: w::WireType,
        r: &mut w::Reader<'_>,
    ) -> Result<(), w::ProtoError> {
        match field {
            1 => w::merge(&mut self.schema, Self::NAME, field, wire, r),
            2 => w::merge(&mut self.json_schemas, Self::NAME, field, wire, r),
            _ => r.skip(wire),
        }
    }
    fn finish(&mut self) {
        self.json_schemas.finish_field();
    }
    fn encoded_len(&self) -> usize {
        self.schema.field_len(1) + self.json_schemas.field_len(2)
    }
    fn encode_raw(&self, out: &mut Vec<u8>) {
        self.schema.encode_field(1, out);
        self.json_schemas.encode_field(2, out);
    }
}

impl RawJsonUnion for PbJSONSchemaPropsOrArray {
    fn from_json(json: &str) -> Option<Self> {
        let mut union = Self::default();
        if json.starts_with('{') {
            union.schema = Some(parse(json)?);
        } else if json.starts_with('[') {
            union.json_schemas = parse::<Vec<JSONSchemaProps>>(json)?.into();
        }
        Some(union)
    }
    fn to_json(&self) -> Result<String, serde_json::Error> {
        if !self.json_schemas.is_empty() {
            return serde_json::to_string(&self.json_schemas);
        }
        serde_json::to_string(&self.schema)
    }
}

/// Go: `JSONSchemaPropsOrStringArray{Schema *JSONSchemaProps; Property []string}`.
#[derive(Default)]
struct PbJSONSchemaPropsOrStringArray {
    schema: Option<Box<JSONSchemaProps>>,
    property: apimachinery::ThinVec<apimachinery::Str>,
}

impl w::Message for PbJSONSchemaPropsOrStringArray {
    const NAME: &'static str = "JSONSchemaPropsOrStringArray";

    fn merge_field(
        &mut self,
        field: u32,
        wire: w::WireType,
        r: &mut w::Reader<'_>,
    ) -> Result<(), w::ProtoError> {
        match field {
            1 => w::merge(&mut self.schema, Self::NAME, field, wire, r),
            2 => w::merge(&mut self.property, Self::NAME, field, wire, r),
            _ => r.skip(wire),
        }
    }
    fn finish(&mut self) {
        self.property.finish_field();
    }
    fn encoded_len(&self) -> usize {
        self.schema.field_len(1) + self.property.field_len(2)
    }
    fn encode_raw(&self, out: &mut Vec<u8>) {
        self.schema.encode_field(1, out);
        self.property.encode_field(2, out);
    }
}

impl RawJsonUnion for PbJSONSchemaPropsOrStringArray {
    fn from_json(json: &str) -> Option<Self> {
        let mut union = Self::default();
        if json.starts_with('{') {
            union.schema = Some(parse(json)?);
        } else if json.starts_with('[') {
            union.property = parse::<Vec<apimachinery::Str>>(json)?.into();
        }
        Some(union)
    }
    fn to_json(&self) -> Result<String, serde_json::Error> {
        if !self.property.is_empty() {
            return serde_json::to_string(&self.property);
        }
        serde_json::to_string(&self.schema)
    }
}
