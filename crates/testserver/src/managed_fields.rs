//! Field management as kube-apiserver 1.32 does it: port of apimachinery
//! `pkg/util/managedfields/internal/` (`fieldmanager.go`, `managedfields.go`,
//! `structuredmerge.go`, `managedfieldsupdater.go`, `stripmeta.go`, `skipnonapplied.go`,
//! `buildmanagerinfo.go`, `versioncheck.go`, `conflict.go`) and of the request checks of
//! apiserver `pkg/endpoints/handlers` (`ValidatePatchOptions`, `prefixFromUserAgent`), plus
//! `managedfields/scalehandler.go` and the registry strategies' `GetResetFields`.
//!
//! Called by `objects.rs` on every write: [`update`] after a create, update or non-apply
//! patch, [`apply`] for an apply patch, [`scale_to_parent`] for a `scale` write, with the
//! reset fields of [`reset_fields`]; `api.rs` checks the PATCH options
//! ([`validate_patch_options`]) and names the manager ([`manager_or_user_agent`]).
//!
//! Data flow: a write reads `metadata.managedFields` into one [`FieldSet`] per manager
//! identifier (manager, operation, apiVersion for updates, subresource), runs
//! [`Updater`] and writes the sets back, sorted as Go sorts
//! them. [`update`] serves create, update and non-apply patches; [`apply`] serves
//! `application/apply-patch+yaml` and returns the merged object or a 409 conflict.
//!
//! ```text
//! update(live, new, request)      -> new + managedFields    (never fails: bad managedFields are dropped)
//! apply(live, config, request, force) -> merged + managedFields | 400 | 409 Conflict | 500
//! ```
//!
//! Differs from Go: the last-applied-annotation upgrade (`lastappliedmanager.go`) and the cap
//! of ten update entries (`capmanagers.go`) are not ported, because kubectl's client-side apply
//! migration and more than ten writers per object do not occur in tests; on create the empty
//! live object stands in for the kind's Go zero value through a fixed table of the structs
//! that are not pointers (`metadata`, `spec`, `status`, workload `template`s and
//! strategies, core Events' source and timestamps, and each struct's `required` fields), which
//! decides where a `.` entry appears.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::fieldpath::{self, FieldSet, Path};
use crate::schemaconv::TypeView;
use crate::status::{ApiError, StatusCause};
use crate::structured_merge::{self, Conflict, ManagedSets, Updater, VersionedSet};

/// Longest manager name. Go: `validation.FieldManagerMaxLength`.
const FIELD_MANAGER_MAX_LENGTH: usize = 128;

/// The manager the fields an object had before its first apply are given to. Go:
/// `skipnonapplied.go`.
const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// The manager of a write that names none. Go: `buildmanagerinfo.go`.
pub(crate) const UNKNOWN_MANAGER: &str = "unknown";

/// The placeholder identity of the running update. Go: `managedfieldsupdater.go`.
const CURRENT_OPERATION: &str = "current-operation";

/// `metadata.managedFields[].operation`. Port of `metav1.ManagedFieldsOperationType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Operation {
    /// Server-side apply.
    Apply,
    /// Any other write.
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `managedFields` entry without its fields. Port of `metav1.ManagedFieldsEntry` as the
/// field manager keys it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    manager: String,
    operation: Operation,
    api_version: String,
    time: Option<String>,
    subresource: String,
}

impl Entry {
    /// The key of this entry among the sets. Port of `BuildManagerIdentifier`: the entry as
    /// JSON without time and fields, and without apiVersion for appliers (so an applier keeps
    /// one entry across versions).
    fn identifier(&self) -> String {
        let mut s = String::from("{");
        let field = |s: &mut String, name: &str, v: &str| {
            if v.is_empty() {
                return;
            }
            if s.len() > 1 {
                s.push(',');
            }
            fieldpath::write_json_string(s, name);
            s.push(':');
            fieldpath::write_json_string(s, v);
        };
        field(&mut s, "manager", &self.manager);
        field(&mut s, "operation", self.operation.as_str());
        if self.operation == Operation::Update {
            field(&mut s, "apiVersion", &self.api_version);
        }
        field(&mut s, "subresource", &self.subresource);
        s.push('}');
        s
    }

    /// How a conflict names this manager. Port of `printManager` (the identifier carries no
    /// time, so the `at <time>` form does not occur).
    fn describe(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            s = format!("{s} with subresource {:?}", self.subresource);
        }
        if self.operation == Operation::Update {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }
}

/// The decoded `managedFields`: sets and entry metadata by identifier. Port of
/// `internal.Managed`.
#[derive(Clone, Debug, Default)]
struct Managed {
    sets: ManagedSets,
    entries: BTreeMap<String, Entry>,
}

/// Reads `metadata.managedFields`. Port of `decodeManagedFields`, with its messages.
fn decode(obj: &Value) -> Result<Managed, String> {
    let mut managed = Managed::default();
    let Some(list) = obj.pointer("/metadata/managedFields") else {
        return Ok(managed);
    };
    let Some(list) = list.as_array() else {
        return Err("managedFields must be a list".into());
    };
    for (i, e) in list.iter().enumerate() {
        let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let operation = match s("operation").as_str() {
            "Apply" => Operation::Apply,
            "Update" => Operation::Update,
            _ => return Err("operation must be `Apply` or `Update`".into()),
        };
        let api_version = s("apiVersion");
        if api_version.is_empty() {
            return Err("apiVersion must not be empty".into());
        }
        match s("fieldsType").as_str() {
            "FieldsV1" => {}
            "" => return Err(format!("missing fieldsType in managed fields entry {i}")),
            other => {
                return Err(format!(
                    "invalid fieldsType {other:?} in managed fields entry {i}"
                ));
            }
        }
        let set = match e.get("fieldsV1") {
            Some(v) => FieldSet::from_fields_v1(v)
                .map_err(|err| format!("error decoding versioned set: {err}"))?,
            None => FieldSet::new(),
        };
        let entry = Entry {
            manager: s("manager"),
            operation,
            api_version: api_version.clone(),
            time: e.get("time").and_then(Value::as_str).map(str::to_owned),
            subresource: s("subresource"),
        };
        let id = entry.identifier();
        managed.sets.insert(
            id.clone(),
            VersionedSet {
                set,
                api_version,
                applied: operation == Operation::Apply,
            },
        );
        managed.entries.insert(id, entry);
    }
    Ok(managed)
}

