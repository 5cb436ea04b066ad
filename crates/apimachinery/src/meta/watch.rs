//! Port of apimachinery `pkg/apis/meta/v1/watch.go` (metav1.WatchEvent) in its protobuf
//! form, with the decoding half of client-go `rest/watch/decoder.go`: one event of a
//! `application/vnd.kubernetes.protobuf;stream=watch` response.
//!
//! Data flow: [`LengthDelimitedFrames`](crate::runtime::framer::LengthDelimitedFrames) cuts
//! the body into frames; [`decode_watch_event`] reads a frame — the message `{1: type,
//! 2: object}` where `object` is a `runtime.RawExtension` `{1: raw}` whose `raw` is a whole
//! `k8s\0` + `runtime.Unknown` body — into a [`WatchEventRef`] that borrows the frame. The
//! object is then decoded into what the event type calls for: a typed object through its
//! [`ProtobufCodec`] ([`WatchEventRef::decode`], giving the same [`RawWatchEvent`] as a JSON
//! line), a [`Status`] for `ERROR` ([`WatchEventRef::status`]), a [`Bookmark`]
//! ([`WatchEventRef::bookmark`]), or just the metadata ([`WatchEventRef::metadata`]).
//! [`encode_watch_event`] is the reverse, for test servers.
//!
//! ```
//! use apimachinery::meta::watch::{decode_watch_event, encode_watch_event};
//! use apimachinery::meta::{EventType, Status};
//! use apimachinery::runtime::wire::Message;
//!
//! let gone = Status { code: 410, reason: "Expired".into(), ..Status::default() };
//! let frame = encode_watch_event(EventType::Error, "v1", "Status", &gone.encode_to_vec());
//! let event = decode_watch_event(&frame)?;
//! assert_eq!(event.event_type, EventType::Error);
//! let status = event.status()?;
//! assert_eq!((status.code, status.types.kind.as_str()), (410, "Status"));
//! # Ok::<(), apimachinery::runtime::wire::ProtoError>(())
//! ```

use crate::meta::watch_event::{Bookmark, BookmarkMeta, EventType, RawWatchEvent, WatchEvent};
use crate::meta::{PartialObjectMetadata, Status, TypeMeta};
use crate::runtime::protobuf::{ProtobufCodec, UnknownRef, decode_envelope, encode_envelope};
use crate::runtime::wire::{
    Message, ProtoError, Reader, WireType, len_field_len, put_key, put_len_field, put_varint,
};

/// One protobuf watch event, borrowed from its frame, with the object's envelope read but
/// the object itself not yet decoded.
///
/// Port of metav1.WatchEvent (`{Type string; Object runtime.RawExtension}`) after client-go's
/// `watch.Decoder.Decode` has checked the type and unwrapped `Object.Raw`.
#[doc(alias = "WatchEvent")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchEventRef<'a> {
    /// The event type.
    pub event_type: EventType,
    /// The object's envelope: its apiVersion and kind, and `raw`, its own message.
    pub object: UnknownRef<'a>,
}

fn wrong(field: u32, got: WireType) -> ProtoError {
    ProtoError::wrong_wire_type("WatchEvent", field, got)
}

/// Reads one watch frame (without its 4-byte length).
///
/// Port of `metav1.WatchEvent.Unmarshal` plus the checks of client-go
/// `rest/watch/decoder.go`'s `Decoder.Decode`: an event type Go does not define, a missing
/// `type` or `object`, or an object that is not a `k8s\0` body is an error (the JSON path
/// refuses the same things).
pub fn decode_watch_event(frame: &[u8]) -> Result<WatchEventRef<'_>, ProtoError> {
    let mut event_type: Option<&str> = None;
    let mut raw: Option<&[u8]> = None;
    let mut r = Reader::new(frame);
    while let Some((field, wire)) = r.key()? {
        match (field, wire) {
            (1, WireType::Len) => event_type = Some(r.str()?),
            (2, WireType::Len) => {
                // runtime.RawExtension: {1: raw}. Proto merge: a later `raw` replaces.
                let mut ext = r.nested()?;
                while let Some((f, w)) = ext.key()? {
                    match (f, w) {
                        (1, WireType::Len) => raw = Some(ext.bytes()?),
                        (1, got) => {
                            return Err(ProtoError::wrong_wire_type("RawExtension", 1, got));
                        }
                        _ => ext.skip(w)?,
                    }
                }
                // An object with no `raw` still counts as present (Go: empty Raw).
                raw.get_or_insert(&[]);
            }
            (1 | 2, got) => return Err(wrong(field, got)),
            _ => r.skip(wire)?,
        }
    }
    let Some(type_str) = event_type else {
        return Err(ProtoError::Invalid("watch event has no type".into()));
    };
    let Some(event_type) = EventType::parse(type_str) else {
        return Err(ProtoError::Invalid(format!(
            "got invalid watch event type: {type_str:?}"
        )));
    };
    let Some(raw) = raw else {
        return Err(ProtoError::Invalid("watch event has no object".into()));
    };
    Ok(WatchEventRef {
        event_type,
        object: decode_envelope(raw)?,
    })
}

