//! Port of apimachinery `pkg/util/strategicpatch/patch.go`, the applying half
//! (`StrategicMergeMapPatchUsingLookupPatchMeta` and the `mergeMap`/`mergeSlice` family), with
//! the error mapping of apiserver `pkg/endpoints/handlers/patch.go`
//! (`interpretStrategicMergePatchError`, the 422 of `FromUnstructuredWithValidation`).
//!
//! Data flow: the stored object and the patch are JSON maps; [`apply`] walks them together,
//! looking up at each field the `x-kubernetes-patch-strategy` and
//! `x-kubernetes-patch-merge-key` that the kind's schema declares ([`PatchSchema`], read from the
//! recorded OpenAPI v3 documents the server serves). Lists with strategy `merge` merge by merge
//! key (maps) or as sets (scalars); other lists and scalars are replaced; maps merge key by key,
//! a `null` deleting. Directives: `$patch: replace|delete` in a map or list element,
//! `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
//!
//! Differs from Go: the patch strategies come from the OpenAPI extensions, not the Go struct
//! tags they are generated from (the same data), and only the server's options are ported
//! (`MergeParallelList` and `IgnoreUnmatchedNulls` both on), because the two-way and three-way
//! patch builders belong to clients.

use serde_json::{Map, Value};

use crate::openapi;

const DIRECTIVE: &str = "$patch";
const DELETE: &str = "delete";
const REPLACE: &str = "replace";
const MERGE: &str = "merge";
const RETAIN_KEYS_STRATEGY: &str = "retainKeys";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// A strategic merge patch that cannot be applied, classed by the HTTP code the API server
/// answers with.
///
/// Port of the `mergepatch` errors as `interpretStrategicMergePatchError` maps them. None is
/// retryable: the patch itself is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Error {
    /// 400: a malformed directive (`ErrBadPatchFormatFor...`).
    #[error("{0}")]
    BadRequest(String),
    /// 422: `ErrNoListOfLists`, `ErrPatchContentNotMatchRetainKeys`, or a patched object whose
    /// types do not fit the schema (`cannot restore slice from string`).
    #[error("{0}")]
    Unprocessable(String),
    /// 500: every other error of the merge (unknown `$patch`, a missing merge key, ...), which
    /// the API server passes on as an internal error.
    #[error("{0}")]
    Internal(String),
}

/// Result of this module.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

fn bad_retain_keys() -> Error {
    Error::BadRequest("invalid patch format of retainKeys".into())
}
fn bad_primitive_list() -> Error {
    Error::BadRequest("invalid patch format of primitive list".into())
}
fn bad_set_element_order() -> Error {
    Error::BadRequest("invalid patch format of setElementOrder list".into())
}
fn no_merge_key(m: &Map<String, Value>, key: &str) -> Error {
    Error::Internal(format!(
        "map: {} does not contain declared merge key: {key}",
        go_map(m)
    ))
}
fn bad_arg_type(expected: &str, actual: &Value) -> Error {
    Error::Internal(format!(
        "expected a {expected}, but received a {}",
        go_type(actual)
    ))
}

/// What a field's schema says about patching it: Go's `PatchMeta`.
#[derive(Debug, Default)]
struct PatchMeta {
    strategies: Vec<String>,
    merge_key: String,
}

/// Port of `LookupPatchMeta`, over an OpenAPI v3 schema: a node of the kind's schema tree.
///
/// Differs from Go: an unknown field has no patch metadata (merge maps, replace lists) where
/// the struct lookup fails, because the decoder rejects or drops such fields anyway.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PatchSchema<'a> {
    schemas: Option<&'a Map<String, Value>>,
    node: Option<&'a Value>,
}

