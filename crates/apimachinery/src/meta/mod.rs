//! Port of apimachinery `pkg/apis/meta/v1` (types.go, meta.go, watch.go) and
//! `pkg/runtime/schema`: the metadata every object carries, the list and watch envelopes, and
//! the option structs that become query parameters.
//!
//! Data flow: the server's JSON is decoded straight into these types (`List<T>` for a list,
//! [`WatchEvent<T>`] for each line of a watch). Code that must work on any object — the pager,
//! the informer's cache key function — reads it through the [`Object`] trait; code that must
//! build a URL reads the type's coordinates through the [`Resource`] trait.
//!
//! Split by concept: this file holds object and list metadata and the [`Object`] and
//! [`Resource`] traits; [`options`] the query-parameter structs (ListOptions, DeleteOptions,
//! ...); [`watch_event`] the watch envelope, and [`watch`] its protobuf form. Everything is
//! re-exported here.
//!
//! Laid out for caches: strings are shared [`Str`]s, maps compact [`StrMap`]s, timestamps
//! 8-byte [`Time`]s, and `managedFields[].fieldsV1` raw JSON ([`FieldsV1`]), as Go keeps it.
//! Absent strings read as `""` through [`Object`], as in Go's getters.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::{Str, StrMap, ThinVec};

mod generated_pb;
mod generated_pb_status;
pub mod managed_fields;
pub mod options;
pub mod partial_object_metadata;
pub mod time;
pub mod watch;
pub mod watch_event;

pub use managed_fields::{ObjectSeed, WithoutManagedFields, decode_object};
pub use options::{
    DeleteOptions, ListOptions, PatchType, Preconditions, PropagationPolicy, ResourceVersionMatch,
    WriteOptions,
};
pub use partial_object_metadata::{PartialObjectMetadata, PartialObjectMetadataList};
pub use time::{MicroTime, Time, TimeError};
pub use watch::{WatchEventRef, decode_watch_event, encode_watch_event};
pub use watch_event::{
    Bookmark, BookmarkMeta, EventType, INITIAL_EVENTS_END_ANNOTATION, RawWatchEvent, WatchEvent,
};

/// The labels or annotations of an object. An empty map is what Go's getter returns for nil.
pub type StringMap = StrMap;

/// Port of metav1.TypeMeta: `apiVersion` and `kind`, flattened into every object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeMeta {
    /// `group/version`, or `version` alone for the core group (`v1`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// The kind, e.g. `Pod`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
}

/// Port of metav1.ObjectMeta: the metadata of a persisted object.
///
/// Laid out for caches: strings are shared [`Str`]s (except `name`, `uid` and
/// `resourceVersion`, which are unique per object and so are not put in the shared table),
/// maps are compact [`StrMap`]s, timestamps are 8-byte [`Time`]s and
/// `managedFields[].fieldsV1` stays raw JSON, as in Go.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Unique within a namespace; required when creating unless `generate_name` is set.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::intern::opt_unshared"
    )]
    pub name: Option<Str>,
    /// Prefix the server extends into a unique name when `name` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<Str>,
    /// Namespace of a namespaced object; absent for cluster-scoped ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Str>,
    /// Deprecated self link; servers no longer set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_link: Option<Str>,
    /// Server-assigned unique id for this incarnation of the object.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::intern::opt_unshared"
    )]
    pub uid: Option<Str>,
    /// Opaque version used for optimistic concurrency and for watches.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::intern::opt_unshared"
    )]
    pub resource_version: Option<Str>,
    /// Sequence number of spec changes, set by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// When the object was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Time>,
    /// Time after which the object will be deleted; set means "being deleted".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<Time>,
    /// Grace period the deletion was requested with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_grace_period_seconds: Option<i64>,
    /// Labels used by selectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<StrMap>,
    /// Annotations: arbitrary non-identifying metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<StrMap>,
    /// Objects this one depends on (garbage collection).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::compact::opt_vec"
    )]
    pub owner_references: Option<ThinVec<OwnerReference>>,
    /// Finalizers that must be removed before the object is deleted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::compact::opt_vec"
    )]
    pub finalizers: Option<ThinVec<Str>>,
    /// Server-side apply bookkeeping; often half an object's JSON, kept as raw bytes.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::compact::opt_vec"
    )]
    pub managed_fields: Option<ThinVec<ManagedFieldsEntry>>,
}

