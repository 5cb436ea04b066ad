//! Port of structured-merge-diff v4 `typed/` (`tofieldset.go`, `merge.go`, `compare.go`,
//! `remove.go`, `Set.EnsureNamedFieldsAreMembers`) and `merge/update.go` (`Updater.Update`,
//! `Updater.Apply`, pruning, conflicts), over JSON values typed by a [`TypeView`].
//!
//! Data flow: an object is walked with its schema. [`to_field_set`] lists what it sets;
//! [`merge`] overlays an applied configuration (leaves and atomic nodes replaced, maps merged
//! by key, associative lists merged by their keys); [`compare`] says which fields one object
//! added, modified or removed relative to another; [`remove_items`] drops the given fields and
//! list items. [`Updater`] combines them into SMD's two operations on the per-manager sets:
//! `update` (a write that is not apply: the writer takes what it changed, everyone else loses
//! it) and `apply` (merge, prune what this manager applied before and no longer applies unless
//! someone else owns it, and conflict on fields others own).
//!
//! Differs from Go: every manager's set is read at the request's apiVersion (the testserver
//! serves one version per kind, so there is nothing to convert); a removal that leaves a map or
//! list empty drops the field instead of writing `null`, as the Go server's conversion to a
//! typed object and back does for the fields concerned; and duplicate list keys are an error
//! on both sides (Go tolerates them in the live object).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::fieldpath::{FieldSet, Path, PathElement, compare_values};
use crate::schemaconv::{Atom, ListType, TypeView};

/// Why an object could not be walked or an apply could not proceed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Error {
    /// The object does not fit its schema's list semantics (a missing or duplicate list key).
    /// Go: `typed.ValidationErrors`. Not retryable.
    #[error("{path}: {message}")]
    Invalid {
        /// Where, `.spec.containers`.
        path: String,
        /// What, `duplicate entries for key [name="a"]`.
        message: String,
    },
    /// Other managers own fields the apply changes. Go: `merge.Conflicts`. Retryable with
    /// `force` or after dropping the fields from the configuration.
    #[error("{} conflicts", .0.len())]
    Conflicts(Vec<Conflict>),
}

/// Result of this module.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// One field another manager owns. Port of `merge.Conflict`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Conflict {
    /// The owner's identifier (`managed_fields` encodes manager, operation, apiVersion and subresource in it).
    pub(crate) manager: String,
    /// The field.
    pub(crate) path: Path,
}

/// A manager's fields and the version they are expressed in. Port of
/// `fieldpath.VersionedSet`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VersionedSet {
    /// The fields owned.
    pub(crate) set: FieldSet,
    /// `apps/v1`.
    pub(crate) api_version: String,
    /// Whether the set came from an apply (`operation: Apply`).
    pub(crate) applied: bool,
}

/// Every manager's set, by manager identifier. Port of `fieldpath.ManagedFields`.
pub(crate) type ManagedSets = BTreeMap<String, VersionedSet>;

/// The difference between two objects. Port of `typed.Comparison`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Comparison {
    /// Fields only the new object has.
    pub(crate) added: FieldSet,
    /// Leaves both have, with different values.
    pub(crate) modified: FieldSet,
    /// Fields only the old object has.
    pub(crate) removed: FieldSet,
}

impl Comparison {
    /// `Comparison.IsSame`.
    pub(crate) fn is_same(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }

    fn filter(self, ignored: Option<&FieldSet>) -> Comparison {
        match ignored {
            None => self,
            Some(i) => Comparison {
                added: self.added.recursive_difference(i),
                modified: self.modified.recursive_difference(i),
                removed: self.removed.recursive_difference(i),
            },
        }
    }
}

fn path_string(path: &[PathElement]) -> String {
    Path(path.to_vec()).to_string()
}

fn invalid(path: &[PathElement], message: String) -> Error {
    Error::Invalid {
        path: path_string(path),
        message,
    }
}

