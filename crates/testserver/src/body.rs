//! HTTP response bodies: small JSON documents, `Status` errors, and streamed lists, in JSON or,
//! when negotiated ([`Format::Protobuf`]), in protobuf (see [`crate::protobuf`]).
//!
//! A LIST is written item by item: [`list_body`] yields the list header, then each item's
//! cached JSON ([`StoredObject::write_json`], serialized once per stored object and reused by
//! every LIST, GET and watch) copied into chunks of about 64 KiB, then the closing bracket, so a
//! list of 100,000 pods never becomes one giant string. Single stored objects go out as their
//! cached bytes through [`stored`]. In protobuf, the same shapes come from each object's cached
//! message: [`stored_as`], [`object`], [`error_as`] and [`protobuf_list_body`]; a kind the
//! scheme does not know falls back to JSON.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, SizeHint};
use serde_json::{Map, Value};

use crate::negotiate::Format;
use crate::protobuf;
use crate::status::ApiError;
use crate::store::StoredObject;

/// Error type of response bodies; a streamed body that yields one aborts the connection.
pub(crate) type BodyError = std::io::Error;

/// The response body type used everywhere.
pub(crate) type Body = UnsyncBoxBody<Bytes, BodyError>;

/// A body from bytes.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

/// A response with the API server's standard headers.
pub(crate) fn response(code: u16, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache, private"));
    if let Ok(v) = HeaderValue::from_str(&crate::defaults::new_uid()) {
        h.insert("audit-id", v);
    }
    resp
}

/// A JSON document response.
pub(crate) fn json(code: u16, value: &Value) -> Response<Body> {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    response(code, full(bytes))
}

/// A stored object response: its cached JSON, the same bytes [`json`] would write.
pub(crate) fn stored(code: u16, object: &StoredObject) -> Response<Body> {
    match object.json() {
        Ok(bytes) => response(code, full(bytes)),
        Err(_) => json(code, object),
    }
}

/// A protobuf body response.
fn protobuf_response(code: u16, bytes: Vec<u8>) -> Response<Body> {
    protobuf_stream(code, full(bytes))
}

/// What to send when an object cannot be encoded in protobuf: a 500 `Status`, itself in
/// protobuf (a `Status` always encodes).
fn encode_failure(message: String) -> Response<Body> {
    tracing::error!(%message, "cannot encode a response as protobuf");
    error_as(&ApiError::internal(message), Format::Protobuf)
}

/// A document (a `Status`, a `Scale`, a deleted object) in `format`; JSON when its kind has no
/// protobuf form. A Table format writes JSON: callers build the Table themselves.
pub(crate) fn object(code: u16, value: &Value, format: Format) -> Response<Body> {
    if format == Format::Protobuf {
        match protobuf::object_body(value) {
            Some(Ok(bytes)) => return protobuf_response(code, bytes),
            Some(Err(e)) => return encode_failure(e),
            None => {}
        }
    }
    json(code, value)
}

/// A stored object in `format`, from its cached JSON or protobuf message.
pub(crate) fn stored_as(code: u16, object: &StoredObject, format: Format) -> Response<Body> {
    if format == Format::Protobuf {
        match object.protobuf_body() {
            Some(Ok(bytes)) => return protobuf_response(code, bytes),
            Some(Err(e)) => return encode_failure(e),
            None => {}
        }
    }
    stored(code, object)
}

/// A `Status` error response in JSON, with `Retry-After` when the error carries one.
pub(crate) fn error(err: &ApiError) -> Response<Body> {
    error_as(err, Format::Json)
}

