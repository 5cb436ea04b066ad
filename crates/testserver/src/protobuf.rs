//! Protobuf bodies: objects, lists, `Status` errors and watch frames written as kube-apiserver
//! writes them, and protobuf request bodies read back into JSON.
//!
//! Port of the protobuf half of apimachinery `runtime/serializer/protobuf/protobuf.go` (the
//! `k8s\0` + `runtime.Unknown` envelope) and of `metav1.WatchEvent` framing in
//! `runtime/serializer/streaming`, for a server that keeps its objects as JSON.
//!
//! Data flow: objects stay JSON in the store. To answer in protobuf, an object's JSON goes
//! through `api::scheme::json_to_protobuf` (its apiVersion and kind pick the message type),
//! once per stored object (the store's `StoredObject::protobuf` caches the result beside the JSON), and
//! is wrapped in the envelope. A list is assembled here from the cached item messages: every
//! `XxxList` message is field 1 `ListMeta`, then field 2 once per item, so a list costs no
//! second encoding of its items. `Status` (meta/v1, the same message for every group) is
//! written here by hand. A watch event is a 4-byte big-endian length, then a
//! `metav1.WatchEvent` {1: type, 2: `RawExtension` {1: raw = the object's envelope}}.
//!
//! Request bodies go the other way ([`decode_body`]): the envelope is read, its `raw` is turned
//! into JSON by `api::scheme::protobuf_to_json`, and the JSON path takes over.

use apimachinery::runtime::framer::write_frame;
use apimachinery::runtime::protobuf::{MAGIC, decode_envelope, encode_envelope};
use apimachinery::runtime::wire::{WireType, len_field_len, put_key, put_len_field, put_varint};
use serde_json::{Map, Value};

use crate::status::ApiError;
use api::scheme;

/// True if `kind` of `api_version` has a protobuf form: a built-in kind the scheme knows.
pub(crate) fn has_protobuf(api_version: &str, kind: &str) -> bool {
    scheme::protobuf_to_json(api_version, kind, &[]).is_some()
}

/// The `apiVersion` and `kind` an object names.
fn type_meta(value: &Value) -> (&str, &str) {
    let field = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or_default();
    (field("apiVersion"), field("kind"))
}

/// An object's own message (no envelope) from its JSON, or `None` if the scheme does not know
/// its kind. `json` is `value` serialized (callers that hold cached bytes pass them).
pub(crate) fn object_raw(value: &Value, json: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let (api_version, kind) = type_meta(value);
    if (api_version, kind) == ("v1", "Status") {
        return Some(Ok(status_raw(value)));
    }
    scheme::json_to_protobuf(api_version, kind, json)
        .map(|r| r.map_err(|e| format!("cannot encode {api_version}/{kind} as protobuf: {e}")))
}

/// A whole protobuf body for `value`: `None` if its kind has no protobuf form.
pub(crate) fn object_body(value: &Value) -> Option<Result<Vec<u8>, String>> {
    let json = match serde_json::to_vec(value) {
        Ok(j) => j,
        Err(e) => return Some(Err(e.to_string())),
    };
    let (api_version, kind) = type_meta(value);
    object_raw(value, &json).map(|r| r.map(|raw| encode_envelope(api_version, kind, &raw)))
}

/// A whole protobuf body for `value`, whose message (no envelope) is `raw`.
pub(crate) fn envelope_of(value: &Value, raw: &[u8]) -> Vec<u8> {
    let (api_version, kind) = type_meta(value);
    encode_envelope(api_version, kind, raw)
}

/// `Status` as gogo-protobuf writes it: every scalar field, even when empty; `details` only
/// when set. Field numbers from meta/v1 `generated.proto`.
fn status_raw(status: &Value) -> Vec<u8> {
    let s = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut out = Vec::with_capacity(128);
    let empty = Map::new();
    let meta = status
        .get("metadata")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    put_len_field(&mut out, 1, &list_meta(meta));
    put_len_field(&mut out, 2, s(status, "status").as_bytes());
    put_len_field(&mut out, 3, s(status, "message").as_bytes());
    put_len_field(&mut out, 4, s(status, "reason").as_bytes());
    if let Some(details) = status.get("details").filter(|d| d.is_object()) {
        let mut d = Vec::new();
        put_len_field(&mut d, 1, s(details, "name").as_bytes());
        put_len_field(&mut d, 2, s(details, "group").as_bytes());
        put_len_field(&mut d, 3, s(details, "kind").as_bytes());
        for cause in details
            .get("causes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut c = Vec::new();
            put_len_field(&mut c, 1, s(cause, "reason").as_bytes());
            put_len_field(&mut c, 2, s(cause, "message").as_bytes());
            put_len_field(&mut c, 3, s(cause, "field").as_bytes());
            put_len_field(&mut d, 4, &c);
        }
        put_int(&mut d, 5, details.get("retryAfterSeconds"));
        put_len_field(&mut d, 6, s(details, "uid").as_bytes());
        put_len_field(&mut out, 5, &d);
    }
    put_int(&mut out, 6, status.get("code"));
    out
}

