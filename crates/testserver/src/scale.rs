//! The `scale` subresource: an `autoscaling/v1` Scale view of a workload's `spec.replicas`, as
//! `kubectl scale` reads and patches it.

use serde_json::{Value, json};

use crate::status::ApiError;

/// The Scale view of a workload.
pub(crate) fn view(object: &Value) -> Value {
    let meta = object.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let pick = |k: &str| meta.get(k).cloned().unwrap_or(Value::Null);
    let replicas = object
        .pointer("/spec/replicas")
        .cloned()
        .unwrap_or(json!(0));
    let selector = object
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let status_replicas = object
        .pointer("/status/replicas")
        .cloned()
        .unwrap_or(json!(0));
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": pick("name"),
            "namespace": pick("namespace"),
            "uid": pick("uid"),
            "resourceVersion": pick("resourceVersion"),
            "creationTimestamp": pick("creationTimestamp"),
        },
        "spec": {"replicas": replicas},
        "status": {"replicas": status_replicas, "selector": selector},
    })
}

/// `spec.replicas` of a Scale, which must be a non-negative integer.
pub(crate) fn replicas(scale: &Value) -> Result<i64, ApiError> {
    match scale.pointer("/spec/replicas").and_then(Value::as_i64) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            scale
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            &[crate::status::StatusCause {
                reason: "FieldValueInvalid".into(),
                message: "Invalid value: must be a non-negative integer".into(),
                field: Some("spec.replicas".into()),
            }],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_view_reflects_replicas_and_selector() {
        let d = json!({"metadata": {"name": "web", "namespace": "ns"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}}});
        let s = view(&d);
        assert_eq!(s["spec"]["replicas"], 3);
        assert_eq!(s["status"]["selector"], "app=web");
        assert_eq!(replicas(&s).ok(), Some(3));
        assert!(replicas(&json!({"spec": {"replicas": -1}})).is_err());
    }
}
