//! Port of client-go `dynamic/` (the dynamic client) and apimachinery's
//! `unstructured.Unstructured`: objects of any resource, addressed by group/version/resource at
//! run time.
//!
//! Data flow: a [`DynamicObject`] keeps `apiVersion`/`kind` and `metadata` typed (so the
//! [`Object`](crate::Object) accessors, selectors and caches work) and every other top-level
//! field as JSON in `data`; serialising writes them all back, so nothing is lost on a round trip.
//! [`DynamicClient`] is a [`TypedClient`] over `DynamicObject` built from an [`ApiResource`].
//!
//! Differs from Go: metadata is a struct rather than nested maps, because every consumer reads
//! it; the rest stays as JSON like Go's `map[string]interface{}`.

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::meta::{ApiResource, ObjectMeta, TypeMeta};
use crate::rest::RestClient;
use crate::typed::TypedClient;

/// An object of any kind. Port of unstructured.Unstructured.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DynamicObject {
    /// `apiVersion` and `kind`.
    #[serde(flatten)]
    pub types: TypeMeta,
    /// Typed metadata.
    pub metadata: ObjectMeta,
    /// Every other top-level field (`spec`, `status`, `data`, ...), untouched.
    #[serde(flatten)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

crate::impl_object_via_metadata!(DynamicObject);

impl<'de> Deserialize<'de> for DynamicObject {
    /// One pass over the object: typed fields decoded in place, the rest kept as JSON
    /// (a `#[serde(flatten)]` derive would buffer the whole object first).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DynamicObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a Kubernetes object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DynamicObject, A::Error> {
                let mut obj = DynamicObject::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "apiVersion" => {
                            obj.types.api_version =
                                map.next_value::<Option<String>>()?.unwrap_or_default()
                        }
                        "kind" => {
                            obj.types.kind = map.next_value::<Option<String>>()?.unwrap_or_default()
                        }
                        "metadata" => {
                            obj.metadata =
                                map.next_value::<Option<ObjectMeta>>()?.unwrap_or_default()
                        }
                        _ => {
                            let v = map.next_value::<serde_json::Value>()?;
                            obj.data.insert(key, v);
                        }
                    }
                }
                Ok(obj)
            }
        }
        d.deserialize_map(V)
    }
}

impl DynamicObject {
    /// An empty object of `resource`'s kind named `name`.
    pub fn new(resource: &ApiResource, name: &str) -> Self {
        DynamicObject {
            types: TypeMeta {
                api_version: resource.api_version(),
                kind: resource.kind.clone(),
            },
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            data: serde_json::Map::new(),
        }
    }

    /// Sets a top-level field (e.g. `spec`).
    #[must_use]
    pub fn with(mut self, field: &str, value: serde_json::Value) -> Self {
        self.data.insert(field.to_owned(), value);
        self
    }
}

/// A client for objects of a resource known only at run time.
/// Port of dynamic.NamespaceableResourceInterface.
pub type DynamicClient = TypedClient<DynamicObject>;

impl TypedClient<DynamicObject> {
    /// Objects of `resource` in `namespace` (`None`: all namespaces or cluster-scoped).
    /// Port of dynamic.Interface.Resource(gvr).Namespace(ns).
    pub fn dynamic(client: &RestClient, resource: ApiResource, namespace: Option<&str>) -> Self {
        Self::for_resource(client, resource, namespace)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::Object;

    #[test]
    fn round_trip_keeps_every_field() {
        let text = r#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","namespace":"ns","labels":{"a":"b"}},"spec":{"size":3,"nested":{"x":[1,2]}},"status":{"ok":true},"extra":null}"#;
        let obj: DynamicObject = serde_json::from_str(text).unwrap();
        assert_eq!((obj.name(), obj.namespace()), ("w", "ns"));
        assert_eq!(obj.types.kind, "Widget");
        assert_eq!(obj.data["spec"]["size"], 3);
        let back: serde_json::Value = serde_json::to_value(&obj).unwrap();
        let orig: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(back, orig);
    }
}
