//! What the API server fills in and checks on write: server-set metadata (uid, timestamps,
//! generated names), per-kind defaults (the pod fields a real server defaults, so objects look
//! like the recorded ones) and validation (names, pod containers) yielding 422 causes.

use rand::Rng;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::status::StatusCause;

/// The current time in the API server's RFC 3339 form, whole seconds, UTC.
///
/// Formatting is cached per second per thread: bulk seeding creates many objects a second.
pub(crate) fn now_rfc3339() -> String {
    thread_local! {
        static CACHE: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    let now = OffsetDateTime::now_utc();
    let second = now.unix_timestamp();
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != second {
            let whole = now.replace_nanosecond(0).unwrap_or(now);
            let text = whole
                .format(&Rfc3339)
                .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
            *cache = (second, text);
        }
        cache.1.clone()
    })
}

/// Seconds since `timestamp` (RFC 3339), negative for a time in the future, or `None` if it
/// does not parse.
pub(crate) fn age_seconds(timestamp: &str) -> Option<i64> {
    let then = OffsetDateTime::parse(timestamp, &Rfc3339).ok()?;
    Some((OffsetDateTime::now_utc() - then).whole_seconds())
}

/// A random version-4 UUID.
pub(crate) fn new_uid() -> String {
    let b: u128 = rand::rng().random();
    let b = (b & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let h = format!("{b:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `generateName` plus five random characters from the API server's alphabet.
pub(crate) fn generated_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    let suffix: String = (0..5)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}{suffix}")
}

/// Runs `f` on `metadata` as a map (created if missing or not an object).
pub(crate) fn with_metadata<R>(
    object: &mut Map<String, Value>,
    f: impl FnOnce(&mut Map<String, Value>) -> R,
) -> R {
    let mut meta = match object.remove("metadata") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let out = f(&mut meta);
    object.insert("metadata".into(), Value::Object(meta));
    out
}

/// A string field of `metadata`, or "".
pub(crate) fn meta_str<'a>(object: &'a Value, field: &str) -> &'a str {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn is_dns1123_subdomain(name: &str) -> bool {
    !name.is_empty() && name.len() <= 253 && name.split('.').all(is_dns1123_label_chars)
}

fn is_dns1123_label_chars(part: &str) -> bool {
    let bytes = part.as_bytes();
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/// Validation on create; returns the causes of a 422 Invalid, empty when valid.
pub(crate) fn validate(kind: &str, object: &Value) -> Vec<StatusCause> {
    let mut causes = Vec::new();
    let name = meta_str(object, "name");
    let (ok, msg) = if kind == "Namespace" {
        (name.len() <= 63 && is_dns1123_label_chars(name), LABEL_MSG)
    } else {
        (is_dns1123_subdomain(name), SUBDOMAIN_MSG)
    };
    if name.is_empty() {
        causes.push(StatusCause {
            reason: "FieldValueRequired".into(),
            message: "Required value: name or generateName is required".into(),
            field: Some("metadata.name".into()),
        });
    } else if !ok {
        causes.push(StatusCause {
            reason: "FieldValueInvalid".into(),
            message: format!("Invalid value: \"{name}\": {msg}"),
            field: Some("metadata.name".into()),
        });
    }
    if kind == "Pod" {
        let containers = object.pointer("/spec/containers").and_then(Value::as_array);
        if containers.is_none_or(Vec::is_empty) {
            causes.push(StatusCause {
                reason: "FieldValueRequired".into(),
                message: "Required value".into(),
                field: Some("spec.containers".into()),
            });
        }
    }
    causes
}

/// Inserts `value` at `key` unless present.
fn default_field(map: &mut Map<String, Value>, key: &str, value: Value) {
    map.entry(key).or_insert(value);
}

/// Fills in the defaults a real server's decoding applies to `kind` on create (what
/// admission adds comes later, from [`admit`]).
pub(crate) fn apply_defaults(kind: &str, object: &mut Map<String, Value>) {
    match kind {
        "Pod" => default_pod(object),
        "Namespace" => {
            let name = object
                .get("metadata")
                .and_then(|m| m.get("name"))
                .cloned()
                .unwrap_or_default();
            with_metadata(object, |meta| {
                let labels = meta.entry("labels").or_insert_with(|| json!({}));
                if let Some(labels) = labels.as_object_mut() {
                    labels.insert("kubernetes.io/metadata.name".into(), name);
                }
            });
            default_field(object, "spec", json!({"finalizers": ["kubernetes"]}));
            default_field(object, "status", json!({"phase": "Active"}));
        }
        "Secret" => {
            default_field(object, "type", json!("Opaque"));
        }
        "Event" if object.get("apiVersion").and_then(Value::as_str) == Some("v1") => {
            for field in ["eventTime", "firstTimestamp", "lastTimestamp"] {
                default_field(object, field, Value::Null);
            }
            default_field(object, "reportingComponent", json!(""));
            default_field(object, "reportingInstance", json!(""));
        }
        "CustomResourceDefinition" => {
            let names = object
                .get("spec")
                .and_then(|s| s.get("names"))
                .cloned()
                .unwrap_or_else(|| json!({}));
            default_field(
                object,
                "status",
                json!({
                    "conditions": [
                        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found"},
                        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}
                    ],
                    "acceptedNames": names,
                    "storedVersions": []
                }),
            );
        }
        "Deployment" => {
            if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
                default_field(spec, "replicas", json!(1));
            }
            default_field(object, "status", json!({}));
        }
        _ => {}
    }
}

