//! Write semantics of the generic registry: create, update, patch, delete and deletecollection
//! for any resource, after apiserver's `registry/generic/registry/store.go`.
//!
//! Each operation runs in one [`Store::write`] transaction, so checks (namespace exists, name is
//! free, resourceVersion matches) and the write happen atomically. Server-set fields: `uid`,
//! `creationTimestamp`, `resourceVersion`, `generation` (for kinds that track it), and a name
//! from `generateName`.
//!
//! Deleting a namespace puts it in phase `Terminating` (creates into it are 403
//! `NamespaceTerminating`); [`finalize_namespace`] then deletes its contents and, once they
//! are gone, the namespace. Differs from the API server: deletion is otherwise immediate (no
//! graceful termination of pods); objects
//! with `metadata.finalizers` get a `deletionTimestamp` and stay until an update removes the
//! last finalizer, as in Go. Every write keeps `metadata.managedFields` ([`managed_fields`]):
//! create, update and non-apply patches record the writer's `Update` entry after decoding
//! defaults and before admission adds its own (pod tolerations, priority), as the handlers
//! call the field manager; an apply patch is server-side apply and creates a missing object;
//! a `scale` write moves `spec.replicas` to its writer. `dryRun=All` runs the same
//! transaction on a scratch copy of the store and throws it away; a dry-run update answers
//! with the stored resourceVersion, as Go's `DryRunnableStorage` does.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::crd_schema::CrSchema;
use crate::crd_validation;
use crate::defaults::{self, meta_str, with_metadata};
use crate::event_conversion;
use crate::fieldpath::FieldSet;
use crate::managed_fields::{self, Operation};
use crate::patch::{self, PatchType};
use crate::resources::ResourceInfo;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::{self, ApiError, StatusCause};
use crate::store::{ObjectKey, Store, StoredObject, Txn};

/// Storage key of the namespaces resource.
pub(crate) const NAMESPACES: &str = "/namespaces";

/// Where an object lives: the resource and, for namespaced resources, the namespace.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scope<'a> {
    pub res: &'a ResourceInfo,
    /// `None` for cluster-scoped resources and for lists across all namespaces.
    pub namespace: Option<&'a str>,
    /// `dryRun=All`: run every check, persist nothing, notify no watcher.
    pub dry_run: bool,
    /// The field manager of the write (`fieldManager`, else from the User-Agent; empty is
    /// recorded as `unknown`), see [`managed_fields`].
    pub manager: &'a str,
    /// `force=true` of an apply patch: take fields other managers own.
    pub force: bool,
}

impl<'a> Scope<'a> {
    /// Runs a write transaction, on a scratch copy for dry runs.
    fn write<T>(&self, store: &Store, f: impl FnOnce(&mut Txn<'_>) -> T) -> T {
        if self.dry_run {
            store.write_scratch(f)
        } else {
            store.write(f)
        }
    }

    /// What field management needs to know of a write of `part` with this scope. Objects of
    /// a converted resource (`events.k8s.io/v1`) are managed in the core `v1` form they are
    /// stored in.
    fn field_request<'n>(
        &self,
        part: Part,
        now: &'n str,
        reset: &'n FieldSet,
        api_version: &'n str,
    ) -> managed_fields::Request<'n>
    where
        'a: 'n,
    {
        managed_fields::Request {
            manager: self.manager,
            api_version,
            kind: &self.res.kind,
            subresource: part.subresource(),
            now,
            reset_fields: Some(reset),
        }
    }

    /// The apiVersion objects of this scope are managed under.
    fn managed_api_version(&self) -> String {
        if event_conversion::converts(self.res) {
            "v1".to_owned()
        } else {
            self.res.api_version()
        }
    }

    /// Records the `Update` entry of this write in `new` (`live` is `None` on create).
    fn record_update(&self, live: Option<&Value>, new: Value, part: Part) -> Value {
        let now = defaults::now_rfc3339();
        let reset =
            managed_fields::reset_fields(&self.res.kind, self.res.has_status, part.subresource());
        let api_version = self.managed_api_version();
        let req = self.field_request(part, &now, &reset, &api_version);
        managed_fields::update(live, new, &req)
    }

    fn key(&self, name: &str) -> ObjectKey {
        let ns = if self.res.namespaced {
            self.namespace.unwrap_or_default()
        } else {
            ""
        };
        (ns.to_owned(), name.to_owned())
    }
}

