//! HTTP response bodies: small JSON documents, `Status` errors, and streamed lists.
//!
//! A LIST is written item by item: [`list_body`] yields the list header, then each item
//! serialized on its own into chunks of about 64 KiB, then the closing bracket, so a list of
//! 100,000 pods never becomes one giant string.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::status::ApiError;

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

/// A `Status` error response, with `Retry-After` when the error carries one.
pub(crate) fn error(err: &ApiError) -> Response<Body> {
    let mut resp = json(err.code, &err.to_status());
    if let Some(secs) = err.retry_after {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// Serializes an object without `kind` and `apiVersion`, as list items of built-in kinds are.
pub(crate) struct WithoutTypeMeta<'a>(pub &'a Value);

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

const CHUNK: usize = 64 * 1024;

/// Yields a list document in chunks: header, items, footer.
struct ListChunks {
    header: Option<Vec<u8>>,
    items: std::vec::IntoIter<Arc<Value>>,
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
            let written = if self.strip_type_meta {
                serde_json::to_writer(&mut buf, &WithoutTypeMeta(&item))
            } else {
                serde_json::to_writer(&mut buf, &*item)
            };
            if let Err(e) = written {
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
    items: Vec<Arc<Value>>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn streamed_list_is_valid_json_without_item_type_meta() {
        let items: Vec<Arc<Value>> = (0..3000)
            .map(|i| Arc::new(json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": format!("p{i}")}})))
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
