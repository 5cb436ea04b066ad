//! `authorization.k8s.io/v1` SelfSubjectAccessReview and SelfSubjectRulesReview: create-only
//! resources that answer "may I?" for the requesting user and are never stored.
//!
//! Port of kube-apiserver's `pkg/registry/authorization/selfsubjectaccessreview/rest.go` and
//! `selfsubjectrulesreview/rest.go`. Every authenticated user here is the cluster admin (the
//! anonymous user is turned away before a handler runs, see `authn`), so an access review is
//! always `allowed: true` with no reason, and a rules review lists what a `system:masters`
//! member of a kubeadm-style 1.32 cluster gets, as the recordings in
//! `tests/fixtures/kube-apiserver-1.32-authz/` show.
//!
//! Differs from Go: no authorizer chain (there are no RBAC decisions to make, see above); the
//! response carries no `managedFields`.

use serde_json::{Value, json};

use crate::resources::ResourceInfo;
use crate::status::{ApiError, StatusCause};

/// The API group of the review resources.
pub(crate) const GROUP: &str = "authorization.k8s.io";

/// Answers a POST of `body` to the review resource `res`; the reviewed object with its
/// `status` filled in.
pub(crate) fn review(res: &ResourceInfo, body: Value) -> Result<Value, ApiError> {
    let Value::Object(mut map) = body else {
        return Err(ApiError::bad_request(format!(
            "the body of the request could not be decoded as a {} object",
            res.kind
        )));
    };
    if let Some(k) = map.get("kind").and_then(Value::as_str)
        && k != res.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            res.kind
        )));
    }
    map.insert("kind".into(), json!(res.kind));
    map.insert("apiVersion".into(), json!(res.api_version()));
    map.insert("metadata".into(), json!({"creationTimestamp": null}));
    let spec = map.get("spec").cloned().unwrap_or_else(|| json!({}));
    match res.kind.as_str() {
        "SelfSubjectAccessReview" => {
            validate_access_review(res, &spec)?;
            map.insert("status".into(), json!({"allowed": true}));
        }
        _ => {
            // The recorded server answers with an empty spec.
            map.insert("spec".into(), json!({}));
            map.insert("status".into(), admin_rules());
        }
    }
    Ok(Value::Object(map))
}

/// Port of `ValidateSelfSubjectAccessReviewSpec`: exactly one of `resourceAttributes` and
/// `nonResourceAttributes`.
fn validate_access_review(res: &ResourceInfo, spec: &Value) -> Result<(), ApiError> {
    let present = |k: &str| spec.get(k).is_some_and(|v| !v.is_null());
    let cause = match (present("resourceAttributes"), present("nonResourceAttributes")) {
        (true, true) => StatusCause {
            reason: "FieldValueInvalid".into(),
            message: format!(
                "Invalid value: {}: cannot be specified in combination with resourceAttributes",
                spec["nonResourceAttributes"]
            ),
            field: Some("spec.nonResourceAttributes".into()),
        },
        (false, false) => StatusCause {
            reason: "FieldValueInvalid".into(),
            message: "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified".into(),
            field: Some("spec.resourceAttributes".into()),
        },
        _ => return Ok(()),
    };
    Err(ApiError::invalid(GROUP, &res.kind, "", &[cause]))
}

/// The rules of a cluster admin, as kube-apiserver 1.32 lists them for `system:masters`.
fn admin_rules() -> Value {
    json!({
        "resourceRules": [
            {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
             "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]},
            {"verbs": ["create"], "apiGroups": ["authentication.k8s.io"],
             "resources": ["selfsubjectreviews"]},
            {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}
        ],
        "nonResourceRules": [
            {"verbs": ["get"],
             "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"]},
            {"verbs": ["get"],
             "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                 "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]},
            {"verbs": ["*"], "nonResourceURLs": ["*"]}
        ],
        "incomplete": false
    })
}
