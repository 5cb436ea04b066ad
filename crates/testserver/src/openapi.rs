//! OpenAPI documents, as kube-apiserver 1.32 serves them: `/openapi/v2` (port of kube-openapi's
//! `pkg/handler/handler.go`), the `/openapi/v3` index and one `/openapi/v3/<group-version>`
//! document per served group-version (port of `pkg/handler3/handler.go`).
//!
//! The documents are the ones recorded from a real kube-apiserver 1.32 (the v3 ones shared with
//! `api-codegen`, the v2 one in `crates/testserver/openapi/`), compiled in and hashed on first
//! use. A document's ETag is the upper-case hex SHA-512 of its bytes, as in kube-openapi; the
//! index links each document as `/openapi/v3/<gv>?hash=<ETag>`, and a request carrying that
//! hash gets `Cache-Control: public, immutable` with a one-year `Expires`, a stale hash a 301
//! to the current URL. `If-None-Match` with the current ETag is answered 304.
//!
//! Only the group-versions the server serves are listed (`api/v1` plus the registry's groups).
//!
//! CustomResourceDefinitions stored add their group-versions' documents (built by
//! [`crate::openapi_builder`] on each request) to the index and their definitions to v2.
//!
//! Differs from Go: documents are JSON only (a client that accepts only the protobuf forms gets
//! 406, which kubectl 1.32 tolerates: it reads v3 as JSON), and the index lists no non-resource
//! paths (`version`, `.well-known/...`).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::header::{ACCEPT, CACHE_CONTROL, ETAG, EXPIRES, IF_NONE_MATCH, LOCATION, VARY};
use http::{HeaderMap, HeaderValue, Response};
use serde_json::{Map, Value, json};

use crate::body::{self, Body};
use crate::openapi_builder;
use crate::resources::Registry;
use crate::store::StoredObject;

/// The recorded v3 documents, by group-version path.
const BUILTIN_V3: [(&str, &[u8]); 21] = [
    (
        "api/v1",
        include_bytes!("../../api-codegen/openapi/v3-api-v1.json"),
    ),
    (
        "apis/admissionregistration.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-admissionregistration.k8s.io-v1.json"),
    ),
    (
        "apis/apiextensions.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-apiextensions.k8s.io-v1.json"),
    ),
    (
        "apis/apiregistration.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-apiregistration.k8s.io-v1.json"),
    ),
    (
        "apis/apps/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-apps-v1.json"),
    ),
    (
        "apis/authentication.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-authentication.k8s.io-v1.json"),
    ),
    (
        "apis/authorization.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-authorization.k8s.io-v1.json"),
    ),
    (
        "apis/autoscaling/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-autoscaling-v1.json"),
    ),
    (
        "apis/autoscaling/v2",
        include_bytes!("../../api-codegen/openapi/v3-apis-autoscaling-v2.json"),
    ),
    (
        "apis/batch/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-batch-v1.json"),
    ),
    (
        "apis/certificates.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-certificates.k8s.io-v1.json"),
    ),
    (
        "apis/coordination.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-coordination.k8s.io-v1.json"),
    ),
    (
        "apis/discovery.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-discovery.k8s.io-v1.json"),
    ),
    (
        "apis/events.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-events.k8s.io-v1.json"),
    ),
    (
        "apis/flowcontrol.apiserver.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-flowcontrol.apiserver.k8s.io-v1.json"),
    ),
    (
        "apis/networking.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-networking.k8s.io-v1.json"),
    ),
    (
        "apis/node.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-node.k8s.io-v1.json"),
    ),
    (
        "apis/policy/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-policy-v1.json"),
    ),
    (
        "apis/rbac.authorization.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-rbac.authorization.k8s.io-v1.json"),
    ),
    (
        "apis/scheduling.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-scheduling.k8s.io-v1.json"),
    ),
    (
        "apis/storage.k8s.io/v1",
        include_bytes!("../../api-codegen/openapi/v3-apis-storage.k8s.io-v1.json"),
    ),
];

/// The recorded v2 document.
const V2: &[u8] = include_bytes!("../openapi/v2.json");

/// One document and its ETag (unquoted).
pub(crate) struct Document {
    bytes: Bytes,
    etag: String,
    /// The parsed document, for field validation; parsed on first use.
    parsed: OnceLock<Option<Value>>,
}

