//! Label and field selectors, parsed from `labelSelector` / `fieldSelector` query parameters.
//!
//! Port of the parts of apimachinery's `labels/selector.go` and `fields/selector.go` that
//! servers evaluate: label requirements `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`,
//! `k` (exists) and `!k` (does not exist), joined by commas; field requirements `f=v`, `f==v`,
//! `f!=v` (values escaped with `\`), each label converted by the resource's `ConvertFieldLabel`
//! and evaluated on the set its registry's `ToSelectableFields` builds.
//!
//! Events are stored once, as core Events (see `event_conversion`): an `events.k8s.io/v1`
//! selector such as `regarding.kind=Pod` or `reportingController=kubelet` is converted to the
//! core field (`involvedObject.kind`, `reportingComponent`) before matching, as kube-apiserver
//! does, and core-only labels (`source`, `involvedObject.*`) are refused there.
//!
//! Differs from Go: CRD `selectableFields` are not served (custom resources select on
//! `metadata.name`/`metadata.namespace` only), because `crd` does not record them.

use serde_json::Value;

use crate::resources::ResourceInfo;

/// Why a selector could not be parsed; the message becomes a 400 `BadRequest` Status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

#[derive(Clone, Debug, PartialEq, Eq)]
enum LabelOp {
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<(String, LabelOp)>,
}

impl LabelSelector {
    /// Parses the `labelSelector` syntax.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for part in split_top_level(input)? {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            requirements.push(parse_requirement(part)?);
        }
        Ok(LabelSelector { requirements })
    }

    /// Whether the selector has no requirements.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Evaluates the selector against an object's `metadata.labels`.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.requirements.iter().all(|(key, op)| match op {
            LabelOp::Equals(v) => get(key) == Some(v.as_str()),
            LabelOp::NotEquals(v) => get(key) != Some(v.as_str()),
            LabelOp::In(vs) => get(key).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelOp::NotIn(vs) => !get(key).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelOp::Exists => get(key).is_some(),
            LabelOp::DoesNotExist => get(key).is_none(),
        })
    }
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(input: &str) -> Result<Vec<&str>, SelectorError> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1).ok_or_else(|| {
                    SelectorError("unable to parse requirement: unexpected ')'".into())
                })?;
            }
            ',' if depth == 0 => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(SelectorError(
            "unable to parse requirement: found '', expected: ',' or ')'".into(),
        ));
    }
    parts.push(&input[start..]);
    Ok(parts)
}

fn validate_key(key: &str) -> Result<(), SelectorError> {
    let ok = !key.is_empty()
        && key.len() <= 317
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok {
        Ok(())
    } else {
        Err(SelectorError(format!(
            "unable to parse requirement: invalid label key \"{key}\""
        )))
    }
}

fn validate_value(value: &str) -> Result<String, SelectorError> {
    let ok = value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(SelectorError(format!(
            "unable to parse requirement: invalid label value: \"{value}\""
        )))
    }
}

fn parse_set(rest: &str) -> Result<Vec<String>, SelectorError> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            SelectorError(format!(
                "unable to parse requirement: found '{rest}', expected: '('"
            ))
        })?;
    inner.split(',').map(|v| validate_value(v.trim())).collect()
}

fn parse_requirement(part: &str) -> Result<(String, LabelOp), SelectorError> {
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        validate_key(key)?;
        return Ok((key.to_owned(), LabelOp::DoesNotExist));
    }
    if let Some((k, v)) = part.split_once("!=") {
        validate_key(k.trim())?;
        return Ok((
            k.trim().to_owned(),
            LabelOp::NotEquals(validate_value(v.trim())?),
        ));
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        validate_key(k.trim())?;
        return Ok((
            k.trim().to_owned(),
            LabelOp::Equals(validate_value(v.trim())?),
        ));
    }
    let mut words = part.splitn(2, char::is_whitespace);
    let key = words.next().unwrap_or_default().trim();
    validate_key(key)?;
    let rest = words.next().unwrap_or_default().trim_start();
    if rest.is_empty() {
        return Ok((key.to_owned(), LabelOp::Exists));
    }
    if let Some(set) = rest.strip_prefix("notin") {
        return Ok((key.to_owned(), LabelOp::NotIn(parse_set(set)?)));
    }
    if let Some(set) = rest.strip_prefix("in") {
        return Ok((key.to_owned(), LabelOp::In(parse_set(set)?)));
    }
    Err(SelectorError(format!(
        "unable to parse requirement: found '{rest}', expected: in, notin, =, ==, !=, gt, lt"
    )))
}