/// The path element of a list item. Port of `listItemToPathElement`.
fn item_element(
    list_type: &ListType,
    items: &TypeView<'_>,
    item: &Value,
    index: usize,
    path: &[PathElement],
) -> Result<PathElement> {
    match list_type {
        ListType::Map(keys) if !keys.is_empty() => {
            let Value::Object(m) = item else {
                return Err(invalid(
                    path,
                    "associative list with keys has an element that's not a map type".into(),
                ));
            };
            let mut fields = Vec::with_capacity(keys.len());
            for k in keys {
                let v = m.get(k).or_else(|| items.field_default(k)).ok_or_else(|| {
                    invalid(
                        path,
                        format!(
                            "associative list with keys has an element that omits key field {k:?} (and doesn't have default value)"
                        ),
                    )
                })?;
                fields.push((k.clone(), v.clone()));
            }
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(PathElement::Key(fields))
        }
        ListType::Map(_) | ListType::Set => {
            if item.is_object() {
                return Err(invalid(
                    path,
                    "associative list without keys has an element that's a map type".into(),
                ));
            }
            Ok(PathElement::Value(item.clone()))
        }
        ListType::Atomic => Ok(PathElement::Index(i64::try_from(index).unwrap_or(i64::MAX))),
    }
}

/// The items of a granular list by path element, in order; duplicates are an error.
fn index_items<'v>(
    list_type: &ListType,
    items: &TypeView<'_>,
    list: Option<&'v Value>,
    path: &[PathElement],
) -> Result<Vec<(PathElement, &'v Value)>> {
    let Some(Value::Array(list)) = list else {
        return Ok(Vec::new());
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let pe = item_element(list_type, items, item, i, path)?;
        if !seen.insert(pe.clone()) {
            return Err(invalid(path, format!("duplicate entries for key {pe}")));
        }
        out.push((pe, item));
    }
    Ok(out)
}

fn find<'v>(items: &[(PathElement, &'v Value)], pe: &PathElement) -> Option<&'v Value> {
    items.iter().find(|(p, _)| p == pe).map(|(_, v)| *v)
}

fn is_empty_container(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    }
}

/// Whether the node is walked as one value: a leaf, an atomic map or list, or (as SMD's
/// `emptyPromoteToLeaf`) a container empty or absent on both sides.
fn is_leaf(atom: &Atom<'_>, l: Option<&Value>, r: Option<&Value>) -> bool {
    match atom {
        Atom::Leaf | Atom::Map { atomic: true } => true,
        Atom::List {
            list_type: ListType::Atomic,
            ..
        } => true,
        _ => is_empty_container(l) && is_empty_container(r),
    }
}

fn child_type<'a>(tv: &TypeView<'a>, key: &str) -> TypeView<'a> {
    tv.field(key).unwrap_or_else(TypeView::untyped)
}

/// Every field and list item `v` sets. Port of `TypedValue.ToFieldSet`: leaves, atomic
/// nodes, list items, map entries that are not struct fields, and struct fields whose value
/// is `null` or `{}` are members; other struct fields appear only through their children.
pub(crate) fn to_field_set(v: &Value, tv: &TypeView<'_>) -> Result<FieldSet> {
    let mut set = FieldSet::new();
    walk_set(v, tv, &mut Vec::new(), &mut set)?;
    Ok(set)
}

fn walk_set(
    v: &Value,
    tv: &TypeView<'_>,
    path: &mut Vec<PathElement>,
    set: &mut FieldSet,
) -> Result<()> {
    match tv.atom(v) {
        Atom::Leaf
        | Atom::Map { atomic: true }
        | Atom::List {
            list_type: ListType::Atomic,
            ..
        } => set.insert(path),
        Atom::Map { atomic: false } => {
            for (k, val) in v.as_object().into_iter().flatten() {
                path.push(PathElement::Field(k.clone()));
                walk_set(val, &child_type(tv, k), path, set)?;
                let empty_map = val.as_object().is_some_and(Map::is_empty);
                if val.is_null() || empty_map || !tv.is_named_field(k) {
                    set.insert(path);
                }
                path.pop();
            }
        }
        Atom::List { list_type, items } => {
            for (pe, item) in index_items(&list_type, &items, Some(v), path)? {
                path.push(pe);
                walk_set(item, &items, path, set)?;
                set.insert(path);
                path.pop();
            }
        }
    }
    Ok(())
}

/// `live` with `config` laid over it. Port of `TypedValue.Merge` (`ruleKeepRHS`): leaves and
/// atomic nodes take the config's value, maps merge by key, granular lists by item, in the
/// order of `mergingWalker.visitListItems` (the live order, with the config's items placed
/// where the config puts them relative to the items both have).
pub(crate) fn merge(live: &Value, config: &Value, tv: &TypeView<'_>) -> Result<Value> {
    Ok(merge_node(Some(live), Some(config), tv, &mut Vec::new())?.unwrap_or(Value::Null))
}

