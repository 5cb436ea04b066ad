//! Port of the field validation of apiserver `pkg/endpoints/handlers` (`create.go`,
//! `update.go`, `patch.go`, `rest.go`'s `addStrictDecodingWarnings`) with the strict decoding
//! of `sigs.k8s.io/json`: unknown and duplicate fields in a create, update or patch body,
//! checked against the kind's schema in the recorded OpenAPI v3 documents
//! ([`crate::openapi`]).
//!
//! The `fieldValidation` parameter decides what happens to what is found ([`Directive`]):
//! `Strict` answers 400 BadRequest, `Deployment in version "v1" cannot be handled as a
//! Deployment: strict decoding error: unknown field "spec.replicass", duplicate field "x"`;
//! `Warn` (also the default, as in kube-apiserver 1.32) succeeds with one
//! `Warning: 299 - "unknown field \"spec.foo\""` header per field; `Ignore` says nothing.
//! Field paths are written as `sigs.k8s.io/json` writes them
//! (`spec.template.spec.containers[0].imagee`, map keys included: `data.k`), in the order the
//! body holds them.
//!
//! kubectl 1.32 validates this way: it finds in `/openapi/v3` that the kind's PATCH accepts
//! `fieldValidation`, skips client-side validation and sends `fieldValidation=Strict`
//! (`--validate=warn` sends `Warn`) and prints the warnings it gets.
//!
//! Unknown fields are also dropped, as decoding does: a built-in kind's unknown fields are
//! removed from the body before it is stored ([`decode`], under every directive, as decoding
//! into the Go type does), and a custom resource is pruned by its CRD's schema
//! ([`crd_schema::coerce`]), which also names what it dropped: `strict decoding error:
//! unknown field "spec.foo"` under `Strict`, a warning each under `Warn`. A merge, JSON or
//! strategic merge patch is checked on the object it produces, as Go's patchers do
//! ([`patched`]): the patch body's duplicate fields first, then the patched object's unknown
//! fields; under `Strict` the answer is Go's 422 `"" is invalid: patch: Invalid value:
//! "<patched object>": strict decoding error: ...` (for a strategic merge patch the value is
//! the patch, printed as Go prints a map).
//!
//! Differs from Go: an apply configuration of a built-in kind is checked as a body, like a
//! create; the unknown fields of a custom resource come in Go's order (metadata, then the
//! pruned paths sorted) but the metadata's own in key order, not body order; a patched
//! object's unknown fields come in key order (Go's patched JSON is also key-sorted, except
//! where it keeps struct order); a JSON patch's operations are checked for duplicate keys
//! only; protobuf bodies are not checked (they cannot carry unknown fields).

use std::collections::HashSet;

use http::HeaderValue;
use http::header::WARNING;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::body::Body;
use crate::crd_schema::{self, CrSchema};
use crate::openapi::{self, kind_schema};
use crate::patch::PatchType;
use crate::resources::ResourceInfo;
use crate::status::ApiError;

/// The `fieldValidation` query parameter (`metav1.FieldValidation*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Directive {
    /// Drop unknown and duplicate fields silently.
    Ignore,
    /// Accept the request, with a warning per field: kube-apiserver's default.
    #[default]
    Warn,
    /// Reject the request.
    Strict,
}

impl Directive {
    /// The directive a request's query asks for; absent or unrecognised means `Warn`.
    pub(crate) fn from_query(query: Option<&str>) -> Self {
        form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .find(|(k, _)| k == "fieldValidation")
            .map_or(Directive::Warn, |(_, v)| match v.as_ref() {
                "Ignore" => Directive::Ignore,
                "Strict" => Directive::Strict,
                _ => Directive::Warn,
            })
    }
}

/// One strict-decoding finding: `unknown field "a.b"` or `duplicate field "a.b"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finding(String);

/// Checks a JSON body (`raw`) of a create, update or non-JSON-patch patch of `res` under
/// `directive`; returns the warnings to send.
///
/// # Errors
///
/// Under `Strict`, a 400 naming every unknown and duplicate field.
pub(crate) fn check(
    res: &ResourceInfo,
    directive: Directive,
    raw: &[u8],
) -> Result<Vec<String>, ApiError> {
    if directive == Directive::Ignore {
        return Ok(Vec::new());
    }
    let found = findings(res, raw).into_iter().map(|f| f.0).collect();
    verdict(res, directive, found)
}