impl Document {
    fn new(bytes: &'static [u8]) -> Self {
        Document {
            etag: etag(bytes),
            bytes: Bytes::from_static(bytes),
            parsed: OnceLock::new(),
        }
    }

    /// The parsed document (`None` if the recorded bytes do not parse, which a test catches).
    pub(crate) fn parsed(&self) -> Option<&Value> {
        self.parsed
            .get_or_init(|| serde_json::from_slice(&self.bytes).ok())
            .as_ref()
    }
}

struct Builtins {
    v2: Document,
    v3: BTreeMap<&'static str, Document>,
}

fn builtins() -> &'static Builtins {
    static BUILTINS: OnceLock<Builtins> = OnceLock::new();
    BUILTINS.get_or_init(|| Builtins {
        v2: Document::new(V2),
        v3: BUILTIN_V3
            .iter()
            .map(|(gv, bytes)| (*gv, Document::new(bytes)))
            .collect(),
    })
}

/// The v3 document of a built-in group-version (`api/v1`, `apis/apps/v1`).
pub(crate) fn builtin_v3(gv_path: &str) -> Option<&'static Document> {
    builtins().v3.get(gv_path)
}

/// The document path of a group-version: `api/v1` for the core group, else `apis/<g>/<v>`.
pub(crate) fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The `components/schemas` of the built-in v3 document serving `group`/`version`.
pub(crate) fn builtin_schemas(group: &str, version: &str) -> Option<&'static Map<String, Value>> {
    builtin_v3(&gv_path(group, version))
        .and_then(Document::parsed)
        .and_then(|doc| doc.pointer("/components/schemas"))
        .and_then(Value::as_object)
}

/// The schema whose `x-kubernetes-group-version-kind` names this kind.
pub(crate) fn kind_schema<'a>(
    schemas: &'a Map<String, Value>,
    group: &str,
    version: &str,
    kind: &str,
) -> Option<&'a Value> {
    schemas.values().find(|s| {
        s.get("x-kubernetes-group-version-kind")
            .and_then(Value::as_array)
            .is_some_and(|gvks| {
                gvks.iter().any(|g| {
                    g.get("group").and_then(Value::as_str) == Some(group)
                        && g.get("version").and_then(Value::as_str) == Some(version)
                        && g.get("kind").and_then(Value::as_str) == Some(kind)
                })
            })
    })
}

/// Follows `$ref` and single-element `allOf` (v3's way of adding a default to a reference).
pub(crate) fn resolve<'a>(schemas: &'a Map<String, Value>, mut schema: &'a Value) -> &'a Value {
    for _ in 0..8 {
        if let Some(name) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            match schemas.get(name) {
                Some(s) => schema = s,
                None => break,
            }
        } else if let Some([only]) = schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            schema = only;
        } else {
            break;
        }
    }
    schema
}

/// Removes from `value` the members `schema` does not declare (the rules by which field
/// validation finds unknown fields: `$ref`s resolved, `x-kubernetes-preserve-unknown-fields`
/// and objects without declared fields left alone) and appends their paths (below `path`) to `out`.
pub(crate) fn drop_unknown(
    schemas: &Map<String, Value>,
    schema: &Value,
    value: &mut Value,
    path: &str,
    out: &mut Vec<String>,
) {
    drop_walk(schemas, schema, value, path, out, 0);
}

/// How field validation reads a schema node for an object's members (`schema` already
/// resolved by [`checked`]): `None` when the object declares no fields (RawExtension,
/// FieldsV1, ...) and so is not checked; else, for each member key, its schema, or `None` for
/// an unknown field.
pub(crate) fn member_schemas<'a>(
    schema: &'a Value,
) -> Option<impl Fn(&str) -> Option<&'a Value> + 'a> {
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    if properties.is_none() && additional.is_none() {
        return None;
    }
    Some(move |key: &str| match properties {
        Some(props) => props.get(key),
        None => additional,
    })
}

/// `schema` with its `$ref`s resolved, or `None` where field validation stops: past 64
/// levels (the built-ins' schemas are at most a few dozen deep) and under
/// `x-kubernetes-preserve-unknown-fields`.
pub(crate) fn checked<'a>(
    schemas: &'a Map<String, Value>,
    schema: &'a Value,
    depth: usize,
) -> Option<&'a Value> {
    let schema = resolve(schemas, schema);
    (depth <= 64 && schema.get("x-kubernetes-preserve-unknown-fields") != Some(&Value::Bool(true)))
        .then_some(schema)
}