/// Builds one watch frame's bytes (without the 4-byte length: add it with
/// [`write_frame`](crate::runtime::framer::write_frame)) from the event type and the object's
/// apiVersion, kind and own message, as the API server does.
///
/// Port of the server's `watchEmbeddedEncoder` + `metav1.WatchEvent.Marshal`: the object
/// goes into a `k8s\0` envelope (with empty contentEncoding and contentType, as Go writes
/// them), the envelope into `RawExtension.raw`.
pub fn encode_watch_event(
    event_type: EventType,
    api_version: &str,
    kind: &str,
    raw: &[u8],
) -> Vec<u8> {
    let envelope = encode_envelope(api_version, kind, raw);
    let type_str = event_type.as_str();
    let ext_len = len_field_len(1, envelope.len());
    let mut out = Vec::with_capacity(len_field_len(1, type_str.len()) + len_field_len(2, ext_len));
    put_len_field(&mut out, 1, type_str.as_bytes());
    put_key(&mut out, 2, WireType::Len);
    put_varint(&mut out, ext_len as u64);
    put_len_field(&mut out, 1, &envelope);
    out
}

impl<'a> WatchEventRef<'a> {
    /// The `Status` of an `ERROR` event (or any event whose object is a `v1`/`Status`), the
    /// same value the JSON path's [`RawWatchEvent::Error`] holds.
    ///
    /// Port of client-go's handling of `watch.Error` events, whose object `apierrors.FromObject`
    /// turns into a StatusError. An object of another kind than `Status` is
    /// [`ProtoError::KindMismatch`]; any apiVersion is accepted, as in Go's scheme.
    pub fn status(&self) -> Result<Status, ProtoError> {
        Status::decode_unknown(&self.object)
    }

    /// The object's type and metadata, whatever its kind: built-in objects carry their
    /// ObjectMeta at field 1, which is all [`PartialObjectMetadata`]'s message reads.
    ///
    /// Port of decoding a watch event's object as metav1.PartialObjectMetadata.
    pub fn metadata(&self) -> Result<PartialObjectMetadata, ProtoError> {
        let mut m = PartialObjectMetadata::decode(self.object.raw)?;
        m.types = TypeMeta {
            api_version: self.object.api_version.to_owned(),
            kind: self.object.kind.to_owned(),
        };
        Ok(m)
    }

    /// The object of a `BOOKMARK` event as a [`Bookmark`]: its type, resourceVersion and
    /// annotations (among them [`INITIAL_EVENTS_END_ANNOTATION`](super::INITIAL_EVENTS_END_ANNOTATION)),
    /// as the JSON path reads them.
    pub fn bookmark(&self) -> Result<Bookmark, ProtoError> {
        let m = self.metadata()?;
        Ok(Bookmark {
            types: m.types,
            metadata: BookmarkMeta {
                resource_version: m
                    .metadata
                    .resource_version
                    .map(String::from)
                    .unwrap_or_default(),
                annotations: m.metadata.annotations.unwrap_or_default(),
            },
        })
    }

