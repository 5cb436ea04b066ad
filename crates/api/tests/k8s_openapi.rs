//! The same fixture bytes decoded with k8s-openapi and with this crate encode to the same
//! JSON, except in two places where `api` keeps what the server sent and k8s-openapi does
//! not (asserted below): moving from k8s-openapi to `api` loses no data.

#![allow(clippy::unwrap_used)]

mod support;

use k8s_openapi::api as k8s;
use serde_json::Value;

/// Decodes `text` as k8s-openapi's type for `(apiVersion, kind)` and encodes it back.
fn k8s_openapi_round_trip(api_version: &str, kind: &str, text: &str) -> Option<Value> {
    fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(text: &str) -> Value {
        let object: T = serde_json::from_str(text).unwrap();
        serde_json::to_value(&object).unwrap()
    }
    let f: fn(&str) -> Value = match (api_version, kind) {
        ("apps/v1", "Deployment") => round_trip::<k8s::apps::v1::Deployment>,
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview") => {
            round_trip::<k8s::authorization::v1::SelfSubjectAccessReview>
        }
        ("authorization.k8s.io/v1", "SelfSubjectRulesReview") => {
            round_trip::<k8s::authorization::v1::SelfSubjectRulesReview>
        }
        ("coordination.k8s.io/v1", "Lease") => round_trip::<k8s::coordination::v1::Lease>,
        ("events.k8s.io/v1", "EventList") => {
            round_trip::<k8s_openapi::List<k8s::events::v1::Event>>
        }
        ("v1", "APIResourceList") => {
            round_trip::<k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList>
        }
        ("v1", "ConfigMap") => round_trip::<k8s::core::v1::ConfigMap>,
        ("v1", "ConfigMapList") => round_trip::<k8s_openapi::List<k8s::core::v1::ConfigMap>>,
        ("v1", "Event") => round_trip::<k8s::core::v1::Event>,
        ("v1", "Namespace") => round_trip::<k8s::core::v1::Namespace>,
        ("v1", "Pod") => round_trip::<k8s::core::v1::Pod>,
        ("v1", "PodList") => round_trip::<k8s_openapi::List<k8s::core::v1::Pod>>,
        ("v1", "Secret") => round_trip::<k8s::core::v1::Secret>,
        _ => return None,
    };
    Some(f(text))
}

#[test]
fn fixtures_decoded_by_k8s_openapi_and_by_api_encode_to_equal_json() {
    let mut compared = 0;
    let mut tolerated = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for object in support::objects() {
        let (api_version, kind) = object.type_meta();
        let Some(ours) = support::api_round_trip(api_version, kind, &object.text) else {
            continue;
        };
        let theirs = k8s_openapi_round_trip(api_version, kind, &object.text).unwrap_or_else(|| {
            panic!(
                "{}: no k8s-openapi type for {api_version} {kind}",
                object.source
            )
        });
        let ours = ours.unwrap_or_else(|e| panic!("{}: {e}", object.source));
        compared += 1;
        for d in support::differences(&theirs, &ours) {
            let sent = object.value.pointer(&d.path);
            let key = d.path.rsplit('/').next().unwrap_or("");
            let why = match (&d.left, &d.right) {
                // k8s-openapi writes its own apiVersion and kind on every object, also on list
                // items, which the server sends without them; `api` keeps them as sent.
                (Some(_), None) if sent.is_none() && (key == "apiVersion" || key == "kind") => {
                    "k8s-openapi adds apiVersion/kind to list items"
                }
                // events.k8s.io/v1 Event.eventTime is required: Go (and `api`) write the zero
                // MicroTime as null, k8s-openapi leaves it out.
                (None, Some(Value::Null)) if sent == Some(&Value::Null) && key == "eventTime" => {
                    "k8s-openapi drops a null required eventTime"
                }
                _ => {
                    failures.push(format!("{}: k8s-openapi vs api: {d}", object.source));
                    continue;
                }
            };
            tolerated.insert(why);
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared > 50, "only {compared} objects compared");
    assert_eq!(tolerated.len(), 2, "{tolerated:?}");
}