impl<'a> PatchSchema<'a> {
    /// No schema: maps merge, lists are replaced (what JSON merge patch would do to lists).
    pub(crate) const NONE: PatchSchema<'static> = PatchSchema {
        schemas: None,
        node: None,
    };

    /// The schema of a built-in kind, from `apiVersion` and `kind` (`apps/v1`, `Deployment`).
    pub(crate) fn for_kind(api_version: &str, kind: &str) -> Option<PatchSchema<'static>> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let schemas = openapi::builtin_schemas(group, version)?;
        let node = openapi::kind_schema(schemas, group, version, kind)?;
        Some(PatchSchema {
            schemas: Some(schemas),
            node: Some(node),
        })
    }

    /// The schema of a field in `schemas` (for tests and callers holding a schema tree).
    pub(crate) fn new(schemas: &'a Map<String, Value>, node: &'a Value) -> Self {
        let node = openapi::resolve(schemas, node);
        PatchSchema {
            schemas: Some(schemas),
            node: Some(node),
        }
    }

    fn child(&self, raw: Option<&'a Value>) -> PatchSchema<'a> {
        match (self.schemas, raw) {
            (Some(schemas), Some(raw)) => PatchSchema::new(schemas, raw),
            _ => PatchSchema {
                schemas: self.schemas,
                node: None,
            },
        }
    }

    /// The raw (unresolved) schema of field `key`: a declared property, else the map's values.
    fn field(&self, key: &str) -> Option<&'a Value> {
        let node = self.node?;
        node.get("properties")
            .and_then(|p| p.get(key))
            .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))
    }

    /// `LookupPatchMetadataForStruct`: the field's schema and patch metadata.
    fn lookup_struct(&self, key: &str) -> (PatchSchema<'a>, PatchMeta) {
        let raw = self.field(key);
        (self.child(raw), patch_meta(raw))
    }

    /// `LookupPatchMetadataForSlice`: the schema of the list's items and the list's metadata.
    fn lookup_slice(&self, key: &str) -> (PatchSchema<'a>, PatchMeta) {
        let raw = self.field(key);
        let items = raw
            .map(|r| match self.schemas {
                Some(schemas) => openapi::resolve(schemas, r),
                None => r,
            })
            .and_then(|r| r.get("items"));
        (self.child(items), patch_meta(raw))
    }

    /// `Name()`: the schema's title, for error messages.
    fn name(&self) -> String {
        self.node
            .and_then(|n| n.get("description"))
            .and_then(Value::as_str)
            .map(|d| d.split('.').next().unwrap_or_default().to_owned())
            .unwrap_or_default()
    }

    /// The JSON type the schema declares (`array`, `object`, `string`, ...).
    fn declared_type(&self) -> Option<&'a str> {
        self.node?.get("type").and_then(Value::as_str)
    }

    fn is_struct(&self) -> bool {
        self.node
            .is_some_and(|n| n.get("properties").is_some_and(Value::is_object))
    }
}

