//! Every object recorded from a real kube-apiserver 1.32 whose kind this crate has a type for
//! decodes into that type and encodes back to the same JSON, up to three differences that keep
//! the meaning, each asserted on its own below.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use support::Difference;

/// Timestamp fields that Go writes as `null` when zero.
const TIME_FIELDS: [&str; 4] = [
    "creationTimestamp",
    "eventTime",
    "firstTimestamp",
    "lastTimestamp",
];

/// Why a difference between the server's JSON and ours keeps the meaning, or `None`.
fn legitimate(d: &Difference) -> Option<&'static str> {
    let key = d.path.rsplit('/').next().unwrap_or("");
    match (&d.left, &d.right) {
        // Go writes a zero (non-pointer) metav1.Time as `null`; here an optional time is
        // `Option<Time>`, and `null` reads as `None`, which is not written.
        (Some(Value::Null), None) if TIME_FIELDS.contains(&key) => {
            Some("zero time: null -> absent")
        }
        // `metadata` is a bare ObjectMeta, always written (Go writes it too, as `{}` at least).
        (None, Some(v)) if key == "metadata" && *v == json!({}) => Some("absent metadata -> {}"),
        // Go writes a nil required slice as `null`; it decodes as empty and encodes as `[]`.
        (Some(Value::Null), Some(v)) if *v == json!([]) => Some("nil required array: null -> []"),
        _ => None,
    }
}

#[test]
fn every_fixture_object_round_trips_to_equal_json() {
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let mut allowed: BTreeMap<&str, usize> = BTreeMap::new();
    for object in support::objects() {
        let (api_version, kind) = object.type_meta();
        if kind.is_empty() {
            // A patch body (smp-*), not an object.
            continue;
        }
        if (api_version, kind) == ("v1", "Status") {
            // An error body: `apimachinery::meta::Status`, not a type of this crate.
            continue;
        }
        if !cfg!(feature = "authorization") && api_version.starts_with("authorization.k8s.io/") {
            // Not a default feature; `cargo test --all-features` checks these.
            continue;
        }
        let Some(result) = support::api_round_trip(api_version, kind, &object.text) else {
            failures.push(format!(
                "{}: no type for {api_version} {kind}",
                object.source
            ));
            continue;
        };
        seen.insert((api_version.to_owned(), kind.to_owned()));
        match result {
            Ok(encoded) => {
                for d in support::differences(&object.value, &encoded) {
                    match legitimate(&d) {
                        Some(why) => *allowed.entry(why).or_default() += 1,
                        None => failures.push(format!("{}: {d}", object.source)),
                    }
                }
            }
            Err(e) => failures.push(format!("{}: decoding failed: {e}", object.source)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let expected: BTreeSet<(String, String)> = support::TYPED_KINDS
        .iter()
        .filter(|(v, _)| cfg!(feature = "authorization") || !v.starts_with("authorization.k8s.io/"))
        .map(|(v, k)| ((*v).to_owned(), (*k).to_owned()))
        .collect();
    assert_eq!(seen, expected);
    // The fixtures exercise each tolerated difference (tested one by one below); only the
    // authorization request bodies come without metadata.
    let kinds_of_difference = if cfg!(feature = "authorization") {
        3
    } else {
        2
    };
    assert_eq!(allowed.len(), kinds_of_difference, "{allowed:?}");
}

#[test]
fn a_zero_time_written_as_null_encodes_as_absent() {
    let event: api::core::v1::Event = serde_json::from_value(
        json!({"metadata": {"name": "e"}, "involvedObject": {}, "eventTime": null}),
    )
    .unwrap();
    assert_eq!(event.event_time, None);
    let encoded = serde_json::to_value(&event).unwrap();
    assert_eq!(encoded.get("eventTime"), None);
}

#[test]
fn absent_metadata_encodes_as_an_empty_object() {
    let lease: api::coordination::v1::Lease = serde_json::from_value(json!({"spec": {}})).unwrap();
    assert_eq!(
        serde_json::to_value(&lease).unwrap(),
        json!({"metadata": {}, "spec": {}})
    );
}

#[test]
fn a_required_array_written_as_null_decodes_as_empty_and_encodes_as_empty() {
    // As in a watch BOOKMARK: Go writes the pod's nil `containers` slice as null.
    let pod: api::core::v1::Pod =
        serde_json::from_value(json!({"spec": {"containers": null}})).unwrap();
    assert!(pod.spec.as_ref().unwrap().containers.is_empty());
    assert_eq!(
        serde_json::to_value(&pod).unwrap()["spec"],
        json!({"containers": []})
    );
}

#[test]
fn pod_fixture_round_trips_to_equal_json() {
    let text = include_str!("fixtures/kube-apiserver-1.32-protobuf/get-pod.json");
    let pod: api::core::v1::Pod = serde_json::from_str(text).unwrap();
    let original: Value = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::to_value(&pod).unwrap(), original);
    let spec = pod.spec.as_deref().unwrap();
    assert_eq!(spec.containers.len(), 2);
    assert_eq!(spec.containers.capacity(), 2, "decoded exact-size");
}

/// No CustomResourceDefinition was recorded; this one uses every free-form JSON field shape:
/// `default`/`example`/`enum` values, `additionalProperties` as a bool and as a schema, `items`
/// as a schema, `x-kubernetes-*` extensions and `$ref`-like keys.
#[cfg(feature = "apiextensions")]
#[test]
fn a_custom_resource_definition_round_trips_to_equal_json() {
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets", "listKind": "WidgetList", "singular": "widget"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": true,
                    "properties": {
                        "spec": {
                            "type": "object",
                            "required": ["size"],
                            "additionalProperties": false,
                            "properties": {
                                "size": {"type": "integer", "minimum": 1, "maximum": 10.5, "default": 3},
                                "mode": {"type": "string", "enum": ["a", "b", null], "example": "a"},
                                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}
                            },
                            "x-kubernetes-validations": [{"rule": "self.size <= 10", "message": "too big"}]
                        }
                    }
                }}
            }]
        }
    });
    let decoded: api::apiextensions::v1::CustomResourceDefinition =
        serde_json::from_value(crd.clone()).unwrap();
    let mut expected = crd;
    // `minimum` is an f64 (`number`), which serde_json writes as `1.0` where Go writes `1`:
    // the same number, but a different `Value`.
    let size = "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/size";
    *expected.pointer_mut(&format!("{size}/minimum")).unwrap() = json!(1.0);
    assert_eq!(serde_json::to_value(&decoded).unwrap(), expected);
}
