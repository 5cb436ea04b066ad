//! Fixture loading shared by the integration tests.
//!
//! `tests/fixtures/` holds copies of recordings from a real kube-apiserver 1.32:
//! - `kube-apiserver-1.32/*.json`: request/response transcripts, each
//!   `{name, about, request: {body}, response: {body} or {stream}}`, where `stream` is the
//!   newline-delimited watch events the server sent;
//! - `kube-apiserver-1.32-protobuf/*.json`: the JSON twins of the protobuf recordings, as the
//!   server sent them: one object, or newline-delimited watch events.
//!
//! [`objects`] yields every object in them (request bodies, response bodies, watch events'
//! objects) with the exact text to decode.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;

/// One object found in a fixture.
pub struct FixtureObject {
    /// `file.json response`, `file.json stream[2]`, ...
    pub source: String,
    /// The object's JSON text: the server's bytes where the fixture keeps them (the protobuf
    /// twins), else the object re-serialized from the transcript.
    pub text: String,
    /// The same, parsed.
    pub value: Value,
}

impl FixtureObject {
    /// `apiVersion` and `kind`, `""` when absent.
    pub fn type_meta(&self) -> (&str, &str) {
        let field = |name| self.value.get(name).and_then(Value::as_str).unwrap_or("");
        (field("apiVersion"), field("kind"))
    }
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn files(subdir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures_dir().join(subdir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn object(source: String, text: String) -> FixtureObject {
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{source}: {e}"));
    FixtureObject {
        source,
        text,
        value,
    }
}

/// Objects of a watch stream: one `{"type", "object"}` event per line.
fn watch_objects(source: &str, stream: &str, out: &mut Vec<FixtureObject>) {
    for (i, line) in stream.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let event: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{source} line {i}: {e}"));
        let kind = event["type"].as_str().unwrap_or("?");
        out.push(object(
            format!("{source} stream[{i}] {kind}"),
            event["object"].to_string(),
        ));
    }
}

/// Every object in every fixture, in file order.
pub fn objects() -> Vec<FixtureObject> {
    let mut out = Vec::new();
    for path in files("kube-apiserver-1.32") {
        let name = format!(
            "kube-apiserver-1.32/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let transcript: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let request = &transcript["request"]["body"];
        if request.is_object() {
            out.push(object(format!("{name} request"), request.to_string()));
        }
        let response = &transcript["response"];
        if response["body"].is_object() {
            out.push(object(
                format!("{name} response"),
                response["body"].to_string(),
            ));
        }
        if let Some(stream) = response["stream"].as_str() {
            watch_objects(&name, stream, &mut out);
        }
    }
    for path in files("kube-apiserver-1.32-protobuf") {
        let name = format!(
            "kube-apiserver-1.32-protobuf/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let text = std::fs::read_to_string(&path).unwrap();
        if name.contains("watch-") {
            watch_objects(&name, &text, &mut out);
        } else {
            out.push(object(name, text));
        }
    }
    out
}

/// Kinds that must be present in the fixtures and round-trip, so a change in the fixtures or
/// the dispatch cannot make the tests silently check nothing. (The fixtures were chosen to hold
/// only objects the crate has types for, plus one patch body, which has no `kind`.)
pub const TYPED_KINDS: [(&str, &str); 13] = [
    ("apps/v1", "Deployment"),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"),
    ("coordination.k8s.io/v1", "Lease"),
    ("events.k8s.io/v1", "EventList"),
    ("v1", "APIResourceList"),
    ("v1", "ConfigMap"),
    ("v1", "ConfigMapList"),
    ("v1", "Event"),
    ("v1", "Namespace"),
    ("v1", "Pod"),
    ("v1", "PodList"),
    ("v1", "Secret"),
];

/// Decodes `text` as this crate's type for `(apiVersion, kind)` and encodes it back to a
/// `Value`; `None` if the crate has no type for that kind (or its feature is off).
pub fn api_round_trip(
    api_version: &str,
    kind: &str,
    text: &str,
) -> Option<Result<Value, serde_json::Error>> {
    fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(
        text: &str,
    ) -> Result<Value, serde_json::Error> {
        let object: T = serde_json::from_str(text)?;
        serde_json::to_value(&object)
    }
    let f: fn(&str) -> Result<Value, serde_json::Error> = match (api_version, kind) {
        ("apps/v1", "Deployment") => round_trip::<api::apps::v1::Deployment>,
        #[cfg(feature = "authorization")]
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview") => {
            round_trip::<api::authorization::v1::SelfSubjectAccessReview>
        }
        #[cfg(feature = "authorization")]
        ("authorization.k8s.io/v1", "SelfSubjectRulesReview") => {
            round_trip::<api::authorization::v1::SelfSubjectRulesReview>
        }
        ("coordination.k8s.io/v1", "Lease") => round_trip::<api::coordination::v1::Lease>,
        ("events.k8s.io/v1", "EventList") => round_trip::<api::events::v1::EventList>,
        ("v1", "APIResourceList") => round_trip::<api::meta::v1::APIResourceList>,
        ("v1", "ConfigMap") => round_trip::<api::core::v1::ConfigMap>,
        ("v1", "ConfigMapList") => round_trip::<api::core::v1::ConfigMapList>,
        ("v1", "Event") => round_trip::<api::core::v1::Event>,
        ("v1", "Namespace") => round_trip::<api::core::v1::Namespace>,
        ("v1", "Pod") => round_trip::<api::core::v1::Pod>,
        ("v1", "PodList") => round_trip::<api::core::v1::PodList>,
        ("v1", "Secret") => round_trip::<api::core::v1::Secret>,
        _ => return None,
    };
    Some(f(text))
}

/// One place where two JSON values differ.
#[derive(Debug)]
pub struct Difference {
    /// JSON pointer (RFC 6901) of the place, e.g. `/metadata/creationTimestamp`.
    pub path: String,
    /// The left value there (`None`: key absent).
    pub left: Option<Value>,
    /// The right value there.
    pub right: Option<Value>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<Value>| v.as_ref().map_or("(absent)".to_owned(), Value::to_string);
        write!(
            f,
            "{}: {} != {}",
            self.path,
            show(&self.left),
            show(&self.right)
        )
    }
}

/// Every place where two JSON values differ (empty when equal).
pub fn differences(left: &Value, right: &Value) -> Vec<Difference> {
    fn walk(path: &str, left: Option<&Value>, right: Option<&Value>, out: &mut Vec<Difference>) {
        match (left, right) {
            (Some(Value::Object(l)), Some(Value::Object(r))) => {
                let keys: std::collections::BTreeSet<&String> = l.keys().chain(r.keys()).collect();
                for key in keys {
                    let escaped = key.replace('~', "~0").replace('/', "~1");
                    walk(&format!("{path}/{escaped}"), l.get(key), r.get(key), out);
                }
            }
            (Some(Value::Array(l)), Some(Value::Array(r))) if l.len() == r.len() => {
                for (i, (l, r)) in l.iter().zip(r).enumerate() {
                    walk(&format!("{path}/{i}"), Some(l), Some(r), out);
                }
            }
            (l, r) if l != r => out.push(Difference {
                path: path.to_owned(),
                left: l.cloned(),
                right: r.cloned(),
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", Some(left), Some(right), &mut out);
    out
}