/// A `Status` error response in `format` (protobuf or JSON), with `Retry-After` when the
/// error carries one.
pub(crate) fn error_as(err: &ApiError, format: Format) -> Response<Body> {
    let mut resp = object(err.code, &err.to_status(), format.for_errors());
    if let Some(secs) = err.retry_after {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// `body`, adding the length of each data frame to `counter` as it is sent. Keeps the size
/// hint, so a body of known length still gets its `Content-Length`.
pub(crate) fn counted(body: Body, counter: Arc<AtomicU64>) -> Body {
    Counted { body, counter }.boxed_unsync()
}

/// See [`counted`].
struct Counted {
    body: Body,
    counter: Arc<AtomicU64>,
}

impl hyper::body::Body for Counted {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.counter.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

const CHUNK: usize = 64 * 1024;

/// Yields a list document in chunks: header, items, footer.
struct ListChunks {
    header: Option<Vec<u8>>,
    items: std::vec::IntoIter<Arc<StoredObject>>,
    strip_type_meta: bool,
    first: bool,
    done: bool,
}

impl Iterator for ListChunks {
    type Item = Result<Frame<Bytes>, BodyError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut buf = self
            .header
            .take()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK + 4096));
        while buf.len() < CHUNK {
            let Some(item) = self.items.next() else {
                buf.extend_from_slice(b"]}");
                self.done = true;
                break;
            };
            if !self.first {
                buf.push(b',');
            }
            self.first = false;
            if let Err(e) = item.write_json(&mut buf, self.strip_type_meta) {
                return Some(Err(std::io::Error::other(e)));
            }
        }
        Some(Ok(Frame::data(Bytes::from(buf))))
    }
}

/// A streamed `{kind}List` body.
pub(crate) fn list_body(
    kind: &str,
    api_version: &str,
    metadata: &Map<String, Value>,
    items: Vec<Arc<StoredObject>>,
    strip_type_meta: bool,
) -> Body {
    let mut header = Vec::with_capacity(CHUNK + 4096);
    let head = serde_json::json!({"kind": kind, "apiVersion": api_version, "metadata": metadata});
    // `{"apiVersion":..,"kind":..,"metadata":{..}}` minus the closing brace, then `,"items":[`.
    if serde_json::to_writer(&mut header, &head).is_ok() {
        header.pop();
    }
    header.extend_from_slice(b",\"items\":[");
    let chunks = ListChunks {
        header: Some(header),
        items: items.into_iter(),
        strip_type_meta,
        first: true,
        done: false,
    };
    StreamBody::new(futures::stream::iter(chunks)).boxed_unsync()
}

/// Yields a protobuf list body in chunks: envelope head, items, tail.
struct ProtobufListChunks {
    head: Option<Vec<u8>>,
    items: std::vec::IntoIter<Bytes>,
    tail: Option<Vec<u8>>,
}

impl Iterator for ProtobufListChunks {
    type Item = Result<Frame<Bytes>, BodyError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut buf = match self.head.take() {
            Some(head) => head,
            None if self.tail.is_none() => return None,
            None => Vec::with_capacity(CHUNK + 4096),
        };
        while buf.len() < CHUNK {
            let Some(item) = self.items.next() else {
                buf.extend(self.tail.take().unwrap_or_default());
                break;
            };
            protobuf::list_item_header(&mut buf, item.len());
            buf.extend_from_slice(&item);
        }
        Some(Ok(Frame::data(Bytes::from(buf))))
    }
}

/// A streamed protobuf `{kind}List` body from the items' cached messages; `Ok(None)` if the
/// item kind has no protobuf form (the caller answers in JSON).
pub(crate) fn protobuf_list_body(
    list_kind: &str,
    api_version: &str,
    metadata: &Map<String, Value>,
    items: &[Arc<StoredObject>],
) -> Result<Option<Body>, ApiError> {
    let mut raws = Vec::with_capacity(items.len());
    for item in items {
        match item.protobuf() {
            Some(Ok(raw)) => raws.push(raw),
            Some(Err(e)) => return Err(ApiError::internal(e)),
            None => return Ok(None),
        }
    }
    let (head, tail) = protobuf::list_frame(
        api_version,
        list_kind,
        metadata,
        raws.iter().map(Bytes::len),
    );
    let chunks = ProtobufListChunks {
        head: Some(head),
        items: raws.into_iter(),
        tail: Some(tail),
    };
    Ok(Some(
        StreamBody::new(futures::stream::iter(chunks)).boxed_unsync(),
    ))
}