fn patch_meta(raw: Option<&Value>) -> PatchMeta {
    let text = |k: &str| {
        raw.and_then(|r| r.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let strategy = text("x-kubernetes-patch-strategy");
    PatchMeta {
        strategies: if strategy.is_empty() {
            Vec::new()
        } else {
            strategy.split(',').map(str::to_owned).collect()
        },
        merge_key: text("x-kubernetes-patch-merge-key").to_owned(),
    }
}

/// Port of `StrategicMergeMapPatchUsingLookupPatchMeta` plus the apiserver's check that the
/// result still fits the kind's types (`FromUnstructuredWithValidation`'s 422).
///
/// # Errors
///
/// [`Error`], classed by the code the API server answers with.
pub(crate) fn apply(original: &Value, patch: &Value, schema: PatchSchema<'_>) -> Result<Value> {
    let (Value::Object(o), Value::Object(p)) = (original, patch) else {
        return Err(Error::BadRequest("invalid JSON document".into()));
    };
    let merged = merge_map(o.clone(), p.clone(), schema)?;
    let merged = Value::Object(merged);
    if let Err(e) = check_types(&merged, schema, 0) {
        return Err(Error::Unprocessable(format!(
            " \"\" is invalid: patch: Invalid value: {:?}: {e}",
            go_value(patch)
        )));
    }
    Ok(merged)
}

/// `handleDirectiveInMergeMap`.
fn handle_directive_in_merge_map(
    directive: &Value,
    mut patch: Map<String, Value>,
) -> Result<Map<String, Value>> {
    match directive.as_str() {
        Some(REPLACE) => {
            patch.remove(DIRECTIVE);
            Ok(patch)
        }
        Some(DELETE) => Ok(Map::new()),
        _ => Err(bad_patch_type(directive, &patch)),
    }
}

fn bad_patch_type(directive: &Value, m: &Map<String, Value>) -> Error {
    let shown = match directive {
        Value::String(s) => s.clone(),
        other => format!("%!s({}={})", go_type(other), go_value(other)),
    };
    Error::Internal(format!("unknown patch type: {shown} in map: {}", go_map(m)))
}

/// `extractKey`: the list name after `<prefix>/`.
fn extract_key(key: &str, prefix: &str) -> Result<String> {
    match key.split_once('/') {
        Some((head, rest)) if head == prefix => Ok(rest.to_owned()),
        _ if prefix == DELETE_FROM_PRIMITIVE_LIST => Err(bad_primitive_list()),
        _ => Err(bad_set_element_order()),
    }
}

/// `extractRetainKeysPatchStrategy`: the strategy other than `retainKeys`.
fn other_strategy(strategies: &[String]) -> Result<String> {
    match strategies {
        [] => Ok(String::new()),
        [one] if one == RETAIN_KEYS_STRATEGY => Ok(String::new()),
        [one] => Ok(one.clone()),
        [a, b] if a == RETAIN_KEYS_STRATEGY => Ok(b.clone()),
        [a, b] if b == RETAIN_KEYS_STRATEGY => Ok(a.clone()),
        _ => Err(Error::Internal(format!(
            "unexpected patch strategy: [{}]",
            strategies.join(" ")
        ))),
    }
}

/// `mergeMap`.
fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    schema: PatchSchema<'_>,
) -> Result<Map<String, Value>> {
    if let Some(directive) = patch.get(DIRECTIVE).cloned() {
        return handle_directive_in_merge_map(&directive, patch);
    }
    apply_retain_keys_directive(&mut original, &mut patch)?;
    merge_patch_into_original(&mut original, &mut patch, schema)?;
    for (key, patch_v) in patch {
        let (key, is_delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            (extract_key(&key, DELETE_FROM_PRIMITIVE_LIST)?, true)
        } else {
            (key, false)
        };
        // A null deletes the key (IgnoreUnmatchedNulls: nothing else to do).
        if patch_v.is_null() {
            original.remove(&key);
            continue;
        }
        let Some(original_v) = original.remove(&key) else {
            if !is_delete_list {
                insert_without_directives(&mut original, key, patch_v);
            }
            continue;
        };
        if go_type(&original_v) != go_type(&patch_v) {
            if is_delete_list {
                original.insert(key, original_v);
            } else {
                insert_without_directives(&mut original, key, patch_v);
            }
            continue;
        }
        match (original_v, patch_v) {
            (Value::Object(o), Value::Object(p)) => {
                let (sub, meta) = schema.lookup_struct(&key);
                let merged = if other_strategy(&meta.strategies)? == REPLACE {
                    p
                } else {
                    merge_map(o, p, sub)?
                };
                original.insert(key, Value::Object(merged));
            }
            (Value::Array(o), Value::Array(p)) => {
                let (sub, meta) = schema.lookup_slice(&key);
                let strategy = other_strategy(&meta.strategies)?;
                let merged =
                    merge_slice_handler(o, p, sub, &strategy, &meta.merge_key, is_delete_list)?;
                original.insert(key, Value::Array(merged));
            }
            (_, p) => insert_without_directives(&mut original, key, p),
        }
    }
    Ok(original)
}

/// Takes a patch value for a key the original lacks (or holds with another type):
/// `discardNullValuesFromPatch` then `removeDirectives`.
fn insert_without_directives(original: &mut Map<String, Value>, key: String, mut v: Value) {
    discard_null_values(&mut v);
    if let Some(v) = remove_directives(v) {
        original.insert(key, v);
    }
}

/// `discardNullValuesFromPatch`.
fn discard_null_values(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(discard_null_values);
        }
        Value::Array(items) => items.iter_mut().for_each(discard_null_values),
        _ => {}
    }
}