fn into_map(body: Value, res: &ResourceInfo) -> Result<Map<String, Value>, ApiError> {
    let Value::Object(mut map) = body else {
        return Err(ApiError::bad_request(format!(
            "the body of the request could not be decoded as a {} object",
            res.kind
        )));
    };
    let api_version = res.api_version();
    if let Some(v) = map.get("apiVersion").and_then(Value::as_str)
        && v != api_version
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({v}) does not match the expected API version ({api_version})"
        )));
    }
    if let Some(k) = map.get("kind").and_then(Value::as_str)
        && k != res.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            res.kind
        )));
    }
    map.insert("kind".into(), Value::String(res.kind.clone()));
    map.insert("apiVersion".into(), Value::String(api_version));
    if event_conversion::converts(res) {
        // Stored as the core Event it is.
        return Ok(event_conversion::to_core(map));
    }
    Ok(map)
}

/// Sets the namespace from the URL; a different namespace in the body is a 400.
fn place_in_namespace(scope: Scope<'_>, map: &mut Map<String, Value>) -> Result<(), ApiError> {
    with_metadata(map, |meta| {
        if !scope.res.namespaced {
            meta.remove("namespace");
            return Ok(());
        }
        let ns = scope.namespace.unwrap_or_default();
        match meta.get("namespace").and_then(Value::as_str) {
            Some(body_ns) if !body_ns.is_empty() && body_ns != ns => Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            )),
            _ => {
                meta.insert("namespace".into(), json!(ns));
                Ok(())
            }
        }
    })
}

/// The namespace of a create must exist and not be terminating: the `NamespaceLifecycle`
/// admission plugin's checks, with its 404 and 403 `NamespaceTerminating`.
fn check_namespace(txn: &Txn<'_>, scope: Scope<'_>, name: &str) -> Result<(), ApiError> {
    let (true, Some(ns)) = (scope.res.namespaced, scope.namespace) else {
        return Ok(());
    };
    match txn.get(NAMESPACES, &(String::new(), ns.to_owned())) {
        None => Err(ApiError::not_found("", "namespaces", ns)),
        Some(found) if found.pointer("/metadata/deletionTimestamp").is_some() => {
            let mut err = ApiError::forbidden(
                &scope.res.group,
                &scope.res.plural,
                name,
                &format!(
                    "unable to create new content in namespace {ns} because it is being terminated"
                ),
            );
            if let Some(details) = err.details.as_mut().and_then(Value::as_object_mut) {
                details.insert(
                    "causes".into(),
                    json!([{
                        "reason": "NamespaceTerminating",
                        "message": format!("namespace {ns} is being terminated"),
                        "field": "metadata.namespace",
                    }]),
                );
            }
            Err(err)
        }
        Some(_) => Ok(()),
    }
}

/// Port of the namespace controller's `namespaced_resources_deleter.go` `Delete`, run inline:
/// if namespace `ns` is terminating, deletes everything in it (objects with finalizers get a
/// `deletionTimestamp` and stay until their finalizers go), and once it is empty removes the
/// namespace itself. A no-op for a namespace that is not terminating. Differs from Go: runs
/// synchronously after each write touching the namespace instead of in a controller loop, so
/// a test observes the end state without waiting.
pub(crate) fn finalize_namespace(store: &Store, ns: &str) {
    store.write(|txn| {
        let key = (String::new(), ns.to_owned());
        let terminating = txn
            .get(NAMESPACES, &key)
            .is_some_and(|n| n.pointer("/metadata/deletionTimestamp").is_some());
        if !terminating {
            return;
        }
        let mut left = 0;
        for resource in txn.resources() {
            for obj in txn.list(&resource, Some(ns)) {
                let k = (ns.to_owned(), meta_str(&obj, "name").to_owned());
                let has_finalizers = obj
                    .pointer("/metadata/finalizers")
                    .and_then(Value::as_array)
                    .is_some_and(|f| !f.is_empty());
                if !has_finalizers {
                    txn.remove(&resource, &k);
                    continue;
                }
                left += 1;
                if obj.pointer("/metadata/deletionTimestamp").is_none() {
                    let mut marked = obj.value().clone();
                    if let Some(map) = marked.as_object_mut() {
                        with_metadata(map, |m| {
                            m.insert("deletionTimestamp".into(), json!(defaults::now_rfc3339()));
                            m.insert("deletionGracePeriodSeconds".into(), json!(0));
                        });
                    }
                    txn.put(&resource, k, marked);
                }
            }
        }
        if left == 0 {
            txn.remove(&Arc::from(NAMESPACES), &key);
        }
    });
}

