//! API errors and the `Status` objects that carry them over the wire.
//!
//! Every failure the server reports is an [`ApiError`]; [`ApiError::to_status`] renders it as the
//! `meta/v1` `Status` object a real kube-apiserver sends (kind, apiVersion, metadata, status,
//! message, reason, details, code), in the shapes recorded in
//! `tests/fixtures/kube-apiserver-1.32/`.

use serde_json::{Map, Value, json};

/// `GroupResource.String()`: `pods`, or `leases.coordination.k8s.io` outside the core group.
pub(crate) fn qualified_resource(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_owned()
    } else {
        format!("{resource}.{group}")
    }
}

/// `StatusDetails` with `name`, `group` and `kind` (the resource), each left out when empty,
/// as `omitempty` does.
fn details(group: &str, resource: &str, name: &str) -> Value {
    let mut m = Map::new();
    for (k, v) in [("name", name), ("group", group), ("kind", resource)] {
        if !v.is_empty() {
            m.insert(k.into(), Value::String(v.to_owned()));
        }
    }
    Value::Object(m)
}

/// One cause inside `Status.details.causes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusCause {
    /// Machine-readable reason, e.g. `FieldValueInvalid`.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// The field the cause is about (`metadata.name`), if any.
    pub field: Option<String>,
}

/// A failed API request, as the API server reports it: an HTTP code plus a `Status` body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    /// HTTP status code, repeated as `Status.code`.
    pub code: u16,
    /// `Status.reason` (`NotFound`, `Conflict`, ...).
    pub reason: String,
    /// `Status.message`.
    pub message: String,
    /// `Status.details`; `None` leaves the field out, as the API server does for some errors.
    pub details: Option<Value>,
    /// Seconds to send in a `Retry-After` header, if any.
    pub retry_after: Option<u32>,
    /// A continue token to put into `Status.metadata.continue` (expired continue tokens).
    pub continue_token: Option<String>,
}