/// `removeDirectives`: `None` when the value itself is a directive and must not be kept.
fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE) {
                return None;
            }
            Some(Value::Object(
                m.into_iter()
                    .filter_map(|(k, v)| remove_directives(v).map(|v| (k, v)))
                    .collect(),
            ))
        }
        Value::Array(items) => Some(Value::Array(
            items.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

/// `applyRetainKeysDirective` (MergeParallelList on): clears the original's keys the
/// `$retainKeys` list does not name, after checking the patch sets only named keys.
fn apply_retain_keys_directive(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<()> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(bad_retain_keys());
    };
    let named = |k: &str| retain.iter().any(|r| r.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || k.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if !named(k) {
            return Err(bad_retain_keys());
        }
    }
    original.retain(|k, _| named(k));
    Ok(())
}

/// `mergePatchIntoOriginal`: merges each list named by a `$setElementOrder/<list>` directive
/// and orders the result: `$setElementOrder` first, then the patch's order, then the live one.
fn merge_patch_into_original(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    schema: PatchSchema<'_>,
) -> Result<()> {
    let order_keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for key in order_keys {
        let Some(order) = patch.remove(&key) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(bad_arg_type("[]interface {}", &order));
        };
        let list_key = extract_key(&key, SET_ELEMENT_ORDER)?;
        let original_list = match original.get(&list_key) {
            Some(Value::Array(l)) => Some(l.clone()),
            Some(other) => return Err(bad_arg_type("[]interface {}", other)),
            None => None,
        };
        let patch_list = match patch.get(&list_key) {
            Some(Value::Array(l)) => Some(l.clone()),
            Some(other) => return Err(bad_arg_type("[]interface {}", other)),
            None => None,
        };
        let (sub, meta) = schema.lookup_slice(&list_key);
        let strategy = other_strategy(&meta.strategies)?;
        validate_patch_with_set_order_list(
            patch_list.as_deref().unwrap_or_default(),
            &order,
            &meta.merge_key,
        )?;
        let original_items = original_list.clone().unwrap_or_default();
        let patch_items_in = patch_list.clone().unwrap_or_default();
        let merged = match (original_list, patch_list) {
            (Some(o), None) => o,
            (None, Some(p)) => match remove_directives(Value::Array(p)) {
                Some(Value::Array(v)) => v,
                _ => continue,
            },
            (Some(o), Some(p)) => {
                merge_slice_handler(o, p, sub, &strategy, &meta.merge_key, false)?
            }
            (None, None) => continue,
        };
        let (patch_items, server_only) = partition_by_presence(merged, &order, &meta.merge_key)?;
        let kind = element_kind(&[&original_items, &patch_items_in])?;
        let both = normalize_element_order(
            patch_items,
            server_only,
            &order,
            &original_items,
            &meta.merge_key,
            kind,
        )?;
        original.insert(list_key.clone(), Value::Array(both));
        patch.remove(&list_key);
    }
    Ok(())
}

