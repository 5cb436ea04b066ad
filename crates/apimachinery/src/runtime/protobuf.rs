//! Port of apimachinery `pkg/runtime/serializer/protobuf/protobuf.go`: the envelope in which
//! Kubernetes sends a protobuf object, and the per-type codec a client negotiates with.
//!
//! Wire form of one object (request or response body, or a watch event's object): the four
//! magic bytes `k8s\0`, then a `runtime.Unknown` message: field 1 `typeMeta` {1 apiVersion,
//! 2 kind}, field 2 `raw` (the object's own message), field 3 `contentEncoding`, field 4
//! `contentType`. The object's message does not carry apiVersion and kind: the envelope does.
//!
//! Data flow: [`decode_envelope`] borrows the envelope's fields from the body;
//! [`ProtobufCodec::decode_object`] checks the kind and decodes `raw` straight into the typed
//! object, filling apiVersion and kind from the envelope so the object reads the same as one
//! decoded from JSON. Encoding is the reverse ([`ProtobufCodec::encode_object`]).
//!
//! Differs from Go: Go registers every built-in type with a scheme; here a type opts in
//! through [`crate::Resource::protobuf`], which built-in types of the `api` crate implement
//! and custom resources leave at `None` (they travel as JSON, as in Go).

use crate::meta::List;
use crate::runtime::wire::{
    self, Field, Message, ProtoError, Reader, WireType, len_field_len, put_key, put_len_field,
    put_varint,
};

/// The protobuf media type. Go: `runtime.ContentTypeProtobuf`.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The protobuf watch stream media type (length-delimited frames).
pub const WATCH_CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf;stream=watch";

/// The prefix of every protobuf body. Go: `protoEncodingPrefix`.
pub const MAGIC: [u8; 4] = *b"k8s\x00";

/// A `runtime.Unknown` borrowed from a body: port of `runtime.Unknown` as
/// `protobuf.Serializer.Decode` reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnknownRef<'a> {
    /// `typeMeta.apiVersion`.
    pub api_version: &'a str,
    /// `typeMeta.kind`.
    pub kind: &'a str,
    /// The object's own message.
    pub raw: &'a [u8],
    /// `contentEncoding` (empty: none).
    pub content_encoding: &'a str,
    /// `contentType` (empty: protobuf).
    pub content_type: &'a str,
}

/// True if `body` starts with the `k8s\0` magic. Go: the `bytes.HasPrefix` check in
/// `Serializer.Decode` / `RecognizesData`.
pub fn is_protobuf(body: &[u8]) -> bool {
    body.starts_with(&MAGIC)
}

/// Reads the envelope of a protobuf body. Port of the first half of `Serializer.Decode`.
pub fn decode_envelope(body: &[u8]) -> Result<UnknownRef<'_>, ProtoError> {
    let Some(rest) = body.strip_prefix(&MAGIC) else {
        return Err(ProtoError::NotMarked);
    };
    if rest.is_empty() {
        // Go: "empty body".
        return Err(ProtoError::Invalid(
            "empty body after the k8s\\x00 prefix".into(),
        ));
    }
    decode_unknown(rest)
}

/// Reads a `runtime.Unknown` message (no magic). Port of `Unknown.Unmarshal`.
pub fn decode_unknown(bytes: &[u8]) -> Result<UnknownRef<'_>, ProtoError> {
    let mut u = UnknownRef::default();
    let mut r = Reader::new(bytes);
    while let Some((field, w)) = r.key()? {
        match (field, w) {
            (1, WireType::Len) => {
                let mut tm = r.nested()?;
                while let Some((f, w)) = tm.key()? {
                    match (f, w) {
                        (1, WireType::Len) => u.api_version = tm.str()?,
                        (2, WireType::Len) => u.kind = tm.str()?,
                        (1 | 2, got) => return Err(wrong("TypeMeta", f, got)),
                        _ => tm.skip(w)?,
                    }
                }
            }
            (2, WireType::Len) => u.raw = r.bytes()?,
            (3, WireType::Len) => u.content_encoding = r.str()?,
            (4, WireType::Len) => u.content_type = r.str()?,
            (1..=4, got) => return Err(wrong("Unknown", field, got)),
            _ => r.skip(w)?,
        }
    }
    Ok(u)
}