/// A parsed field selector; the empty selector matches everything.
///
/// Port of apimachinery `fields/selector.go` (`ParseAndTransformSelector`) with each
/// resource's `ConvertFieldLabel` as the transform, as `handlers/get.go` and
/// `handlers/delete.go` run it: labels are converted to the names the storage's
/// `GetAttrs`/`ToSelectableFields` set uses, and a label the resource does not support is a 400.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[doc(alias = "fields.Selector")]
pub struct FieldSelector {
    /// `(selectable field after conversion, value, negated)`.
    requirements: Vec<(String, String, bool)>,
}

/// Port of `runtime.DefaultMetaV1FieldSelectorConversion`, for built-in kinds that register
/// no conversion of their own.
fn default_conversion(label: &str) -> Result<String, SelectorError> {
    match label {
        "metadata.name" | "metadata.namespace" => Ok(label.to_owned()),
        _ => Err(SelectorError(format!(
            "{label:?} is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        ))),
    }
}

/// core/v1 Event labels (`AddFieldLabelConversionsForEvent` in `pkg/apis/core/v1`), which are
/// also the keys of `event.ToSelectableFields`.
const CORE_EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    "metadata.namespace",
    "metadata.name",
];

/// events.k8s.io/v1 labels and the core selectable field each maps to
/// (`AddFieldLabelConversionsForEvent` in `pkg/apis/events/v1/conversion.go`). `note`,
/// `deprecatedSource` and the other renamed fields are not selectable.
const EVENTS_V1_FIELDS: &[(&str, &str)] = &[
    ("reason", "reason"),
    ("regarding.kind", "involvedObject.kind"),
    ("regarding.namespace", "involvedObject.namespace"),
    ("regarding.name", "involvedObject.name"),
    ("regarding.uid", "involvedObject.uid"),
    ("regarding.apiVersion", "involvedObject.apiVersion"),
    (
        "regarding.resourceVersion",
        "involvedObject.resourceVersion",
    ),
    ("regarding.fieldPath", "involvedObject.fieldPath"),
    ("reportingController", "reportingComponent"),
    ("type", "type"),
    ("metadata.namespace", "metadata.namespace"),
    ("metadata.name", "metadata.name"),
];

/// Port of `ConvertFieldLabel` for the served kinds: core/v1's `addConversionFuncs` (Pod, Node,
/// Event, Namespace, Secret, Service), events.k8s.io/v1's, apiextensions' `crConverter` for
/// custom resources, and the default for every other built-in kind. `None` (no resource) gets
/// the default.
#[doc(alias = "ConvertFieldLabel")]
fn convert_label(res: Option<&ResourceInfo>, label: &str) -> Result<String, SelectorError> {
    let unsupported = || SelectorError(format!("field label not supported: {label}"));
    let accept = |supported: &[&str]| {
        if supported.contains(&label) {
            Ok(label.to_owned())
        } else {
            Err(unsupported())
        }
    };
    let Some(res) = res else {
        return default_conversion(label);
    };
    if res.custom {
        // `crConverter.ConvertFieldLabel`; CRD `selectableFields` are not served here.
        return match label {
            "metadata.name" => Ok(label.to_owned()),
            "metadata.namespace" if res.namespaced => Ok(label.to_owned()),
            _ => Err(unsupported()),
        };
    }
    match (res.group.as_str(), res.kind.as_str()) {
        ("", "Pod") if label == "spec.host" => Ok("spec.nodeName".into()),
        ("", "Pod") => accept(&[
            "metadata.name",
            "metadata.namespace",
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ]),
        ("", "Node") => accept(&["metadata.name", "spec.unschedulable"]),
        ("", "Event") => accept(CORE_EVENT_FIELDS),
        ("", "Namespace") => accept(&["status.phase", "metadata.name"]),
        ("", "Secret") => accept(&["type", "metadata.namespace", "metadata.name"]),
        ("", "Service") => accept(&[
            "metadata.namespace",
            "metadata.name",
            "spec.clusterIP",
            "spec.type",
        ]),
        ("events.k8s.io", "Event") => EVENTS_V1_FIELDS
            .iter()
            .find(|(v1, _)| *v1 == label)
            .map(|(_, core)| (*core).to_owned())
            .ok_or_else(unsupported),
        _ => default_conversion(label),
    }
}

/// Port of `fields.splitTerms`: splits on commas not escaped with a backslash.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let (mut start, mut in_slash) = (0, false);
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&selector[start..i]);
            start = i + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// Port of `fields.splitTerm`: the first `!=`, `==` or `=` splits; `true` when negated.
fn split_term(term: &str) -> Option<(&str, &str, bool)> {
    term.char_indices().find_map(|(i, _)| {
        let rest = &term[i..];
        if let Some(v) = rest.strip_prefix("!=") {
            Some((&term[..i], v, true))
        } else if let Some(v) = rest.strip_prefix("==").or_else(|| rest.strip_prefix('=')) {
            Some((&term[..i], v, false))
        } else {
            None
        }
    })
}

/// Port of `fields.UnescapeValue`: `\\`, `\,` and `\=` are the only escapes, and a bare `,` or
/// `=` is an error.
fn unescape_value(value: &str) -> Result<String, SelectorError> {
    let mut out = String::with_capacity(value.len());
    let mut in_slash = false;
    for c in value.chars() {
        if in_slash {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(SelectorError(format!(
                    "invalid field selector: invalid escape sequence: \\{c}"
                )));
            }
            out.push(c);
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' || c == '=' {
            return Err(SelectorError(format!(
                "invalid field selector: unescaped character in value: {}",
                u32::from(c)
            )));
        } else {
            out.push(c);
        }
    }
    if in_slash {
        return Err(SelectorError(
            "invalid field selector: invalid escape sequence: \\".into(),
        ));
    }
    Ok(out)
}

