//! `fieldValidation=Strict`: unknown fields in a create, update or patch body are rejected,
//! checked against the kind's schema in the recorded OpenAPI v3 documents ([`crate::openapi`]).
//!
//! kubectl 1.32 validates this way: it finds in `/openapi/v3` that the kind's PATCH accepts
//! `fieldValidation`, skips client-side validation and sends `fieldValidation=Strict`. The
//! answer is kube-apiserver's: 400 BadRequest, `Deployment in version "v1" cannot be handled as
//! a Deployment: strict decoding error: unknown field "spec.replicass"`, field paths written as
//! `sigs.k8s.io/json` writes them (`spec.template.spec.containers[0].imagee`).
//!
//! Differs from Go: custom resources (no recorded schema) are not checked, `Warn` (the default)
//! sends no warnings, duplicate fields are not detected (the body is parsed first), and patch
//! bodies are checked as partial objects (keys starting with `$`, strategic-merge directives,
//! skipped; JSON patches not checked).

use serde_json::{Map, Value};

use crate::openapi;
use crate::resources::ResourceInfo;
use crate::status::ApiError;

/// Rejects `object` if it holds fields the schema of `res`'s kind does not declare.
pub(crate) fn check_strict(res: &ResourceInfo, object: &Value) -> Result<(), ApiError> {
    let gv_path = if res.group.is_empty() {
        format!("api/{}", res.version)
    } else {
        format!("apis/{}/{}", res.group, res.version)
    };
    let Some(doc) = openapi::builtin_v3(&gv_path).and_then(openapi::Document::parsed) else {
        return Ok(());
    };
    let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    let Some(schema) = kind_schema(schemas, &res.group, &res.version, &res.kind) else {
        return Ok(());
    };
    let mut unknown = Vec::new();
    walk(schemas, schema, object, "", &mut unknown, 0);
    if unknown.is_empty() {
        return Ok(());
    }
    let fields: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    Err(ApiError::bad_request(format!(
        "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
        fields.join(", "),
        kind = res.kind,
        version = res.version,
    )))
}

/// The schema whose `x-kubernetes-group-version-kind` names this kind.
fn kind_schema<'a>(
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
fn resolve<'a>(schemas: &'a Map<String, Value>, mut schema: &'a Value) -> &'a Value {
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

/// Collects the paths of fields in `value` that `schema` does not declare.
fn walk(
    schemas: &Map<String, Value>,
    schema: &Value,
    value: &Value,
    path: &str,
    unknown: &mut Vec<String>,
    depth: usize,
) {
    // Schemas of the built-ins are at most a few dozen levels deep; deeper input is not checked.
    if depth > 64 {
        return;
    }
    let schema = resolve(schemas, schema);
    if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        return;
    }
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (key, v) in fields {
                if key.starts_with('$') {
                    continue;
                }
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (properties, additional) {
                    (Some(props), _) => match props.get(key) {
                        Some(s) => walk(schemas, s, v, &child, unknown, depth + 1),
                        None => unknown.push(child),
                    },
                    (None, Some(s)) => walk(schemas, s, v, &child, unknown, depth + 1),
                    // An object without declared fields (RawExtension, FieldsV1, ...).
                    (None, None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    walk(schemas, s, v, &format!("{path}[{i}]"), unknown, depth + 1);
                }
            }
        }
        _ => {}
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
        let Err(err) = check_strict(&deployments(), &d) else {
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
        assert!(check_strict(&deployments(), &d).is_ok());
    }
}