/// `validatePatchWithSetOrderList`: the patch list's items appear in the order list, in order.
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    order: &[Value],
    merge_key: &str,
) -> Result<()> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<&Value> = if merge_key.is_empty() {
        patch_list.iter().collect()
    } else {
        let mut kept = Vec::new();
        for v in patch_list {
            let Value::Object(m) = v else {
                return Err(bad_arg_type("map[string]interface {}", v));
            };
            if m.get(DIRECTIVE).and_then(Value::as_str) != Some(DELETE) {
                kept.push(v);
            }
        }
        kept
    };
    let (mut p, mut o) = (0, 0);
    while p < non_delete.len() && o < order.len() {
        if non_delete[p].get(DIRECTIVE).is_some() {
            p += 1;
            continue;
        }
        if merge_key_value_equal(non_delete[p], &order[o], merge_key)? {
            p += 1;
        }
        o += 1;
    }
    if p < non_delete.len() && o >= order.len() {
        return Err(Error::Internal(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}\n",
            go_list(patch_list),
            go_list(order)
        )));
    }
    Ok(())
}

/// `mergeKeyValueEqual`.
fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    let (Value::Object(l), Value::Object(r)) = (left, right) else {
        let bad = if left.is_object() { right } else { left };
        return Err(bad_arg_type("map[string]interface {}", bad));
    };
    let lv = l.get(merge_key).ok_or_else(|| no_merge_key(l, merge_key))?;
    let rv = r.get(merge_key).ok_or_else(|| no_merge_key(r, merge_key))?;
    Ok(lv == rv)
}

/// `mergeSliceHandler`.
fn merge_slice_handler(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: PatchSchema<'_>,
    strategy: &str,
    merge_key: &str,
    is_delete_list: bool,
) -> Result<Vec<Value>> {
    if strategy == MERGE || is_delete_list {
        merge_slice(original, patch, schema, merge_key, is_delete_list)
    } else {
        Ok(patch)
    }
}

/// The element kind of lists (`sliceElementType`): maps, or scalars of one Go type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ElementKind {
    Map,
    Scalar,
}

/// `sliceElementType`.
fn element_kind(lists: &[&[Value]]) -> Result<ElementKind> {
    let mut first: Option<&Value> = None;
    for v in lists.iter().flat_map(|l| l.iter()) {
        match first {
            None => {
                if v.is_array() {
                    return Err(Error::Unprocessable(
                        "lists of lists are not supported".into(),
                    ));
                }
                first = Some(v);
            }
            Some(f) if go_type(f) != go_type(v) => {
                let shown: Vec<String> = lists.iter().map(|l| go_list(l)).collect();
                return Err(Error::Internal(format!(
                    "list element types are not identical: {}",
                    shown.join(" ")
                )));
            }
            Some(_) => {}
        }
    }
    match first {
        None => Err(Error::Internal(
            "no elements in any of the given slices".into(),
        )),
        Some(Value::Object(_)) => Ok(ElementKind::Map),
        Some(_) => Ok(ElementKind::Scalar),
    }
}

/// `mergeSlice`.
fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: PatchSchema<'_>,
    merge_key: &str,
    is_delete_list: bool,
) -> Result<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = element_kind(&[&original, &patch])?;
    let (original, patch, merged) = if kind == ElementKind::Scalar {
        if is_delete_list {
            return Ok(original
                .into_iter()
                .filter(|v| !patch.contains(v))
                .collect());
        }
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        (original, patch, deduplicate_scalars(both))
    } else {
        if merge_key.is_empty() {
            return Err(Error::Internal(format!(
                "cannot merge lists without merge key for {}",
                schema.name()
            )));
        }
        let (original, patch) = merge_slice_with_special_elements(original, patch, merge_key)?;
        let merged = merge_slice_without_special_elements(
            original.clone(),
            patch.clone(),
            merge_key,
            schema,
        )?;
        (original, patch, merged)
    };
    let (patch_items, server_only) = partition_by_presence(merged, &patch, merge_key)?;
    normalize_element_order(patch_items, server_only, &patch, &original, merge_key, kind)
}