/// Writes the sets as `metadata.managedFields` (removed when there are none). Port of
/// `encodeManagedFields` and `sortEncodedManagedFields`: by operation (Apply first), time,
/// manager, apiVersion, subresource.
fn encode(obj: &mut Value, managed: &Managed) {
    let mut entries: Vec<(&Entry, &VersionedSet)> = managed
        .sets
        .iter()
        .filter_map(|(id, vs)| Some((managed.entries.get(id)?, vs)))
        .collect();
    let seconds = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
            .map_or(0, OffsetDateTime::unix_timestamp)
    };
    entries.sort_by(|(p, pv), (q, qv)| {
        p.operation
            .cmp(&q.operation)
            .then_with(|| seconds(&p.time).cmp(&seconds(&q.time)))
            .then_with(|| p.manager.cmp(&q.manager))
            .then_with(|| pv.api_version.cmp(&qv.api_version))
            .then_with(|| p.subresource.cmp(&q.subresource))
    });
    let list: Vec<Value> = entries
        .into_iter()
        .map(|(e, vs)| {
            let mut m = Map::new();
            m.insert("manager".into(), json!(e.manager));
            m.insert("operation".into(), json!(e.operation.as_str()));
            m.insert("apiVersion".into(), json!(vs.api_version));
            if let Some(t) = &e.time {
                m.insert("time".into(), json!(t));
            }
            m.insert("fieldsType".into(), json!("FieldsV1"));
            let fields = serde_json::from_str(&vs.set.to_fields_v1()).unwrap_or(Value::Null);
            m.insert("fieldsV1".into(), fields);
            if !e.subresource.is_empty() {
                m.insert("subresource".into(), json!(e.subresource));
            }
            Value::Object(m)
        })
        .collect();
    set_managed_fields(obj, (!list.is_empty()).then_some(Value::Array(list)));
}

fn set_managed_fields(obj: &mut Value, list: Option<Value>) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    match list {
        Some(l) => {
            meta.insert("managedFields".into(), l);
        }
        None => {
            meta.remove("managedFields");
        }
    }
}

fn without_managed_fields(obj: &Value) -> Value {
    let mut o = obj.clone();
    set_managed_fields(&mut o, None);
    o
}

/// The fields no manager owns. Port of `stripmeta.go`'s set.
fn strip_set() -> FieldSet {
    let meta = |f: &str| Path::fields(&["metadata", f]);
    FieldSet::from_paths(&[
        Path::fields(&["apiVersion"]),
        Path::fields(&["kind"]),
        Path::fields(&["metadata"]),
        meta("name"),
        meta("namespace"),
        meta("creationTimestamp"),
        meta("selfLink"),
        meta("uid"),
        meta("clusterName"),
        meta("generation"),
        meta("managedFields"),
        meta("resourceVersion"),
    ])
}

/// Removes the strip set from `id`'s set, dropping it if nothing is left. Port of
/// `stripMetaManager.stripFields`.
fn strip(managed: &mut Managed, id: &str) {
    if let Some(vs) = managed.sets.get_mut(id) {
        vs.set = vs.set.difference(&strip_set());
        if vs.set.is_empty() {
            managed.sets.remove(id);
        }
    }
}

/// The live object of a create: the kind's Go zero value as the server serializes it, so
/// that structs that always exist get no `.` entry. Non-pointer structs come from a fixed
/// table (see the module docs).
fn empty_object(tv: &TypeView<'_>, kind: &str) -> Value {
    let mut obj = Map::new();
    for top in ["metadata", "spec", "status"] {
        if tv.is_named_field(top) {
            obj.insert(top.into(), json!({}));
        }
    }
    let workload_spec = match kind {
        "Deployment" => Some(
            json!({"template": {"metadata": {"creationTimestamp": null}, "spec": {}}, "strategy": {}}),
        ),
        "StatefulSet" | "DaemonSet" => Some(
            json!({"template": {"metadata": {"creationTimestamp": null}, "spec": {}}, "updateStrategy": {}}),
        ),
        "ReplicaSet" | "Job" | "ReplicationController" => {
            Some(json!({"template": {"metadata": {"creationTimestamp": null}, "spec": {}}}))
        }
        _ => None,
    };
    if let (Some(spec), true) = (workload_spec, obj.contains_key("spec")) {
        obj.insert("spec".into(), spec);
    }
    if kind == "Event" && tv.is_named_field("involvedObject") {
        // core/v1 Event: a struct and time fields without omitempty.
        for (k, v) in [
            ("source", json!({})),
            ("eventTime", Value::Null),
            ("firstTimestamp", Value::Null),
            ("lastTimestamp", Value::Null),
            ("reportingComponent", json!("")),
            ("reportingInstance", json!("")),
        ] {
            obj.insert(k.into(), v);
        }
    }
    let mut obj = Value::Object(obj);
    fill_required(&mut obj, tv);
    obj
}

