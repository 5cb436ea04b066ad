//! `meta.k8s.io/v1` Tables, the server-side printing kubectl asks for with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
//!
//! Columns: pods get NAME, READY, STATUS, RESTARTS, AGE (as `printers/internalversion` prints
//! them); namespaces NAME, STATUS, AGE; every other kind NAME, AGE. Each row carries the object
//! as `PartialObjectMetadata`, which is what kubectl uses for `-A`'s NAMESPACE column.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::defaults::{age_seconds, meta_str};
use crate::resources::ResourceInfo;
use crate::store::StoredObject;

fn column(name: &str, format: &str, description: &str) -> Value {
    json!({"name": name, "type": "string", "format": format, "description": description, "priority": 0})
}

fn columns(kind: &str) -> Vec<Value> {
    let name = column("Name", "name", "Name must be unique within a namespace.");
    let age = column(
        "Age",
        "",
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    );
    match kind {
        "Pod" => vec![
            name,
            column(
                "Ready",
                "",
                "The aggregate readiness state of this pod for accepting traffic.",
            ),
            column(
                "Status",
                "",
                "The aggregate status of the containers in this pod.",
            ),
            column(
                "Restarts",
                "",
                "The number of times the containers in this pod have been restarted.",
            ),
            age,
        ],
        "Namespace" => vec![
            name,
            column("Status", "", "The status of the namespace"),
            age,
        ],
        _ => vec![name, age],
    }
}

/// Human-readable age, like apimachinery's `duration.HumanDuration`.
pub(crate) fn human_age(secs: i64) -> String {
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86400);
    if secs < 120 {
        format!("{secs}s")
    } else if m < 10 {
        let s = secs % 60;
        if s == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{s}s")
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        let mm = m % 60;
        if mm == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{mm}m")
        }
    } else if h < 48 {
        format!("{h}h")
    } else if d < 8 {
        let hh = h % 24;
        if hh == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{hh}h")
        }
    } else {
        format!("{d}d")
    }
}

fn cells(kind: &str, obj: &Value) -> Vec<Value> {
    let name = json!(meta_str(obj, "name"));
    let age = json!(
        age_seconds(meta_str(obj, "creationTimestamp"))
            .map(human_age)
            .unwrap_or_else(|| "<unknown>".into())
    );
    match kind {
        "Pod" => {
            let containers = obj
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let statuses = obj
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array);
            let ready = statuses.map_or(0, |s| {
                s.iter()
                    .filter(|c| c.get("ready").and_then(Value::as_bool) == Some(true))
                    .count()
            });
            let restarts: i64 = statuses.map_or(0, |s| {
                s.iter()
                    .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
                    .sum()
            });
            let status = if obj.pointer("/metadata/deletionTimestamp").is_some() {
                "Terminating".to_owned()
            } else {
                obj.pointer("/status/reason")
                    .or_else(|| obj.pointer("/status/phase"))
                    .and_then(Value::as_str)
                    .unwrap_or("Unknown")
                    .to_owned()
            };
            vec![
                name,
                json!(format!("{ready}/{containers}")),
                json!(status),
                json!(restarts.to_string()),
                age,
            ]
        }
        "Namespace" => {
            let phase = obj
                .pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or("Active");
            vec![name, json!(phase), age]
        }
        _ => vec![name, age],
    }
}

fn row(kind: &str, obj: &Value) -> Value {
    let metadata = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
    json!({
        "cells": cells(kind, obj),
        "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata},
    })
}

/// A Table of `items` with the given list metadata.
pub(crate) fn list_table(
    res: &ResourceInfo,
    items: &[Arc<StoredObject>],
    metadata: Map<String, Value>,
) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns(&res.kind),
        "rows": items.iter().map(|o| row(&res.kind, o)).collect::<Vec<_>>(),
    })
}

/// A one-row Table for a single object (GET or a watch event).
pub(crate) fn object_table(res: &ResourceInfo, obj: &Value) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": meta_str(obj, "resourceVersion")},
        "columnDefinitions": columns(&res.kind),
        "rows": [row(&res.kind, obj)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_print_like_kubectl() {
        assert_eq!(human_age(5), "5s");
        assert_eq!(human_age(150), "2m30s");
        assert_eq!(human_age(3 * 3600), "3h");
        assert_eq!(human_age(3 * 86400 + 3600), "3d1h");
    }

    #[test]
    fn pod_rows_have_ready_and_status() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{}, {}]},
            "status": {"phase": "Running", "containerStatuses": [{"ready": true, "restartCount": 2}]}});
        let c = cells("Pod", &pod);
        assert_eq!(
            &c[..4],
            &[json!("p"), json!("1/2"), json!("Running"), json!("2")]
        );
    }
}