/// Port of the decoding step of the create and update handlers (`decoder.Decode` with a
/// strict serializer, then `addStrictDecodingWarnings` or `transformDecodeError`): checks the
/// JSON body `raw` (`None` for protobuf) of `res` under `directive`, and removes from `value`
/// what decoding would drop: a built-in kind's unknown fields; for a custom resource with a
/// schema (`cr`), what [`crd_schema::coerce`] prunes. Returns the warnings to send.
///
/// # Errors
///
/// Under `Strict`, a 400 naming every unknown and duplicate field.
pub(crate) fn decode(
    res: &ResourceInfo,
    cr: Option<&CrSchema>,
    directive: Directive,
    raw: Option<&[u8]>,
    value: &mut Value,
) -> Result<Vec<String>, ApiError> {
    let found: Vec<String> = if res.custom {
        match cr {
            Some(cr) => {
                let mut found = raw.map(duplicates).unwrap_or_default();
                found.extend(unknown_texts(crd_schema::coerce(value, cr)));
                found
            }
            None => Vec::new(),
        }
    } else {
        let found = match (directive, raw) {
            (Directive::Ignore, _) | (_, None) => Vec::new(),
            (_, Some(raw)) => findings(res, raw).into_iter().map(|f| f.0).collect(),
        };
        let _dropped = drop_builtin_unknown(res, value);
        found
    };
    verdict(res, directive, found)
}

/// What `directive` makes of the strict-decoding `found`: a 400 under `Strict`, warnings
/// under `Warn`, nothing under `Ignore`.
fn verdict(
    res: &ResourceInfo,
    directive: Directive,
    found: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    match directive {
        _ if found.is_empty() => Ok(Vec::new()),
        Directive::Ignore => Ok(Vec::new()),
        Directive::Warn => Ok(found),
        Directive::Strict => Err(ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
            found.join(", "),
            kind = res.kind,
            version = res.version,
        ))),
    }
}

fn unknown_texts(paths: Vec<String>) -> impl Iterator<Item = String> {
    paths.into_iter().map(|p| format!("unknown field \"{p}\""))
}

/// Port of the decoding step of `jsonPatcher.applyPatchToCurrentObject` and of
/// `applyPatchToObject` (the strategic merge patcher): decodes the `patched` object of `res`
/// as the codec does, with `body_found` the strict errors of the patch body itself (its
/// duplicate fields; see [`patch_body_findings`]). A custom resource is pruned by its schema
/// ([`crd_schema::coerce`]); a built-in kind loses the fields its schema does not declare.
/// What was found becomes warnings under `Warn`. An apply configuration of a built-in kind
/// was checked as a body by [`check`] and only loses its unknown fields here.
///
/// # Errors
///
/// Under `Strict`, Go's 422 about the field `patch`, whose value is the patched object before
/// decoding (merge and JSON patches) or the patch itself as Go prints a map (`%+v`, strategic
/// merge patches: `strategic_patch`).
pub(crate) fn patched(
    res: &ResourceInfo,
    cr: Option<&CrSchema>,
    directive: Directive,
    body_found: Vec<String>,
    strategic_patch: Option<&Value>,
    patched: &mut Value,
) -> Result<Vec<String>, ApiError> {
    let before = (directive == Directive::Strict).then(|| match strategic_patch {
        Some(patch) => crate::strategic_merge::go_value(patch),
        None => patched.to_string(),
    });
    let mut found = body_found;
    if res.custom {
        if let Some(cr) = cr {
            found.extend(unknown_texts(crd_schema::coerce(patched, cr)));
        }
    } else {
        found.extend(unknown_texts(drop_builtin_unknown(res, patched)));
    }
    match (directive, before) {
        (_, _) if found.is_empty() => Ok(Vec::new()),
        (Directive::Strict, Some(before)) => {
            let quoted = serde_json::to_string(&before).unwrap_or_default();
            let message = format!(
                "Invalid value: {quoted}: strict decoding error: {}",
                found.join(", ")
            );
            let mut err = ApiError::new(
                422,
                "Invalid",
                format!(" \"\" is invalid: patch: {message}"),
            );
            err.details = Some(serde_json::json!({"causes": [{
                "reason": "FieldValueInvalid", "message": message, "field": "patch"}]}));
            Err(err)
        }
        (Directive::Warn, _) => Ok(found),
        _ => Ok(Vec::new()),
    }
}

/// The strict errors of a patch body of type `kind` under `directive`, as `applyJSPatch` and
/// `strategicPatchObject` collect them before patching: its duplicate fields, prefixed
/// `json patch ` for a JSON patch; none under `Ignore`.
pub(crate) fn patch_body_findings(
    directive: Directive,
    kind: PatchType,
    raw: &[u8],
) -> Vec<String> {
    if directive == Directive::Ignore {
        return Vec::new();
    }
    let found = duplicates(raw);
    match kind {
        PatchType::Json => found
            .into_iter()
            .map(|f| format!("json patch {f}"))
            .collect(),
        _ => found,
    }
}

/// The duplicate fields of a JSON body (`duplicate field "a.b"`), as the strict JSON decoder
/// of an unstructured object reports them; none if it does not parse.
pub(crate) fn duplicates(raw: &[u8]) -> Vec<String> {
    let Ok(node) = serde_json::from_slice::<Node>(raw) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk_duplicates(&node, "", &mut out);
    out
}