/// Port of metav1.OwnerReference.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    /// API version of the owner.
    #[serde(default)]
    pub api_version: Str,
    /// Kind of the owner.
    #[serde(default)]
    pub kind: Str,
    /// Name of the owner.
    #[serde(default)]
    pub name: Str,
    /// UID of the owner.
    #[serde(default)]
    pub uid: Str,
    /// True if the owner is the managing controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    /// True if the owner cannot be deleted before this object is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

/// Port of metav1.ManagedFieldsEntry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedFieldsEntry {
    /// The field manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<Str>,
    /// `Apply` or `Update`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Str>,
    /// Version of the fields set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<Str>,
    /// When the entry was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    /// Format of `fields_v1`; only `FieldsV1` exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields_type: Option<Str>,
    /// The field set, as raw JSON.
    #[serde(default, rename = "fieldsV1", skip_serializing_if = "Option::is_none")]
    pub fields_v1: Option<FieldsV1>,
    /// The subresource the entry applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<Str>,
}

/// A set of field paths, as the raw JSON the server sent. Port of metav1.FieldsV1
/// (`Raw []byte`). Shared like a [`Str`]: objects written by the same manager from the same
/// template hold one copy.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldsV1(pub Str);

impl FieldsV1 {
    /// The raw JSON text.
    pub fn raw(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for FieldsV1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FieldsV1({})", self.0.as_str())
    }
}

impl Serialize for FieldsV1 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::runtime::serialize_raw(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for FieldsV1 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(FieldsV1(Str::from(crate::runtime::raw_json(d)?)))
    }
}

/// Port of metav1.LabelSelector: the struct form of a label selector, as specs carry it.
/// [`crate::selectors`] parses and matches the string form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Requirements, ANDed together.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::compact::opt_vec"
    )]
    pub match_expressions: Option<ThinVec<LabelSelectorRequirement>>,
    /// `{key: value}` pairs, each equivalent to an `In` requirement with one value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<StrMap>,
}

/// Port of metav1.LabelSelectorRequirement.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSelectorRequirement {
    /// The label key.
    #[serde(default)]
    pub key: Str,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    #[serde(default)]
    pub operator: Str,
    /// The values for `In` and `NotIn`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::compact::opt_vec"
    )]
    pub values: Option<ThinVec<Str>>,
}

/// Port of metav1.Condition: one aspect of an object's current state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// When the condition last changed status.
    #[serde(default)]
    pub last_transition_time: Time,
    /// Human-readable detail.
    #[serde(default)]
    pub message: Str,
    /// The `.metadata.generation` the condition was set for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// CamelCase reason for the last transition.
    #[serde(default)]
    pub reason: Str,
    /// `True`, `False` or `Unknown`.
    #[serde(default)]
    pub status: Str,
    /// The condition type, e.g. `Available`.
    #[serde(default, rename = "type")]
    pub type_: Str,
}

/// Port of metav1.ListMeta: the metadata of a list response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    /// The version of the collection this list reflects; start a watch from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// Set when the list was cut at `limit`: pass it as `continue` to get the next page.
    #[serde(default, rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continue_token: Option<String>,
    /// How many items remain after this page, when the server can tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_item_count: Option<i64>,
    /// Deprecated self link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_link: Option<String>,
}

/// Port of metav1.Status: the body the server sends with every error (and for some deletes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// `v1` and `Status`.
    #[serde(flatten)]
    pub types: TypeMeta,
    /// List metadata; a 410 on a continue page carries a fresh continue token here.
    #[serde(default)]
    pub metadata: ListMeta,
    /// `Success` or `Failure`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Machine-readable reason (`NotFound`, `Conflict`, ...); empty means unknown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Extra detail about the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    /// The HTTP status code; 0 if not set.
    #[serde(default)]
    pub code: i32,
}