/// Sets the `required` fields (no `omitempty` in Go) that the skeleton lacks to `null`, as a
/// zero struct serializes them: `containers: null` in a zero PodSpec.
fn fill_required(v: &mut Value, tv: &TypeView<'_>) {
    let Some(m) = v.as_object_mut() else {
        return;
    };
    for field in tv.required_fields() {
        m.entry(field).or_insert(Value::Null);
    }
    for (k, child) in m.iter_mut() {
        if let Some(child_tv) = tv.field(k) {
            fill_required(child, &child_tv);
        }
    }
}

/// What a write is, for field management.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request<'a> {
    /// The field manager: `?fieldManager=`, else [`manager_or_user_agent`].
    pub(crate) manager: &'a str,
    /// The object's `apiVersion` (`apps/v1`), recorded in the entry.
    pub(crate) api_version: &'a str,
    /// The object's kind.
    pub(crate) kind: &'a str,
    /// `status`, `scale`, or empty for the main resource.
    pub(crate) subresource: &'a str,
    /// The entry's time, RFC 3339 whole seconds (`defaults::now_rfc3339()`).
    pub(crate) now: &'a str,
    /// Fields the request's strategy resets, owned by nobody (`status` on the main resource
    /// of a kind with a status subresource). Go: `ResetFieldsStrategy.GetResetFields`.
    pub(crate) reset_fields: Option<&'a FieldSet>,
}

impl Request<'_> {
    fn updater(&self) -> (TypeView<'static>, Updater<'_>) {
        let tv = TypeView::for_kind(self.api_version, self.kind);
        (
            tv,
            Updater {
                tv,
                reset_fields: self.reset_fields,
            },
        )
    }

    /// The entry this request writes. Port of `buildManagerInfo`: an empty manager (a request
    /// with neither `fieldManager` nor a User-Agent) is recorded as `unknown`.
    fn entry(&self, operation: Operation) -> Entry {
        let manager = if self.manager.is_empty() {
            UNKNOWN_MANAGER
        } else {
            self.manager
        };
        Entry {
            manager: manager.to_owned(),
            operation,
            api_version: self.api_version.to_owned(),
            time: Some(self.now.to_owned()),
            subresource: self.subresource.to_owned(),
        }
    }
}

/// `metadata.managedFields` of `new` after a create (`live` is `None`), update or non-apply
/// patch by `req.manager`. Port of `FieldManager.UpdateNoErrors`: the writer owns what it
/// changed (merged into its earlier `Update` entry for the same apiVersion and subresource,
/// with a new time), others lose it, empty entries go. An object updated while it has no
/// managedFields keeps none, as in Go; managedFields the new object sets itself are taken if
/// they decode and this is not a subresource write, else the live object's are kept. If
/// anything fails the result has no managedFields (Go logs and strips them too).
pub(crate) fn update(live: Option<&Value>, mut new: Value, req: &Request<'_>) -> Value {
    match try_update(live, &new, req) {
        Ok(managed) => encode(&mut new, &managed),
        Err(err) => {
            tracing::error!(error = %err, "failed to update managedFields");
            set_managed_fields(&mut new, None);
        }
    }
    new
}

fn try_update(live: Option<&Value>, new: &Value, req: &Request<'_>) -> Result<Managed, String> {
    let mut managed = match decode(new) {
        Ok(m) if !m.sets.is_empty() && req.subresource.is_empty() => m,
        _ => match live {
            Some(l) => decode(l).map_err(|e| format!("failed to decode managed fields: {e}"))?,
            None => Managed::default(),
        },
    };
    if managed.sets.is_empty() && live.is_some() {
        // skipnonapplied.go: an existing object without managedFields is not tracked.
        return Ok(managed);
    }
    let (tv, updater) = req.updater();
    let live = live.map_or_else(|| empty_object(&tv, req.kind), without_managed_fields);
    let new = without_managed_fields(new);
    let entry = req.entry(Operation::Update);
    let id = entry.identifier();
    managed.sets = updater
        .update(
            &live,
            &new,
            req.api_version,
            &managed.sets,
            CURRENT_OPERATION,
        )
        .map_err(|e| e.to_string())?;
    strip(&mut managed, CURRENT_OPERATION);
    if let Some(vs) = managed.sets.remove(CURRENT_OPERATION) {
        let set = match managed.sets.get(&id) {
            Some(previous) => vs.set.union(&previous.set),
            None => vs.set,
        };
        managed.sets.insert(
            id.clone(),
            VersionedSet {
                set,
                api_version: req.api_version.to_owned(),
                applied: false,
            },
        );
        managed.entries.insert(id, entry);
    }
    Ok(managed)
}