fn wrong(message: &'static str, field: u32, got: WireType) -> ProtoError {
    ProtoError::wrong_wire_type(message, field, got)
}

/// Writes `k8s\0` + `runtime.Unknown{typeMeta, raw}`. Port of `Serializer.Encode` (which
/// leaves contentEncoding and contentType empty, as here).
pub fn encode_envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let tm_len = len_field_len(1, api_version.len()) + len_field_len(2, kind.len());
    let mut out = Vec::with_capacity(8 + len_field_len(1, tm_len) + len_field_len(2, raw.len()));
    out.extend_from_slice(&MAGIC);
    put_key(&mut out, 1, WireType::Len);
    put_varint(&mut out, tm_len as u64);
    put_len_field(&mut out, 1, api_version.as_bytes());
    put_len_field(&mut out, 2, kind.as_bytes());
    put_len_field(&mut out, 2, raw);
    // Go writes contentEncoding and contentType even when empty.
    put_len_field(&mut out, 3, b"");
    put_len_field(&mut out, 4, b"");
    out
}

/// The protobuf form of one built-in type: how a client decodes it from an envelope (alone,
/// in a list, in a watch event) and encodes it into one.
///
/// Port of what registering a type with the protobuf serializer gives Go's scheme.
pub struct ProtobufCodec<T> {
    decode: fn(Reader<'_>) -> Result<T, ProtoError>,
    decode_list: fn(Reader<'_>) -> Result<List<T>, ProtoError>,
    encode: fn(&T) -> Vec<u8>,
    set_type_meta: fn(&mut T, &str, &str),
}

impl<T> Clone for ProtobufCodec<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for ProtobufCodec<T> {}

impl<T> std::fmt::Debug for ProtobufCodec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProtobufCodec")
    }
}

impl<T: Message + Field + 'static> ProtobufCodec<T> {
    /// The codec of a message type; `set_type_meta` stores the envelope's apiVersion and kind
    /// on a decoded object (JSON objects carry them in the body).
    pub fn new(set_type_meta: fn(&mut T, &str, &str)) -> Self {
        ProtobufCodec {
            decode: T::decode_from,
            decode_list: List::<T>::decode_from,
            encode: T::encode_to_vec,
            set_type_meta,
        }
    }
}

impl<T> ProtobufCodec<T> {
    /// Decodes one object body (`k8s\0` + Unknown). `want` is the (apiVersion, kind) the
    /// caller expects; an envelope naming another type is an error, not a silent mis-decode.
    pub fn decode_object(&self, body: &[u8], want: (&str, &str)) -> Result<T, ProtoError> {
        let u = decode_envelope(body)?;
        self.decode_unknown(&u, want, false)
    }

    /// Decodes an object from an envelope already read (a watch event's object);
    /// `strip_managed_fields` skips `metadata.managedFields` while decoding.
    pub fn decode_unknown(
        &self,
        u: &UnknownRef<'_>,
        want: (&str, &str),
        strip_managed_fields: bool,
    ) -> Result<T, ProtoError> {
        check_kind(u, want.0, want.1)?;
        let mut obj =
            (self.decode)(Reader::new(u.raw).skipping_managed_fields(strip_managed_fields))?;
        (self.set_type_meta)(&mut obj, u.api_version, u.kind);
        Ok(obj)
    }

    /// Decodes an object's own message (no envelope, no apiVersion or kind set): an item
    /// of a list. `strip_managed_fields` skips `metadata.managedFields` while decoding.
    pub fn decode_raw(&self, raw: &[u8], strip_managed_fields: bool) -> Result<T, ProtoError> {
        (self.decode)(Reader::new(raw).skipping_managed_fields(strip_managed_fields))
    }