/// Port of metav1.StatusDetails.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    /// Name of the object the status is about.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Group of the object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// Kind (often the plural resource) of the object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// UID of the object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// Individual causes, e.g. one per invalid field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
    /// Seconds the client should wait before retrying; 0 means no advice.
    #[serde(default)]
    pub retry_after_seconds: i32,
}

/// Port of metav1.StatusCause.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCause {
    /// Machine-readable cause (`FieldValueInvalid`, `ResourceVersionTooLarge`, ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The field path at fault, e.g. `spec.containers[0].image`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field: String,
}

/// A list response: Go's `XxxList` types (e.g. `v1.PodList`) as one generic type.
///
/// Port of the list kinds in apimachinery; differs from Go in being generic over the item.
/// Deserialised by a hand-written visitor that streams `items` straight into the `Vec`
/// (a `#[serde(flatten)]` field would buffer the whole list first).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(bound(serialize = "T: Serialize"))]
pub struct List<T> {
    /// `apiVersion` and `kind` (`PodList`).
    #[serde(flatten)]
    pub types: TypeMeta,
    /// Resource version and continue token.
    pub metadata: ListMeta,
    /// The items; a JSON `null` decodes as empty.
    pub items: Vec<T>,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List {
            types: TypeMeta::default(),
            metadata: ListMeta::default(),
            items: Vec::new(),
        }
    }
}

/// Top-level keys of lists and metadata-only objects.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum TopField {
    ApiVersion,
    Kind,
    Metadata,
    Items,
    #[serde(other)]
    Other,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for V<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<List<T>, A::Error> {
                let mut list = List::default();
                while let Some(key) = map.next_key::<TopField>()? {
                    match key {
                        TopField::ApiVersion => {
                            list.types.api_version =
                                map.next_value::<Option<String>>()?.unwrap_or_default()
                        }
                        TopField::Kind => {
                            list.types.kind =
                                map.next_value::<Option<String>>()?.unwrap_or_default()
                        }
                        TopField::Metadata => {
                            list.metadata =
                                map.next_value::<Option<ListMeta>>()?.unwrap_or_default()
                        }
                        TopField::Items => {
                            list.items = map.next_value::<Option<Vec<T>>>()?.unwrap_or_default()
                        }
                        TopField::Other => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(list)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Deserialises `{apiVersion, kind, metadata}` and skips everything else, without buffering.
/// Used by metadata-only types.
fn deserialize_type_and_meta<'de, D, M>(d: D) -> Result<(TypeMeta, M), D::Error>
where
    D: Deserializer<'de>,
    M: DeserializeOwned + Default,
{
    struct V<M>(std::marker::PhantomData<M>);
    impl<'de, M: DeserializeOwned + Default> Visitor<'de> for V<M> {
        type Value = (TypeMeta, M);
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object with metadata")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut types = TypeMeta::default();
            let mut meta = M::default();
            while let Some(key) = map.next_key::<TopField>()? {
                match key {
                    TopField::ApiVersion => {
                        types.api_version = map.next_value::<Option<String>>()?.unwrap_or_default()
                    }
                    TopField::Kind => {
                        types.kind = map.next_value::<Option<String>>()?.unwrap_or_default()
                    }
                    TopField::Metadata => meta = map.next_value::<Option<M>>()?.unwrap_or_default(),
                    TopField::Items | TopField::Other => {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
            }
            Ok((types, meta))
        }
    }
    d.deserialize_map(V(std::marker::PhantomData))
}

/// The accessors of Go's `metav1.Object`, implemented by every object type.
///
/// Port of apimachinery `pkg/apis/meta/v1/meta.go`: Object. Getters return `""`, `0` or an
/// empty collection for absent fields, as Go's do. Differs from Go: no setters beyond the ones
/// controllers need, since Rust callers usually mutate the metadata struct directly.
pub trait Object {
    /// `metadata.name`.
    fn name(&self) -> &str;
    /// `metadata.namespace` (`""` for cluster-scoped objects).
    fn namespace(&self) -> &str;
    /// `metadata.uid`.
    fn uid(&self) -> &str;
    /// `metadata.resourceVersion`.
    fn resource_version(&self) -> &str;
    /// `metadata.generation`.
    fn generation(&self) -> i64;
    /// `metadata.labels`. Borrowed for this crate's types; built on each call for foreign
    /// types (k8s-openapi).
    fn labels(&self) -> Cow<'_, StringMap>;
    /// `metadata.annotations`.
    fn annotations(&self) -> Cow<'_, StringMap>;
    /// `metadata.deletionTimestamp`, if the object is being deleted.
    fn deletion_timestamp(&self) -> Option<Time>;
    /// `metadata.ownerReferences`.
    fn owner_references(&self) -> Cow<'_, [OwnerReference]>;
    /// `metadata.finalizers`.
    fn finalizers(&self) -> Cow<'_, [Str]>;
    /// Sets `metadata.resourceVersion`.
    fn set_resource_version(&mut self, rv: &str);
    /// Drops `metadata.managedFields`: the usual transform before caching an object.
    fn clear_managed_fields(&mut self);
}

impl Object for ObjectMeta {
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
    fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }
    fn uid(&self) -> &str {
        self.uid.as_deref().unwrap_or("")
    }
    fn resource_version(&self) -> &str {
        self.resource_version.as_deref().unwrap_or("")
    }
    fn generation(&self) -> i64 {
        self.generation.unwrap_or(0)
    }
    fn labels(&self) -> Cow<'_, StringMap> {
        self.labels
            .as_ref()
            .map_or_else(|| Cow::Owned(StrMap::new()), Cow::Borrowed)
    }
    fn annotations(&self) -> Cow<'_, StringMap> {
        self.annotations
            .as_ref()
            .map_or_else(|| Cow::Owned(StrMap::new()), Cow::Borrowed)
    }
    fn deletion_timestamp(&self) -> Option<Time> {
        self.deletion_timestamp
    }
    fn owner_references(&self) -> Cow<'_, [OwnerReference]> {
        Cow::Borrowed(self.owner_references.as_deref().unwrap_or(&[]))
    }
    fn finalizers(&self) -> Cow<'_, [Str]> {
        Cow::Borrowed(self.finalizers.as_deref().unwrap_or(&[]))
    }
    fn set_resource_version(&mut self, rv: &str) {
        self.resource_version = Some(Str::from(rv));
    }
    fn clear_managed_fields(&mut self) {
        self.managed_fields = None;
    }
}

