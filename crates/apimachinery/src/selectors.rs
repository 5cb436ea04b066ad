//! Port of apimachinery `pkg/labels/selector.go` (lexer, parser, requirements) and
//! `pkg/fields/selector.go`: parse, print and match label and field selectors.
//!
//! Data flow: a selector string → tokens → requirements, each validated (keys are qualified
//! names, values label values) → a [`LabelSelector`] sorted by key, as Go's `Parse` sorts it.
//! `to_string()` prints the canonical form the server understands; `matches` evaluates it
//! against an object's labels, so a client-side cache can answer the same query as the server.
//!
//! A bad selector is a [`SelectorError`] naming the position and what was expected; parsing
//! never panics.
//!
//! ```
//! use apimachinery::selectors::LabelSelector;
//! use std::collections::BTreeMap;
//!
//! let sel: LabelSelector = "app in (web, api), tier!=db, !legacy".parse()?;
//! let labels = BTreeMap::from([("app".to_owned(), "web".to_owned())]);
//! assert!(sel.matches(&labels));
//! assert_eq!(sel.to_string(), "app in (api,web),!legacy,tier!=db");
//! # Ok::<(), apimachinery::selectors::SelectorError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::StrMap;

/// A set of labels a selector can be matched against. Port of labels.Labels (`Has`, `Get`);
/// implemented for the objects' [`StrMap`] and for `BTreeMap<String, String>`.
pub trait Labels {
    /// The value of `key`, if present. Go: `Get` plus `Has`.
    fn get_label(&self, key: &str) -> Option<&str>;
}

impl Labels for StrMap {
    fn get_label(&self, key: &str) -> Option<&str> {
        self.get(key).map(|v| v.as_str())
    }
}

impl Labels for BTreeMap<String, String> {
    fn get_label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

/// Why a selector string was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid selector {selector:?}: {message}")]
pub struct SelectorError {
    /// The selector as given.
    pub selector: String,
    /// What is wrong, in Go's wording where there is one.
    pub message: String,
}

/// A requirement's operator. Port of selection.Operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `key=value`.
    Equals,
    /// `key==value`.
    DoubleEquals,
    /// `key!=value`.
    NotEquals,
    /// `key in (a,b)`.
    In,
    /// `key notin (a,b)`.
    NotIn,
    /// `key`.
    Exists,
    /// `!key`.
    DoesNotExist,
    /// `key>5` (integer values).
    GreaterThan,
    /// `key<5` (integer values).
    LessThan,
}

/// One clause of a label selector. Port of labels.Requirement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    key: String,
    operator: Operator,
    /// Sorted, so printing is canonical.
    values: BTreeSet<String>,
}

impl Requirement {
    /// Builds and validates a requirement. Port of labels.NewRequirement.
    pub fn new<I, S>(key: &str, operator: Operator, values: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        validate_label_key(key)?;
        let values: BTreeSet<String> = values.into_iter().map(Into::into).collect();
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => {
                return Err("for 'in', 'notin' operators, values set can't be empty".into());
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals
                if values.len() != 1 =>
            {
                return Err("exact-match compatibility requires one single value".into());
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                return Err("values set must be empty for exists and does not exist".into());
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    return Err("for 'Gt', 'Lt' operators, exactly one value is required".into());
                }
                for v in &values {
                    if v.parse::<i64>().is_err() {
                        return Err(format!(
                            "for 'Gt', 'Lt' operators, the value must be an integer: {v:?}"
                        ));
                    }
                }
            }
            _ => {}
        }
        for v in &values {
            validate_label_value(v)?;
        }
        Ok(Requirement {
            key: key.to_owned(),
            operator,
            values,
        })
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, sorted.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(String::as_str)
    }

    /// Port of labels.Requirement.Matches.
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        let got = labels.get_label(&self.key);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                got.is_some_and(|v| self.values.contains(v))
            }
            Operator::NotIn | Operator::NotEquals => got.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => got.is_some(),
            Operator::DoesNotExist => got.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(v), Some(want)) = (got, self.values.iter().next()) else {
                    return false;
                };
                let (Ok(v), Ok(want)) = (v.parse::<i64>(), want.parse::<i64>()) else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    v > want
                } else {
                    v < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
        };
        f.write_str(op)?;
        let joined = self
            .values
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(",");
        if matches!(self.operator, Operator::In | Operator::NotIn) {
            write!(f, "({joined})")
        } else {
            f.write_str(&joined)
        }
    }
}