    /// Decodes a list body (`XxxList` in the envelope). List items carry no apiVersion or
    /// kind, as in JSON lists.
    pub fn decode_list(
        &self,
        body: &[u8],
        want: (&str, &str),
        strip_managed_fields: bool,
    ) -> Result<List<T>, ProtoError> {
        let u = decode_envelope(body)?;
        check_kind(&u, want.0, want.1)?;
        let mut list =
            (self.decode_list)(Reader::new(u.raw).skipping_managed_fields(strip_managed_fields))?;
        u.api_version.clone_into(&mut list.types.api_version);
        u.kind.clone_into(&mut list.types.kind);
        Ok(list)
    }

    /// Encodes an object into an envelope (a request body).
    pub fn encode_object(&self, obj: &T, api_version: &str, kind: &str) -> Vec<u8> {
        encode_envelope(api_version, kind, &(self.encode)(obj))
    }

    /// The object's own message, without an envelope.
    pub fn encode_raw(&self, obj: &T) -> Vec<u8> {
        (self.encode)(obj)
    }
}

/// Checks an envelope: no content encoding, protobuf content, and the type expected (an
/// empty apiVersion or kind in the envelope is accepted). Go: the checks of
/// `Serializer.Decode` on the `runtime.Unknown` it reads.
pub fn check_kind(u: &UnknownRef<'_>, api_version: &str, kind: &str) -> Result<(), ProtoError> {
    if !u.content_encoding.is_empty() {
        return Err(ProtoError::Invalid(format!(
            "unsupported content encoding {:?} in envelope",
            u.content_encoding
        )));
    }
    if !u.content_type.is_empty() && u.content_type != CONTENT_TYPE {
        return Err(ProtoError::Invalid(format!(
            "envelope holds content type {:?}, not protobuf",
            u.content_type
        )));
    }
    // An empty kind in the envelope is accepted (Go decodes into the type it was given).
    if (!u.kind.is_empty() && u.kind != kind)
        || (!u.api_version.is_empty() && u.api_version != api_version)
    {
        return Err(ProtoError::KindMismatch {
            want_api_version: api_version.to_owned(),
            want_kind: kind.to_owned(),
            got_api_version: u.api_version.to_owned(),
            got_kind: u.kind.to_owned(),
        });
    }
    Ok(())
}

/// A `List` message: `{1: ListMeta, 2: repeated items}`, the shape of every `XxxList`.
impl<T: Message + Field> Message for List<T> {
    const NAME: &'static str = "List";

    fn merge_field(
        &mut self,
        field: u32,
        wire: WireType,
        r: &mut Reader<'_>,
    ) -> Result<(), ProtoError> {
        match field {
            1 => wire::merge(&mut self.metadata, Self::NAME, field, wire, r),
            2 => {
                let mut item = T::default();
                wire::merge(&mut item, Self::NAME, field, wire, r)?;
                self.items.push(item);
                Ok(())
            }
            _ => r.skip(wire),
        }
    }

    fn finish(&mut self) {
        self.items.shrink_to_fit();
    }

    fn encoded_len(&self) -> usize {
        self.metadata.field_len(1) + self.items.iter().map(|i| i.field_len(2)).sum::<usize>()
    }

    fn encode_raw(&self, out: &mut Vec<u8>) {
        self.metadata.encode_field(1, out);
        for i in &self.items {
            i.encode_field(2, out);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_round_trips_and_an_empty_or_unmarked_body_is_refused() {
        let body = encode_envelope("apps/v1", "Deployment", b"\x0a\x00");
        let u = decode_envelope(&body).unwrap();
        assert_eq!(
            (u.api_version, u.kind, u.raw),
            ("apps/v1", "Deployment", &b"\x0a\x00"[..])
        );
        assert!(check_kind(&u, "apps/v1", "Deployment").is_ok());
        assert!(matches!(
            check_kind(&u, "v1", "Pod"),
            Err(ProtoError::KindMismatch { .. })
        ));
        // Go: "empty body" for the prefix alone, and a refusal without the prefix.
        assert!(matches!(
            decode_envelope(&MAGIC),
            Err(ProtoError::Invalid(_))
        ));
        assert_eq!(decode_envelope(b"{}"), Err(ProtoError::NotMarked));
    }
}
