//! PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge patch
//! ([`crate::strategic_merge`], by the merge keys of the kind's OpenAPI schema), and the
//! configuration of a server-side apply (port of apiserver `pkg/endpoints/handlers/patch.go`'s
//! choice of patcher by content type).
//!
//! An apply body (`application/apply-patch+yaml`, or `+json`) is YAML or JSON, decoded as
//! `applyPatcher` does (`error decoding YAML: ...` otherwise); applying it is field
//! management's work ([`crate::managed_fields::apply`], called from `objects.rs`), not a
//! patch of this module.
//!
//! Custom resources take JSON patch, merge patch and apply only, as the apiextensions
//! server's `customresource_handler.go` offers them: a strategic merge patch is a 415
//! ([`unsupported_for_custom_resources`]), whether or not the object exists.

use serde_json::Value;

use crate::status::ApiError;
use crate::strategic_merge::{self, PatchSchema};

/// The patch formats, by `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PatchType {
    /// `application/merge-patch+json`.
    Merge,
    /// `application/json-patch+json`.
    Json,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (or `+json`): server-side apply; creates missing
    /// objects.
    Apply,
}

impl PatchType {
    /// The patch type for a `Content-Type` value (parameters ignored).
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media = content_type.split(';').next().unwrap_or_default().trim();
        match media {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/json-patch+json" => Some(Self::Json),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// The patch types a custom resource accepts, in the order kube-apiserver lists them
/// (`supportedTypes` of customresource_handler.go, CBOR apply being off by default).
const CUSTOM_RESOURCE_PATCH_TYPES: [&str; 3] = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
];

/// The 415 of a PATCH whose type a custom resource does not accept (a strategic merge
/// patch): `negotiation.NewUnsupportedMediaTypeError(supportedTypes)`, with no details.
pub(crate) fn unsupported_for_custom_resources() -> ApiError {
    ApiError::new(
        415,
        "UnsupportedMediaType",
        format!(
            "the body of the request was in an unknown format - accepted media types include: {}",
            CUSTOM_RESOURCE_PATCH_TYPES.join(", ")
        ),
    )
}

/// Parses a patch body of type `kind`: JSON, or for apply YAML (of which JSON is a part) that
/// must hold an object, as `applyPatcher` unmarshals it into one.
pub(crate) fn parse(kind: PatchType, body: &[u8]) -> Result<Value, ApiError> {
    if kind != PatchType::Apply {
        return serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")));
    }
    let yaml_error =
        |e: &dyn std::fmt::Display| ApiError::bad_request(format!("error decoding YAML: {e}"));
    let value: Value = serde_norway::from_slice(body).map_err(|e| yaml_error(&e))?;
    match value {
        Value::Object(_) => Ok(value),
        // An empty document unmarshals to an empty map in Go.
        Value::Null => Ok(Value::Object(serde_json::Map::new())),
        other => Err(yaml_error(&format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            go_json_type(&other)
        ))),
    }
}

/// The name Go's `encoding/json` gives a JSON value's type in an unmarshal error.
fn go_json_type(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null | Value::Object(_) => "object",
    }
}

/// Applies `patch` to `target`, returning the patched object.
pub(crate) fn apply(kind: PatchType, target: &Value, patch: &Value) -> Result<Value, ApiError> {
    let mut doc = target.clone();
    match kind {
        PatchType::Strategic => {
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "error decoding patch: a strategic merge patch must be a JSON object",
                ));
            }
            let text = |k: &str| target.get(k).and_then(Value::as_str).unwrap_or_default();
            let schema = PatchSchema::for_kind(text("apiVersion"), text("kind"))
                .unwrap_or(PatchSchema::NONE);
            doc = strategic_merge::apply(target, patch, schema).map_err(strategic_error)?;
        }
        PatchType::Merge => {
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "error decoding patch: a merge patch must be a JSON object",
                ));
            }
            json_patch::merge(&mut doc, patch);
        }
        PatchType::Apply => {
            return Err(ApiError::internal(
                "an apply configuration is applied by field management, not as a patch",
            ));
        }
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::bad_request(format!("error decoding json patch: {e}")))?;
            json_patch::patch(&mut doc, &ops).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?;
        }
    }
    Ok(doc)
}

/// `interpretStrategicMergePatchError` and the converter's 422, as `Status` errors.
fn strategic_error(e: strategic_merge::Error) -> ApiError {
    match e {
        strategic_merge::Error::BadRequest(m) => ApiError::bad_request(m),
        strategic_merge::Error::Unprocessable(m) => {
            let cause =
                m.strip_prefix(" \"\" is invalid: patch: ")
                    .map(|c| crate::status::StatusCause {
                        reason: "FieldValueInvalid".into(),
                        message: c.to_owned(),
                        field: Some("patch".into()),
                    });
            let mut err = ApiError::new(422, "Invalid", m);
            if let Some(cause) = cause {
                err.details = Some(serde_json::json!({"causes": [{
                    "reason": cause.reason, "message": cause.message, "field": "patch"}]}));
            }
            err
        }
        // A plain error in the handler: 500 with no reason.
        strategic_merge::Error::Internal(m) => ApiError::new(500, "", m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_sets_and_removes_fields() {
        let t = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
        let p = json!({"metadata": {"labels": {"a": null, "c": "3"}}});
        let out = apply(PatchType::Merge, &t, &p);
        assert_eq!(
            out,
            Ok(json!({"metadata": {"labels": {"b": "2", "c": "3"}}}))
        );
    }

    #[test]
    fn json_patch_applies_operations_and_fails_a_bad_test() {
        let t = json!({"metadata": {"labels": {"a": "1"}}});
        let p = json!([{"op": "add", "path": "/metadata/annotations", "value": {"n": "x"}}]);
        let out = apply(PatchType::Json, &t, &p);
        assert_eq!(
            out.map(|o| o["metadata"]["annotations"]["n"].clone()),
            Ok(json!("x"))
        );
        let bad = json!([{"op": "test", "path": "/metadata/labels/a", "value": "2"}]);
        assert_eq!(
            apply(PatchType::Json, &t, &bad).map_err(|e| e.code),
            Err(422)
        );
    }

    #[test]
    fn content_types_map_to_patch_types() {
        assert_eq!(
            PatchType::from_content_type("application/strategic-merge-patch+json; charset=utf-8"),
            Some(PatchType::Strategic)
        );
        assert_eq!(PatchType::from_content_type("text/plain"), None);
    }
}