fn walk_duplicates(node: &Node, path: &str, out: &mut Vec<String>) {
    match node {
        Node::Object(members) => {
            let mut seen = HashSet::new();
            for (key, v) in members {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if !seen.insert(key.as_str()) {
                    out.push(format!("duplicate field \"{child}\""));
                }
                walk_duplicates(v, &child, out);
            }
        }
        Node::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk_duplicates(v, &format!("{path}[{i}]"), out);
            }
        }
        Node::Scalar => {}
    }
}

/// Removes from `value` (an object of built-in kind `res`) the fields its schema does not
/// declare, as decoding into the Go type does; returns their paths.
fn drop_builtin_unknown(res: &ResourceInfo, value: &mut Value) -> Vec<String> {
    let mut dropped = Vec::new();
    if let Some(schemas) = openapi::builtin_schemas(&res.group, &res.version)
        && let Some(schema) = kind_schema(schemas, &res.group, &res.version, &res.kind)
    {
        openapi::drop_unknown(schemas, schema, value, "", &mut dropped);
    }
    dropped
}

/// Adds one `Warning: 299 - "<text>"` header per warning (`warning.AddWarning` as the
/// apiserver's recorder writes it: `net.NewWarningHeader`), identical texts once.
pub(crate) fn with_warnings(
    mut resp: http::Response<Body>,
    warnings: &[String],
) -> http::Response<Body> {
    let mut seen = HashSet::new();
    for w in warnings.iter().filter(|w| seen.insert(w.as_str())) {
        let quoted = w.replace('\\', "\\\\").replace('"', "\\\"");
        if let Ok(v) = HeaderValue::from_str(&format!("299 - \"{quoted}\"")) {
            resp.headers_mut().append(WARNING, v);
        }
    }
    resp
}

/// The unknown and duplicate fields of `raw`, in body order.
fn findings(res: &ResourceInfo, raw: &[u8]) -> Vec<Finding> {
    let Some(schemas) = openapi::builtin_schemas(&res.group, &res.version) else {
        return Vec::new();
    };
    let Some(schema) = kind_schema(schemas, &res.group, &res.version, &res.kind) else {
        return Vec::new();
    };
    let Ok(node) = serde_json::from_slice::<Node>(raw) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(schemas, schema, &node, "", &mut out, 0);
    out
}

/// A JSON document as written: object members in order, duplicates kept.
enum Node {
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Scalar,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Node::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Node>()? {
                    members.push((k, v));
                }
                Ok(Node::Object(members))
            }
        }
        d.deserialize_any(NodeVisitor)
    }
}

/// Collects, in body order, the fields of `node` that `schema` does not declare and the
/// members an object repeats.
fn walk(
    schemas: &Map<String, Value>,
    schema: &Value,
    node: &Node,
    path: &str,
    out: &mut Vec<Finding>,
    depth: usize,
) {
    let Some(schema) = openapi::checked(schemas, schema, depth) else {
        return;
    };
    match node {
        Node::Object(members) => {
            let Some(member_schema) = openapi::member_schemas(schema) else {
                return;
            };
            let mut seen = HashSet::new();
            for (key, v) in members {
                if key.starts_with('$') {
                    continue;
                }
                let child = openapi::child_path(path, key);
                if !seen.insert(key.as_str()) {
                    out.push(Finding(format!("duplicate field \"{child}\"")));
                }
                match member_schema(key) {
                    Some(s) => walk(schemas, s, v, &child, out, depth + 1),
                    None => out.push(Finding(format!("unknown field \"{child}\""))),
                }
            }
        }
        Node::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    walk(schemas, s, v, &format!("{path}[{i}]"), out, depth + 1);
                }
            }
        }
        Node::Scalar => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Registry;
    use serde_json::json;

    fn deployments() -> std::sync::Arc<ResourceInfo> {
        let Some(res) = Registry::with_builtins().lookup("apps", "v1", "deployments") else {
            panic!("deployments are built in");
        };
        res
    }

    #[test]
    fn unknown_fields_are_named_by_their_path() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"a": "b"}, "annotations": {"x": "y"}},
            "spec": {"replicass": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx", "imagee": "x",
                        "resources": {"limits": {"cpu": "1"}}}]}}}});
        let Err(err) = check(&deployments(), Directive::Strict, d.to_string().as_bytes()) else {
            panic!("unknown fields were accepted");
        };
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: \
             unknown field \"spec.replicass\", unknown field \"spec.template.spec.containers[0].imagee\""
        );
    }

    #[test]
    fn a_valid_object_and_directives_pass() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 2, "$setElementOrder/x": [], "template": {"spec": {
                "containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}}}});
        assert_eq!(
            check(&deployments(), Directive::Strict, d.to_string().as_bytes()),
            Ok(Vec::new())
        );
    }
}
