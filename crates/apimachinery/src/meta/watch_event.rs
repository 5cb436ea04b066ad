//! Port of apimachinery `pkg/watch/watch.go` (Event, EventType) and metav1.WatchEvent: the
//! envelope of each line of a watch response.
//!
//! Data flow: [`crate::rest::WatchStream`] hands each line to serde, which decodes it into a
//! [`RawWatchEvent`]; when `type` comes before `object` (as the API server writes it) the object
//! is decoded straight into its final place, otherwise it is buffered as JSON first. `ERROR`
//! stays a [`Status`] here and becomes an `Err` in the stream.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::managed_fields::ObjectSeed;
use super::{Status, StringMap, TypeMeta};

/// One event of a watch. Port of apimachinery `pkg/watch`'s Event and metav1.WatchEvent.
///
/// Differs from Go: an `ERROR` event never appears here; the watch stream turns it into
/// `Err(Error::Api(..))` carrying its [`Status`], so `?` handles it like any API error.
#[derive(Clone, Debug, PartialEq)]
pub enum WatchEvent<T> {
    /// `ADDED`: the object appeared (or was listed, for a watch with initial events).
    Added(T),
    /// `MODIFIED`: a new version of the object.
    Modified(T),
    /// `DELETED`: the last version of the object before deletion.
    Deleted(T),
    /// `BOOKMARK`: only a resource version to resume from; no object changed.
    Bookmark(Bookmark),
}

/// The payload of a `BOOKMARK` event: the object has only kind, apiVersion and a
/// resourceVersion (plus the `k8s.io/initial-events-end` annotation after initial events).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bookmark {
    /// `apiVersion` and `kind` of the watched type.
    #[serde(flatten)]
    pub types: TypeMeta,
    /// Only `resource_version` and `annotations` are set.
    #[serde(default)]
    pub metadata: BookmarkMeta,
}

/// Metadata of a [`Bookmark`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookmarkMeta {
    /// The resource version to resume the watch from.
    #[serde(default)]
    pub resource_version: String,
    /// Annotations; see [`Bookmark::is_initial_events_end`].
    #[serde(default, skip_serializing_if = "StringMap::is_empty")]
    pub annotations: StringMap,
}

/// The annotation the server puts on the bookmark that ends a watch's initial events.
/// Port of metav1.InitialEventsAnnotationKey.
pub const INITIAL_EVENTS_END_ANNOTATION: &str = "k8s.io/initial-events-end";

impl Bookmark {
    /// True for the bookmark that closes the initial events of a `sendInitialEvents` watch.
    pub fn is_initial_events_end(&self) -> bool {
        self.metadata
            .annotations
            .get(INITIAL_EVENTS_END_ANNOTATION)
            .map(crate::Str::as_str)
            == Some("true")
    }
}

impl<T> WatchEvent<T> {
    /// The Go event type string (`ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`).
    pub fn type_name(&self) -> &'static str {
        match self {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark(_) => "BOOKMARK",
        }
    }
}

/// A watch line as sent on the wire, before `ERROR` is split off: the decoder's input.
///
/// Port of metav1.WatchEvent; the object is decoded in the same pass when `type` precedes
/// `object` (as servers send it), and buffered as JSON otherwise.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // short-lived: unpacked right after decoding
pub enum RawWatchEvent<T> {
    /// A normal event.
    Event(WatchEvent<T>),
    /// An `ERROR` event and its status.
    Error(Status),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for RawWatchEvent<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RawWatchEventVisitor(ObjectSeed::new(false)))
    }
}

impl<T: DeserializeOwned> RawWatchEvent<T> {
    /// Decodes one watch line; with `strip_managed_fields` the object is decoded without
    /// `metadata.managedFields` (see [`super::managed_fields`]).
    pub fn decode(line: &[u8], strip_managed_fields: bool) -> serde_json::Result<Self> {
        let mut de = serde_json::Deserializer::from_slice(line);
        let event = de
            .deserialize_map(RawWatchEventVisitor(ObjectSeed::<T>::new(
                strip_managed_fields,
            )))
            .map_err(|e| super::managed_fields::with_field_path::<PathProbe<T>>(line, e))?;
        de.end()?;
        Ok(event)
    }
}

struct RawWatchEventVisitor<T>(ObjectSeed<T>);

/// The shape of a watch line, used only to find the path of a field that failed to decode.
#[derive(Deserialize)]
struct PathProbe<T> {
    #[serde(rename = "object")]
    _object: Option<T>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum EventField {
    Type,
    Object,
    #[serde(other)]
    Other,
}

/// The `type` of a watch event on the wire. Port of apimachinery `pkg/watch`'s EventType
/// (`Added`, `Modified`, `Deleted`, `Bookmark`, `Error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `ADDED`.
    Added,
    /// `MODIFIED`.
    Modified,
    /// `DELETED`.
    Deleted,
    /// `BOOKMARK`.
    Bookmark,
    /// `ERROR`: the object is a [`Status`].
    Error,
}