/// A parsed label selector: requirements ANDed together. Port of labels.Selector
/// (internalSelector). The empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[doc(alias = "labels.Selector")]
pub struct LabelSelector {
    /// Sorted by key (stable), as Go's `Parse` leaves them.
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// The selector that matches everything. Port of labels.Everything.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Equality on every pair of `set`. Port of labels.SelectorFromSet.
    pub fn from_set(set: &BTreeMap<String, String>) -> Result<Self, SelectorError> {
        let mut requirements = Vec::with_capacity(set.len());
        for (k, v) in set {
            let r = Requirement::new(k, Operator::Equals, [v.clone()]).map_err(|message| {
                SelectorError {
                    selector: format!("{k}={v}"),
                    message,
                }
            })?;
            requirements.push(r);
        }
        Ok(LabelSelector { requirements })
    }

    /// Adds a requirement, keeping the key order. Port of Selector.Add.
    #[must_use]
    #[doc(alias = "Add")]
    pub fn and(mut self, r: Requirement) -> Self {
        self.requirements.push(r);
        self.requirements.sort_by(|a, b| a.key.cmp(&b.key));
        self
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// True if the selector has no requirement. Port of Selector.Empty.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// True if `labels` satisfy every requirement. Port of Selector.Matches.
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromStr for LabelSelector {
    type Err = SelectorError;

    /// Port of labels.Parse.
    fn from_str(s: &str) -> Result<Self, SelectorError> {
        let err = |message: String| SelectorError {
            selector: s.to_owned(),
            message,
        };
        let tokens = lex(s);
        let mut p = Parser { tokens, pos: 0 };
        let mut requirements = Vec::new();
        loop {
            match p.peek() {
                Token::End => break,
                Token::Ident(_) | Token::Not => {
                    requirements.push(p.requirement().map_err(err)?);
                    match p.next() {
                        Token::End => break,
                        Token::Comma => match p.peek() {
                            Token::Ident(_) | Token::Not => {}
                            t => {
                                return Err(err(format!(
                                    "found '{t}', expected: identifier after ','"
                                )));
                            }
                        },
                        t => {
                            return Err(err(format!(
                                "found '{t}', expected: ',' or 'end of string'"
                            )));
                        }
                    }
                }
                t => {
                    return Err(err(format!(
                        "found '{t}', expected: !, identifier, or 'end of string'"
                    )));
                }
            }
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector { requirements })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Ident(String),
    Not,
    NotEquals,
    Equals,
    DoubleEquals,
    Greater,
    Less,
    Comma,
    Open,
    Close,
    End,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Token::Ident(s) => s,
            Token::Not => "!",
            Token::NotEquals => "!=",
            Token::Equals => "=",
            Token::DoubleEquals => "==",
            Token::Greater => ">",
            Token::Less => "<",
            Token::Comma => ",",
            Token::Open => "(",
            Token::Close => ")",
            Token::End => "end of string",
        })
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

/// Port of labels.Lexer: whitespace separates; special characters form operators; every other
/// run of characters is an identifier (keywords `in`/`notin` are told apart by the parser).
fn lex(s: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if is_special(c) {
            chars.next();
            let next = chars.peek().map(|&(_, n)| n);
            let tok = match (c, next) {
                ('!', Some('=')) => Some(Token::NotEquals),
                ('=', Some('=')) => Some(Token::DoubleEquals),
                _ => None,
            };
            if let Some(t) = tok {
                chars.next();
                out.push(t);
                continue;
            }
            out.push(match c {
                '!' => Token::Not,
                '=' => Token::Equals,
                '>' => Token::Greater,
                '<' => Token::Less,
                ',' => Token::Comma,
                '(' => Token::Open,
                _ => Token::Close,
            });
            continue;
        }
        let mut end = s.len();
        while let Some(&(j, d)) = chars.peek() {
            if d.is_whitespace() || is_special(d) {
                end = j;
                break;
            }
            chars.next();
        }
        out.push(Token::Ident(s[i..end].to_owned()));
    }
    out
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Token {
        self.tokens.get(self.pos).cloned().unwrap_or(Token::End)
    }

    fn next(&mut self) -> Token {
        let t = self.peek();
        self.pos += 1;
        t
    }

    /// Port of Parser.parseRequirement.
    fn requirement(&mut self) -> Result<Requirement, String> {
        let mut op = None;
        if self.peek() == Token::Not {
            self.next();
            op = Some(Operator::DoesNotExist);
        }
        let key = match self.next() {
            Token::Ident(k) => k,
            t => return Err(format!("found '{t}', expected: identifier")),
        };
        validate_label_key(&key)?;
        if matches!(self.peek(), Token::End | Token::Comma) {
            let op = op.unwrap_or(Operator::Exists);
            return Requirement::new(&key, op, Vec::<String>::new());
        }
        if op.is_some() {
            return Err(format!(
                "found '{}', expected: ',' or 'end of string'",
                self.peek()
            ));
        }
        let op = match self.next() {
            Token::Ident(k) if k == "in" => Operator::In,
            Token::Ident(k) if k == "notin" => Operator::NotIn,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::NotEquals => Operator::NotEquals,
            Token::Greater => Operator::GreaterThan,
            Token::Less => Operator::LessThan,
            t => {
                return Err(format!(
                    "found '{t}', expected: in, notin, =, ==, !=, gt, lt"
                ));
            }
        };
        let values = if matches!(op, Operator::In | Operator::NotIn) {
            self.value_list()?
        } else {
            match self.peek() {
                Token::End | Token::Comma => vec![String::new()],
                Token::Ident(v) => {
                    self.next();
                    vec![v]
                }
                t => return Err(format!("found '{t}', expected: identifier")),
            }
        };
        Requirement::new(&key, op, values)
    }

    /// Port of Parser.parseValues: `(` [value {, value}] `)`; empty entries are "".
    fn value_list(&mut self) -> Result<Vec<String>, String> {
        match self.next() {
            Token::Open => {}
            t => return Err(format!("found '{t}', expected: '('")),
        }
        let mut values = Vec::new();
        let mut want_value = true;
        loop {
            match self.next() {
                Token::Ident(v) if want_value => {
                    values.push(v);
                    want_value = false;
                }
                Token::Comma => {
                    if want_value {
                        values.push(String::new());
                    }
                    want_value = true;
                }
                Token::Close => {
                    if want_value {
                        values.push(String::new());
                    }
                    return Ok(values);
                }
                t => return Err(format!("found '{t}', expected: ',', ')' or identifier")),
            }
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Port of validation.IsQualifiedName's name part and IsValidLabelValue's pattern.
fn valid_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && s.chars().all(is_name_char)
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Port of validation.IsDNS1123Subdomain.
fn valid_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

/// Port of validation.IsQualifiedName, used for label keys.
fn validate_label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && !valid_dns_subdomain(p)
    {
        return Err(format!(
            "invalid label key {key:?}: prefix must be a DNS subdomain"
        ));
    }
    if name.len() > 63 || !valid_name_part(name) {
        return Err(format!(
            "invalid label key {key:?}: name part must be 63 characters or less, consist of \
             alphanumerics, '-', '_' or '.', and start and end with an alphanumeric"
        ));
    }
    Ok(())
}

/// Port of validation.IsValidLabelValue.
fn validate_label_value(v: &str) -> Result<(), String> {
    if v.is_empty() || (v.len() <= 63 && valid_name_part(v)) {
        Ok(())
    } else {
        Err(format!(
            "invalid label value {v:?}: must be 63 characters or less, empty or alphanumerics \
             with '-', '_' or '.' inside"
        ))
    }
}

/// One `field=value` / `field!=value` term of a field selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldTerm {
    /// The field path, e.g. `metadata.name`.
    pub field: String,
    /// The value, unescaped.
    pub value: String,
    /// True for `!=`.
    pub not_equal: bool,
}

/// A parsed field selector: terms ANDed together. Port of fields.Selector (andTerm).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[doc(alias = "fields.Selector")]
pub struct FieldSelector {
    /// Sorted by field, as Go's parser leaves them.
    terms: Vec<FieldTerm>,
}

impl FieldSelector {
    /// The terms, sorted by field.
    pub fn terms(&self) -> &[FieldTerm] {
        &self.terms
    }

    /// True if there is no term.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Port of fields.Selector.Matches; an absent field reads as `""`, as in Go's `fields.Set`.
    pub fn matches<L: Labels + ?Sized>(&self, fields: &L) -> bool {
        self.terms.iter().all(|t| {
            let v = fields.get_label(&t.field).unwrap_or("");
            (v == t.value) != t.not_equal
        })
    }
}

/// Port of fields.EscapeValue: `\`, `,` and `=` are backslash-escaped.
fn escape_field_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = if t.not_equal { "!=" } else { "=" };
            write!(f, "{}{op}{}", t.field, escape_field_value(&t.value))?;
        }
        Ok(())
    }
}

