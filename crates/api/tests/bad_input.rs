//! Malformed JSON is an error, never a panic, and the error says what was wrong; unknown
//! fields are ignored, as Go's non-strict decoding ignores them.

#![allow(clippy::unwrap_used)]

use api::core::v1::Pod;
use serde_json::json;

/// Decodes a pod, expecting an error; returns its message.
fn pod_error(json: serde_json::Value) -> String {
    let text = json.to_string();
    match serde_json::from_str::<Pod>(&text) {
        Ok(pod) => panic!("decoded {text} into {pod:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_string_where_an_array_belongs_is_an_error_naming_the_expected_type() {
    let message = pod_error(json!({"spec": {"containers": "x"}}));
    assert!(
        message.contains("invalid type: string \"x\", expected a sequence"),
        "{message}"
    );
}

#[test]
fn an_object_where_a_string_belongs_is_an_error() {
    let message = pod_error(json!({"metadata": {"name": "p"}, "spec": {"nodeName": {"a": 1}}}));
    assert!(message.contains("invalid type: map"), "{message}");
}

#[test]
fn an_int32_out_of_range_is_an_error_naming_the_value() {
    let message = pod_error(
        json!({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 99_999_999_999_i64}]}]}}),
    );
    assert!(message.contains("99999999999"), "{message}");
    assert!(message.contains("i32"), "{message}");
}

#[test]
fn a_negative_number_where_a_boolean_belongs_is_an_error() {
    let message = pod_error(json!({"spec": {"hostNetwork": -1}}));
    assert!(message.contains("expected a boolean"), "{message}");
}

#[test]
fn a_malformed_quantity_is_an_error_naming_the_quantity() {
    let message = pod_error(
        json!({"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "12xyz"}}}]}}),
    );
    assert!(message.contains("12xyz"), "{message}");
}

#[test]
fn a_malformed_time_is_an_error_naming_the_time() {
    let message = pod_error(json!({"metadata": {"creationTimestamp": "yesterday"}}));
    assert!(message.contains("yesterday"), "{message}");
    let message = pod_error(json!({"status": {"startTime": "2026-13-45T99:00:00Z"}}));
    assert!(message.contains("2026-13-45"), "{message}");
}

#[test]
fn invalid_base64_in_secret_data_is_an_error() {
    let text = json!({"data": {"k": "not base64!"}}).to_string();
    assert!(serde_json::from_str::<api::core::v1::Secret>(&text).is_err());
}

#[test]
fn truncated_json_is_an_error_with_a_position() {
    let message = serde_json::from_str::<Pod>(r#"{"spec": {"containers": [{"name": "c""#)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("EOF") && message.contains("column"),
        "{message}"
    );
}

#[test]
fn unknown_fields_are_ignored() {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "futureField": {"x": [1, 2]}}], "alsoNew": true},
        "topLevelExtra": 1
    }))
    .unwrap();
    let spec = pod.spec.as_deref().unwrap();
    assert_eq!(&*spec.containers[0].name, "c");
    assert_eq!(
        serde_json::to_value(&pod).unwrap(),
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}})
    );
}

/// Decodes a pod the way `apiclient` decodes every response, expecting an error.
fn decode_error(json: serde_json::Value) -> String {
    let bytes = json.to_string().into_bytes();
    match apimachinery::meta::decode_object::<Pod>(&bytes, false) {
        Ok(pod) => panic!("decoded into {pod:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_client_decoder_names_the_field_path_of_a_bad_value() {
    let cases = [
        (
            json!({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 99_999_999_999_i64}]}]}}),
            "spec.containers[0].ports[0].containerPort: ",
        ),
        (
            json!({"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "12xyz"}}}]}}),
            "spec.containers[0].resources.limits.cpu: ",
        ),
        (
            json!({"metadata": {"creationTimestamp": "yesterday"}}),
            "metadata.creationTimestamp: ",
        ),
        (json!({"spec": {"containers": "x"}}), "spec.containers: "),
    ];
    for (json, path) in cases {
        let message = decode_error(json);
        assert!(message.starts_with(path), "{message}");
    }
}