impl FieldSelector {
    /// Parses the `fieldSelector` syntax and converts each label as `res` does.
    ///
    /// Terms are taken in sorted order, as `parseSelector` sorts them, so with several bad
    /// terms the error names the first in that order. Differs from Go: one step rather than
    /// `ParseSelector` while decoding the query and `Transform` in the handler; the errors
    /// are the same text, both a 400.
    pub(crate) fn parse(input: &str, res: Option<&ResourceInfo>) -> Result<Self, SelectorError> {
        let mut terms = split_terms(input);
        terms.sort_unstable();
        let mut requirements = Vec::new();
        for term in terms.into_iter().filter(|t| !t.is_empty()) {
            let (label, raw, negated) = split_term(term).ok_or_else(|| {
                SelectorError(format!(
                    "invalid selector: '{input}'; can't understand '{term}'"
                ))
            })?;
            let value = unescape_value(raw)?;
            requirements.push((convert_label(res, label)?, value, negated));
        }
        Ok(FieldSelector { requirements })
    }

    /// A selector on `metadata.name` alone (legacy `/watch/.../{name}` paths).
    pub fn name(name: &str) -> Self {
        FieldSelector {
            requirements: vec![("metadata.name".into(), name.into(), false)],
        }
    }

    /// Whether the selector has no requirements.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Adds the requirements of `other`.
    pub fn and(&mut self, other: FieldSelector) {
        self.requirements.extend(other.requirements);
    }

    /// Evaluates the selector on a stored object (a core Event for both Event groups).
    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|(field, value, negated)| {
            let actual = field_value(object, field);
            (actual == *value) != *negated
        })
    }
}

