//! Every error transcript recorded from a real kube-apiserver 1.32 decodes into a `Status`
//! whose predicates answer as client-go's `apierrors` would.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use apiclient::error::ApiError;
use apiclient::meta::{RawWatchEvent, Status};
use apiclient::{Error, ObjectMeta};

fn fixture(name: &str) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/kube-apiserver-1.32")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn recorded_error(name: &str) -> Error {
    let f = fixture(name);
    let resp = &f["response"];
    let status: Status = serde_json::from_value(resp["body"].clone()).unwrap();
    assert_eq!(
        i64::from(status.code),
        resp["status"].as_i64().unwrap(),
        "{name}: code"
    );
    let retry_after_header = resp["headers"]["retry-after"]
        .as_str()
        .map(|s| s.parse().unwrap());
    Error::from(ApiError {
        status,
        retry_after_header,
    })
}

/// The predicates, in a fixed order, so each case lists exactly the ones that hold.
fn predicates(e: &Error) -> Vec<&'static str> {
    let all: [(&str, bool); 11] = [
        ("not_found", e.is_not_found()),
        ("already_exists", e.is_already_exists()),
        ("conflict", e.is_conflict()),
        ("invalid", e.is_invalid()),
        ("gone", e.is_gone()),
        ("resource_expired", e.is_resource_expired()),
        ("too_many_requests", e.is_too_many_requests()),
        ("timeout", e.is_timeout()),
        ("unauthorized", e.is_unauthorized()),
        ("forbidden", e.is_forbidden()),
        ("server_timeout", e.is_server_timeout()),
    ];
    all.iter().filter(|(_, v)| *v).map(|(k, _)| *k).collect()
}

#[test]
fn each_recorded_error_satisfies_exactly_its_predicates() {
    let cases: &[(&str, &[&str])] = &[
        ("create-pod-already-exists", &["already_exists"]),
        ("create-pod-invalid", &["invalid"]),
        ("create-pod-namespace-missing", &["not_found"]),
        ("delete-pod-not-found", &["not_found"]),
        ("delete-pod-precondition", &["conflict"]),
        ("get-pod-not-found", &["not_found"]),
        ("get-unknown-resource", &["not_found"]),
        ("list-pods-bad-field-selector", &[]),
        ("list-pods-bad-label-selector", &[]),
        ("list-pods-continue-expired", &["resource_expired"]),
        ("list-pods-continue-with-rv", &[]),
        ("list-pods-exact-rv-compacted", &["resource_expired"]),
        ("list-pods-rv-too-large", &["timeout"]),
        ("unauthorized-bad-token", &["unauthorized"]),
        ("update-pod-conflict", &["conflict"]),
    ];
    for (name, want) in cases {
        let e = recorded_error(name);
        assert_eq!(predicates(&e), *want, "{name}: {e}");
    }
}

#[test]
fn bad_requests_are_bad_requests() {
    for name in [
        "list-pods-bad-field-selector",
        "list-pods-bad-label-selector",
        "list-pods-continue-with-rv",
    ] {
        assert!(recorded_error(name).is_bad_request(), "{name}");
    }
}

#[test]
fn too_large_resource_version_suggests_retry_after_one_second() {
    let e = recorded_error("list-pods-rv-too-large");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
    let causes = &e.status().unwrap().details.as_ref().unwrap().causes;
    assert_eq!(causes[0].reason, "ResourceVersionTooLarge");
    assert_eq!(recorded_error("get-pod-not-found").retry_after(), None);
}

#[test]
fn expired_continue_carries_a_fresh_continue_token() {
    let e = recorded_error("list-pods-continue-expired");
    assert!(
        e.status()
            .unwrap()
            .metadata
            .continue_token
            .as_deref()
            .is_some_and(|t| !t.is_empty())
    );
}

#[test]
fn invalid_carries_field_causes() {
    let e = recorded_error("create-pod-invalid");
    let d = e.status().unwrap().details.as_ref().unwrap();
    assert!(d.causes.iter().any(|c| c.field == "metadata.name"), "{d:?}");
}

#[test]
fn watch_error_event_from_a_restarted_server_is_resource_expired() {
    let f = fixture("watch-pods-too-old");
    let stream = f["response"]["stream"].as_str().unwrap();
    let line = stream.lines().next().unwrap();
    let ev: RawWatchEvent<serde_json::Value> = serde_json::from_str(line).unwrap();
    let RawWatchEvent::Error(status) = ev else {
        panic!("expected ERROR, got {ev:?}")
    };
    let e = Error::from_status(status);
    assert!(e.is_resource_expired() && !e.is_gone(), "{e}");
}

#[test]
fn the_bad_label_selector_the_server_rejected_is_rejected_locally_too() {
    assert!(
        "a in (b"
            .parse::<apiclient::selectors::LabelSelector>()
            .is_err()
    );
}

#[test]
fn recorded_pod_metadata_reads_through_the_object_trait() {
    use apiclient::Object;
    let f = fixture("get-pod");
    let meta: ObjectMeta =
        serde_json::from_value(f["response"]["body"]["metadata"].clone()).unwrap();
    assert_eq!((meta.name(), meta.namespace()), ("web-1", "fixtures"));
    assert_eq!(meta.labels().get("app").map(|v| v.as_str()), Some("demo"));
    assert!(meta.deletion_timestamp().is_none());
}
