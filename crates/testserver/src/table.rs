//! `meta.k8s.io/v1` Tables, the server-side printing kubectl asks for with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`: port of kube-apiserver
//! `pkg/printers/internalversion/printers.go` (column definitions and `print<Kind>` cells).
//!
//! The server prints wide, as kube-apiserver's `TableConvertor` does: every column is sent,
//! and columns of priority 1 (a pod's IP, NODE, NOMINATED NODE, READINESS GATES; a
//! deployment's CONTAINERS, IMAGES, SELECTOR; ...) are the ones kubectl shows only with
//! `-o wide`. Kinds: pods, configmaps, secrets, services, namespaces, nodes, events (core and
//! `events.k8s.io/v1` alike: both go through `printEvent` on the internal Event, so an
//! events.k8s.io object is converted back to the core shape before printing), deployments,
//! leases, service accounts and RBAC bindings; every other kind gets NAME and AGE. Column descriptions are the
//! field docs of the recorded OpenAPI documents, as printers.go takes them from `SwaggerDoc()`.
//! Each row carries the object as `PartialObjectMetadata`, which is what kubectl uses for
//! `-A`'s NAMESPACE column.
//!
//! Differs from Go: kinds without a printer in printers.go that kube-apiserver prints with its
//! default convertor (NAME, CREATED AT) get NAME and AGE here, which is what custom resources
//! without printer columns show.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::defaults::{age_seconds, meta_str};
use crate::event_conversion;
use crate::openapi;
use crate::resources::ResourceInfo;
use crate::store::StoredObject;

/// A field's documentation in the recorded OpenAPI documents (`SwaggerDoc()` in Go), without
/// the enum list the OpenAPI generator appends.
fn doc(gv: &str, schema: &str, field: &str) -> String {
    let text = openapi::builtin_v3(gv)
        .and_then(openapi::Document::parsed)
        .and_then(|d| {
            d.pointer(&format!(
                "/components/schemas/{schema}/properties/{field}/description"
            ))
        })
        .and_then(Value::as_str)
        .unwrap_or_default();
    text.split("\n\nPossible enum values:")
        .next()
        .unwrap_or_default()
        .to_owned()
}

const CORE: &str = "api/v1";
const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// One `TableColumnDefinition`.
fn column(name: &str, format: &str, priority: u8, description: String) -> Value {
    json!({"name": name, "type": "string", "format": format, "description": description, "priority": priority})
}

fn text(name: &str, priority: u8, description: String) -> Value {
    column(name, "", priority, description)
}