impl ApiError {
    /// A bare error with no details.
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason: reason.to_owned(),
            message: message.into(),
            details: None,
            retry_after: None,
            continue_token: None,
        }
    }

    #[must_use]
    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// 404 for a named object: `pods "x" not found`, `leases.coordination.k8s.io "x" not
    /// found` outside the core group, with `details.group` then. Port of `NewNotFound`.
    pub fn not_found(group: &str, plural: &str, name: &str) -> Self {
        let qualified = qualified_resource(group, plural);
        Self::new(404, "NotFound", format!("{qualified} \"{name}\" not found"))
            .with_details(details(group, plural, name))
    }

    /// 404 for a path the server does not serve.
    pub fn unknown_resource() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    /// 409 on create of an existing name. Port of `NewAlreadyExists` (group-qualified like
    /// [`ApiError::not_found`]).
    pub fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        let qualified = qualified_resource(group, plural);
        Self::new(
            409,
            "AlreadyExists",
            format!("{qualified} \"{name}\" already exists"),
        )
        .with_details(details(group, plural, name))
    }

    /// 409 on update with a stale resourceVersion. Port of `NewConflict` (group-qualified
    /// like [`ApiError::not_found`]).
    pub fn conflict(group: &str, plural: &str, name: &str) -> Self {
        let qualified = qualified_resource(group, plural);
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {qualified} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
        )
        .with_details(details(group, plural, name))
    }

    /// 409 on a delete whose uid precondition does not match.
    pub fn uid_precondition(kind: &str, name: &str, wanted: &str, actual: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {kind} \"{name}\": the UID in the precondition ({wanted}) does not match the UID in record ({actual}). The object might have been deleted and then recreated"
            ),
        )
        .with_details(json!({"name": name, "kind": kind}))
    }

    /// 409 on a delete whose resourceVersion precondition does not match.
    pub fn rv_precondition(kind: &str, name: &str, wanted: &str, actual: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {kind} \"{name}\": the ResourceVersion in the precondition ({wanted}) does not match the ResourceVersion in record ({actual}). The object might have been modified"
            ),
        )
        .with_details(json!({"name": name, "kind": kind}))
    }

    /// 422 with field causes, about object `name` of `kind` in `group`: `Pod "x" is invalid`,
    /// `Deployment.apps "x" is invalid` with `details.group`. Port of `NewInvalid`.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: &[StatusCause]) -> Self {
        let qualified = qualified_resource(group, kind);
        let parts: Vec<String> = causes
            .iter()
            .map(|c| match &c.field {
                Some(f) => format!("{f}: {}", c.message),
                None => c.message.clone(),
            })
            .collect();
        let message = if parts.len() == 1 {
            format!("{qualified} \"{name}\" is invalid: {}", parts[0])
        } else {
            format!("{qualified} \"{name}\" is invalid: [{}]", parts.join(", "))
        };
        let causes: Vec<Value> = causes
            .iter()
            .map(|c| {
                let mut m = Map::new();
                m.insert("reason".into(), Value::String(c.reason.clone()));
                m.insert("message".into(), Value::String(c.message.clone()));
                if let Some(f) = &c.field {
                    m.insert("field".into(), Value::String(f.clone()));
                }
                Value::Object(m)
            })
            .collect();
        let mut details = details(group, kind, name);
        if let Some(m) = details.as_object_mut() {
            m.insert("causes".into(), Value::Array(causes));
        }
        Self::new(422, "Invalid", message).with_details(details)
    }

    /// 400 BadRequest without details.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 410 Expired without details.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 504 for a resourceVersion newer than the server has (`ResourceVersionTooLarge`).
    pub fn rv_too_large(requested: u64, current: u64) -> Self {
        let mut e = Self::new(
            504,
            "Timeout",
            format!("Timeout: Too large resource version: {requested}, current: {current}"),
        )
        .with_details(json!({
            "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
            "retryAfterSeconds": 1
        }));
        e.retry_after = Some(1);
        e
    }

    /// 403 Forbidden for `reason`, about `resource` (plural) in `group` and object `name`
    /// (each may be empty). Port of `apierrors.NewForbidden`: the message is
    /// `forbidden: ...` with no resource, `pods is forbidden: ...` with one, and
    /// `pods "x" is forbidden: ...` with a name; the resource is group-qualified
    /// (`leases.coordination.k8s.io`).
    pub fn forbidden(group: &str, resource: &str, name: &str, reason: &str) -> Self {
        let qualified = qualified_resource(group, resource);
        let message = if resource.is_empty() && group.is_empty() {
            format!("forbidden: {reason}")
        } else if name.is_empty() {
            format!("{qualified} is forbidden: {reason}")
        } else {
            format!("{qualified} {name:?} is forbidden: {reason}")
        };
        Self::new(403, "Forbidden", message).with_details(details(group, resource, name))
    }

    /// 401 Unauthorized.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 405 for a verb the resource does not support.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({method})"),
        )
        .with_details(json!({}))
    }

    /// 415 for a body in a media type the server does not decode.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/merge-patch+json, application/json-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got {content_type:?})"
            ),
        )
    }

    /// 415 for a create or update body in a media type the server does not decode for this
    /// resource. Port of `NewUnsupportedMediaTypeError`.
    pub fn unsupported_body_type(content_type: &str, accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {} (got {content_type:?})",
                accepted.join(", ")
            ),
        )
    }

    /// 406 when no media type of the request's `Accept` can be served. Port of
    /// `NewNotAcceptableError`.
    pub fn not_acceptable(supported: &[&str]) -> Self {
        Self::new(
            406,
            "NotAcceptable",
            format!(
                "only the following media types are accepted: {}",
                supported.join(", ")
            ),
        )
    }

    /// 413 for a body over the size limit.
    pub fn request_entity_too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("the request body is larger than the {limit}-byte limit"),
        )
    }

    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
        )
        .with_details(json!({"causes": [{"message": message}]}))
    }

    /// An injected failure with the status code a test asked for.
    pub fn injected(code: u16, retry_after: Option<u32>) -> Self {
        let mut e = match code {
            429 => Self::new(
                429,
                "TooManyRequests",
                "Too many requests, please try again later.",
            ),
            500 => Self::internal("injected fault"),
            503 => Self::new(
                503,
                "ServiceUnavailable",
                "the server is currently unable to handle the request",
            ),
            504 => Self::new(
                504,
                "Timeout",
                "Timeout: request did not complete within the allowed duration",
            ),
            other => Self::new(
                other,
                "InternalError",
                format!("injected fault with status {other}"),
            ),
        };
        if let Some(secs) = retry_after {
            e.retry_after = Some(secs);
            let mut details = match e.details.take() {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            details.insert("retryAfterSeconds".into(), json!(secs));
            e.details = Some(Value::Object(details));
        }
        e
    }

    /// 404 NotFound.
    pub fn is_not_found(&self) -> bool {
        self.code == 404
    }

    /// 409 Conflict or AlreadyExists.
    pub fn is_conflict(&self) -> bool {
        self.code == 409
    }

    /// 410 Expired/Gone: relist.
    pub fn is_gone(&self) -> bool {
        self.code == 410
    }

    /// 422 Invalid.
    pub fn is_invalid(&self) -> bool {
        self.code == 422
    }

    /// The `Status` object for this error.
    pub fn to_status(&self) -> Value {
        let mut metadata = Map::new();
        if let Some(token) = &self.continue_token {
            metadata.insert("continue".into(), Value::String(token.clone()));
        }
        let mut status = Map::new();
        status.insert("kind".into(), json!("Status"));
        status.insert("apiVersion".into(), json!("v1"));
        status.insert("metadata".into(), Value::Object(metadata));
        status.insert("status".into(), json!("Failure"));
        status.insert("message".into(), Value::String(self.message.clone()));
        if !self.reason.is_empty() {
            status.insert("reason".into(), Value::String(self.reason.clone()));
        }
        if let Some(details) = &self.details {
            status.insert("details".into(), details.clone());
        }
        status.insert("code".into(), json!(self.code));
        Value::Object(status)
    }
}

/// A `Status` with `status: Success`, as returned by DELETE of most kinds.
pub fn success_status(name: &str, group: &str, plural: &str, uid: &str) -> Value {
    let mut details = Map::new();
    details.insert("name".into(), json!(name));
    if !group.is_empty() {
        details.insert("group".into(), json!(group));
    }
    details.insert("kind".into(), json!(plural));
    details.insert("uid".into(), json!(uid));
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": Value::Object(details),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_status_matches_the_recorded_shape() {
        let s = ApiError::not_found("", "pods", "missing").to_status();
        assert_eq!(
            s,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                   "message": "pods \"missing\" not found", "reason": "NotFound",
                   "details": {"name": "missing", "kind": "pods"}, "code": 404})
        );
    }

    #[test]
    fn injected_429_carries_retry_after_in_details() {
        let e = ApiError::injected(429, Some(3));
        assert_eq!(e.retry_after, Some(3));
        assert_eq!(e.to_status()["details"]["retryAfterSeconds"], 3);
    }
}