/// A varint field from a JSON integer (0 when absent), as gogo writes int32/int64 fields.
fn put_int(out: &mut Vec<u8>, field: u32, value: Option<&Value>) {
    let n = value.and_then(Value::as_i64).unwrap_or(0);
    put_key(out, field, WireType::Varint);
    // Negative integers are sign-extended to ten bytes, as in Go.
    put_varint(out, n as u64);
}

/// `ListMeta`: selfLink, resourceVersion and continue always; remainingItemCount when set.
fn list_meta(meta: &Map<String, Value>) -> Vec<u8> {
    let s = |k: &str| meta.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut out = Vec::new();
    put_len_field(&mut out, 1, s("selfLink").as_bytes());
    put_len_field(&mut out, 2, s("resourceVersion").as_bytes());
    put_len_field(&mut out, 3, s("continue").as_bytes());
    if let Some(n) = meta.get("remainingItemCount").filter(|n| !n.is_null()) {
        put_int(&mut out, 4, Some(n));
    }
    out
}

/// The bytes of a protobuf list body around its items: everything before the first item, and
/// everything after the last. In between go, per item, [`list_item_header`] and the item's
/// message. `item_lens` are the items' message lengths (the envelope carries the list's length
/// before it).
pub(crate) fn list_frame(
    api_version: &str,
    list_kind: &str,
    meta: &Map<String, Value>,
    item_lens: impl Iterator<Item = usize>,
) -> (Vec<u8>, Vec<u8>) {
    let meta = list_meta(meta);
    let list_len =
        len_field_len(1, meta.len()) + item_lens.map(|n| len_field_len(2, n)).sum::<usize>();
    let tm_len = len_field_len(1, api_version.len()) + len_field_len(2, list_kind.len());
    let mut head = Vec::with_capacity(32 + tm_len + meta.len());
    head.extend_from_slice(&MAGIC);
    put_key(&mut head, 1, WireType::Len);
    put_varint(&mut head, tm_len as u64);
    put_len_field(&mut head, 1, api_version.as_bytes());
    put_len_field(&mut head, 2, list_kind.as_bytes());
    put_key(&mut head, 2, WireType::Len);
    put_varint(&mut head, list_len as u64);
    put_len_field(&mut head, 1, &meta);
    // contentEncoding and contentType, empty, as `encode_envelope` writes them.
    let mut tail = Vec::with_capacity(4);
    put_len_field(&mut tail, 3, b"");
    put_len_field(&mut tail, 4, b"");
    (head, tail)
}

/// Appends the key and length that precede one list item's message.
pub(crate) fn list_item_header(out: &mut Vec<u8>, len: usize) {
    put_key(out, 2, WireType::Len);
    put_varint(out, len as u64);
}

/// Appends one protobuf watch frame: the length, then `WatchEvent{type, object: {raw:
/// envelope}}`.
pub(crate) fn write_watch_event(out: &mut Vec<u8>, event_type: &str, envelope: &[u8]) {
    let raw_ext_len = len_field_len(1, envelope.len());
    let mut event =
        Vec::with_capacity(len_field_len(1, event_type.len()) + len_field_len(2, raw_ext_len));
    put_len_field(&mut event, 1, event_type.as_bytes());
    put_key(&mut event, 2, WireType::Len);
    put_varint(&mut event, raw_ext_len as u64);
    put_len_field(&mut event, 1, envelope);
    write_frame(out, &event);
}