/// `AddHandlers`: the column definitions of a kind (by group and kind).
fn columns(group: &str, kind: &str) -> Vec<Value> {
    let name = column("Name", "name", 0, doc(CORE, META, "name"));
    let age = text("Age", 0, doc(CORE, META, "creationTimestamp"));
    let core =
        |schema: &str, field: &str| doc(CORE, &format!("io.k8s.api.core.v1.{schema}"), field);
    match (group, kind) {
        ("", "Pod") => vec![
            name,
            text("Ready", 0, "The aggregate readiness state of this pod for accepting traffic.".into()),
            text("Status", 0, "The aggregate status of the containers in this pod.".into()),
            text("Restarts", 0, "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.".into()),
            age,
            text("IP", 1, core("PodStatus", "podIP")),
            text("Node", 1, core("PodSpec", "nodeName")),
            text("Nominated Node", 1, core("PodStatus", "nominatedNodeName")),
            text("Readiness Gates", 1, core("PodSpec", "readinessGates")),
        ],
        ("", "ConfigMap") => vec![name, text("Data", 0, core("ConfigMap", "data")), age],
        ("", "Secret") => vec![
            name,
            text("Type", 0, core("Secret", "type")),
            text("Data", 0, core("Secret", "data")),
            age,
        ],
        ("", "Service") => vec![
            name,
            text("Type", 0, core("ServiceSpec", "type")),
            text("Cluster-IP", 0, core("ServiceSpec", "clusterIP")),
            text("External-IP", 0, core("ServiceSpec", "externalIPs")),
            text("Port(s)", 0, core("ServiceSpec", "ports")),
            age,
            text("Selector", 1, core("ServiceSpec", "selector")),
        ],
        ("", "Namespace") => vec![name, text("Status", 0, "The status of the namespace".into()), age],
        ("", "Node") => vec![
            name,
            text("Status", 0, "The status of the node".into()),
            text("Roles", 0, "The roles of the node".into()),
            age,
            text("Version", 0, core("NodeSystemInfo", "kubeletVersion")),
            text("Internal-IP", 1, core("NodeStatus", "addresses")),
            text("External-IP", 1, core("NodeStatus", "addresses")),
            text("OS-Image", 1, core("NodeSystemInfo", "osImage")),
            text("Kernel-Version", 1, core("NodeSystemInfo", "kernelVersion")),
            text("Container-Runtime", 1, core("NodeSystemInfo", "containerRuntimeVersion")),
        ],
        // One printer for both Event APIs, as kube-apiserver prints the internal Event.
        ("" | "events.k8s.io", "Event") => vec![
            text("Last Seen", 0, core("Event", "lastTimestamp")),
            text("Type", 0, core("Event", "type")),
            text("Reason", 0, core("Event", "reason")),
            text("Object", 0, core("Event", "involvedObject")),
            text("Subobject", 1, core("ObjectReference", "fieldPath")),
            text("Source", 1, core("Event", "source")),
            text("Message", 0, core("Event", "message")),
            text("First Seen", 1, core("Event", "firstTimestamp")),
            text("Count", 1, core("Event", "count")),
            column("Name", "name", 1, doc(CORE, META, "name")),
        ],
        ("apps", "Deployment") => {
            let apps = |schema: &str, field: &str| {
                doc("apis/apps/v1", &format!("io.k8s.api.apps.v1.{schema}"), field)
            };
            vec![
                name,
                text("Ready", 0, "Number of the pod with ready state".into()),
                text("Up-to-date", 0, apps("DeploymentStatus", "updatedReplicas")),
                text("Available", 0, apps("DeploymentStatus", "availableReplicas")),
                age,
                text("Containers", 1, "Names of each container in the template.".into()),
                text("Images", 1, "Images referenced by each container in the template.".into()),
                // extensions/v1beta1's doc, which no served document holds.
                text(
                    "Selector",
                    1,
                    "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.".into(),
                ),
            ]
        }
        ("coordination.k8s.io", "Lease") => vec![
            name,
            text(
                "Holder",
                0,
                doc(
                    "apis/coordination.k8s.io/v1",
                    "io.k8s.api.coordination.v1.LeaseSpec",
                    "holderIdentity",
                ),
            ),
            age,
        ],
        ("", "ServiceAccount") => vec![name, text("Secrets", 0, core("ServiceAccount", "secrets")), age],
        (RBAC, "RoleBinding" | "ClusterRoleBinding") => {
            let what = if kind == "RoleBinding" { "roleBinding" } else { "clusterRoleBinding" };
            vec![
                name,
                text("Role", 0, doc(RBAC_V1, &format!("io.k8s.api.rbac.v1.{kind}"), "roleRef")),
                age,
                text("Users", 1, format!("Users in the {what}")),
                text("Groups", 1, format!("Groups in the {what}")),
                text("ServiceAccounts", 1, format!("ServiceAccounts in the {what}")),
            ]
        }
        // No printer: apiserver's default table convertor.
        (RBAC, "Role" | "ClusterRole") => vec![
            name,
            json!({"name": "Created At", "type": "date", "format": "",
                   "description": doc(CORE, META, "creationTimestamp"), "priority": 0}),
        ],
        _ => vec![name, age],
    }
}

const RBAC: &str = "rbac.authorization.k8s.io";
const RBAC_V1: &str = "apis/rbac.authorization.k8s.io/v1";

/// `rbac.SubjectsStrings` joined as `printRoleBinding` prints them: users, groups and
/// `namespace/name` of service accounts.
fn subjects(obj: &Value) -> [Value; 3] {
    let mut out: [Vec<String>; 3] = Default::default();
    for s in items(obj, "/subjects") {
        let name = str_at(s, "/name").to_owned();
        match str_at(s, "/kind") {
            "User" => out[0].push(name),
            "Group" => out[1].push(name),
            "ServiceAccount" => out[2].push(format!("{}/{name}", str_at(s, "/namespace"))),
            _ => {}
        }
    }
    out.map(|v| json!(v.join(", ")))
}