/// What the mutating admission plugins of a default kube-apiserver add to a created `kind`,
/// after the field manager has recorded the writer's fields (so nobody owns them, as in Go):
/// for pods, `DefaultTolerationSeconds`' two tolerations and `Priority`'s `priority` and
/// `preemptionPolicy`.
pub(crate) fn admit(kind: &str, object: &mut Map<String, Value>) {
    if kind != "Pod" {
        return;
    }
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        if !spec.contains_key("tolerations") {
            spec.insert("tolerations".into(), default_tolerations().clone());
        }
        default_field(spec, "priority", json!(0));
        default_field(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
    }
}

/// What a write looks like after the API server decoded it into its Go type and encoded it
/// back (Go: `runtime.Decode` into the internal type, then encoding the v1 form), applied
/// on every create, update and patch (a dry-run update answers like
/// `DryRunnableStorage.GuaranteedUpdate`, see `objects.rs`): the empty `metadata` maps and lists that
/// `omitempty` drops (`labels: {}`, `annotations: {}`, `finalizers: []`, `ownerReferences:
/// []`), and for pods `status.podIP`/`podIPs` and `hostIP`/`hostIPs` kept in step as the
/// v1 conversion of `PodStatus` does (`pkg/apis/core/v1/conversion.go`). Differs from Go: the
/// server keeps no typed objects, so only these round-trip effects are reproduced.
pub(crate) fn normalize(kind: &str, object: &mut Map<String, Value>) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in ["labels", "annotations", "finalizers", "ownerReferences"] {
            let empty = match meta.get(field) {
                Some(Value::Object(m)) => m.is_empty(),
                Some(Value::Array(a)) => a.is_empty(),
                Some(Value::Null) => true,
                _ => false,
            };
            if empty {
                meta.remove(field);
            }
        }
    }
    if kind != "Pod" {
        return;
    }
    let Some(status) = object.get_mut("status").and_then(Value::as_object_mut) else {
        return;
    };
    for (single, plural) in [("podIP", "podIPs"), ("hostIP", "hostIPs")] {
        let first = status
            .get(plural)
            .and_then(|ips| ips.pointer("/0/ip"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        match first {
            Some(ip) => {
                status.insert(single.into(), json!(ip));
            }
            None => {
                if let Some(ip) = status
                    .get(single)
                    .and_then(Value::as_str)
                    .filter(|ip| !ip.is_empty())
                    .map(str::to_owned)
                {
                    status.insert(plural.into(), json!([{"ip": ip}]));
                }
            }
        }
    }
}

/// The tolerations the DefaultTolerationSeconds admission plugin adds, built once.
fn default_tolerations() -> &'static Value {
    static TOLERATIONS: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    TOLERATIONS.get_or_init(|| {
        json!([
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ])
    })
}