/// Server-side apply of `config` by `req.manager` onto `live` (`None` creates). Port of
/// `FieldManager.Apply`: returns the merged object with its managedFields (an `Apply` entry
/// for the manager), or 400 for a configuration of another kind or one carrying
/// managedFields, 409 `Conflict` naming each field another manager owns (unless `force`,
/// which takes them), 500 for an object that does not fit its schema (duplicate list keys).
///
/// The result still needs the write path's defaulting and validation, as in Go.
pub(crate) fn apply(
    live: Option<&Value>,
    config: &Value,
    req: &Request<'_>,
    force: bool,
) -> Result<Value, ApiError> {
    // versioncheck.go
    let config_av = config
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let config_kind = config.get("kind").and_then(Value::as_str).unwrap_or("");
    if config_av != req.api_version || config_kind != req.kind {
        let (group, version) = config_av.rsplit_once('/').unwrap_or(("", config_av));
        return Err(ApiError::bad_request(format!(
            "invalid object type: {group}/{version}, Kind={config_kind}"
        )));
    }
    // structuredmerge.go
    if config.pointer("/metadata/managedFields").is_some() {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    let (tv, updater) = req.updater();
    let internal = |what: &str, e: &dyn std::fmt::Display| {
        ApiError::new(
            500,
            "InternalError",
            format!("Internal error occurred: {what}: {e}"),
        )
    };
    let mut managed = match live {
        Some(l) => decode(l).map_err(|e| internal("failed to decode managed fields", &e))?,
        None => Managed::default(),
    };
    let live = live.map_or_else(|| empty_object(&tv, req.kind), without_managed_fields);
    if managed.sets.is_empty() {
        // skipnonapplied.go: what the object holds before its first apply belongs to a
        // placeholder updater, so that the first applier conflicts with it.
        let first = Request {
            manager: BEFORE_FIRST_APPLY,
            ..*req
        };
        managed = try_update(None, &live, &first)
            .map_err(|e| internal("failed to create manager for existing fields", &e))?;
    }
    let entry = req.entry(Operation::Apply);
    let id = entry.identifier();
    let (merged, sets) =
        match updater.apply(&live, config, req.api_version, &managed.sets, &id, force) {
            Ok(r) => r,
            Err(structured_merge::Error::Conflicts(c)) => return Err(conflict_error(&c, &managed)),
            Err(e) => {
                return Err(internal("failed to create typed patch object", &e));
            }
        };
    managed.sets = sets;
    let previous_time = managed.entries.get(&id).and_then(|e| e.time.clone());
    managed.entries.insert(
        id.clone(),
        Entry {
            time: if merged.is_some() {
                entry.time.clone()
            } else {
                previous_time
            },
            ..entry
        },
    );
    strip(&mut managed, &id);
    let mut out = merged.unwrap_or(live);
    encode(&mut out, &managed);
    Ok(out)
}

/// The fields a write's strategy resets, which its manager therefore never owns. Port of
/// `GetResetFields` of the strategies of pods, deployments, namespaces, nodes, services and
/// custom resources: the main resource of a kind with a status subresource resets `status`;
/// the `status` subresource resets `spec` (and, for pods, `metadata.deletionTimestamp` and
/// `metadata.ownerReferences`; for deployments, `metadata.labels`). Differs from Go: the
/// strategies of every kind with a status subresource are read as these, since the other
/// kinds served reset the same paths or none.
pub(crate) fn reset_fields(kind: &str, has_status: bool, subresource: &str) -> FieldSet {
    match subresource {
        "" if has_status => FieldSet::from_paths(&[Path::fields(&["status"])]),
        "status" => {
            let mut paths = vec![Path::fields(&["spec"])];
            match kind {
                "Pod" => paths.extend([
                    Path::fields(&["metadata", "deletionTimestamp"]),
                    Path::fields(&["metadata", "ownerReferences"]),
                ]),
                "Deployment" => paths.push(Path::fields(&["metadata", "labels"])),
                _ => {}
            }
            FieldSet::from_paths(&paths)
        }
        _ => FieldSet::new(),
    }
}

/// `metadata.managedFields` of a workload after a write of `spec.replicas` through its
/// `scale` subresource by `req.manager` (`operation` Update, or Apply for an apply patch).
/// Port of `ScaleHandler.ToParent` (`managedfields/scalehandler.go`) around the Scale's own
/// field manager: when the replicas change, the writer's entry (`subresource: scale`,
/// `apiVersion` the workload's) owns `spec.replicas` and every other entry loses it; the
/// entry carries no `time`, as Go's takes the time of a parent entry of the same identifier,
/// which a scale entry never has. Unchanged replicas leave managedFields as they were.
/// Differs from Go: an apply through `scale` takes `spec.replicas` without conflict checks.
pub(crate) fn scale_to_parent(
    live: &Value,
    mut new: Value,
    req: &Request<'_>,
    operation: Operation,
) -> Value {
    let replicas = Path::fields(&["spec", "replicas"]);
    if live.pointer("/spec/replicas") == new.pointer("/spec/replicas") {
        return new;
    }
    let Ok(mut managed) = decode(live) else {
        // As in `update`: managedFields that do not decode are dropped.
        set_managed_fields(&mut new, None);
        return new;
    };
    if managed.sets.is_empty() {
        return new;
    }
    let entry = Entry {
        time: None,
        ..req.entry(operation)
    };
    let id = entry.identifier();
    let only_replicas = FieldSet::from_paths(std::slice::from_ref(&replicas));
    managed.sets.retain(|other, vs| {
        if *other != id && vs.set.has(&replicas.0) {
            vs.set = vs.set.difference(&only_replicas);
        }
        !vs.set.is_empty()
    });
    managed.sets.insert(
        id.clone(),
        VersionedSet {
            set: only_replicas,
            api_version: req.api_version.to_owned(),
            applied: operation == Operation::Apply,
        },
    );
    managed.entries.insert(id, entry);
    encode(&mut new, &managed);
    new
}

/// The 409 for apply conflicts. Port of `NewConflictError` and `getConflictMessage`.
fn conflict_error(conflicts: &[Conflict], managed: &Managed) -> ApiError {
    let describe = |id: &str| {
        managed
            .entries
            .get(id)
            .map_or_else(|| format!("{id:?}"), Entry::describe)
    };
    let message = match conflicts {
        [one] => format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            describe(&one.manager),
            one.path
        ),
        _ => {
            let mut by_manager: BTreeMap<&str, Vec<&Path>> = BTreeMap::new();
            for c in conflicts {
                by_manager.entry(&c.manager).or_default().push(&c.path);
            }
            let mut lines = Vec::new();
            for (manager, paths) in by_manager {
                lines.push(format!("conflicts with {}:", describe(manager)));
                lines.extend(paths.iter().map(|p| format!("- {p}")));
            }
            format!(
                "Apply failed with {} conflicts: {}",
                conflicts.len(),
                lines.join("\n")
            )
        }
    };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", describe(&c.manager)),
                "field": c.path.to_string(),
            })
        })
        .collect();
    let mut err = ApiError::new(409, "Conflict", message);
    err.details = Some(json!({ "causes": causes }));
    err
}