impl FromStr for FieldSelector {
    type Err = SelectorError;

    /// Port of fields.ParseSelector: split on unescaped `,`, each term on the first unescaped
    /// `!=`, `==` or `=`; values are unescaped.
    fn from_str(s: &str) -> Result<Self, SelectorError> {
        let err = |message: String| SelectorError {
            selector: s.to_owned(),
            message,
        };
        let mut terms = Vec::new();
        if s.trim().is_empty() {
            return Ok(FieldSelector { terms });
        }
        for part in split_unescaped(s, ',') {
            if part.is_empty() {
                continue;
            }
            let (field, op, raw_value) = split_term(part)
                .ok_or_else(|| err(format!("invalid selector: can't understand '{part}'")))?;
            let value = unescape_field_value(raw_value).map_err(err)?;
            terms.push(FieldTerm {
                field: field.to_owned(),
                value,
                not_equal: op == "!=",
            });
        }
        terms.sort_by(|a, b| a.field.cmp(&b.field));
        Ok(FieldSelector { terms })
    }
}

fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
}

fn split_term(term: &str) -> Option<(&str, &'static str, &str)> {
    let mut escaped = false;
    for (i, c) in term.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
            continue;
        }
        let rest = &term[i..];
        for op in ["!=", "==", "="] {
            if let Some(value) = rest.strip_prefix(op) {
                return Some((&term[..i], op, value));
            }
        }
    }
    None
}