/// The path of member `key` below `path` (`spec.containers[0].image`).
pub(crate) fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn drop_walk(
    schemas: &Map<String, Value>,
    schema: &Value,
    value: &mut Value,
    path: &str,
    out: &mut Vec<String>,
    depth: usize,
) {
    let Some(schema) = checked(schemas, schema, depth) else {
        return;
    };
    match value {
        Value::Object(members) => {
            let Some(member_schema) = member_schemas(schema) else {
                return;
            };
            members.retain(|key, v| match member_schema(key) {
                Some(s) => {
                    drop_walk(schemas, s, v, &child_path(path, key), out, depth + 1);
                    true
                }
                None => {
                    out.push(child_path(path, key));
                    false
                }
            });
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter_mut().enumerate() {
                    drop_walk(schemas, s, v, &format!("{path}[{i}]"), out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// `computeETag`: upper-case hex SHA-512.
fn etag(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA512, data);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

/// The custom group-versions' documents, built from the stored CRDs.
fn custom_documents(crds: &[Arc<StoredObject>]) -> BTreeMap<String, Value> {
    let core = builtin_v3("api/v1").and_then(Document::parsed);
    openapi_builder::v3_documents(crds.iter().map(|o| o.value()), core, |gv| {
        builtin_v3(gv).is_some()
    })
}

/// The custom group-versions' documents (serialized) and their ETags.
fn custom_v3(registry: &Registry, crds: &[Arc<StoredObject>]) -> BTreeMap<String, (Bytes, String)> {
    let served: Vec<String> = registry
        .groups()
        .into_iter()
        .flat_map(|(group, versions)| {
            versions
                .iter()
                .map(|v| gv_path(&group, v))
                .collect::<Vec<_>>()
        })
        .collect();
    custom_documents(crds)
        .into_iter()
        .filter(|(gv, _)| served.contains(gv))
        .map(|(gv, doc)| {
            let bytes = serde_json::to_vec(&doc).unwrap_or_default();
            let tag = etag(&bytes);
            (gv, (Bytes::from(bytes), tag))
        })
        .collect()
}

/// The group-version paths served, in the index's form.
fn served(registry: &Registry) -> Vec<String> {
    let mut gvs = vec!["api/v1".to_owned()];
    for (group, versions) in registry.groups() {
        gvs.extend(versions.iter().map(|v| format!("apis/{group}/{v}")));
    }
    gvs.retain(|gv| builtins().v3.contains_key(gv.as_str()));
    gvs
}

/// `GET /openapi/v3`: `{"paths": {"<gv>": {"serverRelativeURL": "/openapi/v3/<gv>?hash=..."}}}`.
pub(crate) fn v3_index(
    registry: &Registry,
    crds: &[Arc<StoredObject>],
    headers: &HeaderMap,
) -> Response<Body> {
    let mut paths: BTreeMap<String, Value> = served(registry)
        .into_iter()
        .filter_map(|gv| {
            let doc = builtin_v3(&gv)?;
            let url = format!("/openapi/v3/{gv}?hash={}", doc.etag);
            Some((gv, json!({ "serverRelativeURL": url })))
        })
        .collect();
    for (gv, (_, tag)) in custom_v3(registry, crds) {
        let url = format!("/openapi/v3/{gv}?hash={tag}");
        paths.insert(gv, json!({ "serverRelativeURL": url }));
    }
    let bytes = serde_json::to_vec(&json!({ "paths": paths })).unwrap_or_default();
    let tag = etag(&bytes);
    content(headers, Bytes::from(bytes), &tag)
}

/// `GET /openapi/v3/<gv>[?hash=...]`.
pub(crate) fn v3_document(
    registry: &Registry,
    crds: &[Arc<StoredObject>],
    gv: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Response<Body> {
    let (bytes, tag) = match builtin_v3(gv) {
        Some(doc) if served(registry).iter().any(|s| s == gv) => {
            (doc.bytes.clone(), doc.etag.clone())
        }
        _ => match custom_v3(registry, crds).remove(gv) {
            Some(custom) => custom,
            None => return empty(404),
        },
    };
    if !accepts_json(headers) {
        return with_vary(empty(406));
    }
    let hash = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, v)| k == "hash" && !v.is_empty())
            .map(|(_, v)| v.into_owned())
    });
    if let Some(hash) = &hash
        && *hash != tag
    {
        let mut resp = empty(301);
        if let Ok(v) = HeaderValue::from_str(&format!("/openapi/v3/{gv}?hash={tag}")) {
            resp.headers_mut().insert(LOCATION, v);
        }
        return resp;
    }
    let mut resp = with_vary(content(headers, bytes, &tag));
    if hash.is_some() {
        let h = resp.headers_mut();
        h.insert(CACHE_CONTROL, HeaderValue::from_static("public, immutable"));
        if let Some(v) = expires_in_a_year() {
            h.insert(EXPIRES, v);
        }
    }
    resp
}

/// `GET /openapi/v2`: the recorded document, with the CRDs' definitions merged in when there
/// are any.
pub(crate) fn v2_document(crds: &[Arc<StoredObject>], headers: &HeaderMap) -> Response<Body> {
    if !accepts_json(headers) {
        return with_vary(empty(406));
    }
    let doc = &builtins().v2;
    let custom = !custom_documents(crds).is_empty();
    match doc.parsed().filter(|_| custom) {
        Some(parsed) => {
            let merged = openapi_builder::merge_into_v2(parsed, crds.iter().map(|o| o.value()));
            let bytes = serde_json::to_vec(&merged).unwrap_or_default();
            let tag = etag(&bytes);
            with_vary(content(headers, Bytes::from(bytes), &tag))
        }
        None => with_vary(content(headers, doc.bytes.clone(), &doc.etag)),
    }
}

/// `http.ServeContent` with an ETag: 304 when `If-None-Match` names it, else 200 with `data`.
fn content(headers: &HeaderMap, data: Bytes, tag: &str) -> Response<Body> {
    let quoted = format!("\"{tag}\"");
    let matched = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == quoted)
        });
    let mut resp = if matched {
        empty(304)
    } else {
        body::response(200, body::full(data))
    };
    if let Ok(v) = HeaderValue::from_str(&quoted) {
        resp.headers_mut().insert(ETAG, v);
    }
    resp
}