/// A response with the protobuf content type around `body`.
pub(crate) fn protobuf_stream(code: u16, body: Body) -> Response<Body> {
    let mut resp = response(code, body);
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(apimachinery::runtime::protobuf::CONTENT_TYPE),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde::ser::{SerializeMap, Serializer};
    use serde_json::json;

    /// How list items of built-in kinds were serialized before the cache: without `kind` and
    /// `apiVersion`, straight from the `Value`.
    struct WithoutTypeMeta<'a>(&'a Value);

    impl Serialize for WithoutTypeMeta<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            match self.0 {
                Value::Object(map) => {
                    let mut out = serializer.serialize_map(None)?;
                    for (k, v) in map
                        .iter()
                        .filter(|(k, _)| *k != "kind" && *k != "apiVersion")
                    {
                        out.serialize_entry(k, v)?;
                    }
                    out.end()
                }
                other => other.serialize(serializer),
            }
        }
    }

    /// The list body as it was written before the cache: every item serialized from its
    /// `Value` (`serde_json::to_vec`).
    fn old_list_body(
        kind: &str,
        api_version: &str,
        metadata: &Map<String, Value>,
        items: &[Value],
        strip_type_meta: bool,
    ) -> Vec<u8> {
        let head = json!({"kind": kind, "apiVersion": api_version, "metadata": metadata});
        let mut out = serde_json::to_vec(&head).unwrap_or_default();
        out.pop();
        out.extend_from_slice(b",\"items\":[");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let bytes = if strip_type_meta {
                serde_json::to_vec(&WithoutTypeMeta(item))
            } else {
                serde_json::to_vec(item)
            };
            out.extend(bytes.unwrap_or_default());
        }
        out.extend_from_slice(b"]}");
        out
    }

    fn stored_items(values: &[Value]) -> Vec<Arc<StoredObject>> {
        values
            .iter()
            .map(|v| Arc::new(StoredObject::new(v.clone())))
            .collect()
    }

    async fn collect(body: Body) -> Vec<u8> {
        body.collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn cached_list_bodies_are_byte_for_byte_the_old_ones() {
        // Enough items for several 64 KiB chunks, with keys around the type meta.
        let values: Vec<Value> = (0..2000)
            .map(|i| {
                json!({"apiVersion": "v1", "binaryData": {"b": "AA=="}, "data": {"i": i.to_string(), "s": "\"q\" \u{263a}"},
                       "kind": "ConfigMap", "metadata": {"name": format!("cm-{i}"), "resourceVersion": (i + 7).to_string()}})
            })
            .collect();
        let mut meta = Map::new();
        meta.insert("resourceVersion".into(), json!("2007"));
        meta.insert("continue".into(), json!("token"));
        meta.insert("remainingItemCount".into(), json!(12));
        for strip in [true, false] {
            let items = stored_items(&values);
            // Twice: first filling the caches, then reading them.
            for _ in 0..2 {
                let body = list_body("ConfigMapList", "v1", &meta, items.clone(), strip);
                let want = old_list_body("ConfigMapList", "v1", &meta, &values, strip);
                assert!(collect(body).await == want, "strip_type_meta={strip}");
            }
        }
        let empty = list_body("ConfigMapList", "v1", &Map::new(), Vec::new(), true);
        assert_eq!(
            collect(empty).await,
            old_list_body("ConfigMapList", "v1", &Map::new(), &[], true)
        );
    }

    #[tokio::test]
    async fn single_objects_are_their_serde_json_bytes() {
        let v = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
        let resp = stored(200, &StoredObject::new(v.clone()));
        assert_eq!(
            collect(resp.into_body()).await,
            serde_json::to_vec(&v).unwrap_or_default()
        );
    }

    #[tokio::test]
    async fn streamed_list_is_valid_json_without_item_type_meta() {
        let items: Vec<Arc<StoredObject>> = (0..3000)
            .map(|i| Arc::new(StoredObject::new(json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": format!("p{i}")}}))))
            .collect();
        let mut meta = Map::new();
        meta.insert("resourceVersion".into(), json!("7"));
        let body = list_body("PodList", "v1", &meta, items, true);
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let v: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(v["kind"], "PodList");
        assert_eq!(v["metadata"]["resourceVersion"], "7");
        assert_eq!(v["items"].as_array().map(Vec::len), Some(3000));
        assert!(v["items"][0].get("kind").is_none());
    }

    #[tokio::test]
    async fn empty_list_has_an_empty_items_array() {
        let body = list_body("PodList", "v1", &Map::new(), Vec::new(), true);
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let v: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(v["items"], json!([]));
    }
}