/// Creates an object (POST): 201 semantics.
pub(crate) fn create(
    store: &Store,
    scope: Scope<'_>,
    body: Value,
) -> Result<Arc<StoredObject>, ApiError> {
    let mut map = into_map(body, scope.res)?;
    place_in_namespace(scope, &mut map)?;
    let (name, generate) = with_metadata(&mut map, |meta| {
        for server_set in [
            "uid",
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            meta.remove(server_set);
        }
        let name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let generate = meta
            .get("generateName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        meta.insert("creationTimestamp".into(), json!(defaults::now_rfc3339()));
        meta.insert("uid".into(), json!(defaults::new_uid()));
        if scope.res.tracks_generation {
            meta.insert("generation".into(), json!(1));
        }
        (name, generate)
    });
    defaults::apply_defaults(&scope.res.kind, &mut map);
    defaults::normalize(&scope.res.kind, &mut map);
    let mut map = match scope.record_update(None, Value::Object(map), Part::Main) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    defaults::admit(&scope.res.kind, &mut map);
    scope.write(store, |txn| {
        check_namespace(txn, scope, &name)?;
        let mut map = map;
        let name = if name.is_empty() && !generate.is_empty() {
            // Retry a few times on a collision, like the API server's name generator.
            let mut candidate = defaults::generated_name(&generate);
            for _ in 0..8 {
                if txn.get(&scope.res.key, &scope.key(&candidate)).is_none() {
                    break;
                }
                candidate = defaults::generated_name(&generate);
            }
            with_metadata(&mut map, |m| {
                m.insert("name".into(), json!(candidate.clone()))
            });
            candidate
        } else {
            name
        };
        let object = Value::Object(map);
        let mut causes = defaults::validate(&scope.res.kind, &object);
        causes.extend(custom_causes(txn, scope.res, &object));
        if !causes.is_empty() {
            return Err(ApiError::invalid(
                &scope.res.group,
                &scope.res.kind,
                &name,
                &causes,
            ));
        }
        let key = scope.key(&name);
        if txn.get(&scope.res.key, &key).is_some() {
            return Err(ApiError::already_exists(
                &scope.res.group,
                &scope.res.plural,
                &name,
            ));
        }
        Ok(txn.put(&scope.res.key, key, object))
    })
}

/// Reads one object (GET).
pub(crate) fn get(
    store: &Store,
    scope: Scope<'_>,
    name: &str,
) -> Result<Arc<StoredObject>, ApiError> {
    store
        .get(&scope.res.key, &scope.key(name))
        .ok_or_else(|| ApiError::not_found(&scope.res.group, &scope.res.plural, name))
}

/// What an update writes: the whole object, or only its `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Main,
    Status,
}

impl Part {
    /// The subresource managedFields entries record.
    fn subresource(self) -> &'static str {
        match self {
            Part::Main => "",
            Part::Status => "status",
        }
    }
}

/// Replaces an object (PUT); `Part::Status` updates only the status subresource.
pub(crate) fn update(
    store: &Store,
    scope: Scope<'_>,
    name: &str,
    body: Value,
    part: Part,
) -> Result<Arc<StoredObject>, ApiError> {
    let mut map = into_map(body, scope.res)?;
    place_in_namespace(scope, &mut map)?;
    let body_name = with_metadata(&mut map, |m| {
        m.get("name").and_then(Value::as_str).map(str::to_owned)
    });
    if body_name.as_deref().is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            body_name.unwrap_or_default()
        )));
    }
    with_metadata(&mut map, |m| m.insert("name".into(), json!(name)));
    scope.write(store, |txn| {
        let key = scope.key(name);
        let Some(existing) = txn.get(&scope.res.key, &key) else {
            if scope.res.kind == "Lease" && part == Part::Main {
                // Leases allow create-on-update, as in coordination's strategy.
                return create_in_txn(txn, scope, Value::Object(map), true);
            }
            return Err(ApiError::not_found(
                &scope.res.group,
                &scope.res.plural,
                name,
            ));
        };
        let wanted_rv = meta_str(&Value::Object(map.clone()), "resourceVersion").to_owned();
        if !wanted_rv.is_empty() && wanted_rv != meta_str(&existing, "resourceVersion") {
            return Err(ApiError::conflict(
                &scope.res.group,
                &scope.res.plural,
                name,
            ));
        }
        write_update(txn, scope, &existing, map, part, true)
    })
}