fn empty(code: u16) -> Response<Body> {
    let mut resp = body::response(code, body::full(Bytes::new()));
    resp.headers_mut().remove(http::header::CONTENT_TYPE);
    resp
}

fn with_vary(mut resp: Response<Body>) -> Response<Body> {
    resp.headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept"));
    resp
}

/// Whether the first acceptable `Accept` clause (by q, then order) is one of JSON's:
/// `application/json`, `application/*`, `*/*`; no `Accept` means `*/*`. Protobuf clauses
/// are passed over, since protobuf is not offered.
fn accepts_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    if accept.trim().is_empty() {
        return true;
    }
    accept.split(',').any(|clause| {
        let mut parts = clause.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        let q_zero = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        !q_zero && matches!(media, "application/json" | "application/*" | "*/*")
    })
}

/// `Expires`: one year from now, in RFC 1123 form, as handler3 sets for hashed URLs.
fn expires_in_a_year() -> Option<HeaderValue> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let when = time::OffsetDateTime::now_utc() + time::Duration::days(365);
    HeaderValue::from_str(&when.format(&format).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recorded_document_parses_and_has_a_distinct_etag() {
        let b = builtins();
        assert!(b.v2.parsed().is_some());
        let mut tags: Vec<&str> = b.v3.values().map(|d| d.etag.as_str()).collect();
        assert!(b.v3.values().all(|d| d.parsed().is_some()));
        assert_eq!(tags[0].len(), 128);
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags.len(), BUILTIN_V3.len());
    }

    #[test]
    fn accept_negotiation_passes_over_protobuf() {
        let mut h = HeaderMap::new();
        assert!(accepts_json(&h));
        h.insert(
            ACCEPT,
            HeaderValue::from_static(
                "application/com.github.proto-openapi.spec.v3@v1.0+protobuf, application/json",
            ),
        );
        assert!(accepts_json(&h));
        h.insert(
            ACCEPT,
            HeaderValue::from_static("application/com.github.proto-openapi.spec.v2@v1.0+protobuf"),
        );
        assert!(!accepts_json(&h));
    }
}