/// The value of a selectable field, as each kind's `ToSelectableFields` computes it; a field
/// outside the set compares as the empty string, as `fields.Set.Get` does.
fn field_value(object: &Value, field: &str) -> String {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match field {
        // `event.ToSelectableFields`: the source component, else the reporting controller.
        "source" => match text("/source/component") {
            c if c.is_empty() => text("/reportingComponent"),
            c => c,
        },
        // `pod.ToSelectableFields`: the first of `status.podIPs`.
        "status.podIP" => text("/status/podIPs/0/ip"),
        // Booleans print as `strconv.FormatBool` of the zero value when absent.
        "spec.unschedulable" | "spec.hostNetwork" => object
            .pointer(&format!("/{}", field.replace('.', "/")))
            .and_then(Value::as_bool)
            .unwrap_or(false)
            .to_string(),
        _ => text(&format!("/{}", field.replace('.', "/"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(labels: Value) -> Value {
        json!({"metadata": {"name": "p", "namespace": "ns", "labels": labels}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}})
    }

    #[test]
    fn label_operators_follow_apimachinery_semantics() {
        let p = pod(json!({"app": "demo", "idx": "1"}));
        for (sel, want) in [
            ("app=demo", true),
            ("app==demo", true),
            ("app!=demo", false),
            ("idx in (1,2),app=demo", true),
            ("idx notin (1,2)", false),
            ("missing notin (1)", true),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("", true),
        ] {
            let s = LabelSelector::parse(sel);
            assert_eq!(s.map(|s| s.matches(&p)), Ok(want), "{sel}");
        }
    }

    #[test]
    fn unbalanced_parenthesis_is_rejected_like_the_api_server() {
        let err = LabelSelector::parse("a in (b");
        assert_eq!(
            err,
            Err(SelectorError(
                "unable to parse requirement: found '', expected: ',' or ')'".into()
            ))
        );
    }

    fn resource(group: &str, kind: &str) -> Option<ResourceInfo> {
        crate::resources::Registry::with_builtins()
            .all()
            .iter()
            .find(|r| r.group == group && r.kind == kind)
            .map(|r| ResourceInfo::clone(r))
    }

    fn builtin(group: &str, kind: &str) -> ResourceInfo {
        resource(group, kind).unwrap_or_else(|| panic!("no built-in {group}/{kind}"))
    }

    #[test]
    fn field_selectors_accept_only_supported_fields() {
        let p = pod(json!({}));
        let pods = builtin("", "Pod");
        let s = FieldSelector::parse("spec.nodeName=n1,status.phase!=Pending", Some(&pods));
        assert_eq!(s.map(|s| s.matches(&p)), Ok(true));
        assert_eq!(
            FieldSelector::parse("spec.nope=x", Some(&pods)),
            Err(SelectorError("field label not supported: spec.nope".into()))
        );
        assert_eq!(
            FieldSelector::parse("spec.nodeName=x", Some(&builtin("", "ConfigMap"))),
            Err(SelectorError(
                "\"spec.nodeName\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"".into()
            ))
        );
        // Namespaces and nodes register their own conversion, without metadata.namespace.
        assert_eq!(
            FieldSelector::parse("metadata.namespace=x", Some(&builtin("", "Node"))),
            Err(SelectorError(
                "field label not supported: metadata.namespace".into()
            ))
        );
    }

    #[test]
    fn spec_host_is_the_legacy_name_of_spec_node_name() {
        let s = FieldSelector::parse("spec.host=n1", Some(&builtin("", "Pod")));
        assert_eq!(s.map(|s| s.matches(&pod(json!({})))), Ok(true));
    }

    #[test]
    fn events_k8s_io_labels_convert_to_the_core_selectable_fields() {
        let stored = json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod"},
            "reportingComponent": "kubelet", "type": "Warning"});
        let v1 = builtin("events.k8s.io", "Event");
        for sel in [
            "regarding.kind=Pod",
            "reportingController=kubelet",
            "type=Warning,metadata.name=e",
        ] {
            let s = FieldSelector::parse(sel, Some(&v1));
            assert_eq!(s.map(|s| s.matches(&stored)), Ok(true), "{sel}");
        }
        for core_only in ["involvedObject.kind", "source", "deprecatedSource", "note"] {
            assert_eq!(
                FieldSelector::parse(&format!("{core_only}=x"), Some(&v1)),
                Err(SelectorError(format!(
                    "field label not supported: {core_only}"
                )))
            );
        }
        assert!(FieldSelector::parse("regarding.kind=Pod", Some(&builtin("", "Event"))).is_err());
    }

    #[test]
    fn an_event_source_falls_back_to_the_reporting_controller() {
        let core = builtin("", "Event");
        let reported = json!({"reportingComponent": "kubelet"});
        let s = FieldSelector::parse("source=kubelet", Some(&core));
        assert_eq!(s.map(|s| s.matches(&reported)), Ok(true));
        let both = json!({"source": {"component": "c"}, "reportingComponent": "kubelet"});
        let s = FieldSelector::parse("source=kubelet", Some(&core));
        assert_eq!(s.map(|s| s.matches(&both)), Ok(false));
    }

    #[test]
    fn values_unescape_and_terms_parse_like_fields_selector_go() {
        let p = json!({"metadata": {"name": "a,b=c\\d"}});
        let s = FieldSelector::parse("metadata.name=a\\,b\\=c\\\\d", None);
        assert_eq!(s.map(|s| s.matches(&p)), Ok(true));
        assert_eq!(
            FieldSelector::parse("metadata.name=a\\x", None),
            Err(SelectorError(
                "invalid field selector: invalid escape sequence: \\x".into()
            ))
        );
        assert_eq!(
            FieldSelector::parse("metadata.name=a=b", None),
            Err(SelectorError(
                "invalid field selector: unescaped character in value: 61".into()
            ))
        );
        // Terms are sorted before conversion, so the first bad term in that order is named.
        assert_eq!(
            FieldSelector::parse("z=1,b=2", None),
            Err(SelectorError(
                "\"b\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"".into()
            ))
        );
        assert_eq!(
            FieldSelector::parse("metadata.name=x,nonsense", None),
            Err(SelectorError(
                "invalid selector: 'metadata.name=x,nonsense'; can't understand 'nonsense'".into()
            ))
        );
    }

    proptest::proptest! {
        #[test]
        fn parsing_any_input_never_panics(input in ".{0,64}", kind in "Pod|Event|Widget") {
            let res = resource("", &kind);
            let _ = LabelSelector::parse(&input).map(|s| s.matches(&json!({})));
            let _ = FieldSelector::parse(&input, res.as_ref()).map(|s| s.matches(&json!({})));
        }

        #[test]
        fn label_selectors_built_from_valid_parts_parse(key in "[a-z][a-z0-9]{0,8}", value in "[a-z0-9]{1,8}") {
            let sel = LabelSelector::parse(&format!("{key}={value},{key} in ({value},x)"));
            let labelled = json!({"metadata": {"labels": {key.clone(): value.clone()}}});
            proptest::prop_assert_eq!(sel.map(|s| s.matches(&labelled)), Ok(true));
        }
    }
}