/// Checks `fieldManager` and `force` of a PATCH. Port of `ValidatePatchOptions` (the
/// manager and force rules; dryRun and fieldValidation are checked elsewhere): apply needs a
/// manager, other patches may not carry `force` (even `false`), a manager is at most 128
/// bytes. A 422 about `PatchOptions.meta.k8s.io`.
pub(crate) fn validate_patch_options(
    is_apply: bool,
    field_manager: &str,
    force: Option<bool>,
) -> Result<(), ApiError> {
    let mut causes = Vec::new();
    if !is_apply && force.is_some() {
        causes.push(StatusCause {
            reason: "FieldValueForbidden".into(),
            message: "Forbidden: may not be specified for non-apply patch".into(),
            field: Some("force".into()),
        });
    }
    if is_apply && field_manager.is_empty() {
        causes.push(StatusCause {
            reason: "FieldValueRequired".into(),
            message: "Required value: is required for apply patch".into(),
            field: Some("fieldManager".into()),
        });
    }
    if field_manager.len() > FIELD_MANAGER_MAX_LENGTH {
        causes.push(StatusCause {
            reason: "FieldValueTooLong".into(),
            message: format!("Too long: may not be more than {FIELD_MANAGER_MAX_LENGTH} bytes"),
            field: Some("fieldManager".into()),
        });
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "meta.k8s.io",
            "PatchOptions",
            "",
            &causes,
        ))
    }
}

/// The manager of a write: `?fieldManager=` if given, else the User-Agent up to its first
/// `/`, without unprintable characters, cut to 128 bytes. Port of `managerOrUserAgent` and
/// `prefixFromUserAgent` (create.go).
pub(crate) fn manager_or_user_agent(field_manager: &str, user_agent: &str) -> String {
    if !field_manager.is_empty() {
        return field_manager.to_owned();
    }
    let prefix = user_agent.split('/').next().unwrap_or("");
    let mut out = String::new();
    for c in prefix.chars().filter(|c| is_print(*c)) {
        if out.len() + c.len_utf8() > FIELD_MANAGER_MAX_LENGTH {
            break;
        }
        out.push(c);
    }
    out
}

