//! Port of structured-merge-diff v4 `fieldpath/`: path elements (`element.go`), paths
//! (`path.go`), field sets (`set.go`) and their FieldsV1 wire form (`serialize.go`,
//! `serialize-pe.go`), with the value ordering of `value/value.go` (`Compare`) that sorts them.
//!
//! Data flow: `structured_merge` walks an object against its schema and records every
//! field and list item it meets as a [`Path`] in a [`FieldSet`]; `managed_fields`
//! keeps one set per manager and writes it into `metadata.managedFields[].fieldsV1` with
//! [`FieldSet::to_fields_v1`], reading it back with [`FieldSet::from_fields_v1`].
//!
//! FieldsV1 is a JSON object whose keys are path elements: `f:<field>` for a struct field or map
//! key, `k:{"name":"c"}` for a list item found by its map keys, `v:<json>` for an item of a set
//! list, `i:<n>` for an item by index, and `.` meaning "this node itself is owned" beside its
//! children. A node owned without children is `{}`.
//!
//! Differs from Go: a set is two ordered trees (`BTreeSet`/`BTreeMap`) instead of sorted
//! slices, because Rust's ordered collections keep the same order for free.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

/// A FieldsV1 document that cannot be read.
///
/// Port of the errors of `Set.FromJSON` and `DeserializePathElement`. Not retryable: the
/// stored managedFields are malformed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Error {
    /// The document (or a node in it) is not a JSON object.
    #[error("expected an object in FieldsV1, found {0}")]
    NotAnObject(&'static str),
    /// A key that is not a path element (`f:`, `k:`, `v:`, `i:` or `.`).
    #[error("parsing key as path element: {0}")]
    BadPathElement(String),
}

/// One step of a path. Port of `fieldpath.PathElement`.
///
/// Ordered as Go's `PathElement.Compare`: every field name before every key, keys before set
/// values, values before indexes.
#[derive(Clone, Debug)]
pub(crate) enum PathElement {
    /// A struct field or map key (`f:name`).
    Field(String),
    /// A list item identified by its key fields, sorted by name (`k:{"name":"c"}`).
    Key(Vec<(String, Value)>),
    /// An item of a set-type list, identified by its value (`v:"x"`).
    Value(Value),
    /// A list item by position (`i:0`), for lists that are neither atomic nor associative.
    Index(i64),
}

impl PathElement {
    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }

    /// The FieldsV1 key of this element. Port of `SerializePathElement`.
    pub(crate) fn serialize(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let mut s = String::from("k:{");
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    write_json_string(&mut s, name);
                    s.push(':');
                    write_json(&mut s, v);
                }
                s.push('}');
                s
            }
            PathElement::Value(v) => {
                let mut s = String::from("v:");
                write_json(&mut s, v);
                s
            }
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Reads a FieldsV1 key. Port of `DeserializePathElement`; `Ok(None)` for an unknown
    /// prefix, which Go skips so that newer servers' elements do not break older readers.
    pub(crate) fn deserialize(s: &str) -> Result<Option<PathElement>, Error> {
        let bad = || Error::BadPathElement(s.to_owned());
        let Some((prefix, rest)) = s.split_once(':') else {
            return Ok(None);
        };
        Ok(Some(match prefix {
            "f" => PathElement::Field(rest.to_owned()),
            "v" => PathElement::Value(serde_json::from_str(rest).map_err(|_| bad())?),
            "i" => PathElement::Index(rest.parse().map_err(|_| bad())?),
            "k" => {
                let Value::Object(m) = serde_json::from_str(rest).map_err(|_| bad())? else {
                    return Err(bad());
                };
                // serde_json's map is sorted by key, which is the order Go's FieldList.Sort keeps.
                PathElement::Key(m.into_iter().collect())
            }
            _ => return Ok(None),
        }))
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => a.len().cmp(&b.len()).then_with(|| {
                a.iter()
                    .zip(b)
                    .map(|((an, av), (bn, bv))| an.cmp(bn).then_with(|| compare_values(av, bv)))
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            }),
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for PathElement {}

/// `PathElement.String`: `.name`, `[name="c"]`, `[="x"]`, `[0]`.
impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                f.write_str("[")?;
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}={}", value_to_string(v))?;
                }
                f.write_str("]")
            }
            PathElement::Value(v) => write!(f, "[={}]", value_to_string(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A path from the object root. Port of `fieldpath.Path`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Path(pub(crate) Vec<PathElement>);

impl Path {
    /// The path of the named fields, for tests and fixed sets: `Path::fields(&["spec", "replicas"])`.
    pub(crate) fn fields(names: &[&str]) -> Path {
        Path(
            names
                .iter()
                .map(|n| PathElement::Field((*n).to_owned()))
                .collect(),
        )
    }
}

/// `Path.String`: the elements' strings joined, `.spec.containers[name="c"].image`.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|pe| write!(f, "{pe}"))
    }
}