fn merge_node(
    l: Option<&Value>,
    r: Option<&Value>,
    tv: &TypeView<'_>,
    path: &mut Vec<PathElement>,
) -> Result<Option<Value>> {
    let Some(probe) = r.or(l) else {
        return Ok(None);
    };
    let atom = tv.atom(probe);
    if is_leaf(&atom, l, r) {
        return Ok(Some(probe.clone()));
    }
    match atom {
        Atom::Map { .. } => {
            let lm = l.and_then(Value::as_object);
            let rm = r.and_then(Value::as_object);
            let mut out = Map::new();
            let keys: BTreeSet<&String> = lm.into_iter().chain(rm).flat_map(Map::keys).collect();
            for k in keys {
                path.push(PathElement::Field(k.clone()));
                let merged = merge_node(
                    lm.and_then(|m| m.get(k)),
                    rm.and_then(|m| m.get(k)),
                    &child_type(tv, k),
                    path,
                )?;
                path.pop();
                if let Some(v) = merged {
                    out.insert(k.clone(), v);
                }
            }
            Ok(Some(Value::Object(out)))
        }
        Atom::List { list_type, items } => {
            let lhs = index_items(&list_type, &items, l, path)?;
            let rhs = index_items(&list_type, &items, r, path)?;
            let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
            let mut push = |pe: &PathElement, lv, rv, path: &mut Vec<PathElement>| {
                path.push(pe.clone());
                let merged = merge_node(lv, rv, &items, path);
                path.pop();
                merged.map(|m| out.extend(m))
            };
            // Items both sides have, in the config's order.
            let mut shared = rhs
                .iter()
                .filter(|(pe, _)| find(&lhs, pe).is_some())
                .map(|(pe, _)| pe.clone());
            let mut next_shared = shared.next();
            let mut merged_rhs = BTreeSet::new();
            let (mut li, mut ri) = (0, 0);
            while li < lhs.len() || ri < rhs.len() {
                if li < lhs.len() && ri < rhs.len() {
                    let pe = &lhs[li].0;
                    if *pe == rhs[ri].0 {
                        merged_rhs.insert(pe.clone());
                        push(pe, Some(lhs[li].1), Some(rhs[ri].1), path)?;
                        li += 1;
                        ri += 1;
                        next_shared = shared.next();
                        continue;
                    }
                    if find(&rhs, pe).is_some() && next_shared.as_ref().is_some_and(|n| n != pe) {
                        li += 1;
                        continue;
                    }
                }
                if li < lhs.len() {
                    let (pe, lv) = &lhs[li];
                    if find(&rhs, pe).is_none() {
                        push(pe, Some(*lv), None, path)?;
                        li += 1;
                        continue;
                    } else if merged_rhs.contains(pe) {
                        li += 1;
                        continue;
                    }
                }
                if ri < rhs.len() {
                    let (pe, rv) = &rhs[ri];
                    merged_rhs.insert(pe.clone());
                    push(pe, find(&lhs, pe), Some(*rv), path)?;
                    ri += 1;
                    if next_shared.as_ref() == Some(pe) {
                        next_shared = shared.next();
                    }
                }
            }
            Ok(Some(Value::Array(out)))
        }
        Atom::Leaf => Ok(Some(probe.clone())),
    }
}

/// What changed from `old` to `new`. Port of `TypedValue.Compare`: leaves go to added,
/// modified or removed; a map, list or list item that only one side has is added or removed
/// itself too (the `.` entries of FieldsV1).
pub(crate) fn compare(old: &Value, new: &Value, tv: &TypeView<'_>) -> Result<Comparison> {
    let mut c = Comparison::default();
    compare_node(Some(old), Some(new), tv, &mut Vec::new(), &mut c)?;
    Ok(c)
}