/// Implements [`Object`] for a type with a `metadata: ObjectMeta` field by delegation.
#[macro_export]
macro_rules! impl_object_via_metadata {
    ($ty:ty) => {
        impl $crate::meta::Object for $ty {
            fn name(&self) -> &str {
                $crate::meta::Object::name(&self.metadata)
            }
            fn namespace(&self) -> &str {
                $crate::meta::Object::namespace(&self.metadata)
            }
            fn uid(&self) -> &str {
                $crate::meta::Object::uid(&self.metadata)
            }
            fn resource_version(&self) -> &str {
                $crate::meta::Object::resource_version(&self.metadata)
            }
            fn generation(&self) -> i64 {
                $crate::meta::Object::generation(&self.metadata)
            }
            fn labels(&self) -> ::std::borrow::Cow<'_, $crate::meta::StringMap> {
                $crate::meta::Object::labels(&self.metadata)
            }
            fn annotations(&self) -> ::std::borrow::Cow<'_, $crate::meta::StringMap> {
                $crate::meta::Object::annotations(&self.metadata)
            }
            fn deletion_timestamp(&self) -> Option<$crate::meta::Time> {
                $crate::meta::Object::deletion_timestamp(&self.metadata)
            }
            fn owner_references(&self) -> ::std::borrow::Cow<'_, [$crate::meta::OwnerReference]> {
                $crate::meta::Object::owner_references(&self.metadata)
            }
            fn finalizers(&self) -> ::std::borrow::Cow<'_, [$crate::Str]> {
                $crate::meta::Object::finalizers(&self.metadata)
            }
            fn set_resource_version(&mut self, rv: &str) {
                $crate::meta::Object::set_resource_version(&mut self.metadata, rv)
            }
            fn clear_managed_fields(&mut self) {
                $crate::meta::Object::clear_managed_fields(&mut self.metadata)
            }
        }
    };
}

