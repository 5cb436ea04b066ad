//! Label and field selectors, parsed from `labelSelector` / `fieldSelector` query parameters.
//!
//! Port of the parts of apimachinery's `labels/selector.go` and `fields/selector.go` that
//! servers evaluate: label requirements `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`,
//! `k` (exists) and `!k` (does not exist), joined by commas; field requirements `f=v`, `f==v`,
//! `f!=v` on the fields each kind supports (others are rejected with 400, as the API server does).

use serde_json::Value;

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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    /// `(field path, value, negated)`.
    requirements: Vec<(String, String, bool)>,
}

/// Field paths every kind supports.
const COMMON_FIELDS: &[&str] = &["metadata.name", "metadata.namespace"];

/// Extra field paths a kind supports, as in each kind's `GetAttrs`/`AddFieldLabelConversionFunc`.
fn extra_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "Secret" => &["type"],
        "Node" => &["spec.unschedulable"],
        "Namespace" => &["status.phase"],
        "Event" => &[
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
        ],
        _ => &[],
    }
}

impl FieldSelector {
    /// Parses the `fieldSelector` syntax, accepting only the fields `kind` supports.
    pub fn parse(input: &str, kind: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for part in input.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (field, value, negated) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, v, false)
            } else {
                return Err(SelectorError(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if !COMMON_FIELDS.contains(&field) && !extra_fields(kind).contains(&field) {
                return Err(SelectorError(format!("field label not supported: {field}")));
            }
            requirements.push((field.to_owned(), value.trim().to_owned(), negated));
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

    /// Evaluates the selector; a missing field compares as the empty string.
    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|(field, value, negated)| {
            let actual = field_value(object, field);
            (actual == *value) != *negated
        })
    }
}

fn field_value(object: &Value, field: &str) -> String {
    if field == "source" {
        return object
            .pointer("/source/component")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
    }
    let pointer = format!("/{}", field.replace('.', "/"));
    match object.pointer(&pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ if field == "spec.unschedulable" || field == "spec.hostNetwork" => "false".into(),
        _ => String::new(),
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

    #[test]
    fn field_selectors_accept_only_supported_fields() {
        let p = pod(json!({}));
        let s = FieldSelector::parse("spec.nodeName=n1,status.phase!=Pending", "Pod");
        assert_eq!(s.map(|s| s.matches(&p)), Ok(true));
        assert_eq!(
            FieldSelector::parse("spec.nope=x", "Pod"),
            Err(SelectorError("field label not supported: spec.nope".into()))
        );
        assert!(FieldSelector::parse("spec.nodeName=x", "ConfigMap").is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsing_any_input_never_panics(input in ".{0,64}", kind in "Pod|Event|Widget") {
            let _ = LabelSelector::parse(&input).map(|s| s.matches(&json!({})));
            let _ = FieldSelector::parse(&input, &kind).map(|s| s.matches(&json!({})));
        }

        #[test]
        fn label_selectors_built_from_valid_parts_parse(key in "[a-z][a-z0-9]{0,8}", value in "[a-z0-9]{1,8}") {
            let sel = LabelSelector::parse(&format!("{key}={value},{key} in ({value},x)"));
            let labelled = json!({"metadata": {"labels": {key.clone(): value.clone()}}});
            proptest::prop_assert_eq!(sel.map(|s| s.matches(&labelled)), Ok(true));
        }
    }
}