/// Port of apimachinery `pkg/util/duration`: `HumanDuration`, in whole seconds. Up to a second
/// in the future is clock skew (`0s`); further is `<invalid>`, as in Go.
pub(crate) fn human_age(secs: i64) -> String {
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86400);
    if secs < -1 {
        "<invalid>".to_owned()
    } else if secs < 0 {
        "0s".to_owned()
    } else if secs < 120 {
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
    } else if h < 24 * 365 * 2 {
        format!("{d}d")
    } else if h < 24 * 365 * 8 {
        let (y, dy) = (h / 24 / 365, (h / 24) % 365);
        if dy == 0 {
            format!("{y}y")
        } else {
            format!("{y}y{dy}d")
        }
    } else {
        format!("{}y", h / 24 / 365)
    }
}

/// `translateTimestampSince`: the age of a timestamp, `<unknown>` when it is absent.
fn since(timestamp: Option<&Value>) -> String {
    timestamp
        .and_then(Value::as_str)
        .and_then(age_seconds)
        .map_or_else(|| "<unknown>".to_owned(), human_age)
}

fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn int_at(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or_default()
}

fn items<'a>(obj: &'a Value, pointer: &str) -> &'a [Value] {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s.to_owned()
    }
}

/// `labels.FormatLabels`: `k=v` pairs sorted by key, `<none>` when empty.
fn format_labels(map: Option<&Value>) -> String {
    let pairs: Vec<String> = map
        .and_then(Value::as_object)
        .map(|m| {
            // serde_json maps iterate in key order.
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    or_none(&pairs.join(","))
}

/// `metav1.LabelSelectorAsSelector(...).String()`: requirements sorted by key.
fn format_selector(selector: Option<&Value>) -> String {
    let Some(selector) = selector.filter(|s| s.is_object()) else {
        return String::new();
    };
    let mut reqs: Vec<(String, String)> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), format!("{k}={}", v.as_str().unwrap_or_default())))
                .collect()
        })
        .unwrap_or_default();
    for e in items(selector, "/matchExpressions") {
        let key = str_at(e, "/key");
        let mut values: Vec<&str> = items(e, "/values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        values.sort_unstable();
        let shown = match str_at(e, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_owned(),
            "DoesNotExist" => format!("!{key}"),
            _ => return "<invalid>".into(),
        };
        reqs.push((key.to_owned(), shown));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    reqs.into_iter()
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join(",")
}

/// `printPod`: READY, STATUS (the reason a user sees), RESTARTS, then the wide columns.
fn pod_cells(obj: &Value, name: Value, age: Value) -> Vec<Value> {
    let init_specs = items(obj, "/spec/initContainers");
    let restartable = |n: &str| {
        init_specs.iter().any(|c| {
            c.get("name").and_then(Value::as_str) == Some(n)
                && c.get("restartPolicy").and_then(Value::as_str) == Some("Always")
        })
    };
    let total = items(obj, "/spec/containers").len()
        + init_specs
            .iter()
            .filter(|c| c.get("restartPolicy").and_then(Value::as_str) == Some("Always"))
            .count();
    let phase = str_at(obj, "/status/phase");
    let mut reason = if str_at(obj, "/status/reason").is_empty() {
        phase.to_owned()
    } else {
        str_at(obj, "/status/reason").to_owned()
    };
    let conditions = items(obj, "/status/conditions");
    if conditions
        .iter()
        .any(|c| str_at(c, "/type") == "PodScheduled" && str_at(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let finished = |c: &Value| str_at(c, "/lastState/terminated/finishedAt").to_owned();
    let (mut restarts, mut sidecar_restarts, mut ready) = (0i64, 0i64, 0usize);
    let (mut last_restart, mut sidecar_last_restart) = (String::new(), String::new());
    let mut initializing = false;
    for (i, c) in items(obj, "/status/initContainerStatuses")
        .iter()
        .enumerate()
    {
        restarts += int_at(c, "/restartCount");
        last_restart = last_restart.max(finished(c));
        let cname = str_at(c, "/name");
        if restartable(cname) {
            sidecar_restarts += int_at(c, "/restartCount");
            sidecar_last_restart = sidecar_last_restart.max(finished(c));
        }
        let terminated = c.pointer("/state/terminated");
        let waiting_reason = str_at(c, "/state/waiting/reason");
        if terminated.is_some() && int_at(c, "/state/terminated/exitCode") == 0 {
            continue;
        }
        if restartable(cname) && c.get("started").and_then(Value::as_bool) == Some(true) {
            if c.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        reason = if terminated.is_some() {
            let r = str_at(c, "/state/terminated/reason");
            let signal = int_at(c, "/state/terminated/signal");
            if !r.is_empty() {
                format!("Init:{r}")
            } else if signal != 0 {
                format!("Init:Signal:{signal}")
            } else {
                format!("Init:ExitCode:{}", int_at(c, "/state/terminated/exitCode"))
            }
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            format!("Init:{waiting_reason}")
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }
    let initialized = conditions
        .iter()
        .any(|c| str_at(c, "/type") == "Initialized" && str_at(c, "/status") == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = sidecar_last_restart;
        let mut has_running = false;
        for c in items(obj, "/status/containerStatuses").iter().rev() {
            restarts += int_at(c, "/restartCount");
            last_restart = last_restart.max(finished(c));
            let waiting = str_at(c, "/state/waiting/reason");
            let terminated = c.pointer("/state/terminated");
            let terminated_reason = str_at(c, "/state/terminated/reason");
            if !waiting.is_empty() {
                reason = waiting.to_owned();
            } else if terminated.is_some() && !terminated_reason.is_empty() {
                reason = terminated_reason.to_owned();
            } else if terminated.is_some() {
                let signal = int_at(c, "/state/terminated/signal");
                reason = if signal != 0 {
                    format!("Signal:{signal}")
                } else {
                    format!("ExitCode:{}", int_at(c, "/state/terminated/exitCode"))
                };
            } else if c.get("ready").and_then(Value::as_bool) == Some(true)
                && c.pointer("/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = conditions
                .iter()
                .any(|c| str_at(c, "/type") == "Ready" && str_at(c, "/status") == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.into();
        }
    }
    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        if str_at(obj, "/status/reason") == "NodeLost" {
            reason = "Unknown".into();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".into();
        }
    }
    let restarts = if restarts != 0 && !last_restart.is_empty() {
        format!(
            "{restarts} ({} ago)",
            since(Some(&Value::String(last_restart)))
        )
    } else {
        restarts.to_string()
    };
    let gates = items(obj, "/spec/readinessGates");
    let readiness = if gates.is_empty() {
        "<none>".to_owned()
    } else {
        let passing = gates
            .iter()
            .filter(|g| {
                conditions
                    .iter()
                    .find(|c| str_at(c, "/type") == str_at(g, "/conditionType"))
                    .is_some_and(|c| str_at(c, "/status") == "True")
            })
            .count();
        format!("{passing}/{}", gates.len())
    };
    vec![
        name,
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts),
        age,
        json!(or_none(str_at(obj, "/status/podIPs/0/ip"))),
        json!(or_none(str_at(obj, "/spec/nodeName"))),
        json!(or_none(str_at(obj, "/status/nominatedNodeName"))),
        json!(readiness),
    ]
}

/// `printService`.
fn service_cells(obj: &Value, name: Value, age: Value) -> Vec<Value> {
    let external: Vec<&str> = items(obj, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let external_ip = match str_at(obj, "/spec/type") {
        "ClusterIP" | "NodePort" if !external.is_empty() => external.join(","),
        "ClusterIP" | "NodePort" => "<none>".into(),
        "LoadBalancer" => {
            let mut ips: Vec<&str> = items(obj, "/status/loadBalancer/ingress")
                .iter()
                .filter_map(|i| {
                    i.get("ip")
                        .or_else(|| i.get("hostname"))
                        .and_then(Value::as_str)
                })
                .collect();
            ips.extend(external);
            if ips.is_empty() {
                "<pending>".into()
            } else {
                ips.join(",")
            }
        }
        "ExternalName" => str_at(obj, "/spec/externalName").to_owned(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = items(obj, "/spec/ports")
        .iter()
        .map(|p| {
            let (port, node_port) = (int_at(p, "/port"), int_at(p, "/nodePort"));
            let protocol = str_at(p, "/protocol");
            if node_port > 0 {
                format!("{port}:{node_port}/{protocol}")
            } else {
                format!("{port}/{protocol}")
            }
        })
        .collect();
    vec![
        name,
        json!(str_at(obj, "/spec/type")),
        json!(or_none(str_at(obj, "/spec/clusterIPs/0"))),
        json!(external_ip),
        json!(or_none(&ports.join(","))),
        age,
        json!(format_labels(obj.pointer("/spec/selector"))),
    ]
}

/// `printNode`.
fn node_cells(obj: &Value, name: Value, age: Value) -> Vec<Value> {
    let mut status: Vec<String> = items(obj, "/status/conditions")
        .iter()
        .filter(|c| str_at(c, "/type") == "Ready")
        .take(1)
        .map(|c| {
            if str_at(c, "/status") == "True" {
                "Ready"
            } else {
                "NotReady"
            }
            .to_owned()
        })
        .collect();
    if status.is_empty() {
        status.push("Unknown".into());
    }
    if obj.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled".into());
    }
    let mut roles: Vec<&str> = obj
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
                    Some(role) if !role.is_empty() => Some(role),
                    Some(_) => None,
                    None if k == "kubernetes.io/role" => v.as_str().filter(|v| !v.is_empty()),
                    None => None,
                })
                .collect()
        })
        .unwrap_or_default();
    roles.sort_unstable();
    roles.dedup();
    let address = |kind: &str| {
        items(obj, "/status/addresses")
            .iter()
            .find(|a| str_at(a, "/type") == kind)
            .map_or_else(|| "<none>".to_owned(), |a| str_at(a, "/address").to_owned())
    };
    let unknown = |p: &str| {
        let v = str_at(obj, p);
        if v.is_empty() {
            "<unknown>".to_owned()
        } else {
            v.to_owned()
        }
    };
    vec![
        name,
        json!(status.join(",")),
        json!(or_none(&roles.join(","))),
        age,
        json!(str_at(obj, "/status/nodeInfo/kubeletVersion")),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(unknown("/status/nodeInfo/osImage")),
        json!(unknown("/status/nodeInfo/kernelVersion")),
        json!(unknown("/status/nodeInfo/containerRuntimeVersion")),
    ]
}

/// `printEvent` (wide): times fall back from `firstTimestamp` to `eventTime` and from
/// `lastTimestamp` to the first time; a `series` supplies the last time and the count; a
/// singleton without a count prints 1. Takes the core shape.
fn event_cells(obj: &Value, name: Value) -> Vec<Value> {
    let first = if obj.get("firstTimestamp").is_some_and(Value::is_string) {
        since(obj.get("firstTimestamp"))
    } else {
        since(obj.get("eventTime"))
    };
    let mut last = if obj.get("lastTimestamp").is_some_and(Value::is_string) {
        since(obj.get("lastTimestamp"))
    } else {
        first.clone()
    };
    let mut count = int_at(obj, "/count");
    if obj.get("series").is_some_and(Value::is_object) {
        last = since(obj.pointer("/series/lastObservedTime"));
        count = int_at(obj, "/series/count");
    } else if count == 0 {
        count = 1;
    }
    let kind = str_at(obj, "/involvedObject/kind").to_lowercase();
    let target = match str_at(obj, "/involvedObject/name") {
        "" => kind,
        n => format!("{kind}/{n}"),
    };
    let first_non_empty = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_owned()
        } else {
            a.to_owned()
        }
    };
    let component = first_non_empty(
        str_at(obj, "/source/component"),
        str_at(obj, "/reportingComponent"),
    );
    let instance = first_non_empty(
        str_at(obj, "/source/host"),
        str_at(obj, "/reportingInstance"),
    );
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    vec![
        json!(last),
        json!(str_at(obj, "/type")),
        json!(str_at(obj, "/reason")),
        json!(target),
        json!(str_at(obj, "/involvedObject/fieldPath")),
        json!(source),
        json!(str_at(obj, "/message").trim()),
        json!(first),
        json!(count),
        name,
    ]
}

/// `printDeployment`.
fn deployment_cells(obj: &Value, name: Value, age: Value) -> Vec<Value> {
    let containers = items(obj, "/spec/template/spec/containers");
    let join = |field: &str| {
        containers
            .iter()
            .map(|c| str_at(c, field))
            .collect::<Vec<_>>()
            .join(",")
    };
    let desired = obj
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    vec![
        name,
        json!(format!(
            "{}/{desired}",
            int_at(obj, "/status/readyReplicas")
        )),
        json!(int_at(obj, "/status/updatedReplicas")),
        json!(int_at(obj, "/status/availableReplicas")),
        age,
        json!(join("/name")),
        json!(join("/image")),
        json!(format_selector(obj.pointer("/spec/selector"))),
    ]
}

/// The cells of one row, in the order of [`columns`].
fn cells(group: &str, kind: &str, obj: &Value) -> Vec<Value> {
    let name = json!(meta_str(obj, "name"));
    let age = json!(since(obj.pointer("/metadata/creationTimestamp")));
    let count = |field: &str| {
        json!(
            obj.get(field)
                .and_then(Value::as_object)
                .map_or(0, Map::len)
        )
    };
    match (group, kind) {
        ("", "Pod") => pod_cells(obj, name, age),
        ("", "ConfigMap") => {
            let n = obj
                .get("data")
                .and_then(Value::as_object)
                .map_or(0, Map::len)
                + obj
                    .get("binaryData")
                    .and_then(Value::as_object)
                    .map_or(0, Map::len);
            vec![name, json!(n), age]
        }
        ("", "Secret") => vec![name, json!(str_at(obj, "/type")), count("data"), age],
        ("", "Service") => service_cells(obj, name, age),
        ("", "Namespace") => {
            let phase = obj
                .pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or("Active");
            vec![name, json!(phase), age]
        }
        ("", "Node") => node_cells(obj, name, age),
        ("", "Event") => event_cells(obj, name),
        ("events.k8s.io", "Event") => match obj.as_object() {
            Some(map) if str_at(obj, "/apiVersion") == "events.k8s.io/v1" => {
                event_cells(&Value::Object(event_conversion::to_core(map.clone())), name)
            }
            _ => event_cells(obj, name),
        },
        ("apps", "Deployment") => deployment_cells(obj, name, age),
        ("coordination.k8s.io", "Lease") => {
            vec![name, json!(str_at(obj, "/spec/holderIdentity")), age]
        }
        ("", "ServiceAccount") => vec![name, json!(items(obj, "/secrets").len()), age],
        (RBAC, "RoleBinding" | "ClusterRoleBinding") => {
            let role = format!(
                "{}/{}",
                str_at(obj, "/roleRef/kind"),
                str_at(obj, "/roleRef/name")
            );
            let [users, groups, sas] = subjects(obj);
            vec![name, json!(role), age, users, groups, sas]
        }
        (RBAC, "Role" | "ClusterRole") => vec![
            name,
            json!(
                obj.pointer("/metadata/creationTimestamp")
                    .cloned()
                    .unwrap_or(Value::Null)
            ),
        ],
        _ => vec![name, age],
    }
}

fn row(res: &ResourceInfo, obj: &Value) -> Value {
    let metadata = obj.get("metadata").cloned().unwrap_or_else(|| json!({}));
    json!({
        "cells": cells(&res.group, &res.kind, obj),
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
        "columnDefinitions": columns(&res.group, &res.kind),
        "rows": items.iter().map(|o| row(res, o)).collect::<Vec<_>>(),
    })
}

/// A one-row Table for a single object (GET or a watch event).
pub(crate) fn object_table(res: &ResourceInfo, obj: &Value) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": meta_str(obj, "resourceVersion")},
        "columnDefinitions": columns(&res.group, &res.kind),
        "rows": [row(res, obj)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_print_like_kubectl() {
        assert_eq!(human_age(5), "5s");
        assert_eq!(human_age(-1), "0s", "a second of clock skew is now");
        assert_eq!(human_age(-2), "<invalid>");
        assert_eq!(human_age(150), "2m30s");
        assert_eq!(human_age(3 * 3600), "3h");
        assert_eq!(human_age(3 * 86400 + 3600), "3d1h");
        assert_eq!(human_age(400 * 86400), "400d");
        assert_eq!(human_age((3 * 365 + 10) * 86400), "3y10d");
        assert_eq!(human_age(9 * 365 * 86400), "9y");
    }

    #[test]
    fn pod_rows_count_ready_running_containers_and_restarts() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{}, {}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"ready": true, "restartCount": 2, "state": {"running": {}}},
                // Ready but not running (a stale status) does not count, as in printPod.
                {"ready": true, "state": {"waiting": {}}}]}});
        let c = cells("", "Pod", &pod);
        assert_eq!(
            &c[..4],
            &[json!("p"), json!("1/2"), json!("Running"), json!("2")]
        );
    }

    #[test]
    fn pod_status_shows_the_waiting_reason_and_init_progress() {
        let waiting = json!({"metadata": {"name": "p"}, "spec": {"containers": [{}]},
            "status": {"phase": "Pending", "containerStatuses": [
                {"state": {"waiting": {"reason": "ImagePullBackOff"}}}]}});
        assert_eq!(cells("", "Pod", &waiting)[2], json!("ImagePullBackOff"));
        let init = json!({"metadata": {"name": "p"},
            "spec": {"containers": [{}], "initContainers": [{"name": "i1"}, {"name": "i2"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "i1", "state": {"terminated": {"exitCode": 0}}},
                {"name": "i2", "state": {"running": {}}}]}});
        assert_eq!(cells("", "Pod", &init)[2], json!("Init:1/2"));
        let terminating = json!({"metadata": {"name": "p", "deletionTimestamp": "2020-01-01T00:00:00Z"},
            "status": {"phase": "Running"}});
        assert_eq!(cells("", "Pod", &terminating)[2], json!("Terminating"));
    }

    #[test]
    fn deployment_selectors_print_sorted_requirements() {
        let sel = json!({"matchLabels": {"b": "2", "a": "1"},
            "matchExpressions": [{"key": "c", "operator": "In", "values": ["y", "x"]},
                {"key": "0", "operator": "DoesNotExist"}]});
        assert_eq!(format_selector(Some(&sel)), "!0,a=1,b=2,c in (x,y)");
    }

    #[test]
    fn nodes_print_readiness_roles_and_addresses() {
        let node = json!({"metadata": {"name": "n", "labels": {
                "node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "edge"}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "False"}],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
                "nodeInfo": {"kubeletVersion": "v1.32.0"}}});
        let c = cells("", "Node", &node);
        assert_eq!(c[1], json!("NotReady,SchedulingDisabled"));
        assert_eq!(c[2], json!("control-plane,edge"));
        assert_eq!(c[4], json!("v1.32.0"));
        assert_eq!(&c[5..7], &[json!("10.0.0.1"), json!("<none>")]);
        assert_eq!(c[7], json!("<unknown>"));
        assert_eq!(columns("", "Node").len(), c.len());
    }

    fn ago(secs: i64) -> String {
        let t = time::OffsetDateTime::now_utc() - time::Duration::seconds(secs);
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }

    #[test]
    fn events_fall_back_to_event_time_and_series_as_print_event_does() {
        // A new-API singleton: no first/last timestamps, no count.
        let singleton = json!({"metadata": {"name": "e"}, "eventTime": ago(300),
            "firstTimestamp": null, "lastTimestamp": null, "reportingComponent": "ctl",
            "reportingInstance": "ctl-1", "involvedObject": {"kind": "Pod"}, "message": " hi "});
        let c = cells("", "Event", &singleton);
        assert_eq!(c[0], json!("5m"), "last seen is the first seen");
        assert_eq!(c[3], json!("pod"), "no name: the kind alone");
        assert_eq!(c[5], json!("ctl, ctl-1"), "source falls back to reporting*");
        assert_eq!(c[6], json!("hi"));
        assert_eq!(c[7], json!("5m"), "first seen is the event time");
        assert_eq!(c[8], json!(1), "a singleton counts once");
        // A series: last seen and count come from it.
        let series = json!({"metadata": {"name": "e"}, "eventTime": ago(600),
            "series": {"count": 4, "lastObservedTime": ago(60)},
            "source": {"component": "kubelet"}, "involvedObject": {"kind": "Node", "name": "n",
            "fieldPath": "spec"}});
        let c = cells("", "Event", &series);
        assert_eq!(
            [&c[0], &c[3], &c[4], &c[5], &c[7], &c[8]],
            [
                &json!("60s"),
                &json!("node/n"),
                &json!("spec"),
                &json!("kubelet"),
                &json!("10m"),
                &json!(4)
            ]
        );
        // No time at all.
        let bare = json!({"metadata": {"name": "e"}, "eventTime": null});
        assert_eq!(cells("", "Event", &bare)[0], json!("<unknown>"));
    }

    #[test]
    fn events_k8s_io_events_print_like_core_events() {
        assert_eq!(columns("events.k8s.io", "Event"), columns("", "Event"));
        let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "p", "fieldPath": "spec.containers{c}"},
            "source": {"component": "kubelet", "host": "n1"}, "message": "pulled",
            "count": 3, "firstTimestamp": ago(900), "lastTimestamp": ago(120),
            "reportingComponent": "", "type": "Normal", "reason": "Pulled", "eventTime": null});
        let v1 = event_conversion::to_events_v1(&core);
        let printed = cells("events.k8s.io", "Event", &v1);
        assert_eq!(printed, cells("", "Event", &core));
        assert_eq!(printed[3], json!("pod/p"));
        assert_eq!(printed[5], json!("kubelet, n1"));
        assert_eq!(printed[8], json!(3));
    }
}