fn compare_node(
    l: Option<&Value>,
    r: Option<&Value>,
    tv: &TypeView<'_>,
    path: &mut Vec<PathElement>,
    c: &mut Comparison,
) -> Result<()> {
    let Some(probe) = r.or(l) else {
        return Ok(());
    };
    let atom = tv.atom(probe);
    if is_leaf(&atom, l, r) {
        match (l, r) {
            (None, _) => c.added.insert(path),
            (_, None) => c.removed.insert(path),
            (Some(a), Some(b)) if compare_values(a, b).is_ne() => c.modified.insert(path),
            _ => {}
        }
        return Ok(());
    }
    match atom {
        Atom::Map { .. } => {
            let lm = l.and_then(Value::as_object);
            let rm = r.and_then(Value::as_object);
            let keys: BTreeSet<&String> = lm.into_iter().chain(rm).flat_map(Map::keys).collect();
            for k in keys {
                path.push(PathElement::Field(k.clone()));
                compare_node(
                    lm.and_then(|m| m.get(k)),
                    rm.and_then(|m| m.get(k)),
                    &child_type(tv, k),
                    path,
                    c,
                )?;
                path.pop();
            }
        }
        Atom::List { list_type, items } => {
            let lhs = index_items(&list_type, &items, l, path)?;
            let rhs = index_items(&list_type, &items, r, path)?;
            for (pe, lv) in &lhs {
                path.push(pe.clone());
                compare_node(Some(*lv), find(&rhs, pe), &items, path, c)?;
                path.pop();
            }
            for (pe, rv) in rhs.iter().filter(|(pe, _)| find(&lhs, pe).is_none()) {
                path.push(pe.clone());
                compare_node(None, Some(*rv), &items, path, c)?;
                path.pop();
            }
        }
        Atom::Leaf => {}
    }
    match (l, r) {
        (None, _) => c.added.insert(path),
        (_, None) => c.removed.insert(path),
        _ => {}
    }
    Ok(())
}

/// `v` without the fields and items of `remove` (a member removes its whole subtree).
/// Port of `TypedValue.RemoveItems`.
pub(crate) fn remove_items(v: &Value, remove: &FieldSet, tv: &TypeView<'_>) -> Value {
    remove_node(v, remove, tv).unwrap_or_else(|| Value::Object(Map::new()))
}

