//! Port of apimachinery `pkg/runtime/types.go`: RawExtension and Unknown, the envelopes that
//! carry an object (or any JSON) as raw bytes without decoding it.
//!
//! Data flow: decoding copies the JSON value's text, compacted, into one shared [`Str`]
//! (through [`raw_json`], which works with any serde deserializer, not just `serde_json`'s);
//! encoding writes that text back verbatim. [`crate::meta::FieldsV1`] is built the same way.
//!
//! Differs from Go: `Raw` is text rather than `[]byte` (JSON is UTF-8), and `Object` (the
//! decoded form) is not kept beside it: decode the raw text into the type you expect.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer};
use serde::ser::{self, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::Str;
use crate::runtime::wire::{
    Field, ProtoError, Reader, WireType, put_single_bytes, read_single_bytes, single_bytes_len,
};

pub mod framer;
pub mod protobuf;
pub mod wire;

/// Re-encodes one JSON value from `d` as compact JSON text, without building a tree.
pub fn raw_json<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::new(&mut out);
    serde_transcode::transcode(d, &mut ser).map_err(de::Error::custom)?;
    // serde_json writes only UTF-8.
    String::from_utf8(out).map_err(de::Error::custom)
}

/// Writes raw JSON text as the JSON value it is.
pub fn serialize_raw<S: Serializer>(raw: &str, s: S) -> Result<S::Ok, S::Error> {
    if raw.is_empty() {
        return s.serialize_none();
    }
    let v: &RawValue = serde_json::from_str(raw).map_err(ser::Error::custom)?;
    v.serialize(s)
}

/// Any JSON value, kept as raw text. Port of `runtime.RawExtension` (`Raw []byte`).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct RawExtension(pub Str);

impl RawExtension {
    /// The JSON text (`""` for an empty extension, which encodes as `null`).
    pub fn raw(&self) -> &str {
        &self.0
    }

    /// Wraps JSON text after checking that it is one JSON value.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let v: &RawValue = serde_json::from_str(text)?;
        Ok(RawExtension(Str::from(v.get())))
    }

    /// Encodes `value` as the raw JSON.
    pub fn from_value<T: Serialize>(value: &T) -> Result<Self, serde_json::Error> {
        Ok(RawExtension(Str::from(serde_json::to_string(value)?)))
    }

    /// Decodes the raw JSON as a `T`.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0)
    }
}

impl fmt::Debug for RawExtension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawExtension({})", self.0.as_str())
    }
}

impl Serialize for RawExtension {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_raw(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for RawExtension {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(RawExtension(Str::from(raw_json(d)?)))
    }
}

/// Port of `RawExtension`'s protobuf form, `{1: raw}`. The bytes must be one JSON value
/// (what the API server stores in every RawExtension field of a built-in type); anything
/// else is an error rather than text this type cannot hold.
impl Field for RawExtension {
    fn merge_field(&mut self, wire: WireType, r: &mut Reader<'_>) -> Result<(), ProtoError> {
        if let Some(b) = read_single_bytes("RawExtension", wire, r)? {
            let raw = std::str::from_utf8(b)
                .map_err(|_| ProtoError::Invalid("RawExtension is not JSON".into()))?;
            *self = if raw.is_empty() {
                RawExtension::default()
            } else {
                RawExtension::from_json(raw)
                    .map_err(|e| ProtoError::Invalid(format!("RawExtension is not JSON: {e}")))?
            };
        }
        Ok(())
    }
    fn field_len(&self, field: u32) -> usize {
        single_bytes_len(field, self.0.as_bytes(), false)
    }
    fn encode_field(&self, field: u32, out: &mut Vec<u8>) {
        put_single_bytes(out, field, self.0.as_bytes(), false);
    }
}

/// An object the decoder does not know, with its type and raw content. Port of
/// `runtime.Unknown` (the `k8s\0` protobuf envelope's payload type).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unknown {
    /// `apiVersion` of the content.
    pub api_version: Str,
    /// `kind` of the content.
    pub kind: Str,
    /// The serialized object.
    pub raw: Vec<u8>,
    /// How `raw` is encoded (`application/json`, `application/vnd.kubernetes.protobuf`).
    pub content_type: Str,
    /// How `raw` is compressed, if at all.
    pub content_encoding: Str,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn raw_json_is_kept_compact_in_key_order_and_written_back_verbatim() {
        let r: RawExtension =
            serde_json::from_str(r#"{ "kind": "Pod", "a": [1, 2.5, null, {"z": true}] }"#).unwrap();
        assert_eq!(r.raw(), r#"{"kind":"Pod","a":[1,2.5,null,{"z":true}]}"#);
        assert_eq!(serde_json::to_string(&r).unwrap(), r.raw());
    }

    #[test]
    fn raw_json_decodes_from_a_json_value_too() {
        let v = serde_json::json!({"b": {"c": "d"}});
        let r = RawExtension::deserialize(v).unwrap();
        assert_eq!(r.raw(), r#"{"b":{"c":"d"}}"#);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"b": {"c": "d"}})
        );
    }
}
