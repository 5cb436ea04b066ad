//! Decoding an object without its `metadata.managedFields`.
//!
//! Go counterpart: a `cache.TransformFunc` that sets `ManagedFields = nil` after decoding
//! (controller-runtime's `TransformStripManagedFields`), the usual way controllers halve the
//! memory of their caches. Differs from Go: here the field is skipped *while decoding*, so
//! its nested maps are never built. In client-go `managedFields[].fieldsV1` stays raw bytes
//! and is cheap to decode; typed Rust objects (k8s-openapi's `FieldsV1` is a
//! `serde_json::Value`) build a map per entry and field, which is about half the decode time
//! and half the memory of a typical pod.
//!
//! Data flow: [`ObjectSeed`] decodes one object through [`WithoutManagedFields`], a
//! `serde::Deserializer` adapter. The adapter sees only two levels of the document: the
//! object's own map (where it notes the `metadata` key) and the map under `metadata` (where it
//! skips the `managedFields` entry with `IgnoredAny`, which only scans the bytes). Every other
//! value goes straight to the wrapped deserializer, so the rest of the object decodes exactly
//! as it would without the adapter, at the same speed.
//!
//! Invariant: the decoded object equals the plain decoding of the same bytes with
//! `metadata.managedFields` removed; nothing else changes (tested against `serde_json`).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

/// Decodes a `T`, leaving out `metadata.managedFields` when `strip` is set.
///
/// Used by the watch decoder, [`crate::Request::into_list`] and [`crate::Request::into_json`]
/// when a request asks for [`crate::Request::strip_managed_fields`].
pub struct ObjectSeed<T> {
    strip: bool,
    _t: PhantomData<fn() -> T>,
}

impl<T> ObjectSeed<T> {
    /// A seed that strips `metadata.managedFields` if `strip`.
    pub fn new(strip: bool) -> Self {
        ObjectSeed {
            strip,
            _t: PhantomData,
        }
    }
}

impl<T> Clone for ObjectSeed<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ObjectSeed<T> {}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for ObjectSeed<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        if self.strip {
            T::deserialize(WithoutManagedFields::new(d))
        } else {
            T::deserialize(d)
        }
    }
}

/// Decodes one JSON object into `T`, leaving out `metadata.managedFields` when `strip` is set.
pub fn decode_object<T: DeserializeOwned>(bytes: &[u8], strip: bool) -> serde_json::Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = ObjectSeed::<T>::new(strip)
        .deserialize(&mut de)
        .map_err(|e| with_field_path::<T>(bytes, e))?;
    de.end()?;
    Ok(value)
}

/// Adds the field path (`spec.containers[0].ports[0].containerPort`) to a decode error of a
/// value of the wrong type or range, so the message says which field is at fault.
///
/// The path is found only on failure, by decoding the same bytes again through
/// `serde_path_to_error`, so successful decoding pays nothing for it. Syntax errors (bad JSON,
/// early end) are returned as they are: their line and column already point at the fault.
pub fn with_field_path<T: DeserializeOwned>(
    bytes: &[u8],
    e: serde_json::Error,
) -> serde_json::Error {
    if !e.is_data() {
        return e;
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(pe) if pe.path().iter().next().is_some() => {
            <serde_json::Error as de::Error>::custom(format_args!("{}: {e}", pe.path()))
        }
        _ => e,
    }
}

/// Which map of the document the adapter is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    /// The object itself: note the `metadata` key.
    Object,
    /// The object's `metadata`: skip `managedFields`.
    Metadata,
}

/// A `Deserializer` that yields the wrapped one's object without `metadata.managedFields`.
/// See the module docs.
pub struct WithoutManagedFields<D> {
    inner: D,
    level: Level,
}

impl<D> WithoutManagedFields<D> {
    /// Wraps the deserializer of one whole object.
    pub fn new(inner: D) -> Self {
        WithoutManagedFields {
            inner,
            level: Level::Object,
        }
    }
}