impl EventType {
    /// Reads the wire string; `None` for a type Go does not define (Go's watch decoder
    /// fails with "got invalid watch event type").
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ADDED" => EventType::Added,
            "MODIFIED" => EventType::Modified,
            "DELETED" => EventType::Deleted,
            "BOOKMARK" => EventType::Bookmark,
            "ERROR" => EventType::Error,
            _ => return None,
        })
    }

    /// The wire string (`ADDED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
            EventType::Bookmark => "BOOKMARK",
            EventType::Error => "ERROR",
        }
    }

    fn parse_de<E: de::Error>(s: &str) -> Result<Self, E> {
        Self::parse(s).ok_or_else(|| E::custom(format!("unknown watch event type {s:?}")))
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for RawWatchEventVisitor<T> {
    type Value = RawWatchEvent<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a watch event object with `type` and `object`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut ty: Option<EventType> = None;
        let mut out: Option<RawWatchEvent<T>> = None;
        // Only used when `object` arrives before `type`.
        let mut buffered: Option<serde_json::Value> = None;
        while let Some(key) = map.next_key::<EventField>()? {
            match key {
                EventField::Type => {
                    let s = map.next_value::<Cow<'de, str>>()?;
                    ty = Some(EventType::parse_de(&s)?);
                }
                EventField::Object => match ty {
                    // The object is decoded straight into its final place.
                    Some(t) => {
                        out = Some(match t {
                            EventType::Added => RawWatchEvent::Event(WatchEvent::Added(
                                map.next_value_seed(self.0)?,
                            )),
                            EventType::Modified => RawWatchEvent::Event(WatchEvent::Modified(
                                map.next_value_seed(self.0)?,
                            )),
                            EventType::Deleted => RawWatchEvent::Event(WatchEvent::Deleted(
                                map.next_value_seed(self.0)?,
                            )),
                            EventType::Bookmark => {
                                RawWatchEvent::Event(WatchEvent::Bookmark(map.next_value()?))
                            }
                            EventType::Error => RawWatchEvent::Error(map.next_value()?),
                        })
                    }
                    None => buffered = Some(map.next_value()?),
                },
                EventField::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let ty = ty.ok_or_else(|| de::Error::missing_field("type"))?;
        if let Some(e) = out {
            return Ok(e);
        }
        let v = buffered.ok_or_else(|| de::Error::missing_field("object"))?;
        let e = |e: serde_json::Error| de::Error::custom(e);
        Ok(match ty {
            EventType::Added => {
                RawWatchEvent::Event(WatchEvent::Added(self.0.deserialize(v).map_err(e)?))
            }
            EventType::Modified => {
                RawWatchEvent::Event(WatchEvent::Modified(self.0.deserialize(v).map_err(e)?))
            }
            EventType::Deleted => {
                RawWatchEvent::Event(WatchEvent::Deleted(self.0.deserialize(v).map_err(e)?))
            }
            EventType::Bookmark => {
                RawWatchEvent::Event(WatchEvent::Bookmark(Bookmark::deserialize(v).map_err(e)?))
            }
            EventType::Error => RawWatchEvent::Error(Status::deserialize(v).map_err(e)?),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::meta::{Object, ObjectMeta};

    #[derive(Debug, Deserialize, PartialEq)]
    struct Thing {
        metadata: ObjectMeta,
    }

    #[test]
    fn watch_event_decodes_in_either_field_order() {
        let a: RawWatchEvent<Thing> =
            serde_json::from_str(r#"{"type":"ADDED","object":{"metadata":{"name":"a"}}}"#).unwrap();
        let b: RawWatchEvent<Thing> =
            serde_json::from_str(r#"{"object":{"metadata":{"name":"a"}},"type":"ADDED"}"#).unwrap();
        assert_eq!(a, b);
        match a {
            RawWatchEvent::Event(WatchEvent::Added(t)) => assert_eq!(t.metadata.name(), "a"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn error_event_becomes_status() {
        let e: RawWatchEvent<Thing> = serde_json::from_str(
            r#"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}"#,
        )
        .unwrap();
        match e {
            RawWatchEvent::Error(s) => assert_eq!((s.code, s.reason.as_str()), (410, "Expired")),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_event_type_is_an_error() {
        let e = serde_json::from_str::<RawWatchEvent<Thing>>(r#"{"type":"NOPE","object":{}}"#);
        assert!(e.is_err());
    }
}