/// A set of paths, as a tree. Port of `fieldpath.Set`.
///
/// Invariant: `members` holds the elements whose path ends here (owned nodes); `children`
/// holds the subtrees below an element, never empty ones (every operation drops them), so a
/// set is empty iff both are.
#[doc(alias = "Set")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FieldSet {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// An empty set.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A set of the given paths.
    pub(crate) fn from_paths<'p>(paths: impl IntoIterator<Item = &'p Path>) -> Self {
        let mut s = Self::new();
        for p in paths {
            s.insert(&p.0);
        }
        s
    }

    /// `Set.Empty`.
    pub(crate) fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// `Set.Insert`; an empty path is ignored, as in Go.
    pub(crate) fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// `Set.Has`.
    pub(crate) fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.has(rest)),
        }
    }

    /// Whether `pe` is a member (owned itself, not only below).
    pub(crate) fn has_member(&self, pe: &PathElement) -> bool {
        self.members.contains(pe)
    }

    /// The subtree below `pe`. Port of `Set.WithPrefix`.
    pub(crate) fn with_prefix(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children.get(pe)
    }

    /// `Set.Union`.
    #[must_use]
    pub(crate) fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, child) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    /// `Set.Intersection`.
    #[must_use]
    pub(crate) fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, mine)| {
                let both = mine.intersection(other.children.get(pe)?);
                (!both.is_empty()).then(|| (pe.clone(), both))
            })
            .collect();
        FieldSet { members, children }
    }

    /// `Set.Difference`: paths of `self` not in `other` (a member of `other` removes only that
    /// node, not what is below it).
    #[must_use]
    pub(crate) fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, mine)| match other.children.get(pe) {
                Some(theirs) => {
                    let d = mine.difference(theirs);
                    (!d.is_empty()).then(|| (pe.clone(), d))
                }
                None => Some((pe.clone(), mine.clone())),
            })
            .collect();
        FieldSet { members, children }
    }

    /// `Set.RecursiveDifference`: like [`difference`](Self::difference), but a member of
    /// `other` removes its whole subtree too.
    #[must_use]
    pub(crate) fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter(|(pe, _)| !other.members.contains(pe))
            .filter_map(|(pe, mine)| match other.children.get(pe) {
                Some(theirs) => {
                    let d = mine.recursive_difference(theirs);
                    (!d.is_empty()).then(|| (pe.clone(), d))
                }
                None => Some((pe.clone(), mine.clone())),
            })
            .collect();
        FieldSet { members, children }
    }

    /// Every path, members of a node before its children, in order. Port of `Set.Iterate`.
    pub(crate) fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Path>) {
        for m in &self.members {
            let mut p = prefix.clone();
            p.push(m.clone());
            out.push(Path(p));
        }
        for (pe, child) in &self.children {
            prefix.push(pe.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// Members and children, for walkers that need both.
    pub(crate) fn parts(&self) -> (&BTreeSet<PathElement>, &BTreeMap<PathElement, FieldSet>) {
        (&self.members, &self.children)
    }

    /// A set from its parts, dropping empty children to keep the invariant.
    pub(crate) fn from_parts(
        members: BTreeSet<PathElement>,
        children: BTreeMap<PathElement, FieldSet>,
    ) -> FieldSet {
        let children = children
            .into_iter()
            .filter(|(_, c)| !c.is_empty())
            .collect();
        FieldSet { members, children }
    }

    /// The FieldsV1 JSON text, byte for byte as the API server writes it. Port of
    /// `Set.ToJSON` (`emitContentsV1`): elements in [`PathElement`] order, `.` first in a node
    /// that is both owned and has children.
    pub(crate) fn to_fields_v1(&self) -> String {
        let mut s = String::new();
        s.push('{');
        self.emit_v1(false, &mut s);
        s.push('}');
        s
    }

    fn emit_v1(&self, include_self: bool, s: &mut String) {
        let mut first = true;
        let mut sep = |s: &mut String| {
            if !std::mem::take(&mut first) {
                s.push(',');
            }
        };
        if include_self && !self.is_empty() {
            sep(s);
            s.push_str("\".\":{}");
        }
        // Members and children merged in element order; an element in both is written once.
        let mut members = self.members.iter().peekable();
        let mut children = self.children.iter().peekable();
        loop {
            let take_member = match (members.peek(), children.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(m), Some((c, _))) => m.cmp(c).is_lt(),
            };
            sep(s);
            if take_member {
                if let Some(m) = members.next() {
                    write_json_string(s, &m.serialize());
                    s.push_str(":{}");
                }
            } else if let Some((pe, child)) = children.next() {
                let owned = members.next_if(|m| *m == pe).is_some();
                write_json_string(s, &pe.serialize());
                s.push_str(":{");
                child.emit_v1(owned, s);
                s.push('}');
            }
        }
    }

    /// Reads FieldsV1. Port of `Set.FromJSON` (`readIterV1`): `{}` and `{".":{}}` are owned
    /// leaves, unknown element prefixes are skipped.
    pub(crate) fn from_fields_v1(v: &Value) -> Result<FieldSet, Error> {
        let (set, _) = read_v1(v)?;
        Ok(set.unwrap_or_default())
    }
}

/// Returns the node's children (if any) and whether the node itself is owned.
fn read_v1(v: &Value) -> Result<(Option<FieldSet>, bool), Error> {
    let Value::Object(m) = v else {
        return Err(Error::NotAnObject(json_type(v)));
    };
    let mut owned = false;
    let mut children: Option<FieldSet> = None;
    for (key, child) in m {
        if key == "." {
            owned = true;
            continue;
        }
        let Some(pe) = PathElement::deserialize(key)? else {
            continue;
        };
        let (grandchildren, child_owned) = read_v1(child)?;
        let set = children.get_or_insert_with(FieldSet::new);
        if child_owned {
            set.members.insert(pe.clone());
        }
        if let Some(g) = grandchildren.filter(|g| !g.is_empty()) {
            set.children.insert(pe, g);
        }
    }
    if children.is_none() {
        owned = true;
    }
    Ok((children, owned))
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Order of values as Go's `value.Compare`: floats and ints numerically (before strings),
/// then strings, booleans, lists, maps, null.
pub(crate) fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => {
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .map(|(x, y)| compare_values(x, y))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        (Value::Object(x), Value::Object(y)) => x
            .iter()
            .zip(y)
            .map(|((xk, xv), (yk, yv))| xk.cmp(yk).then_with(|| compare_values(xv, yv)))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// `value.ToString`: strings quoted as Go's `%q`, lists `[a, b]`, maps `{k=v}`.
fn value_to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => {
            let mut out = String::new();
            write_json_string(&mut out, s);
            out
        }
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(value_to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k}={}", value_to_string(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Compact JSON as Go's `encoding/json` writes it (HTML-safe string escapes).
fn write_json(s: &mut String, v: &Value) {
    match v {
        Value::String(x) => write_json_string(s, x),
        Value::Array(items) => {
            s.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                write_json(s, item);
            }
            s.push(']');
        }
        Value::Object(m) => {
            s.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                write_json_string(s, k);
                s.push(':');
                write_json(s, item);
            }
            s.push('}');
        }
        other => s.push_str(&other.to_string()),
    }
}

/// A JSON string with Go's escapes: `<`, `>`, `&`, U+2028 and U+2029 as `\u00XX`/`\u20XX`.
pub(crate) fn write_json_string(s: &mut String, x: &str) {
    s.push('"');
    for c in x.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                s.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c if u32::from(c) < 0x20 => s.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => s.push(c),
        }
    }
    s.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(n: &str) -> PathElement {
        PathElement::Field(n.into())
    }

    /// The raw text of the first `"fieldsV1": {...}` object in `text`, compacted.
    fn raw_fields_v1(text: &str, nth: usize) -> Option<String> {
        let start = text.match_indices("\"fieldsV1\":").nth(nth)?.0 + "\"fieldsV1\":".len();
        let mut out = String::new();
        let (mut depth, mut in_str, mut esc) = (0usize, false, false);
        for c in text[start..].chars() {
            if in_str {
                out.push(c);
                match (esc, c) {
                    (true, _) => esc = false,
                    (false, '\\') => esc = true,
                    (false, '"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                c if c.is_whitespace() => continue,
                '"' => in_str = true,
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            out.push(c);
            if depth == 0 && c == '}' {
                return Some(out);
            }
        }
        None
    }

    #[test]
    fn recorded_fields_v1_round_trips_byte_identical() {
        let files = [
            include_str!("../tests/fixtures/kube-apiserver-1.32-smp/smp-env-merge-by-name.json"),
            include_str!(
                "../tests/fixtures/kube-apiserver-1.32-smp/smp-ports-merge-by-container-port.json"
            ),
            include_str!(
                "../tests/fixtures/kube-apiserver-1.32-field-validation/create-pod-field-validation-default.json"
            ),
        ];
        let mut checked = 0;
        for text in files {
            let mut nth = 0;
            while let Some(raw) = raw_fields_v1(text, nth) {
                let parsed: Value = serde_json::from_str(&raw).expect("fixture is JSON");
                let set = FieldSet::from_fields_v1(&parsed).expect("recorded FieldsV1 decodes");
                assert_eq!(set.to_fields_v1(), raw);
                nth += 1;
                checked += 1;
            }
        }
        assert!(checked >= 3, "only {checked} recorded entries found");
    }

    #[test]
    fn key_elements_sort_numerically_not_as_text() {
        let port = |p: i64| {
            PathElement::Key(vec![
                ("containerPort".into(), json!(p)),
                ("protocol".into(), json!("TCP")),
            ])
        };
        let mut s = FieldSet::new();
        s.insert(&[f("ports"), port(10000)]);
        s.insert(&[f("ports"), port(9000)]);
        assert_eq!(
            s.to_fields_v1(),
            r#"{"f:ports":{"k:{\"containerPort\":9000,\"protocol\":\"TCP\"}":{},"k:{\"containerPort\":10000,\"protocol\":\"TCP\"}":{}}}"#
        );
    }

    #[test]
    fn owned_node_with_children_writes_dot_first() {
        let mut s = FieldSet::new();
        s.insert(&[f("metadata"), f("labels")]);
        s.insert(&[f("metadata"), f("labels"), f("app")]);
        s.insert(&[f("spec"), PathElement::Value(json!("x"))]);
        s.insert(&[f("spec"), PathElement::Index(2)]);
        let text = s.to_fields_v1();
        assert_eq!(
            text,
            r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"v:\"x\"":{},"i:2":{}}}"#
        );
        let back =
            FieldSet::from_fields_v1(&serde_json::from_str(&text).expect("json")).expect("decodes");
        assert_eq!(back, s);
    }

    #[test]
    fn unknown_prefixes_are_skipped_and_bad_keys_are_errors() {
        let s = FieldSet::from_fields_v1(&json!({"x:future": {}, "f:a": {}})).expect("decodes");
        assert_eq!(s.paths(), vec![Path::fields(&["a"])]);
        assert!(matches!(
            FieldSet::from_fields_v1(&json!({"k:notjson": {}})),
            Err(Error::BadPathElement(_))
        ));
        assert!(matches!(
            FieldSet::from_fields_v1(&json!({"f:a": 1})),
            Err(Error::NotAnObject(_))
        ));
    }

    #[test]
    fn set_algebra_follows_go() {
        let a = FieldSet::from_paths(&[Path::fields(&["spec"]), Path::fields(&["spec", "x"])]);
        let b = FieldSet::from_paths(&[Path::fields(&["spec"])]);
        // Difference removes the node only; recursive difference its subtree too.
        assert_eq!(a.difference(&b).paths(), vec![Path::fields(&["spec", "x"])]);
        assert!(a.recursive_difference(&b).is_empty());
        assert_eq!(a.intersection(&b), b);
        assert_eq!(b.union(&a), a);
        assert!(a.has(&Path::fields(&["spec", "x"]).0));
    }

    #[test]
    fn paths_print_as_go_does() {
        let p = Path(vec![
            f("spec"),
            f("containers"),
            PathElement::Key(vec![("name".into(), json!("c"))]),
            f("ports"),
            PathElement::Key(vec![
                ("containerPort".into(), json!(80)),
                ("protocol".into(), json!("TCP")),
            ]),
        ]);
        assert_eq!(
            p.to_string(),
            r#".spec.containers[name="c"].ports[containerPort=80,protocol="TCP"]"#
        );
        assert_eq!(PathElement::Value(json!("a")).to_string(), r#"[="a"]"#);
    }
}