/// Port of fields.UnescapeValue.
fn unescape_field_value(v: &str) -> Result<String, String> {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                Some(e) => return Err(format!("invalid escape sequence '\\{e}' in {v:?}")),
                None => return Err(format!("unterminated escape sequence in {v:?}")),
            },
            ',' | '=' => return Err(format!("unescaped '{c}' in value {v:?}")),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parses_every_operator_and_prints_canonically() {
        let cases = [
            ("x=a", "x=a"),
            ("x==a", "x==a"),
            ("x != a", "x!=a"),
            ("x in (b, a)", "x in (a,b)"),
            ("x notin (a)", "x notin (a)"),
            ("x", "x"),
            ("!x", "!x"),
            ("x>1", "x>1"),
            ("x<1", "x<1"),
            ("z=1,a=2", "a=2,z=1"),
            ("x=", "x="),
            ("example.com/x=a", "example.com/x=a"),
            ("", ""),
        ];
        for (input, want) in cases {
            let sel: LabelSelector = input.parse().unwrap();
            assert_eq!(sel.to_string(), want, "input {input:?}");
        }
    }

    #[test]
    fn bad_selectors_are_errors() {
        for bad in [
            "x=a=b",
            "x in a",
            "x in (a",
            "!x=a",
            "x,",
            ",x",
            "x>a",
            "-x=a",
            "x=-a",
            "x in ()b",
            "x y",
            "=",
            "x!",
            "Example.com/x=a",
            "(x)",
        ] {
            let r = bad.parse::<LabelSelector>();
            assert!(r.is_err(), "{bad:?} parsed as {r:?}");
        }
    }

    #[test]
    fn matching_follows_go_semantics() {
        let l = labels(&[("app", "web"), ("n", "5")]);
        let m = |s: &str| s.parse::<LabelSelector>().unwrap().matches(&l);
        assert!(m(""));
        assert!(m("app=web"));
        assert!(!m("app=db"));
        assert!(m("app!=db"));
        assert!(m("missing!=x"), "NotEquals matches a missing label");
        assert!(m("missing notin (x)"));
        assert!(!m("missing in (x)"));
        assert!(m("app in (db,web)"));
        assert!(m("app,!missing"));
        assert!(!m("!app"));
        assert!(m("n>4") && !m("n>5") && m("n<6"));
        assert!(!m("app>1"), "non-integer label never satisfies Gt");
    }

    #[test]
    fn from_set_is_equality() {
        let l = labels(&[("a", "1"), ("b", "2")]);
        let s = LabelSelector::from_set(&l).unwrap();
        assert_eq!(s.to_string(), "a=1,b=2");
        assert!(s.matches(&l));
    }

    #[test]
    fn field_selectors_parse_escape_and_match() {
        let s: FieldSelector = r"metadata.name=a\,b,status.phase!=Running".parse().unwrap();
        assert_eq!(s.to_string(), r"metadata.name=a\,b,status.phase!=Running");
        let f = labels(&[("metadata.name", "a,b"), ("status.phase", "Pending")]);
        assert!(s.matches(&f));
        let s: FieldSelector = "metadata.name==x".parse().unwrap();
        assert_eq!(s.to_string(), "metadata.name=x");
        assert!("nooperator".parse::<FieldSelector>().is_err());
        assert!(r"a=b\q".parse::<FieldSelector>().is_err());
        assert!("".parse::<FieldSelector>().unwrap().is_empty());
    }
}