/// Creates `object` inside `txn`; `record` adds the writer's `Update` entry (an apply that
/// creates has recorded its `Apply` entry already).
fn create_in_txn(
    txn: &mut Txn<'_>,
    scope: Scope<'_>,
    object: Value,
    record: bool,
) -> Result<Arc<StoredObject>, ApiError> {
    let Value::Object(mut map) = object else {
        return Err(ApiError::bad_request("object expected"));
    };
    let body_name = meta_str(&Value::Object(map.clone()), "name").to_owned();
    check_namespace(txn, scope, &body_name)?;
    let name = with_metadata(&mut map, |meta| {
        meta.remove("resourceVersion");
        meta.insert("creationTimestamp".into(), json!(defaults::now_rfc3339()));
        meta.insert("uid".into(), json!(defaults::new_uid()));
        if scope.res.tracks_generation {
            meta.insert("generation".into(), json!(1));
        }
        meta.get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    });
    defaults::apply_defaults(&scope.res.kind, &mut map);
    defaults::normalize(&scope.res.kind, &mut map);
    let mut object = Value::Object(map);
    if record {
        object = scope.record_update(None, object, Part::Main);
    }
    if let Some(map) = object.as_object_mut() {
        defaults::admit(&scope.res.kind, map);
    }
    let mut causes = defaults::validate(&scope.res.kind, &object);
    causes.extend(custom_causes(txn, scope.res, &object));
    if !causes.is_empty() {
        return Err(ApiError::invalid(
            &scope.res.group,
            &scope.res.kind,
            &name,
            &causes,
        ));
    }
    Ok(txn.put(&scope.res.key, scope.key(&name), object))
}

/// The shared tail of update and patch: carry server-owned fields over, bump generation,
/// record the writer's `Update` entry when `record` (an apply or a scale write has set
/// managedFields already), skip no-op writes, finish deletion when the last finalizer goes.
fn write_update(
    txn: &mut Txn<'_>,
    scope: Scope<'_>,
    existing: &Arc<StoredObject>,
    mut map: Map<String, Value>,
    part: Part,
    record: bool,
) -> Result<Arc<StoredObject>, ApiError> {
    let res = scope.res;
    let name = meta_str(existing, "name").to_owned();
    let mut new = match part {
        Part::Status => {
            let mut base = match existing.value().clone() {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            match map.remove("status") {
                Some(s) => base.insert("status".into(), s),
                None => base.remove("status"),
            };
            base
        }
        Part::Main => {
            if res.has_status {
                match existing.get("status") {
                    Some(s) => map.insert("status".into(), s.clone()),
                    None => map.remove("status"),
                };
            }
            map
        }
    };
    with_metadata(&mut new, |meta| {
        for carried in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ] {
            match existing.get("metadata").and_then(|m| m.get(carried)) {
                Some(v) => meta.insert(carried.into(), v.clone()),
                None => meta.remove(carried),
            };
        }
        meta.insert(
            "resourceVersion".into(),
            json!(meta_str(existing, "resourceVersion")),
        );
    });
    if res.tracks_generation && part == Part::Main && new.get("spec") != existing.get("spec") {
        let generation = existing
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        with_metadata(&mut new, |m| {
            m.insert("generation".into(), json!(generation + 1))
        });
    }
    defaults::normalize(&res.kind, &mut new);
    let mut new = Value::Object(new);
    if record {
        new = scope.record_update(Some(existing.value()), new, part);
    }
    let causes = custom_causes(txn, res, &new);
    if !causes.is_empty() {
        return Err(ApiError::invalid(&res.group, &res.kind, &name, &causes));
    }
    if new == *existing.value() {
        return Ok(Arc::clone(existing));
    }
    let key = scope.key(&name);
    let deleting = new.pointer("/metadata/deletionTimestamp").is_some();
    let finalizers_left = new
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    if deleting && !finalizers_left {
        txn.put(&res.key, key.clone(), new);
        return txn
            .remove(&res.key, &key)
            .ok_or_else(|| ApiError::internal("object vanished during update"));
    }
    if scope.dry_run {
        // Go's DryRunnableStorage.GuaranteedUpdate answers with the updated object as is:
        // it keeps the stored resourceVersion, so `kubectl diff` shows no version change.
        return Ok(Arc::new(StoredObject::new(new)));
    }
    Ok(txn.put(&res.key, key, new))
}