fn default_pod(object: &mut Map<String, Value>) {
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        if let Some(containers) = spec.get_mut("containers").and_then(Value::as_array_mut) {
            for c in containers.iter_mut().filter_map(Value::as_object_mut) {
                default_field(c, "resources", json!({}));
                default_field(c, "terminationMessagePath", json!("/dev/termination-log"));
                default_field(c, "terminationMessagePolicy", json!("File"));
                let latest = c.get("image").and_then(Value::as_str).is_some_and(|i| {
                    !i.rsplit('/').next().unwrap_or(i).contains(':') || i.ends_with(":latest")
                });
                let policy = if latest { "Always" } else { "IfNotPresent" };
                default_field(c, "imagePullPolicy", json!(policy));
            }
        }
        default_field(spec, "restartPolicy", json!("Always"));
        default_field(spec, "terminationGracePeriodSeconds", json!(30));
        default_field(spec, "dnsPolicy", json!("ClusterFirst"));
        default_field(spec, "securityContext", json!({}));
        default_field(spec, "schedulerName", json!("default-scheduler"));
        default_field(spec, "enableServiceLinks", json!(true));
    }
    let status = object.entry("status").or_insert_with(|| json!({}));
    if let Some(status) = status.as_object_mut() {
        default_field(status, "phase", json!("Pending"));
        default_field(status, "qosClass", json!("BestEffort"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_look_like_version_4_uuids() {
        let uid = new_uid();
        assert_eq!(uid.len(), 36);
        assert_eq!(&uid[14..15], "4");
    }

    #[test]
    fn bad_names_and_empty_containers_give_two_causes() {
        let pod = json!({"metadata": {"name": "Bad_Name"}, "spec": {"containers": []}});
        let causes = validate("Pod", &pod);
        let fields: Vec<_> = causes.iter().filter_map(|c| c.field.clone()).collect();
        assert_eq!(fields, vec!["metadata.name", "spec.containers"]);
        assert!(validate("ConfigMap", &json!({"metadata": {"name": "ok.name-1"}})).is_empty());
    }

    #[test]
    fn normalize_drops_empty_metadata_and_syncs_pod_ips() {
        let mut pod = json!({"metadata": {"name": "p", "labels": {}, "annotations": {}, "finalizers": [], "ownerReferences": []},
                             "status": {"podIP": "10.0.0.7", "hostIPs": [{"ip": "192.168.0.2"}]}});
        if let Some(m) = pod.as_object_mut() {
            normalize("Pod", m);
        }
        assert_eq!(
            pod,
            json!({"metadata": {"name": "p"},
                   "status": {"podIP": "10.0.0.7", "podIPs": [{"ip": "10.0.0.7"}],
                              "hostIP": "192.168.0.2", "hostIPs": [{"ip": "192.168.0.2"}]}})
        );
        let mut cm =
            json!({"metadata": {"name": "c", "labels": {"a": "b"}}, "status": {"podIP": "x"}});
        let before = cm.clone();
        if let Some(m) = cm.as_object_mut() {
            normalize("ConfigMap", m);
        }
        assert_eq!(cm, before, "non-empty maps and other kinds are left alone");
    }

    #[test]
    fn pods_get_the_recorded_defaults() {
        let mut pod = json!({"spec": {"containers": [{"name": "c", "image": "x/y:1.0"}]}});
        if let Some(m) = pod.as_object_mut() {
            apply_defaults("Pod", m);
        }
        assert_eq!(pod["status"]["phase"], "Pending");
        assert_eq!(
            pod["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        assert_eq!(pod["spec"]["dnsPolicy"], "ClusterFirst");
    }
}
