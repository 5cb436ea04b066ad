//! Port of apiextensions-apiserver `pkg/apiserver/validation/validation.go`
//! (`ValidateCustomResource`, `kubeOpenAPIResultToFieldErrors`) with the checks of
//! kube-openapi's `pkg/validation/validate` a custom resource meets: a custom resource is
//! validated against its CRD version's `openAPIV3Schema` before it is stored, and each
//! violation becomes one `details.causes` entry of the 422 Invalid, worded as kube-apiserver
//! words it:
//!
//! ```text
//! Widget.example.com "w" is invalid: spec.replicas: Invalid value: "string": spec.replicas
//!   in body must be of type integer: "string"
//! spec: Required value
//! spec.color: Unsupported value: "pink": supported values: "red", "blue"
//! ```
//!
//! Checked: `type` (with `nullable` and `x-kubernetes-int-or-string`; a whole float is an
//! integer, an integer a number, as in Go), `required`, `enum`, `minimum`/`maximum` (and
//! `exclusiveMinimum`/`exclusiveMaximum`), `minLength`/`maxLength`, `pattern`,
//! `minItems`/`maxItems`, `minProperties`/`maxProperties`, through `properties`,
//! `additionalProperties` and `items`.
//!
//! Differs from Go: `format`, `multipleOf`, `uniqueItems`, `allOf`/`anyOf`/`oneOf`/`not`,
//! `x-kubernetes-validations` (CEL) and `x-kubernetes-list-type` are not checked; an update
//! is validated whole (no ratcheting of unchanged invalid fields); causes come in the
//! schema's property order (sorted), where Go's follow map iteration; a `pattern` is a Rust
//! `regex` (RE2 syntax, as Go's), so an invalid one is reported with that crate's error text.

use serde_json::{Map, Value};

use crate::status::StatusCause;

/// Validates custom resource `obj` against `schema` (an `openAPIV3Schema`); returns the
/// causes of a 422, empty when valid.
pub(crate) fn validate(schema: &Value, obj: &Value) -> Vec<StatusCause> {
    let mut v = Validator::default();
    v.node(schema, obj, "");
    v.failures.into_iter().map(Failure::into_cause).collect()
}

/// The kube-openapi error codes the conversion to field errors tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Code {
    InvalidType,
    Required,
    Enum,
    TooLong,
    TooMany,
    /// Every other code (`TooShortFailCode`, `PatternFailCode`, `MaxFailCode`, ...): a plain
    /// `field.Invalid`.
    Other,
}

/// One `*errors.Validation`.
struct Failure {
    code: Code,
    /// `Name`: the path as the validator builds it (`spec.replicas`, `.spec` for required).
    name: String,
    /// `Value`: the offending value (`None` is Go's nil).
    value: Option<Value>,
    /// `Valid` for TooLong and TooMany: the limit.
    limit: i64,
    /// `Values` for Enum.
    values: Vec<Value>,
    message: String,
}

impl Failure {
    fn new(code: Code, name: &str, value: Option<Value>, message: String) -> Self {
        Failure {
            code,
            name: name.to_owned(),
            value,
            limit: -1,
            values: Vec::new(),
            message,
        }
    }

    /// `kubeOpenAPIResultToFieldErrors` for one error, then `field.Error.ErrorBody`.
    fn into_cause(self) -> StatusCause {
        let trimmed = self.name.strip_prefix('.').unwrap_or(&self.name);
        let field = (!self.name.is_empty() && self.name != ".").then(|| trimmed.to_owned());
        let shown = || go_value(self.value.as_ref().unwrap_or(&Value::String(String::new())));
        let (reason, message) = match self.code {
            Code::Required => ("FieldValueRequired", "Required value".to_owned()),
            Code::Enum => {
                let supported: Vec<String> = self
                    .values
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => go_quote(s),
                        other => go_quote(&other.to_string()),
                    })
                    .collect();
                let value = go_value(self.value.as_ref().unwrap_or(&Value::Null));
                let mut m = format!("Unsupported value: {value}");
                if !supported.is_empty() {
                    m.push_str(&format!(": supported values: {}", supported.join(", ")));
                }
                ("FieldValueNotSupported", m)
            }
            Code::TooLong => (
                "FieldValueTooLong",
                if self.limit >= 0 {
                    format!("Too long: may not be more than {} bytes", self.limit)
                } else {
                    "Too long: value is too long".to_owned()
                },
            ),
            Code::TooMany => {
                let actual = self.value.as_ref().and_then(Value::as_i64).unwrap_or(-1);
                let detail = if self.limit >= 0 {
                    format!("must have at most {} items", self.limit)
                } else {
                    "has too many items".to_owned()
                };
                let m = if actual >= 0 {
                    format!("Too many: {actual}: {detail}")
                } else {
                    format!("Too many: {detail}")
                };
                ("FieldValueTooMany", m)
            }
            Code::InvalidType => (
                "FieldValueTypeInvalid",
                format!("Invalid value: {}: {}", shown(), self.message),
            ),
            Code::Other => (
                "FieldValueInvalid",
                format!("Invalid value: {}: {}", shown(), self.message),
            ),
        };
        StatusCause {
            reason: reason.to_owned(),
            message,
            field,
        }
    }
}