/// The schema part of `customResourceValidator.Validate` (registry/customresource/validator.go):
/// a custom resource whose CRD version has a schema is checked against it
/// ([`crd_validation`]); other objects have no such causes.
fn custom_causes(txn: &Txn<'_>, res: &ResourceInfo, object: &Value) -> Vec<StatusCause> {
    CrSchema::in_txn(txn, res)
        .map(|s| crd_validation::validate(&s.schema, object))
        .unwrap_or_default()
}

/// Rewrites `spec.replicas` through the scale subresource: `scale` turns the current
/// `autoscaling/v1` Scale view into the desired one (from a PUT body or a patch).
pub(crate) fn update_scale(
    store: &Store,
    scope: Scope<'_>,
    name: &str,
    operation: Operation,
    scale: impl FnOnce(&Value) -> Result<Value, ApiError>,
) -> Result<Value, ApiError> {
    scope.write(store, |txn| {
        let key = scope.key(name);
        let existing = txn
            .get(&scope.res.key, &key)
            .ok_or_else(|| ApiError::not_found(&scope.res.group, &scope.res.plural, name))?;
        let wanted = scale(&crate::scale::view(&existing))?;
        let wanted_rv = meta_str(&wanted, "resourceVersion");
        if !wanted_rv.is_empty() && wanted_rv != meta_str(&existing, "resourceVersion") {
            return Err(ApiError::conflict(
                &scope.res.group,
                &scope.res.plural,
                name,
            ));
        }
        let replicas = crate::scale::replicas(&wanted)?;
        let mut map = match existing.value().clone() {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let spec = map.entry("spec").or_insert_with(|| json!({}));
        if let Some(spec) = spec.as_object_mut() {
            spec.insert("replicas".into(), json!(replicas));
        }
        let now = defaults::now_rfc3339();
        let none = FieldSet::new();
        let api_version = scope.managed_api_version();
        let req = managed_fields::Request {
            subresource: "scale",
            ..scope.field_request(Part::Main, &now, &none, &api_version)
        };
        let map =
            match managed_fields::scale_to_parent(&existing, Value::Object(map), &req, operation) {
                Value::Object(m) => m,
                _ => Map::new(),
            };
        let stored = write_update(txn, scope, &existing, map, Part::Main, false)?;
        Ok(crate::scale::view(&stored))
    })
}

/// What a PATCH stored: the object, whether it was created (apply of a missing object), and
/// the warnings decoding the patched object gave.
pub(crate) type Patched = (Arc<StoredObject>, bool, Vec<String>);

/// Patches an object (PATCH). `decode` is the decoding of the patched object (or of an apply
/// configuration), as the handler's codec does it: it drops what decoding drops and returns
/// the warnings to send (see [`crate::field_validation::patched`]). Merge, JSON and
/// strategic patches record the writer's `Update` entry; an apply patch is server-side apply
/// ([`managed_fields::apply`]) and creates a missing object, as Go's `applyPatcher` does.
pub(crate) fn patch(
    store: &Store,
    scope: Scope<'_>,
    name: &str,
    kind: PatchType,
    body: &[u8],
    part: Part,
    decode: impl FnOnce(&mut Value) -> Result<Vec<String>, ApiError>,
) -> Result<Patched, ApiError> {
    let patch_doc = patch::parse(kind, body)?;
    scope.write(store, |txn| {
        let key = scope.key(name);
        let existing = txn.get(&scope.res.key, &key);
        if kind == PatchType::Apply {
            return apply_in_txn(txn, scope, name, existing, patch_doc, part, decode);
        }
        let Some(existing) = existing else {
            return Err(ApiError::not_found(
                &scope.res.group,
                &scope.res.plural,
                name,
            ));
        };
        // A patch applies to the object as the client sees it.
        let mut patched = if event_conversion::converts(scope.res) {
            patch::apply(kind, &event_conversion::to_events_v1(&existing), &patch_doc)?
        } else {
            patch::apply(kind, &existing, &patch_doc)?
        };
        let warnings = decode(&mut patched)?;
        let map = into_map(patched, scope.res)?;
        let map = named_in_scope(scope, name, &existing, map)?;
        write_update(txn, scope, &existing, map, part, true).map(|o| (o, false, warnings))
    })
}

/// Places a patched object in the request's namespace under `name`; a resourceVersion it
/// carries must be the stored one (409 otherwise).
fn named_in_scope(
    scope: Scope<'_>,
    name: &str,
    existing: &StoredObject,
    mut map: Map<String, Value>,
) -> Result<Map<String, Value>, ApiError> {
    place_in_namespace(scope, &mut map)?;
    let patched_rv = with_metadata(&mut map, |m| {
        m.insert("name".into(), json!(name));
        m.get("resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    });
    if !patched_rv.is_empty() && patched_rv != meta_str(existing, "resourceVersion") {
        return Err(ApiError::conflict(
            &scope.res.group,
            &scope.res.plural,
            name,
        ));
    }
    Ok(map)
}

/// Server-side apply of `config` inside `txn`. Port of `applyPatcher` (patch.go): the
/// configuration is decoded, applied by [`managed_fields::apply`] onto the stored object (or
/// onto an empty one, creating it: 201), and the result written as an update or create
/// would be. A converted resource's configuration (`events.k8s.io/v1`) is applied in the
/// core form it is stored in.
fn apply_in_txn(
    txn: &mut Txn<'_>,
    scope: Scope<'_>,
    name: &str,
    existing: Option<Arc<StoredObject>>,
    mut config: Value,
    part: Part,
    decode: impl FnOnce(&mut Value) -> Result<Vec<String>, ApiError>,
) -> Result<Patched, ApiError> {
    let res = scope.res;
    if existing.is_none() && part != Part::Main {
        return Err(ApiError::not_found(&res.group, &res.plural, name));
    }
    let warnings = decode(&mut config)?;
    let converts = event_conversion::converts(res);
    if converts
        && config.get("apiVersion").and_then(Value::as_str) == Some(res.api_version().as_str())
        && config.get("kind").and_then(Value::as_str) == Some(res.kind.as_str())
        && let Value::Object(map) = config
    {
        config = Value::Object(event_conversion::to_core(map));
    }
    let now = defaults::now_rfc3339();
    let reset = managed_fields::reset_fields(&res.kind, res.has_status, part.subresource());
    let api_version = scope.managed_api_version();
    let req = scope.field_request(part, &now, &reset, &api_version);
    let live = existing.as_ref().map(|e| e.value());
    let merged = managed_fields::apply(live, &config, &req, scope.force)?;
    let map = match merged {
        // Already in the stored form.
        Value::Object(map) if converts => map,
        other => into_map(other, res)?,
    };
    match existing {
        None => {
            let mut map = map;
            // The empty object applied onto carries the kind's zero `spec`/`status`; Go's
            // typed defaulting and `PrepareForCreate` treat them as unset, as the JSON
            // defaulting here does only when they are absent.
            for top in ["spec", "status"] {
                if map.get(top).is_some_and(|v| v == &json!({})) && config.get(top).is_none() {
                    map.remove(top);
                }
            }
            place_in_namespace(scope, &mut map)?;
            with_metadata(&mut map, |m| m.insert("name".into(), json!(name)));
            create_in_txn(txn, scope, Value::Object(map), false).map(|o| (o, true, warnings))
        }
        Some(existing) => {
            let map = named_in_scope(scope, name, &existing, map)?;
            write_update(txn, scope, &existing, map, part, false).map(|o| (o, false, warnings))
        }
    }
}

/// Deletes an object (DELETE) honouring `DeleteOptions.preconditions` and finalizers; returns
/// the response body (the object for pods and custom resources, a success `Status` otherwise).
pub(crate) fn delete(
    store: &Store,
    scope: Scope<'_>,
    name: &str,
    options: Option<&Value>,
) -> Result<Value, ApiError> {
    scope.write(store, |txn| {
        delete_in_txn(txn, scope, name, options).map(|(body, _)| body)
    })
}

fn delete_in_txn(
    txn: &mut Txn<'_>,
    scope: Scope<'_>,
    name: &str,
    options: Option<&Value>,
) -> Result<(Value, Arc<StoredObject>), ApiError> {
    let res = scope.res;
    let key = scope.key(name);
    let existing = txn
        .get(&res.key, &key)
        .ok_or_else(|| ApiError::not_found(&res.group, &res.plural, name))?;
    if let Some(pre) = options.and_then(|o| o.get("preconditions")) {
        let uid = meta_str(&existing, "uid");
        if let Some(want) = pre.get("uid").and_then(Value::as_str)
            && want != uid
        {
            return Err(ApiError::uid_precondition(&res.kind, name, want, uid));
        }
        let rv = meta_str(&existing, "resourceVersion");
        if let Some(want) = pre.get("resourceVersion").and_then(Value::as_str)
            && want != rv
        {
            return Err(ApiError::rv_precondition(&res.kind, name, want, rv));
        }
    }
    let has_finalizers = existing
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    if has_finalizers {
        if existing.pointer("/metadata/deletionTimestamp").is_some() {
            return Ok((existing.value().clone(), existing));
        }
        let mut marked = existing.value().clone();
        if let Some(map) = marked.as_object_mut() {
            with_metadata(map, |m| {
                m.insert("deletionTimestamp".into(), json!(defaults::now_rfc3339()));
                m.insert("deletionGracePeriodSeconds".into(), json!(0));
            });
        }
        let stored = txn.put(&res.key, key, marked);
        return Ok((stored.value().clone(), stored));
    }
    if res.kind == "Namespace" && res.group.is_empty() {
        // Phase Terminating with a deletionTimestamp; `finalize_namespace` empties and then
        // removes it once the transaction is done.
        if existing.pointer("/metadata/deletionTimestamp").is_some() {
            return Ok((existing.value().clone(), existing));
        }
        let mut marked = existing.value().clone();
        if let Some(map) = marked.as_object_mut() {
            with_metadata(map, |m| {
                m.insert("deletionTimestamp".into(), json!(defaults::now_rfc3339()));
            });
            map.insert("status".into(), json!({"phase": "Terminating"}));
        }
        let stored = txn.put(&res.key, key, marked);
        return Ok((stored.value().clone(), stored));
    }
    if res.kind == "Pod" && res.group.is_empty() {
        // Pods are deleted gracefully: MODIFIED with a deletionTimestamp, then (with no kubelet
        // to wait for) DELETED at once, as the API server does for unscheduled pods.
        let mut marked = existing.value().clone();
        if let Some(map) = marked.as_object_mut() {
            with_metadata(map, |m| {
                m.insert("deletionTimestamp".into(), json!(defaults::now_rfc3339()));
                m.insert("deletionGracePeriodSeconds".into(), json!(0));
            });
        }
        txn.put(&res.key, key.clone(), marked);
    }
    let removed = txn
        .remove(&res.key, &key)
        .ok_or_else(|| ApiError::not_found(&res.group, &res.plural, name))?;
    let body = if res.returns_deleted_object {
        removed.value().clone()
    } else {
        status::success_status(name, &res.group, &res.plural, meta_str(&removed, "uid"))
    };
    Ok((body, removed))
}

/// Deletes every object matching the selectors (DELETE on a collection); returns the list of
/// deleted objects, as the API server does.
pub(crate) fn delete_collection(
    store: &Store,
    scope: Scope<'_>,
    labels: &LabelSelector,
    fields: &FieldSelector,
    options: Option<&Value>,
) -> Result<Value, ApiError> {
    scope.write(store, |txn| {
        let candidates = txn.list(&scope.res.key, scope.namespace);
        let mut items = Vec::new();
        for obj in candidates
            .iter()
            .filter(|o| labels.matches(o) && fields.matches(o))
        {
            let name = meta_str(obj, "name").to_owned();
            let inner = Scope {
                namespace: Some(meta_str(obj, "namespace")),
                ..scope
            };
            delete_in_txn(txn, inner, &name, options)?;
            // Listed as they were before deletion, as the API server does.
            let mut item = event_conversion::view(scope.res, obj).value().clone();
            if !scope.res.custom
                && let Some(m) = item.as_object_mut()
            {
                m.remove("kind");
                m.remove("apiVersion");
            }
            items.push(item);
        }
        Ok(json!({
            "kind": scope.res.list_kind(),
            "apiVersion": scope.res.api_version(),
            "metadata": {"resourceVersion": txn_rv(txn)},
            "items": items,
        }))
    })
}

fn txn_rv(txn: &Txn<'_>) -> String {
    txn.current_rv().to_string()
}