/// The REST coordinates of a type: what a typed client needs to build its URLs.
///
/// Port of apimachinery `pkg/runtime/schema` GroupVersionKind + GroupVersionResource and the
/// RESTMapper's scope, fixed per type. Differs from Go: known at compile time (associated
/// consts) instead of looked up in a scheme; the dynamic client uses [`ApiResource`] instead.
pub trait Resource {
    /// API group; `""` for the core group.
    const GROUP: &'static str;
    /// API version, e.g. `v1`.
    const VERSION: &'static str;
    /// Kind, e.g. `Pod`.
    const KIND: &'static str;
    /// Plural resource name used in URLs, e.g. `pods`.
    const PLURAL: &'static str;
    /// True if objects live in namespaces.
    const NAMESPACED: bool;

    /// The protobuf form of a built-in type, which a client may negotiate
    /// (`application/vnd.kubernetes.protobuf`); `None`, the default, keeps a type on JSON,
    /// as Go keeps custom resources. Port of registering a type with the protobuf serializer
    /// (Go: the group's `AddToScheme`, whose types implement `proto.Marshaler`).
    fn protobuf() -> Option<crate::runtime::protobuf::ProtobufCodec<Self>>
    where
        Self: Sized,
    {
        None
    }

    /// The same coordinates as a runtime value.
    fn api_resource() -> ApiResource {
        ApiResource {
            group: Self::GROUP.to_owned(),
            version: Self::VERSION.to_owned(),
            kind: Self::KIND.to_owned(),
            plural: Self::PLURAL.to_owned(),
            namespaced: Self::NAMESPACED,
        }
    }
}

/// Runtime REST coordinates: schema.GroupVersionResource plus kind and scope.
///
/// Port of `schema.GroupVersionResource` (and the RESTMapping's kind and scope).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApiResource {
    /// API group; `""` for the core group.
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Plural resource name used in URLs.
    pub plural: String,
    /// True if objects live in namespaces.
    pub namespaced: bool,
}

impl ApiResource {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The URL prefix: `/api/v1` for the core group, `/apis/{group}/{version}` otherwise.
    pub fn url_prefix(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// The collection path, in `namespace` when the resource is namespaced and one is given.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        match namespace.filter(|ns| self.namespaced && !ns.is_empty()) {
            Some(ns) => format!("{}/namespaces/{}/{}", self.url_prefix(), ns, self.plural),
            None => format!("{}/{}", self.url_prefix(), self.plural),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Thing {
        metadata: ObjectMeta,
    }

    #[test]
    fn list_with_null_items_is_empty() {
        let l: List<Thing> =
            serde_json::from_str(r#"{"kind":"ThingList","metadata":{},"items":null}"#).unwrap();
        assert!(l.items.is_empty());
    }

    #[test]
    fn collection_paths_follow_group_and_scope() {
        let pods = ApiResource {
            group: String::new(),
            version: "v1".into(),
            kind: "Pod".into(),
            plural: "pods".into(),
            namespaced: true,
        };
        assert_eq!(
            pods.collection_path(Some("ns")),
            "/api/v1/namespaces/ns/pods"
        );
        assert_eq!(pods.collection_path(None), "/api/v1/pods");
        let nodes = ApiResource {
            namespaced: false,
            plural: "nodes".into(),
            ..pods.clone()
        };
        assert_eq!(nodes.collection_path(Some("ns")), "/api/v1/nodes");
        let deps = ApiResource {
            group: "apps".into(),
            plural: "deployments".into(),
            ..pods
        };
        assert_eq!(
            deps.collection_path(Some("x")),
            "/apis/apps/v1/namespaces/x/deployments"
        );
    }
}