/// `deduplicateScalars`, including its order: a duplicate is overwritten by the last item.
fn deduplicate_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let mut i = 0;
    while i + 1 < s.len() {
        let mut j = i + 1;
        while j < s.len() {
            if s[i] == s[j] {
                s.swap_remove(j);
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    s
}

/// `mergeSliceWithSpecialElements`: applies `$patch: delete` and `$patch: replace` elements;
/// returns the new original and the patch without them.
fn merge_slice_with_special_elements(
    original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut original = original;
    let mut plain = Vec::new();
    let mut replace = false;
    for v in patch {
        let Value::Object(m) = &v else {
            return Err(bad_arg_type("map[string]interface {}", &v));
        };
        let Some(directive) = m.get(DIRECTIVE) else {
            plain.push(v);
            continue;
        };
        match directive.as_str() {
            Some(DELETE) => {
                let value = m.get(merge_key).ok_or_else(|| no_merge_key(m, merge_key))?;
                let mut kept = Vec::with_capacity(original.len());
                for item in original {
                    let Value::Object(im) = &item else {
                        return Err(Error::Internal(format!(
                            "value for key {} is not a map",
                            kept.len()
                        )));
                    };
                    if im.get(merge_key) != Some(value) {
                        kept.push(item);
                    }
                }
                original = kept;
            }
            Some(REPLACE) => replace = true,
            Some(MERGE) => {
                return Err(Error::Internal(
                    "merging lists cannot yet be specified in the patch".into(),
                ));
            }
            _ => return Err(bad_patch_type(directive, m)),
        }
    }
    if replace {
        Ok((plain, Vec::new()))
    } else {
        Ok((original, plain))
    }
}

/// `findMapInSliceBasedOnKeyValue`: the index of the map whose `key` is `value`.
fn find_by_key(list: &[Value], key: &str, value: &Value) -> Result<Option<usize>> {
    for (i, v) in list.iter().enumerate() {
        let Value::Object(m) = v else {
            return Err(Error::Internal(format!("value for key {i} is not a map")));
        };
        if m.get(key) == Some(value) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// `mergeSliceWithoutSpecialElements`: merges each patch element into the original element
/// with the same merge key, or appends it.
fn merge_slice_without_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
    schema: PatchSchema<'_>,
) -> Result<Vec<Value>> {
    for v in patch {
        let Value::Object(m) = v else {
            return Err(bad_arg_type("map[string]interface {}", &v));
        };
        let value = m
            .get(merge_key)
            .cloned()
            .ok_or_else(|| no_merge_key(&m, merge_key))?;
        match find_by_key(&original, merge_key, &value)? {
            Some(i) => {
                let Value::Object(o) = std::mem::take(&mut original[i]) else {
                    return Err(Error::Internal(format!("value for key {i} is not a map")));
                };
                original[i] = Value::Object(merge_map(o, m, schema)?);
            }
            None => original.push(Value::Object(m)),
        }
    }
    Ok(original)
}

/// `partitionPrimitivesByPresentInList` / `partitionMapsByPresentInList`: the items present in
/// `by`, then the others.
fn partition_by_presence(
    merged: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut present = Vec::new();
    let mut absent = Vec::new();
    for v in merged {
        let found = if merge_key.is_empty() {
            by.contains(&v)
        } else {
            let Value::Object(m) = &v else {
                return Err(bad_arg_type("map[string]interface {}", &v));
            };
            let value = m.get(merge_key).ok_or_else(|| no_merge_key(m, merge_key))?;
            find_by_key(by, merge_key, value)?.is_some()
        };
        if found {
            present.push(v);
        } else {
            absent.push(v);
        }
    }
    Ok((present, absent))
}

/// `index`: where `item` is in `list`, by merge key for maps.
fn index_of(list: &[Value], item: &Value, merge_key: &str, kind: ElementKind) -> Option<usize> {
    let key_of = |v: &Value| -> Option<Value> {
        match kind {
            ElementKind::Map => Some(v.get(merge_key).cloned().unwrap_or(Value::Null)),
            ElementKind::Scalar => Some(v.clone()),
        }
    };
    let wanted = key_of(item);
    list.iter().position(|v| key_of(v) == wanted)
}

/// `normalizeSliceOrder`: sorts `to_sort` by `order` (stable); `$patch: delete` items last.
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: ElementKind,
) -> Result<Vec<Value>> {
    let (mut to_sort, to_delete) = if kind == ElementKind::Map {
        for item in to_sort.iter().chain(order) {
            let Value::Object(m) = item else {
                return Err(bad_arg_type("map[string]interface {}", item));
            };
            if !m.contains_key(merge_key) {
                return Err(no_merge_key(m, merge_key));
            }
        }
        to_sort
            .into_iter()
            .partition(|v| v.get(DIRECTIVE).and_then(Value::as_str) != Some(DELETE))
    } else {
        (to_sort, Vec::new())
    };
    to_sort.sort_by_key(|v| index_of(order, v, merge_key, kind).unwrap_or(usize::MAX));
    to_sort.extend(to_delete);
    Ok(to_sort)
}

/// `normalizeElementOrder`: patch items in patch order, server-only items in server order,
/// interleaved by `mergeSortedSlice`.
fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: ElementKind,
) -> Result<Vec<Value>> {
    let patch = normalize_slice_order(patch, patch_order, merge_key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    Ok(merge_sorted_slice(
        server_only,
        patch,
        server_order,
        merge_key,
        kind,
    ))
}

/// `mergeSortedSlice`: inserts each `left` item before the first `right` item that comes after
/// it in `server_order`; the relative orders of `left` and `right` are kept.
fn merge_sorted_slice(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: ElementKind,
) -> Vec<Value> {
    let less = |l: &Value, r: &Value| match (
        index_of(server_order, l, merge_key, kind),
        index_of(server_order, r, merge_key, kind),
    ) {
        (Some(li), Some(ri)) => li < ri,
        _ => false,
    };
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => less(l, r),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

/// `FromUnstructuredWithValidation`'s type errors: the first place where the patched object's
/// shape does not fit the schema (`cannot restore slice from string`).
fn check_types(
    value: &Value,
    schema: PatchSchema<'_>,
    depth: usize,
) -> std::result::Result<(), String> {
    if depth > 64 || value.is_null() {
        return Ok(());
    }
    let kind = reflect_kind(value);
    match schema.declared_type() {
        Some("array") => {
            let Value::Array(items) = value else {
                return Err(format!("cannot restore slice from {kind}"));
            };
            let node = schema.node.and_then(|n| n.get("items"));
            let sub = schema.child(node);
            for item in items {
                check_types(item, sub, depth + 1)?;
            }
        }
        Some("object") => {
            let Value::Object(fields) = value else {
                return Err(if schema.is_struct() {
                    format!("cannot restore struct from: {kind}")
                } else {
                    format!("cannot restore map from {kind}")
                });
            };
            for (k, v) in fields {
                if schema.field(k).is_some() {
                    let (sub, _) = schema.lookup_struct(k);
                    check_types(v, sub, depth + 1)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// `reflect.Kind` names of decoded JSON values.
fn reflect_kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "map",
        Value::Array(_) => "slice",
        other => go_type(other),
    }
}

/// Go type names of decoded JSON values (integers are `int64`: the API server decodes
/// patches preserving them).
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Go's `%v` of a decoded JSON value: `map[a:1 b:[x y]]`, keys sorted.
pub(crate) fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => go_list(items),
        Value::Object(m) => go_map(m),
    }
}

fn go_list(items: &[Value]) -> String {
    let parts: Vec<String> = items.iter().map(go_value).collect();
    format!("[{}]", parts.join(" "))
}

fn go_map(m: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    let parts: Vec<String> = keys
        .into_iter()
        .map(|k| format!("{k}:{}", go_value(&m[k])))
        .collect();
    format!("map[{}]", parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment_schema() -> PatchSchema<'static> {
        let Some(s) = PatchSchema::for_kind("apps/v1", "Deployment") else {
            panic!("the apps/v1 document declares Deployment");
        };
        s
    }

    #[test]
    fn go_formatting_sorts_keys() {
        let v = json!({"b": [1, "x"], "a": {"z": null, "y": true}});
        assert_eq!(go_value(&v), "map[a:map[y:true z:<nil>] b:[1 x]]");
    }

    #[test]
    fn scalar_dedup_keeps_go_order() {
        let out = deduplicate_scalars(vec![json!("a"), json!("b"), json!("a"), json!("c")]);
        assert_eq!(out, vec![json!("a"), json!("b"), json!("c")]);
    }

    #[test]
    fn without_a_schema_lists_are_replaced() {
        let out = apply(
            &json!({"l": [1, 2], "m": {"a": 1}}),
            &json!({"l": [3], "m": {"b": 2}}),
            PatchSchema::NONE,
        );
        assert_eq!(out, Ok(json!({"l": [3], "m": {"a": 1, "b": 2}})));
    }

    #[test]
    fn a_merge_directive_in_a_list_is_refused() {
        let o = json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}});
        let p = json!({"spec": {"template": {"spec": {"containers": [{"$patch": "merge"}]}}}});
        assert_eq!(
            apply(&o, &p, deployment_schema()),
            Err(Error::Internal(
                "merging lists cannot yet be specified in the patch".into()
            ))
        );
    }

    #[test]
    fn a_patch_element_without_its_merge_key_is_an_internal_error() {
        let o = json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}});
        let p = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        assert_eq!(
            apply(&o, &p, deployment_schema()),
            Err(Error::Internal(
                "map: map[image:x] does not contain declared merge key: name".into()
            ))
        );
    }

    #[test]
    fn retain_keys_refuses_a_patch_key_it_does_not_name() {
        let o = json!({"spec": {"strategy": {"type": "RollingUpdate"}}});
        let p = json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}});
        assert_eq!(apply(&o, &p, deployment_schema()), Err(bad_retain_keys()));
    }

    #[test]
    fn a_bad_primitive_list_prefix_is_a_bad_request() {
        let o = json!({"metadata": {"finalizers": ["a"]}});
        let p = json!({"metadata": {"$deleteFromPrimitiveListX/finalizers": ["a"]}});
        assert_eq!(
            apply(&o, &p, deployment_schema()),
            Err(bad_primitive_list())
        );
    }

    #[test]
    fn set_element_order_must_list_the_patch_items_in_order() {
        let o =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}});
        let p = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "a"}],
            "containers": [{"name": "b", "image": "x"}]}}}});
        let out = apply(&o, &p, deployment_schema());
        assert!(
            matches!(&out, Err(Error::Internal(m)) if m.starts_with("The order in patch list:")),
            "{out:?}"
        );
    }

    #[test]
    fn lists_of_lists_are_unprocessable() {
        let o = json!({"metadata": {"finalizers": [["a"]]}});
        let p = json!({"metadata": {"finalizers": [["b"]]}});
        assert_eq!(
            apply(&o, &p, deployment_schema()),
            Err(Error::Unprocessable(
                "lists of lists are not supported".into()
            ))
        );
    }

    #[test]
    fn a_map_where_a_struct_is_expected_is_unprocessable() {
        let o = json!({"spec": {"replicas": 1}});
        let p = json!({"spec": "x"});
        assert_eq!(
            apply(&o, &p, deployment_schema()),
            Err(Error::Unprocessable(
                " \"\" is invalid: patch: Invalid value: \"map[spec:x]\": cannot restore struct from: string"
                    .into()
            ))
        );
    }
}