fn remove_node(v: &Value, remove: &FieldSet, tv: &TypeView<'_>) -> Option<Value> {
    match tv.atom(v) {
        Atom::Map { atomic: false } => {
            let m = v.as_object()?;
            if m.is_empty() {
                return Some(v.clone());
            }
            let mut out = Map::new();
            for (k, val) in m {
                let pe = PathElement::Field(k.clone());
                if remove.has_member(&pe) {
                    continue;
                }
                let kept = match remove.with_prefix(&pe) {
                    Some(sub) => remove_node(val, sub, &child_type(tv, k)),
                    None => Some(val.clone()),
                };
                if let Some(kept) = kept {
                    out.insert(k.clone(), kept);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Atom::List { list_type, items } if list_type != ListType::Atomic => {
            let list = v.as_array()?;
            if list.is_empty() {
                return Some(v.clone());
            }
            let mut out = Vec::with_capacity(list.len());
            for (i, item) in list.iter().enumerate() {
                let Ok(pe) = item_element(&list_type, &items, item, i, &[]) else {
                    out.push(item.clone());
                    continue;
                };
                if remove.has_member(&pe) {
                    continue;
                }
                let kept = match remove.with_prefix(&pe) {
                    Some(sub) => remove_node(item, sub, &items),
                    None => Some(item.clone()),
                };
                out.extend(kept);
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        _ => Some(v.clone()),
    }
}

/// `set` plus the struct fields (not map keys) it has children under. Port of
/// `Set.EnsureNamedFieldsAreMembers`, which pruning uses so that a struct whose fields all go
/// goes too.
pub(crate) fn ensure_named_fields_are_members(set: &FieldSet, tv: &TypeView<'_>) -> FieldSet {
    let (members, children) = set.parts();
    let mut members = members.clone();
    let mut out = BTreeMap::new();
    for (pe, child) in children {
        let child_tv = match pe {
            PathElement::Field(name) => {
                if tv.is_named_field(name) {
                    members.insert(pe.clone());
                }
                tv.field(name)
            }
            _ => match tv.atom(&Value::Array(Vec::new())) {
                Atom::List { items, .. } => Some(items),
                _ => None,
            },
        };
        let child = match child_tv {
            Some(t) => ensure_named_fields_are_members(child, &t),
            None => child.clone(),
        };
        out.insert(pe.clone(), child);
    }
    FieldSet::from_parts(members, out)
}

/// Computes managers' sets across writes and merges applied configurations. Port of
/// `merge.Updater` (with `IgnoreFilter` as `reset_fields`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Updater<'a> {
    /// The kind's schema.
    pub(crate) tv: TypeView<'a>,
    /// Fields no manager of this request may own (the strategy's reset fields, e.g. `status`
    /// on the main resource). Go: `Updater.IgnoreFilter` for the request's version.
    pub(crate) reset_fields: Option<&'a FieldSet>,
}

impl Updater<'_> {
    /// Takes from every manager but `workflow` what changed between `old` and `new`; without
    /// `force`, fields changed that others own are conflicts. Port of `Updater.update`.
    fn update_others(
        &self,
        old: &Value,
        new: &Value,
        managers: &mut ManagedSets,
        workflow: &str,
        force: bool,
    ) -> Result<Comparison> {
        let cmp = compare(old, new, &self.tv)?.filter(self.reset_fields);
        let changed = cmp.modified.union(&cmp.added);
        let conflicts: Vec<Conflict> = managers
            .iter()
            .filter(|(manager, _)| *manager != workflow)
            .flat_map(|(manager, vs)| {
                let conflict = vs.set.intersection(&changed);
                conflict.paths().into_iter().map(|path| Conflict {
                    manager: manager.clone(),
                    path,
                })
            })
            .collect();
        if !force && !conflicts.is_empty() {
            return Err(Error::Conflicts(conflicts));
        }
        for (manager, vs) in managers.iter_mut() {
            if manager != workflow {
                vs.set = vs.set.difference(&changed).difference(&cmp.removed);
            }
        }
        managers.retain(|_, vs| !vs.set.is_empty());
        Ok(cmp)
    }

    /// A write that is not an apply (create, update, non-apply patch): `manager` gains what
    /// changed from `live` to `new` and loses what was removed; others lose both. Port of
    /// `Updater.Update`.
    pub(crate) fn update(
        &self,
        live: &Value,
        new: &Value,
        api_version: &str,
        managers: &ManagedSets,
        manager: &str,
    ) -> Result<ManagedSets> {
        let mut managers = managers.clone();
        let cmp = self.update_others(live, new, &mut managers, manager, true)?;
        let previous = managers
            .remove(manager)
            .map(|vs| vs.set)
            .unwrap_or_default();
        let mut set = previous
            .difference(&cmp.removed)
            .union(&cmp.modified)
            .union(&cmp.added);
        if let Some(reset) = self.reset_fields {
            set = set.recursive_difference(reset);
        }
        if !set.is_empty() {
            managers.insert(
                manager.to_owned(),
                VersionedSet {
                    set,
                    api_version: api_version.to_owned(),
                    applied: false,
                },
            );
        }
        Ok(managers)
    }

    /// An apply of `config` by `manager`. Returns the merged object (`None` when it equals
    /// `live`) and the new sets, or the conflicts. Port of `Updater.Apply`.
    pub(crate) fn apply(
        &self,
        live: &Value,
        config: &Value,
        api_version: &str,
        managers: &ManagedSets,
        manager: &str,
        force: bool,
    ) -> Result<(Option<Value>, ManagedSets)> {
        let mut managers = managers.clone();
        let merged = merge(live, config, &self.tv)?;
        let mut last = managers.get(manager).map(|vs| vs.set.clone());
        let mut set = to_field_set(config, &self.tv)?;
        if let Some(reset) = self.reset_fields {
            set = set.recursive_difference(reset);
            last = last.map(|l| l.recursive_difference(reset));
        }
        managers.insert(
            manager.to_owned(),
            VersionedSet {
                set,
                api_version: api_version.to_owned(),
                applied: true,
            },
        );
        let new = self.prune(merged, &managers, last.as_ref())?;
        self.update_others(live, &new, &mut managers, manager, force)?;
        let same = compare(live, &new, &self.tv)?.is_same();
        Ok(((!same).then_some(new), managers))
    }

    /// Removes what `last` (the applier's previous set) had and the new sets do not own.
    /// Port of `Updater.prune`, `addBackOwnedItems` and `addBackDanglingItems`.
    fn prune(
        &self,
        merged: Value,
        managers: &ManagedSets,
        last: Option<&FieldSet>,
    ) -> Result<Value> {
        let Some(last) = last.filter(|l| !l.is_empty()) else {
            return Ok(merged);
        };
        let named = |s: &FieldSet| ensure_named_fields_are_members(s, &self.tv);
        let last = named(last);
        let pruned = remove_items(&merged, &last, &self.tv);
        // Add back what any manager owns.
        let owned = managers
            .values()
            .fold(FieldSet::new(), |acc, vs| acc.union(&vs.set));
        let merged_set = named(&to_field_set(&merged, &self.tv)?);
        let pruned_set = named(&to_field_set(&pruned, &self.tv)?);
        let pruned = remove_items(
            &merged,
            &merged_set.difference(&pruned_set.union(&named(&owned))),
            &self.tv,
        );
        // Add back what the applier did not own last time (defaults, others' leftovers).
        let pruned_set = named(&to_field_set(&pruned, &self.tv)?);
        Ok(remove_items(
            &merged,
            &merged_set.difference(&pruned_set).intersection(&last),
            &self.tv,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> TypeView<'static> {
        TypeView::for_kind("v1", "Pod")
    }

    fn paths(s: &FieldSet) -> Vec<String> {
        s.paths().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn field_set_of_a_pod_has_items_and_map_keys_as_members() {
        let v = json!({"metadata": {"labels": {"a": "1"}},
            "spec": {"containers": [{"name": "c", "image": "x", "resources": {}}]}});
        let s = to_field_set(&v, &pod()).expect("walks");
        assert_eq!(
            s.to_fields_v1(),
            r#"{"f:metadata":{"f:labels":{"f:a":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:image":{},"f:name":{},"f:resources":{}}}}}"#
        );
    }

    #[test]
    fn duplicate_and_missing_keys_are_invalid() {
        let dup = json!({"spec": {"containers": [{"name": "c"}, {"name": "c"}]}});
        assert_eq!(
            to_field_set(&dup, &pod())
                .expect_err("duplicate")
                .to_string(),
            r#".spec.containers: duplicate entries for key [name="c"]"#
        );
        let schemas = json!({"L": {"type": "object", "properties": {"items": {"type": "array",
            "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
            "items": {"type": "object", "properties": {"id": {"type": "string"}}}}}}});
        let schemas = schemas.as_object().expect("object");
        let tv = TypeView::new(schemas, &schemas["L"]);
        assert_eq!(
            to_field_set(&json!({"items": [{"x": 1}]}), &tv)
                .expect_err("no key, no default")
                .to_string(),
            r#".items: associative list with keys has an element that omits key field "id" (and doesn't have default value)"#
        );
        // A key with a schema default may be left out.
        let port =
            json!({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}});
        let s = to_field_set(&port, &pod()).expect("protocol defaults to TCP");
        assert!(
            paths(&s)
                .iter()
                .any(|p| p.contains(r#"[containerPort=80,protocol="TCP"]"#))
        );
    }

    #[test]
    fn merge_keeps_live_order_and_places_new_items_after_their_neighbours() {
        let live = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let config = json!({"spec": {"containers": [{"name": "b", "image": "y"}, {"name": "c"}]}});
        let out = merge(&live, &config, &pod()).expect("merges");
        assert_eq!(
            out,
            json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "image": "y"}, {"name": "c"}]}})
        );
    }

    #[test]
    fn compare_marks_new_containers_and_changed_leaves() {
        let old = json!({"spec": {"containers": [{"name": "a", "image": "x"}]}});
        let new = json!({"spec": {"containers": [{"name": "a", "image": "y"}, {"name": "b"}]}});
        let c = compare(&old, &new, &pod()).expect("compares");
        assert_eq!(
            paths(&c.modified),
            vec![r#".spec.containers[name="a"].image"#]
        );
        assert_eq!(
            paths(&c.added),
            vec![
                r#".spec.containers[name="b"]"#,
                r#".spec.containers[name="b"].name"#
            ]
        );
        assert!(c.removed.is_empty());
    }

    #[test]
    fn remove_items_drops_members_and_emptied_parents() {
        let v = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let mut s = FieldSet::new();
        s.insert(&Path::fields(&["metadata", "labels", "a"]).0);
        s.insert(&[
            PathElement::Field("spec".into()),
            PathElement::Field("containers".into()),
            PathElement::Key(vec![("name".into(), json!("a"))]),
        ]);
        assert_eq!(
            remove_items(&v, &s, &pod()),
            json!({"spec": {"containers": [{"name": "b"}]}})
        );
    }

    #[test]
    fn named_struct_fields_become_members_but_map_keys_do_not() {
        let mut s = FieldSet::new();
        s.insert(&Path::fields(&["spec", "nodeSelector", "zone"]).0);
        let named = ensure_named_fields_are_members(&s, &pod());
        assert!(named.has(&Path::fields(&["spec"]).0));
        assert!(named.has(&Path::fields(&["spec", "nodeSelector"]).0));
        assert!(!s.has(&Path::fields(&["spec"]).0));
    }
}