/// Decodes a protobuf create/update body into the JSON object it stands for, with the
/// envelope's apiVersion and kind. Errors are 400 BadRequest, as Go's decoder failures are.
/// Reads a protobuf `DeleteOptions` body (any group version's, as kube-apiserver accepts
/// them) as the JSON object the delete path takes.
pub(crate) fn decode_delete_options(body: &[u8]) -> Result<Value, ApiError> {
    let bad = |what: String| {
        ApiError::bad_request(format!(
            "the request body could not be decoded as protobuf: {what}"
        ))
    };
    let u = decode_envelope(body).map_err(|e| bad(e.to_string()))?;
    if u.kind != "DeleteOptions" {
        return Err(bad(format!("expected DeleteOptions, got {:?}", u.kind)));
    }
    let opts = <apimachinery::DeleteOptions as apimachinery::runtime::wire::Message>::decode(u.raw)
        .map_err(|e| bad(e.to_string()))?;
    serde_json::to_value(&opts).map_err(|e| bad(e.to_string()))
}

pub(crate) fn decode_body(body: &[u8]) -> Result<Value, ApiError> {
    let bad = |what: String| {
        ApiError::bad_request(format!(
            "the request body could not be decoded as protobuf: {what}"
        ))
    };
    let u = decode_envelope(body).map_err(|e| bad(e.to_string()))?;
    if !u.content_encoding.is_empty()
        || !(u.content_type.is_empty()
            || u.content_type == apimachinery::runtime::protobuf::CONTENT_TYPE)
    {
        return Err(bad(format!(
            "unsupported envelope (contentEncoding {:?}, contentType {:?})",
            u.content_encoding, u.content_type
        )));
    }
    let json = scheme::protobuf_to_json(u.api_version, u.kind, u.raw)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "no kind {:?} is registered for version {:?}",
                u.kind, u.api_version
            ))
        })?
        .map_err(|e| bad(format!("{} {}: {e}", u.api_version, u.kind)))?;
    let mut value: Value = serde_json::from_slice(&json)
        .map_err(|e| bad(format!("decoded object is not JSON: {e}")))?;
    let Some(map) = value.as_object_mut() else {
        return Err(bad(format!(
            "{} {} did not decode to an object",
            u.api_version, u.kind
        )));
    };
    map.entry("apiVersion")
        .or_insert_with(|| Value::String(u.api_version.to_owned()));
    map.entry("kind")
        .or_insert_with(|| Value::String(u.kind.to_owned()));
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn not_found_status_is_byte_for_byte_the_recorded_one() {
        let recorded: &[u8] = include_bytes!(
            "../../api/tests/fixtures/kube-apiserver-1.32-protobuf/error-not-found.pb"
        );
        let status = crate::status::ApiError::not_found("", "pods", "nope").to_status();
        assert_eq!(
            object_body(&status).and_then(Result::ok).as_deref(),
            Some(recorded)
        );
    }

    #[test]
    fn list_frame_and_items_make_one_envelope() {
        let mut meta = Map::new();
        meta.insert("resourceVersion".into(), json!("9"));
        meta.insert("remainingItemCount".into(), json!(3));
        let items: [&[u8]; 2] = [b"\x0a\x00", b"\x0a\x02\x0a\x00"];
        let (head, tail) = list_frame("v1", "PodList", &meta, items.iter().map(|i| i.len()));
        let mut body = head;
        for item in items {
            list_item_header(&mut body, item.len());
            body.extend_from_slice(item);
        }
        body.extend_from_slice(&tail);
        let u = decode_envelope(&body);
        assert!(u.is_ok(), "{u:?}");
        let u = u.unwrap_or_default();
        assert_eq!((u.api_version, u.kind), ("v1", "PodList"));
        let mut want = Vec::new();
        put_len_field(&mut want, 1, &list_meta(&meta));
        for item in items {
            put_len_field(&mut want, 2, item);
        }
        assert_eq!(u.raw, &want[..]);
    }

    #[test]
    fn watch_events_are_length_prefixed_watch_event_messages() {
        let mut out = Vec::new();
        write_watch_event(&mut out, "ADDED", b"k8s\x00xyz");
        assert_eq!(&out[..4], &(out.len() as u32 - 4).to_be_bytes());
        assert_eq!(&out[4..], b"\x0a\x05ADDED\x12\x09\x0a\x07k8s\x00xyz");
    }

    #[test]
    fn bodies_without_the_magic_are_bad_requests() {
        let err = decode_body(b"{\"kind\":\"Pod\"}").err();
        assert_eq!(err.as_ref().map(|e| e.code), Some(400));
        assert!(err.is_some_and(|e| e.message.contains("could not be decoded as protobuf")),);
    }
}