/// Go's `%q` of a string, close enough: JSON quoting.
fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// A value as `field.Error.ErrorBody` prints it: strings quoted, numbers and booleans as
/// they are, null as `null`, anything else as JSON.
fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::String(s) => go_quote(s),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => go_float(f),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Go's `%v` of a float64 for the usual magnitudes: `3`, `2.5`.
fn go_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

/// The JSON type of `data` as kube-openapi's `schemaInfoForType` names it: integers are
/// numbers without a fraction that fit an int64 (what Go's unstructured decoding makes
/// int64).
fn json_type(data: &Value) -> &'static str {
    match data {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::String(_) => "string",
        Value::Number(n) if n.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The `type` of a schema: `[integer, string]` for `x-kubernetes-int-or-string`.
fn types(s: &Value) -> Vec<&str> {
    if s.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        return vec!["integer", "string"];
    }
    match s.get("type") {
        Some(Value::String(t)) if !t.is_empty() => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The results of one validation, in the order Go's validators produce them.
#[derive(Default)]
struct Validator {
    failures: Vec<Failure>,
}

impl Validator {
    /// `SchemaValidator.Validate` of `data` at `path`.
    fn node(&mut self, s: &Value, data: &Value, path: &str) {
        if !s.is_object() {
            return;
        }
        if data.is_null() {
            self.type_check(s, data, path);
            self.enum_check(s, data, path);
            return;
        }
        self.type_check(s, data, path);
        match data {
            Value::String(text) => self.string_check(s, text, path),
            Value::Number(_) => self.number_check(s, data, path),
            Value::Array(items) => self.slice_check(s, items, path),
            _ => {}
        }
        self.enum_check(s, data, path);
        if let Value::Object(map) = data {
            self.object_check(s, map, path);
        }
    }

    /// `typeValidator` (without `format`).
    fn type_check(&mut self, s: &Value, data: &Value, path: &str) {
        let types = types(s);
        if types.is_empty() {
            return;
        }
        let nullable = s.get("nullable") == Some(&Value::Bool(true));
        let found = json_type(data);
        let ok = match found {
            "null" => nullable || types.contains(&"null"),
            "number" => {
                types.contains(&"number")
                    || (types.contains(&"integer")
                        && data.as_f64().is_some_and(|f| {
                            f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0
                        }))
            }
            "integer" => types.contains(&"integer") || types.contains(&"number"),
            other => types.contains(&other),
        };
        if !ok {
            let expected = types.join(",");
            self.failures.push(Failure::new(
                Code::InvalidType,
                path,
                Some(Value::String(found.to_owned())),
                format!("{path} in body must be of type {expected}: \"{found}\""),
            ));
        }
    }

    /// `stringValidator`: the first failing of maxLength, minLength, pattern.
    fn string_check(&mut self, s: &Value, text: &str, path: &str) {
        let len = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
        let value = || Some(Value::String(text.to_owned()));
        if let Some(max) = s.get("maxLength").and_then(Value::as_i64)
            && len > max
        {
            let mut f = Failure::new(
                Code::TooLong,
                path,
                value(),
                format!("{path} in body should be at most {max} chars long"),
            );
            f.limit = max;
            self.failures.push(f);
            return;
        }
        if let Some(min) = s.get("minLength").and_then(Value::as_i64)
            && len < min
        {
            self.failures.push(Failure::new(
                Code::Other,
                path,
                value(),
                format!("{path} in body should be at least {min} chars long"),
            ));
            return;
        }
        if let Some(pattern) = s
            .get("pattern")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
        {
            let shown = match regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
            {
                Ok(re) if re.is_match(text) => return,
                Ok(_) => pattern.to_owned(),
                Err(e) => format!("{pattern}, but pattern is invalid: {e}"),
            };
            self.failures.push(Failure::new(
                Code::Other,
                path,
                value(),
                format!("{path} in body should match '{shown}'"),
            ));
        }
    }

    /// `numberValidator`: minimum, then maximum; an integer is compared with the bound
    /// truncated to an integer, as `MinimumNativeType` does.
    fn number_check(&mut self, s: &Value, data: &Value, path: &str) {
        let exclusive = |k: &str| s.get(k) == Some(&Value::Bool(true));
        let int = data.as_i64();
        let float = data.as_f64().unwrap_or_default();
        #[allow(clippy::cast_possible_truncation)]
        let bound = |b: f64| match int {
            Some(_) => (b as i64).to_string(),
            None => go_float(b),
        };
        if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
            let excl = exclusive("exclusiveMinimum");
            #[allow(clippy::cast_possible_truncation)]
            let below = match int {
                Some(i) => i < min as i64 || (excl && i == min as i64),
                None => float < min || (excl && float <= min),
            };
            if below {
                let relation = if excl {
                    "greater than"
                } else {
                    "greater than or equal to"
                };
                self.failures.push(Failure::new(
                    Code::Other,
                    path,
                    Some(data.clone()),
                    format!("{path} in body should be {relation} {}", bound(min)),
                ));
            }
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
            let excl = exclusive("exclusiveMaximum");
            #[allow(clippy::cast_possible_truncation)]
            let above = match int {
                Some(i) => i > max as i64 || (excl && i == max as i64),
                None => float > max || (excl && float >= max),
            };
            if above {
                let relation = if excl {
                    "less than"
                } else {
                    "less than or equal to"
                };
                self.failures.push(Failure::new(
                    Code::Other,
                    path,
                    Some(data.clone()),
                    format!("{path} in body should be {relation} {}", bound(max)),
                ));
            }
        }
    }

    /// `schemaSliceValidator`: the items, then minItems and maxItems.
    fn slice_check(&mut self, s: &Value, items: &[Value], path: &str) {
        if let Some(item) = s.get("items").filter(|i| i.is_object()) {
            for (i, v) in items.iter().enumerate() {
                self.node(item, v, &format!("{path}[{i}]"));
            }
        }
        let size = i64::try_from(items.len()).unwrap_or(i64::MAX);
        if let Some(min) = s.get("minItems").and_then(Value::as_i64)
            && size < min
        {
            self.failures.push(Failure::new(
                Code::Other,
                path,
                Some(Value::from(size)),
                format!("{path} in body should have at least {min} items"),
            ));
        }
        if let Some(max) = s.get("maxItems").and_then(Value::as_i64)
            && size > max
        {
            let mut f = Failure::new(
                Code::TooMany,
                path,
                Some(Value::from(size)),
                format!("{path} in body should have at most {max} items"),
            );
            f.limit = max;
            self.failures.push(f);
        }
    }

    /// `basicCommonValidator`: the value must equal one of `enum` (numbers by value).
    fn enum_check(&mut self, s: &Value, data: &Value, path: &str) {
        let Some(values) = s
            .get("enum")
            .and_then(Value::as_array)
            .filter(|e| !e.is_empty())
        else {
            return;
        };
        let equal = |e: &Value| match (e, data) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (Value::Null, _) | (_, Value::Null) => false,
            (a, b) => a == b,
        };
        if values.iter().any(equal) {
            return;
        }
        let mut f = Failure::new(
            Code::Enum,
            path,
            (!data.is_null()).then(|| data.clone()),
            format!("{path} in body should be one of {values:?}"),
        );
        f.values = values.clone();
        self.failures.push(f);
    }

    /// `objectValidator`: property counts, additional properties, properties, required.
    fn object_check(&mut self, s: &Value, map: &Map<String, Value>, path: &str) {
        let count = i64::try_from(map.len()).unwrap_or(i64::MAX);
        if let Some(min) = s.get("minProperties").and_then(Value::as_i64)
            && count < min
        {
            self.failures.push(Failure::new(
                Code::Other,
                path,
                Some(Value::from(count)),
                format!("{path} in body should have at least {min} properties"),
            ));
        }
        if let Some(max) = s.get("maxProperties").and_then(Value::as_i64)
            && count > max
        {
            let mut f = Failure::new(
                Code::TooMany,
                path,
                Some(Value::from(count)),
                format!("{path} in body should have at most {max} properties"),
            );
            f.limit = max;
            self.failures.push(f);
        }
        let properties = s.get("properties").and_then(Value::as_object);
        if let Some(additional) = s.get("additionalProperties").filter(|a| a.is_object()) {
            for (key, value) in map {
                if properties.is_none_or(|p| !p.contains_key(key)) {
                    self.node(additional, value, &format!("{path}.{key}"));
                }
            }
        }
        if let Some(properties) = properties {
            for (name, prop) in properties {
                if let Some(value) = map.get(name) {
                    let child = if path.is_empty() {
                        name.clone()
                    } else {
                        format!("{path}.{name}")
                    };
                    self.node(prop, value, &child);
                }
            }
        }
        for required in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !map.contains_key(required) {
                let name = format!("{path}.{required}");
                self.failures.push(Failure::new(
                    Code::Required,
                    &name,
                    None,
                    format!("{name} in body is required"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(schema: &Value, obj: &Value) -> Vec<(String, String, Option<String>)> {
        validate(schema, obj)
            .into_iter()
            .map(|c| (c.reason, c.message, c.field))
            .collect()
    }

    fn one(field: &str, reason: &str, message: &str) -> Vec<(String, String, Option<String>)> {
        vec![(
            reason.to_owned(),
            message.to_owned(),
            Some(field.to_owned()),
        )]
    }

    #[test]
    fn a_wrong_type_is_worded_as_kube_apiserver_words_it() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"replicas": {"type": "integer"}}}}});
        assert_eq!(
            messages(&schema, &json!({"spec": {"replicas": "two"}})),
            one(
                "spec.replicas",
                "FieldValueTypeInvalid",
                "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""
            )
        );
        // A whole float is an integer; a fraction is not.
        assert!(validate(&schema, &json!({"spec": {"replicas": 2.0}})).is_empty());
        assert_eq!(
            validate(&schema, &json!({"spec": {"replicas": 2.5}}))[0].message,
            "Invalid value: \"number\": spec.replicas in body must be of type integer: \"number\""
        );
    }

    #[test]
    fn required_enum_and_bounds_use_the_field_error_texts() {
        let schema = json!({"type": "object", "required": ["spec"], "properties": {
            "spec": {"type": "object", "required": ["color"], "properties": {
                "color": {"type": "string", "enum": ["red", "blue"]},
                "size": {"type": "integer", "minimum": 1, "maximum": 10, "exclusiveMaximum": true},
                "name": {"type": "string", "maxLength": 3, "pattern": "^[a-z]+$"},
                "tags": {"type": "array", "maxItems": 1, "items": {"type": "string", "minLength": 2}}}}}});
        assert_eq!(
            messages(&schema, &json!({})),
            one("spec", "FieldValueRequired", "Required value")
        );
        assert_eq!(
            messages(&schema, &json!({"spec": {}})),
            one("spec.color", "FieldValueRequired", "Required value")
        );
        assert_eq!(
            messages(&schema, &json!({"spec": {"color": "pink"}})),
            one(
                "spec.color",
                "FieldValueNotSupported",
                "Unsupported value: \"pink\": supported values: \"red\", \"blue\""
            )
        );
        assert_eq!(
            messages(&schema, &json!({"spec": {"color": "red", "size": 10}})),
            one(
                "spec.size",
                "FieldValueInvalid",
                "Invalid value: 10: spec.size in body should be less than 10"
            )
        );
        assert_eq!(
            messages(&schema, &json!({"spec": {"color": "red", "size": 0}}))[0].1,
            "Invalid value: 0: spec.size in body should be greater than or equal to 1"
        );
        assert_eq!(
            messages(&schema, &json!({"spec": {"color": "red", "name": "abcd"}})),
            one(
                "spec.name",
                "FieldValueTooLong",
                "Too long: may not be more than 3 bytes"
            )
        );
        assert_eq!(
            messages(&schema, &json!({"spec": {"color": "red", "name": "A"}}))[0].1,
            "Invalid value: \"A\": spec.name in body should match '^[a-z]+$'"
        );
        assert_eq!(
            messages(
                &schema,
                &json!({"spec": {"color": "red", "tags": ["a", "bb"]}})
            ),
            vec![
                (
                    "FieldValueInvalid".to_owned(),
                    "Invalid value: \"a\": spec.tags[0] in body should be at least 2 chars long"
                        .to_owned(),
                    Some("spec.tags[0]".to_owned())
                ),
                (
                    "FieldValueTooMany".to_owned(),
                    "Too many: 2: must have at most 1 items".to_owned(),
                    Some("spec.tags".to_owned())
                ),
            ]
        );
    }

    #[test]
    fn nullable_and_int_or_string_widen_the_type() {
        let schema = json!({"properties": {
            "a": {"type": "string", "nullable": true},
            "b": {"x-kubernetes-int-or-string": true},
            "c": {"type": "string"}}});
        assert!(validate(&schema, &json!({"a": null, "b": 3})).is_empty());
        assert!(validate(&schema, &json!({"b": "50%"})).is_empty());
        assert_eq!(
            validate(&schema, &json!({"b": true, "c": null}))
                .into_iter()
                .map(|c| c.message)
                .collect::<Vec<_>>(),
            [
                "Invalid value: \"boolean\": b in body must be of type integer,string: \"boolean\"",
                "Invalid value: \"null\": c in body must be of type string: \"null\"",
            ]
        );
    }

    #[test]
    fn malformed_schemas_validate_nothing_they_cannot_say() {
        for schema in [
            json!(5),
            json!({"type": 5, "properties": [], "required": "x", "enum": {}}),
            json!({"properties": {"a": {"pattern": "(", "minimum": "x", "items": 3}}}),
        ] {
            let causes = validate(&schema, &json!({"a": "s", "b": [1]}));
            assert!(
                causes
                    .iter()
                    .all(|c| c.message.contains("pattern is invalid"))
            );
        }
    }
}