/// Forwards `deserialize_*` methods that cannot hold a map to the wrapped deserializer.
macro_rules! forward_plain {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method(visitor)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for WithoutManagedFields<D> {
    type Error = D::Error;

    forward_plain! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_unit
        deserialize_seq deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let level = self.level;
        self.inner.deserialize_any(Wrap {
            inner: visitor,
            level,
        })
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let level = self.level;
        self.inner.deserialize_option(Wrap {
            inner: visitor,
            level,
        })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let level = self.level;
        self.inner.deserialize_map(Wrap {
            inner: visitor,
            level,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let level = self.level;
        self.inner.deserialize_struct(
            name,
            fields,
            Wrap {
                inner: visitor,
                level,
            },
        )
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let level = self.level;
        self.inner.deserialize_newtype_struct(
            name,
            Wrap {
                inner: visitor,
                level,
            },
        )
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_enum(name, variants, visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A visitor that hands the wrapped visitor a filtering [`MapAccess`] (or, for an option or
/// newtype, a wrapped deserializer) and forwards every other value untouched.
struct Wrap<V> {
    inner: V,
    level: Level,
}

/// Forwards `visit_*` methods that carry a plain value.
macro_rules! forward_visit {
    ($($method:ident($ty:ty))*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit! {
        visit_bool(bool) visit_i64(i64) visit_i128(i128) visit_u64(u64) visit_u128(u128)
        visit_f64(f64) visit_char(char) visit_str(&str) visit_borrowed_str(&'de str)
        visit_string(String) visit_bytes(&[u8]) visit_borrowed_bytes(&'de [u8])
        visit_byte_buf(Vec<u8>)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.inner.visit_some(WithoutManagedFields {
            inner: d,
            level: self.level,
        })
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.inner.visit_newtype_struct(WithoutManagedFields {
            inner: d,
            level: self.level,
        })
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(seq)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(data)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(FilterMap {
            inner: map,
            level: self.level,
            value_is_metadata: false,
        })
    }
}

/// The map of the object (notes `metadata`) or of its metadata (skips `managedFields`).
struct FilterMap<A> {
    inner: A,
    level: Level,
    /// The key just returned was the object's `metadata`.
    value_is_metadata: bool,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for FilterMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.inner.next_key_seed(KeySeed)? else {
                return Ok(None);
            };
            if self.level == Level::Metadata && key == "managedFields" {
                self.inner.next_value::<IgnoredAny>()?;
                continue;
            }
            self.value_is_metadata = self.level == Level::Object && key == "metadata";
            return match key {
                Cow::Borrowed(k) => seed.deserialize(BorrowedStrDeserializer::new(k)),
                Cow::Owned(k) => seed.deserialize(StringDeserializer::new(k)),
            }
            .map(Some);
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        if std::mem::take(&mut self.value_is_metadata) {
            self.inner.next_value_seed(MetadataSeed(seed))
        } else {
            self.inner.next_value_seed(seed)
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// Reads a map key as a string, borrowed from the input when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Decodes the value under `metadata` through the adapter at [`Level::Metadata`].
struct MetadataSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for MetadataSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(WithoutManagedFields {
            inner: d,
            level: Level::Metadata,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::meta::ObjectMeta;
    use serde_json::{Value, json};

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Obj {
        metadata: ObjectMeta,
        #[serde(default)]
        spec: Value,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct OptionalMeta {
        metadata: Option<ObjectMeta>,
    }

    fn pod() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "a",
                "namespace": "ns",
                "labels": {"managedFields": "label values are kept"},
                "managedFields": [{
                    "manager": "kubectl",
                    "operation": "Apply",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}}
                }],
                "resourceVersion": "7"
            },
            "spec": {"metadata": {"managedFields": ["a nested metadata is not the object's"]}}
        })
    }

    fn without_managed_fields(mut v: Value) -> Value {
        v["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        v
    }

    #[test]
    fn strips_only_the_objects_own_managed_fields() {
        let bytes = serde_json::to_vec(&pod()).unwrap();
        let stripped: Obj = decode_object(&bytes, true).unwrap();
        let want: Obj = serde_json::from_value(without_managed_fields(pod())).unwrap();
        assert_eq!(stripped, want);
        assert!(stripped.metadata.managed_fields.is_none());
        assert_eq!(
            stripped.metadata.labels.as_ref().unwrap()["managedFields"],
            "label values are kept"
        );
        assert_eq!(
            stripped.spec["metadata"]["managedFields"][0],
            "a nested metadata is not the object's"
        );
        let kept: Obj = decode_object(&bytes, false).unwrap();
        assert_eq!(
            kept.metadata.managed_fields.as_ref().map(|v| v.len()),
            Some(1)
        );
    }

    #[test]
    fn works_for_untyped_values_optional_metadata_and_escaped_keys() {
        let bytes = serde_json::to_vec(&pod()).unwrap();
        let v: Value = decode_object(&bytes, true).unwrap();
        assert_eq!(v, without_managed_fields(pod()));
        let o: OptionalMeta = decode_object(&bytes, true).unwrap();
        assert!(o.metadata.unwrap().managed_fields.is_none());
        // `\u0061` is `a`: escaped keys are compared after unescaping.
        let escaped = br#"{"met\u0061data":{"name":"a","m\u0061nagedFields":[{"manager":"x"}]}}"#;
        let v: Value = decode_object(escaped, true).unwrap();
        assert_eq!(v, json!({"metadata": {"name": "a"}}));
    }

    #[test]
    fn a_value_of_the_wrong_type_is_reported_with_its_field_path() {
        #[derive(Debug, serde::Deserialize)]
        struct Port {
            #[serde(rename = "containerPort")]
            _container_port: i32,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Spec {
            _ports: Vec<Port>,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Obj {
            #[serde(rename = "spec")]
            _spec: Spec,
        }
        let bytes = br#"{"spec":{"_ports":[{"containerPort":1},{"containerPort":99999999999}]}}"#;
        let e = decode_object::<Obj>(bytes, false).unwrap_err();
        assert!(
            e.to_string().starts_with("spec._ports[1].containerPort: "),
            "{e}"
        );
        // Syntax errors keep serde_json's position and message.
        let e = decode_object::<Obj>(br#"{"spec":"#, false).unwrap_err();
        assert!(e.is_eof(), "{e}");
    }

    #[test]
    fn bad_input_is_a_decode_error() {
        for bad in [
            &b"{"[..],
            br#"{"metadata":{"managedFields":[{"manager":}]}}"#,
            br#"{"metadata":{"name":"a"}} trailing"#,
            b"[]",
        ] {
            assert!(decode_object::<Obj>(bad, true).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_k8s_openapi_pod_decodes_as_with_the_field_removed() {
        use k8s_openapi::api::core::v1::Pod;
        let mut p = pod();
        p["spec"] = json!({"containers": [{"name": "c", "image": "busybox"}]});
        let bytes = serde_json::to_vec(&p).unwrap();
        let stripped: Pod = decode_object(&bytes, true).unwrap();
        let want: Pod = serde_json::from_value(without_managed_fields(p)).unwrap();
        assert_eq!(stripped, want);
    }
}