    /// Decodes the event as the JSON path's [`RawWatchEvent::decode`] does: the object of
    /// `ADDED`, `MODIFIED` and `DELETED` through `codec` (its envelope must name `want`, the
    /// watched type's (apiVersion, kind)), a [`Bookmark`] for `BOOKMARK`, a [`Status`] for
    /// `ERROR`. With `strip_managed_fields` the object is decoded without
    /// `metadata.managedFields`, as [`RawWatchEvent::decode`] does.
    ///
    /// Port of client-go `rest/watch/decoder.go` `Decoder.Decode` (which decodes the object
    /// with the embedded protobuf decoder).
    pub fn decode<T>(
        &self,
        codec: &ProtobufCodec<T>,
        want: (&str, &str),
        strip_managed_fields: bool,
    ) -> Result<RawWatchEvent<T>, ProtoError> {
        let object = || codec.decode_unknown(&self.object, want, strip_managed_fields);
        Ok(match self.event_type {
            EventType::Added => RawWatchEvent::Event(WatchEvent::Added(object()?)),
            EventType::Modified => RawWatchEvent::Event(WatchEvent::Modified(object()?)),
            EventType::Deleted => RawWatchEvent::Event(WatchEvent::Deleted(object()?)),
            EventType::Bookmark => RawWatchEvent::Event(WatchEvent::Bookmark(self.bookmark()?)),
            EventType::Error => RawWatchEvent::Error(self.status()?),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::meta::ObjectMeta;
    use crate::runtime::wire::put_len_field;

    fn pod_raw(name: &str) -> Vec<u8> {
        let m = PartialObjectMetadata {
            metadata: ObjectMeta {
                name: Some(name.into()),
                resource_version: Some("7".into()),
                ..ObjectMeta::default()
            },
            ..PartialObjectMetadata::default()
        };
        m.encode_to_vec()
    }

    #[test]
    fn an_encoded_event_decodes_to_its_parts() {
        let raw = pod_raw("a");
        let frame = encode_watch_event(EventType::Modified, "v1", "Pod", &raw);
        let e = decode_watch_event(&frame).unwrap();
        assert_eq!(e.event_type, EventType::Modified);
        assert_eq!((e.object.api_version, e.object.kind), ("v1", "Pod"));
        assert_eq!(e.object.raw, raw.as_slice());
        let codec = PartialObjectMetadata::protobuf_codec();
        match e.decode(&codec, ("v1", "Pod"), false).unwrap() {
            RawWatchEvent::Event(WatchEvent::Modified(m)) => {
                assert_eq!(m.metadata.name.as_deref(), Some("a"));
                assert_eq!(m.types.kind, "Pod");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn an_unknown_type_a_missing_object_and_an_unmarked_object_are_errors() {
        let frame = encode_watch_event(EventType::Added, "v1", "Pod", &[]);
        let mut bad_type = Vec::new();
        put_len_field(&mut bad_type, 1, b"NOPE");
        bad_type.extend_from_slice(&frame[len_field_len(1, 5)..]);
        assert!(matches!(
            decode_watch_event(&bad_type),
            Err(ProtoError::Invalid(_))
        ));

        let mut no_object = Vec::new();
        put_len_field(&mut no_object, 1, b"ADDED");
        assert!(matches!(
            decode_watch_event(&no_object),
            Err(ProtoError::Invalid(_))
        ));

        let mut unmarked = no_object.clone();
        let mut ext = Vec::new();
        put_len_field(&mut ext, 1, b"{\"kind\":\"Pod\"}");
        put_len_field(&mut unmarked, 2, &ext);
        assert_eq!(decode_watch_event(&unmarked), Err(ProtoError::NotMarked));
    }

    #[test]
    fn a_bookmark_reads_its_resource_version_and_the_watched_type() {
        let frame = encode_watch_event(EventType::Bookmark, "v1", "Pod", &pod_raw(""));
        let e = decode_watch_event(&frame).unwrap();
        let b = e.bookmark().unwrap();
        assert_eq!(b.metadata.resource_version, "7");
        assert_eq!(b.types.kind, "Pod");
        assert!(!b.is_initial_events_end());
    }

    #[test]
    fn an_error_event_of_the_wrong_kind_is_refused_not_misread() {
        let frame = encode_watch_event(EventType::Error, "v1", "Pod", &pod_raw("x"));
        let e = decode_watch_event(&frame).unwrap();
        assert!(matches!(e.status(), Err(ProtoError::KindMismatch { .. })));
    }
}