/// Go's `unicode.IsPrint`: graphic characters and the ASCII space only.
fn is_print(c: char) -> bool {
    c == ' ' || !(c.is_control() || c.is_whitespace() || ('\u{200b}'..='\u{200f}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: &str = "2025-01-01T00:00:00Z";
    const T2: &str = "2025-01-01T00:00:10Z";

    fn req<'a>(manager: &'a str, now: &'a str) -> Request<'a> {
        Request {
            manager,
            api_version: "apps/v1",
            kind: "Deployment",
            subresource: "",
            now,
            reset_fields: None,
        }
    }

    fn deployment(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "ns", "uid": "u1"}, "spec": spec})
    }

    fn entries(obj: &Value) -> Vec<(String, String, String)> {
        obj.pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|e| {
                let s = |k: &str| e[k].as_str().unwrap_or("").to_owned();
                let fields = FieldSet::from_fields_v1(&e["fieldsV1"])
                    .expect("valid")
                    .to_fields_v1();
                (s("manager"), s("operation"), fields)
            })
            .collect()
    }

    fn owner_of(obj: &Value, path: &Path) -> Vec<String> {
        obj["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| {
                FieldSet::from_fields_v1(&e["fieldsV1"])
                    .expect("valid")
                    .has(&path.0)
            })
            .map(|e| e["manager"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    fn replicas() -> Path {
        Path::fields(&["spec", "replicas"])
    }

    #[test]
    fn create_gives_every_field_to_the_creator_without_server_metadata() {
        let obj = deployment(json!({"replicas": 1}));
        let out = update(None, obj, &req("a", T1));
        assert_eq!(
            entries(&out),
            vec![(
                "a".into(),
                "Update".into(),
                r#"{"f:spec":{"f:replicas":{}}}"#.into()
            )]
        );
        assert_eq!(out["metadata"]["managedFields"][0]["time"], json!(T1));
        assert_eq!(
            out["metadata"]["managedFields"][0]["apiVersion"],
            json!("apps/v1")
        );
    }

    #[test]
    fn create_marks_new_maps_and_items_but_not_zero_value_structs() {
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "labels": {"app": "x"}},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        let out = update(None, obj, &req("a", T1));
        assert_eq!(
            entries(&out)[0].2,
            r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:image":{},"f:name":{}}}}}}}"#
        );
    }

    /// Creating the recorded object gives the recorded managedFields, byte for byte.
    #[test]
    fn create_reproduces_recorded_managed_fields() {
        let fixtures = [
            include_str!(
                "../tests/fixtures/kube-apiserver-1.32-field-validation/create-pod-field-validation-default.json"
            ),
            include_str!("../tests/fixtures/kube-apiserver-1.32-events/create-event.json"),
            include_str!("../tests/fixtures/kube-apiserver-1.32-smp/smp-env-merge-by-name.json"),
            include_str!(
                "../tests/fixtures/kube-apiserver-1.32-smp/smp-ports-merge-by-container-port.json"
            ),
        ];
        let status = FieldSet::from_paths(&[Path::fields(&["status"])]);
        for text in fixtures {
            let fixture: Value = serde_json::from_str(text).expect("fixture");
            let body = &fixture["response"]["body"];
            let recorded = &body["metadata"]["managedFields"][0];
            let (api_version, kind) = (
                body["apiVersion"].as_str().unwrap_or(""),
                body["kind"].as_str().unwrap_or(""),
            );
            let r = Request {
                manager: recorded["manager"].as_str().unwrap_or(""),
                api_version,
                kind,
                subresource: "",
                now: recorded["time"].as_str().unwrap_or(""),
                reset_fields: body.get("status").map(|_| &status),
            };
            let mut new = without_managed_fields(body);
            if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut)
                && kind == "Pod"
            {
                // Set by admission plugins (Priority, DefaultTolerationSeconds) after the
                // field manager ran, so nobody owns them.
                for f in ["priority", "preemptionPolicy", "tolerations"] {
                    spec.remove(f);
                }
            }
            let out = update(None, new, &r);
            let mine = &out["metadata"]["managedFields"];
            assert_eq!(mine.as_array().map(Vec::len), Some(1), "{kind}");
            assert_eq!(
                FieldSet::from_fields_v1(&mine[0]["fieldsV1"])
                    .expect("valid")
                    .to_fields_v1(),
                FieldSet::from_fields_v1(&recorded["fieldsV1"])
                    .expect("valid")
                    .to_fields_v1(),
                "{kind}"
            );
            assert_eq!(&mine[0], recorded, "{kind}");
        }
    }

    #[test]
    fn update_by_another_manager_takes_only_the_field_it_changed() {
        let created = update(
            None,
            deployment(json!({"replicas": 1, "paused": false})),
            &req("a", T1),
        );
        let mut changed = created.clone();
        changed["spec"]["replicas"] = json!(3);
        let out = update(Some(&created), changed, &req("b", T2));
        assert_eq!(owner_of(&out, &replicas()), vec!["b".to_string()]);
        assert_eq!(
            owner_of(&out, &Path::fields(&["spec", "paused"])),
            vec!["a".to_string()]
        );
        // Sorted by time: a (T1) before b (T2).
        let managers: Vec<String> = entries(&out).into_iter().map(|e| e.0).collect();
        assert_eq!(managers, vec!["a", "b"]);
    }

    #[test]
    fn an_update_that_changes_nothing_keeps_the_old_time_and_adds_no_entry() {
        let created = update(None, deployment(json!({"replicas": 1})), &req("a", T1));
        let out = update(Some(&created), created.clone(), &req("b", T2));
        assert_eq!(entries(&out).len(), 1);
        assert_eq!(out["metadata"]["managedFields"][0]["time"], json!(T1));
    }

    #[test]
    fn an_update_whose_owner_loses_everything_drops_the_entry() {
        let created = update(None, deployment(json!({"replicas": 1})), &req("a", T1));
        let mut changed = created.clone();
        changed["spec"]["replicas"] = json!(2);
        let out = update(Some(&created), changed, &req("b", T2));
        let managers: Vec<String> = entries(&out).into_iter().map(|e| e.0).collect();
        assert_eq!(managers, vec!["b"]);
    }

    #[test]
    fn objects_without_managed_fields_stay_untracked_on_update() {
        let live = deployment(json!({"replicas": 1}));
        let mut changed = live.clone();
        changed["spec"]["replicas"] = json!(2);
        let out = update(Some(&live), changed, &req("b", T2));
        assert!(out["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn undecodable_managed_fields_are_dropped_on_update() {
        let mut live = update(None, deployment(json!({"replicas": 1})), &req("a", T1));
        live["metadata"]["managedFields"][0]["fieldsType"] = json!("FieldsV2");
        let out = update(Some(&live), live.clone(), &req("b", T2));
        assert!(out["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn apply_creates_with_an_apply_entry() {
        let cfg = deployment(json!({"replicas": 2}));
        let out = apply(None, &cfg, &req("a", T1), false).expect("applies");
        assert_eq!(out["spec"]["replicas"], json!(2));
        assert_eq!(
            entries(&out),
            vec![(
                "a".into(),
                "Apply".into(),
                r#"{"f:spec":{"f:replicas":{}}}"#.into()
            )]
        );
        assert_eq!(out["metadata"]["managedFields"][0]["time"], json!(T1));
    }

    #[test]
    fn a_second_applier_of_the_same_field_conflicts() {
        let live = apply(
            None,
            &deployment(json!({"replicas": 2})),
            &req("a", T1),
            false,
        )
        .expect("first apply");
        let err = apply(
            Some(&live),
            &deployment(json!({"replicas": 3})),
            &req("b", T2),
            false,
        )
        .expect_err("conflict");
        assert_eq!(err.code, 409);
        assert_eq!(err.reason, "Conflict");
        assert_eq!(
            err.message,
            r#"Apply failed with 1 conflict: conflict with "a": .spec.replicas"#
        );
        assert_eq!(
            err.details,
            Some(json!({"causes": [{"reason": "FieldManagerConflict",
                "message": "conflict with \"a\"", "field": ".spec.replicas"}]}))
        );
    }

    #[test]
    fn applying_the_same_value_another_manager_owns_is_shared_not_a_conflict() {
        let live = apply(
            None,
            &deployment(json!({"replicas": 2})),
            &req("a", T1),
            false,
        )
        .expect("first apply");
        let out = apply(
            Some(&live),
            &deployment(json!({"replicas": 2})),
            &req("b", T2),
            false,
        )
        .expect("same value");
        let mut owners = owner_of(&out, &replicas());
        owners.sort();
        assert_eq!(owners, vec!["a", "b"]);
        // Nothing changed, so b's entry has no time (Go sets it only when the object changes)
        // and sorts first.
        assert_eq!(out["metadata"]["managedFields"][0]["manager"], json!("b"));
        assert!(out["metadata"]["managedFields"][0].get("time").is_none());
    }

    #[test]
    fn conflicts_with_updaters_name_their_api_version_and_group_by_manager() {
        let created = update(
            None,
            deployment(json!({"replicas": 1, "paused": false, "minReadySeconds": 1})),
            &req("kubectl-edit", T1),
        );
        let err = apply(
            Some(&created),
            &deployment(json!({"replicas": 3, "paused": true})),
            &req("a", T2),
            false,
        )
        .expect_err("conflicts");
        assert_eq!(
            err.message,
            "Apply failed with 2 conflicts: conflicts with \"kubectl-edit\" using apps/v1:\n- .spec.paused\n- .spec.replicas"
        );
        assert_eq!(
            err.details
                .as_ref()
                .and_then(|d| d.pointer("/causes/0/message")),
            Some(&json!("conflict with \"kubectl-edit\" using apps/v1"))
        );
    }

    #[test]
    fn force_moves_conflicting_fields_to_the_applier() {
        let live = apply(
            None,
            &deployment(json!({"replicas": 2, "paused": false})),
            &req("a", T1),
            false,
        )
        .expect("first apply");
        let out = apply(
            Some(&live),
            &deployment(json!({"replicas": 3})),
            &req("b", T2),
            true,
        )
        .expect("forced");
        assert_eq!(out["spec"]["replicas"], json!(3));
        assert_eq!(owner_of(&out, &replicas()), vec!["b"]);
        assert_eq!(
            owner_of(&out, &Path::fields(&["spec", "paused"])),
            vec!["a"]
        );
    }

    #[test]
    fn a_field_the_applier_stops_applying_is_removed() {
        let live = apply(
            None,
            &deployment(json!({"replicas": 2, "paused": true})),
            &req("a", T1),
            false,
        )
        .expect("first apply");
        let out = apply(
            Some(&live),
            &deployment(json!({"replicas": 2})),
            &req("a", T2),
            false,
        )
        .expect("second apply");
        assert!(out["spec"].get("paused").is_none(), "{out}");
        assert_eq!(out["spec"]["replicas"], json!(2));
    }

    #[test]
    fn a_field_another_manager_took_over_is_kept_when_the_applier_drops_it() {
        let live = apply(
            None,
            &deployment(json!({"replicas": 2, "paused": true})),
            &req("a", T1),
            false,
        )
        .expect("first apply");
        let mut changed = live.clone();
        changed["spec"]["paused"] = json!(false);
        let updated = update(Some(&live), changed, &req("b", T2));
        let out = apply(
            Some(&updated),
            &deployment(json!({"replicas": 2})),
            &req("a", T2),
            false,
        )
        .expect("second apply");
        assert_eq!(out["spec"]["paused"], json!(false));
        assert_eq!(
            owner_of(&out, &Path::fields(&["spec", "paused"])),
            vec!["b"]
        );
    }

    #[test]
    fn a_field_shared_with_another_applier_survives_one_of_them_dropping_it() {
        let live = apply(
            None,
            &deployment(json!({"replicas": 2, "paused": true})),
            &req("a", T1),
            false,
        )
        .expect("a applies");
        let live = apply(
            Some(&live),
            &deployment(json!({"paused": true})),
            &req("b", T1),
            false,
        )
        .expect("b shares paused");
        let out = apply(
            Some(&live),
            &deployment(json!({"replicas": 2})),
            &req("a", T2),
            false,
        )
        .expect("a drops paused");
        assert_eq!(out["spec"]["paused"], json!(true));
        assert_eq!(
            owner_of(&out, &Path::fields(&["spec", "paused"])),
            vec!["b"]
        );
    }

    #[test]
    fn existing_fields_belong_to_before_first_apply() {
        let live = deployment(json!({"replicas": 1}));
        let err = apply(
            Some(&live),
            &deployment(json!({"replicas": 3})),
            &req("a", T2),
            false,
        )
        .expect_err("conflict with the placeholder");
        assert_eq!(
            err.message,
            r#"Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas"#
        );
    }

    fn container_spec(containers: Value) -> Value {
        deployment(json!({"template": {"spec": {"containers": containers}}}))
    }

    #[test]
    fn containers_and_ports_merge_by_their_keys() {
        let live = apply(
            None,
            &container_spec(json!([{"name": "a", "image": "x",
                "ports": [{"containerPort": 80, "protocol": "TCP"}]}])),
            &req("a", T1),
            false,
        )
        .expect("a applies");
        let out = apply(
            Some(&live),
            &container_spec(json!([
                {"name": "a", "ports": [{"containerPort": 80, "protocol": "UDP"}]},
                {"name": "b", "image": "y"}])),
            &req("b", T2),
            false,
        )
        .expect("b adds a port and a container");
        let containers = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["name"], json!("a"));
        assert_eq!(containers[0]["image"], json!("x"));
        assert_eq!(
            containers[0]["ports"],
            json!([{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 80, "protocol": "UDP"}])
        );
        assert_eq!(containers[1], json!({"name": "b", "image": "y"}));
    }

    #[test]
    fn an_atomic_list_is_replaced_and_owned_whole() {
        let live = apply(
            None,
            &container_spec(json!([{"name": "a", "args": ["1", "2"]}])),
            &req("a", T1),
            false,
        )
        .expect("a applies");
        let out = apply(
            Some(&live),
            &container_spec(json!([{"name": "a", "args": ["3"]}])),
            &req("a", T2),
            false,
        )
        .expect("a reapplies");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["args"],
            json!(["3"])
        );
        let err = apply(
            Some(&out),
            &container_spec(json!([{"name": "a", "args": ["4"]}])),
            &req("b", T2),
            false,
        )
        .expect_err("the whole list is a's");
        assert!(
            err.message
                .ends_with(r#".spec.template.spec.containers[name="a"].args"#),
            "{}",
            err.message
        );
    }

    #[test]
    fn set_lists_merge_by_value() {
        let with_finalizers = |f: Value| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d", "finalizers": f}})
        };
        let live = apply(None, &with_finalizers(json!(["x"])), &req("a", T1), false).expect("a");
        let out = apply(
            Some(&live),
            &with_finalizers(json!(["y"])),
            &req("b", T2),
            false,
        )
        .expect("b adds a value");
        assert_eq!(out["metadata"]["finalizers"], json!(["x", "y"]));
        assert_eq!(
            entries(&out)[1].2,
            r#"{"f:metadata":{"f:finalizers":{"v:\"y\"":{}}}}"#
        );
    }

    #[test]
    fn granular_maps_merge_and_atomic_maps_are_replaced() {
        let cfg = |labels: Value, selector: Value| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d", "labels": labels},
                "spec": {"selector": {"matchLabels": selector}}})
        };
        let live = apply(
            None,
            &cfg(json!({"a": "1"}), json!({"a": "1"})),
            &req("a", T1),
            false,
        )
        .expect("a");
        let out = apply(
            Some(&live),
            &cfg(json!({"b": "2"}), json!({"b": "2"})),
            &req("b", T2),
            true,
        )
        .expect("b forces the selector");
        assert_eq!(out["metadata"]["labels"], json!({"a": "1", "b": "2"}));
        assert_eq!(out["spec"]["selector"], json!({"matchLabels": {"b": "2"}}));
        assert_eq!(
            owner_of(&out, &Path::fields(&["spec", "selector"])),
            vec!["b"]
        );
    }

    #[test]
    fn custom_resources_use_the_deduced_schema() {
        let r = Request {
            api_version: "example.com/v1",
            kind: "Widget",
            ..req("a", T1)
        };
        let cfg = json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w"}, "spec": {"size": 1, "tags": ["a"]}});
        let out = apply(None, &cfg, &r, false).expect("applies");
        assert_eq!(
            entries(&out)[0].2,
            r#"{"f:spec":{".":{},"f:size":{},"f:tags":{}}}"#
        );
    }

    #[test]
    fn apply_rejects_other_kinds_and_managed_fields() {
        let mut cfg = deployment(json!({}));
        cfg["kind"] = json!("ReplicaSet");
        let err = apply(None, &cfg, &req("a", T1), false).expect_err("kind");
        assert_eq!(err.code, 400);
        assert_eq!(err.message, "invalid object type: apps/v1, Kind=ReplicaSet");
        let mut cfg = deployment(json!({}));
        cfg["metadata"]["managedFields"] = json!([]);
        let err = apply(None, &cfg, &req("a", T1), false).expect_err("managedFields");
        assert_eq!(err.message, "metadata.managedFields must be nil");
    }

    #[test]
    fn duplicate_keys_in_the_configuration_are_an_internal_error() {
        let cfg = container_spec(json!([{"name": "a"}, {"name": "a"}]));
        let err = apply(None, &cfg, &req("a", T1), false).expect_err("duplicates");
        assert_eq!(err.code, 500);
        assert!(
            err.message
                .contains(r#"duplicate entries for key [name="a"]"#),
            "{}",
            err.message
        );
    }

    #[test]
    fn reset_fields_are_owned_by_nobody() {
        let reset = FieldSet::from_paths(&[Path::fields(&["status"])]);
        let r = Request {
            reset_fields: Some(&reset),
            ..req("a", T1)
        };
        let mut obj = deployment(json!({"replicas": 1}));
        obj["status"] = json!({"replicas": 1});
        let out = update(None, obj, &r);
        assert_eq!(entries(&out)[0].2, r#"{"f:spec":{"f:replicas":{}}}"#);
    }

    #[test]
    fn patch_options_follow_validate_patch_options() {
        let err = validate_patch_options(true, "", None).expect_err("manager required");
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            r#"PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch"#
        );
        let err = validate_patch_options(false, "m", Some(false)).expect_err("force");
        assert_eq!(
            err.message,
            r#"PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch"#
        );
        assert!(validate_patch_options(true, "m", Some(true)).is_ok());
        assert!(validate_patch_options(false, "", None).is_ok());
    }

    #[test]
    fn default_manager_is_the_user_agent_prefix() {
        assert_eq!(
            manager_or_user_agent("", "kubectl/v1.32.0 (linux/amd64)"),
            "kubectl"
        );
        assert_eq!(manager_or_user_agent("mine", "kubectl/v1.32.0"), "mine");
        assert_eq!(manager_or_user_agent("", "a\u{7}b"), "ab");
        assert_eq!(manager_or_user_agent("", &"x".repeat(200)).len(), 128);
    }
}
