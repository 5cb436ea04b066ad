//! `docs/go-to-rust.md` is checked against the sources. Every table whose first two columns are
//! `Go` and `Rust` is read row by row:
//!
//! - every Rust item the row names (the `Rust` column, and any crate-qualified path such as
//!   `informer::Error::AlreadyStarted` in the `difference` column) must be defined in the
//!   workspace's sources (`crates/*/src`, `src/`, `examples/`): a `fn`, `struct`, `enum`, `trait`,
//!   `type`, `const`, `static`, `mod`, `macro_rules!`, struct field, enum variant or `use`
//!   re-export of that name. `Type::member` must be a member of `Type` (a method or associated item
//!   in an `impl` or `trait` block naming `Type`, a field of `struct Type`, a variant of
//!   `enum Type`); a bare name after a `Type::…` path in the same cell (`Store::add`, `update`) is a
//!   member of that type. Module segments (`informer::store::…`) must be modules or re-exports of
//!   that crate. This reads the sources as text; it does not compile anything.
//! - every Go name in the `Go` column (`HandleDeltas`, `Type.Done`, `metav1.ObjectMeta`) must
//!   appear in the sources of the crate the row maps to: in a doc comment or `#[doc(alias)]`
//!   (`Port of …: DeltaFIFO.Replace`), or as an item whose name is the Go name in snake case
//!   (`HandleDeltas` ↔ `handle_deltas`, `DeltaFIFO` ↔ `DeltaFifo`).
//!
//! Every miss is printed at once, grouped by the source file where the missing Go name belongs.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Source index
// ---------------------------------------------------------------------------------------------

/// What a definition is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Fn,
    Struct,
    Enum,
    Trait,
    TypeAlias,
    Const,
    Static,
    Mod,
    Macro,
    Field,
    Variant,
    /// A name brought in by `use` (a re-export when `pub`).
    Use,
    /// `impl Trait for Type`: `name` is the trait, `owners` holds the type.
    ImplFor,
}

impl Kind {
    /// Kinds that name a type a `Type::member` path can start from.
    fn is_type(self) -> bool {
        matches!(
            self,
            Kind::Struct | Kind::Enum | Kind::Trait | Kind::TypeAlias | Kind::Use
        )
    }

    /// Kinds that can be the member in `Type::member`.
    fn is_member(self) -> bool {
        matches!(
            self,
            Kind::Fn | Kind::Field | Kind::Variant | Kind::Const | Kind::TypeAlias
        )
    }
}

/// One definition found in a source file.
#[derive(Clone, Debug)]
struct Def {
    kind: Kind,
    name: String,
    /// For members: the types of the enclosing `impl`/`trait`/`struct`/`enum` (for
    /// `impl Trait for Type`, both `Trait` and `Type`).
    owners: Vec<String>,
    /// For `type Alias = Target<…>;`: `Target`, whose members the alias has.
    target: Option<String>,
    /// The crate it is in.
    krate: String,
    /// The file, relative to the workspace root.
    file: String,
}

/// A doc comment line (`///`, `//!`, `#[doc(…)]`) and where it is.
#[derive(Clone, Debug)]
struct DocLine {
    krate: String,
    text: String,
}

/// Every definition and doc line of the workspace, by crate.
#[derive(Default)]
struct SourceIndex {
    /// The workspace root.
    root: PathBuf,
    defs: Vec<Def>,
    docs: Vec<DocLine>,
    /// Files (relative to the root) that exist, for rows naming a file.
    files: Vec<String>,
    /// Each crate's workspace dependencies (a path through `apiclient::meta` ends in
    /// `apimachinery`).
    deps: BTreeMap<String, Vec<String>>,
}

/// The pseudo-crate name of `examples/` (which the doc names for `reconcile` and friends).
const EXAMPLES: &str = "examples";
/// The root package.
const ROOT: &str = "clientgo";

impl SourceIndex {
    fn load(root: &Path) -> SourceIndex {
        let mut index = SourceIndex {
            root: root.to_path_buf(),
            ..SourceIndex::default()
        };
        let mut crates: Vec<(String, PathBuf, Option<PathBuf>)> = Vec::new();
        let entries = std::fs::read_dir(root.join("crates")).unwrap();
        for entry in entries {
            let dir = entry.unwrap().path();
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            crates.push((name, dir.join("src"), Some(dir.join("Cargo.toml"))));
        }
        crates.push((
            ROOT.to_string(),
            root.join("src"),
            Some(root.join("Cargo.toml")),
        ));
        crates.push((EXAMPLES.to_string(), root.join("examples"), None));
        let names: Vec<String> = crates.iter().map(|(n, _, _)| n.clone()).collect();
        for (name, src, manifest) in &crates {
            let deps = manifest
                .as_ref()
                .map(|m| workspace_deps(&std::fs::read_to_string(m).unwrap(), &names))
                .unwrap_or_else(|| names.clone());
            index.deps.insert(name.clone(), deps);
            let mut files = Vec::new();
            rust_files(src, &mut files);
            for file in files {
                let text = std::fs::read_to_string(&file).unwrap();
                let rel = file
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                index.files.push(rel.clone());
                scan_file(&text, name, &rel, &mut index);
            }
        }
        index
    }

    /// `krate` plus every workspace crate it depends on, transitively.
    fn crate_set(&self, krate: &str) -> BTreeSet<String> {
        let mut set = BTreeSet::new();
        let mut todo = vec![krate.to_string()];
        while let Some(k) = todo.pop() {
            if set.insert(k.clone())
                && let Some(deps) = self.deps.get(&k)
            {
                todo.extend(deps.iter().cloned());
            }
        }
        set
    }

    fn is_crate(&self, name: &str) -> bool {
        self.deps.contains_key(name) && name != EXAMPLES
    }

    fn find<'a>(
        &'a self,
        set: &'a BTreeSet<String>,
        pred: impl Fn(&Def) -> bool + 'a,
    ) -> impl Iterator<Item = &'a Def> + 'a {
        self.defs
            .iter()
            .filter(move |d| set.contains(&d.krate) && pred(d))
    }
}

/// The `[dependencies]` of a manifest that are workspace crates.
fn workspace_deps(manifest: &str, crates: &[String]) -> Vec<String> {
    let mut deps = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if !in_deps {
            continue;
        }
        let key: String = line
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        if crates.contains(&key) {
            deps.push(key);
        }
    }
    deps
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Splits Rust source into per-line code (comments and the insides of string and char literals
/// blanked) and doc-comment text.
fn split_code_and_docs(text: &str) -> (Vec<String>, Vec<String>) {
    #[derive(PartialEq)]
    enum State {
        Code,
        LineComment { doc: bool },
        Block { depth: usize, doc: bool },
        Str,
        RawStr { hashes: usize },
    }
    let chars: Vec<char> = text.chars().collect();
    let mut code_lines = Vec::new();
    let mut doc_lines = Vec::new();
    let mut code = String::new();
    let mut doc = String::new();
    let mut state = State::Code;
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            code_lines.push(std::mem::take(&mut code));
            doc_lines.push(std::mem::take(&mut doc));
            if matches!(state, State::LineComment { .. }) {
                state = State::Code;
            }
            i += 1;
            continue;
        }
        match state {
            State::Code => {
                if c == '/' && next == Some('/') {
                    let third = chars.get(i + 2).copied();
                    let fourth = chars.get(i + 3).copied();
                    let is_doc = (third == Some('/') && fourth != Some('/')) || third == Some('!');
                    state = State::LineComment { doc: is_doc };
                    i += if is_doc { 3 } else { 2 };
                    continue;
                }
                if c == '/' && next == Some('*') {
                    let third = chars.get(i + 2).copied();
                    let is_doc = third == Some('*') || third == Some('!');
                    state = State::Block {
                        depth: 1,
                        doc: is_doc,
                    };
                    i += 2;
                    continue;
                }
                let prev_ident = i > 0 && ident(chars[i - 1]);
                if c == 'r' && !prev_ident && (next == Some('"') || next == Some('#')) {
                    let mut j = i + 1;
                    while chars.get(j) == Some(&'#') {
                        j += 1;
                    }
                    if chars.get(j) == Some(&'"') {
                        state = State::RawStr { hashes: j - i - 1 };
                        code.push('"');
                        i = j + 1;
                        continue;
                    }
                }
                if c == '"' {
                    state = State::Str;
                    code.push('"');
                    i += 1;
                    continue;
                }
                if c == '\'' {
                    // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
                    if next == Some('\\') {
                        let mut j = i + 2;
                        while j < chars.len() && chars[j] != '\'' && chars[j] != '\n' {
                            j += 1;
                        }
                        code.push_str("' '");
                        i = j + 1;
                        continue;
                    }
                    if chars.get(i + 2) == Some(&'\'') {
                        code.push_str("' '");
                        i += 3;
                        continue;
                    }
                }
                code.push(c);
                i += 1;
            }
            State::LineComment { doc: is_doc } => {
                if is_doc {
                    doc.push(c);
                }
                i += 1;
            }
            State::Block { depth, doc: is_doc } => {
                if c == '*' && next == Some('/') {
                    state = if depth == 1 {
                        State::Code
                    } else {
                        State::Block {
                            depth: depth - 1,
                            doc: is_doc,
                        }
                    };
                    i += 2;
                    continue;
                }
                if c == '/' && next == Some('*') {
                    state = State::Block {
                        depth: depth + 1,
                        doc: is_doc,
                    };
                    i += 2;
                    continue;
                }
                if is_doc {
                    doc.push(c);
                }
                i += 1;
            }
            State::Str => {
                if c == '\\' {
                    i += 2;
                    continue;
                }
                if c == '"' {
                    state = State::Code;
                    code.push('"');
                }
                i += 1;
            }
            State::RawStr { hashes } => {
                if c == '"' && (0..hashes).all(|k| chars.get(i + 1 + k) == Some(&'#')) {
                    state = State::Code;
                    code.push('"');
                    i += 1 + hashes;
                    continue;
                }
                i += 1;
            }
        }
    }
    code_lines.push(code);
    doc_lines.push(doc);
    (code_lines, doc_lines)
}

/// The identifier at the start of `s`.
fn leading_ident(s: &str) -> &str {
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(s.len(), |(i, _)| i);
    &s[..end]
}

/// Removes `pub`, `pub(…)`, and the qualifiers that may precede an item keyword.
fn strip_qualifiers(mut s: &str) -> &str {
    loop {
        let before = s;
        if let Some(rest) = s.strip_prefix("pub") {
            if let Some(rest) = rest.strip_prefix('(') {
                if let Some(end) = rest.find(')') {
                    s = rest[end + 1..].trim_start();
                }
            } else if rest.starts_with(char::is_whitespace) {
                s = rest.trim_start();
            }
        }
        for q in ["unsafe ", "async ", "default ", "extern \"C\" ", "extern "] {
            if let Some(rest) = s.strip_prefix(q) {
                s = rest.trim_start();
            }
        }
        if let Some(rest) = s.strip_prefix("const ")
            && rest.trim_start().starts_with("fn ")
        {
            s = rest.trim_start();
        }
        if s == before {
            return s;
        }
    }
}

/// Removes every `<…>` group (generic arguments), keeping what is outside.
fn strip_generics(s: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut prev = ' ';
    for c in s.chars() {
        match c {
            '<' => depth += 1,
            '>' if depth > 0 && prev != '-' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
        prev = c;
    }
    out
}

/// The type names of an `impl` header: `impl<T> Trait for Type<T> where …` → [Trait, Type].
fn impl_names(header: &str) -> (Option<String>, String) {
    let header = header.trim().strip_prefix("impl").unwrap_or(header).trim();
    let header = strip_generics(header);
    let header = header
        .split(" where")
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let last_segment = |part: &str| -> String {
        let part = part
            .trim()
            .trim_start_matches('&')
            .trim_start_matches("mut ")
            .trim_start_matches("dyn ")
            .trim_start_matches('!')
            .trim();
        let part = part.split(['(', ' ']).next().unwrap_or("");
        part.rsplit("::").next().unwrap_or("").to_string()
    };
    match header.split_once(" for ") {
        Some((tr, ty)) => (Some(last_segment(tr)), last_segment(ty)),
        None => (None, last_segment(&header)),
    }
}

/// The names a `use` declaration brings in: leaves of the tree, or their `as` aliases.
fn use_names(decl: &str) -> Vec<String> {
    let body = decl.trim().trim_end_matches(';');
    let body = body.strip_prefix("use").unwrap_or(body);
    body.split([',', '{', '}'])
        .filter_map(|leaf| {
            let leaf = leaf.trim();
            if leaf.is_empty() || leaf.ends_with("::") {
                return None;
            }
            let name = match leaf.split_once(" as ") {
                Some((_, alias)) => alias.trim(),
                None => leaf.rsplit("::").next().unwrap_or(""),
            };
            (!name.is_empty() && name != "*" && name != "self").then(|| name.to_string())
        })
        .collect()
}

#[derive(Clone)]
enum ContainerKind {
    /// `impl` or `trait`: items inside are members of these names.
    Impl(Vec<String>),
    Struct(String),
    Enum(String),
    Other,
}

struct Container {
    kind: ContainerKind,
    /// Brace depth inside the container.
    depth: usize,
}

enum Pending {
    None,
    /// An `impl` header being read, possibly over several lines.
    Impl(String),
    Trait(String),
    Struct(String),
    Enum(String),
    Other,
    /// A `use` declaration being read up to its `;`.
    Use(String),
}

fn scan_file(text: &str, krate: &str, file: &str, index: &mut SourceIndex) {
    let (code_lines, doc_lines) = split_code_and_docs(text);
    for (raw, doc) in text.lines().zip(&doc_lines) {
        let trimmed = raw.trim_start();
        if trimmed.starts_with("#[doc") || trimmed.starts_with("#![doc") {
            index.docs.push(DocLine {
                krate: krate.to_string(),
                text: trimmed.to_string(),
            });
        } else if !doc.trim().is_empty() {
            index.docs.push(DocLine {
                krate: krate.to_string(),
                text: doc.clone(),
            });
        }
    }
    let mut stack: Vec<Container> = Vec::new();
    let mut pending = Pending::None;
    let mut depth = 0usize;
    let mut push_target = |kind: Kind, name: &str, owners: Vec<String>, target: Option<String>| {
        index.defs.push(Def {
            kind,
            name: name.to_string(),
            owners,
            target,
            krate: krate.to_string(),
            file: file.to_string(),
        });
    };
    for line in &code_lines {
        let trimmed = line.trim();
        let item = strip_qualifiers(trimmed);
        let innermost = stack.last();
        let impl_owner = stack.iter().rev().find_map(|c| match &c.kind {
            ContainerKind::Impl(names) => Some(names.clone()),
            _ => None,
        });
        let kw = |k: &str| {
            item.strip_prefix(k)
                .filter(|r| r.starts_with(char::is_whitespace))
                .map(|r| leading_ident(r.trim_start()))
                .filter(|n| !n.is_empty())
        };
        if let Pending::Use(buf) = &mut pending {
            buf.push(' ');
            buf.push_str(trimmed);
        } else if let Pending::Impl(buf) = &mut pending {
            buf.push(' ');
            buf.push_str(trimmed);
        } else if let Some(name) = kw("fn") {
            push_target(Kind::Fn, name, impl_owner.unwrap_or_default(), None);
        } else if let Some(name) = kw("struct") {
            push_target(Kind::Struct, name, Vec::new(), None);
            pending = Pending::Struct(name.to_string());
        } else if let Some(name) = kw("union") {
            push_target(Kind::Struct, name, Vec::new(), None);
            pending = Pending::Struct(name.to_string());
        } else if let Some(name) = kw("enum") {
            push_target(Kind::Enum, name, Vec::new(), None);
            pending = Pending::Enum(name.to_string());
        } else if let Some(name) = kw("trait") {
            push_target(Kind::Trait, name, Vec::new(), None);
            pending = Pending::Trait(name.to_string());
        } else if let Some(name) = kw("type") {
            let target = item
                .split_once('=')
                .map(|(_, t)| strip_generics(t.trim().trim_end_matches(';')))
                .map(|t| t.trim().rsplit("::").next().unwrap_or("").to_string());
            push_target(
                Kind::TypeAlias,
                name,
                impl_owner.unwrap_or_default(),
                target,
            );
        } else if let Some(name) = kw("const").filter(|n| *n != "fn" && *n != "_") {
            push_target(Kind::Const, name, impl_owner.unwrap_or_default(), None);
        } else if let Some(name) = kw("static") {
            push_target(Kind::Static, name, Vec::new(), None);
        } else if let Some(name) = kw("mod") {
            push_target(Kind::Mod, name, Vec::new(), None);
            pending = Pending::Other;
        } else if let Some(rest) = item.strip_prefix("macro_rules!") {
            push_target(
                Kind::Macro,
                leading_ident(rest.trim_start()),
                Vec::new(),
                None,
            );
        } else if item == "impl" || item.starts_with("impl ") || item.starts_with("impl<") {
            pending = Pending::Impl(item.to_string());
        } else if item.starts_with("use ") && trimmed.starts_with("pub") {
            pending = Pending::Use(item.to_string());
        } else if let Some(c) = innermost.filter(|c| c.depth == depth) {
            match &c.kind {
                ContainerKind::Struct(owner) => {
                    let name = leading_ident(item);
                    let after = item[name.len()..].trim_start();
                    if !name.is_empty() && after.starts_with(':') && !after.starts_with("::") {
                        push_target(Kind::Field, name, vec![owner.clone()], None);
                    }
                }
                ContainerKind::Enum(owner) => {
                    let name = leading_ident(trimmed);
                    let after = trimmed[name.len()..].trim_start();
                    if name.starts_with(|c: char| c.is_ascii_uppercase())
                        && (after.is_empty() || after.starts_with(['(', '{', ',', '=']))
                    {
                        push_target(Kind::Variant, name, vec![owner.clone()], None);
                    }
                }
                _ => {}
            }
        }
        // A `use` ends at its `;`.
        if let Pending::Use(buf) = &pending {
            if buf.contains(';') {
                for name in use_names(buf) {
                    push_target(Kind::Use, &name, Vec::new(), None);
                }
                pending = Pending::None;
            }
            continue;
        }
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    let kind = match std::mem::replace(&mut pending, Pending::None) {
                        Pending::Impl(header) => {
                            let header = header.split('{').next().unwrap_or("").to_string();
                            let (tr, ty) = impl_names(&header);
                            let mut names = vec![ty.clone()];
                            if let Some(tr) = tr {
                                push_target(Kind::ImplFor, &tr, vec![ty], None);
                                names.push(tr);
                            }
                            ContainerKind::Impl(names)
                        }
                        Pending::Trait(name) => ContainerKind::Impl(vec![name]),
                        Pending::Struct(name) => ContainerKind::Struct(name),
                        Pending::Enum(name) => ContainerKind::Enum(name),
                        Pending::Other | Pending::None | Pending::Use(_) => ContainerKind::Other,
                    };
                    stack.push(Container { kind, depth });
                }
                '}' => {
                    stack.pop();
                    depth = depth.saturating_sub(1);
                }
                ';' if !matches!(pending, Pending::Impl(_)) => {
                    pending = Pending::None;
                }
                _ => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

/// One row of a `| Go | Rust | … |` table.
struct Row {
    line: usize,
    /// The crates the section's text points into (`../crates/informer/…`), first linked first.
    section_crates: Vec<String>,
    /// The first `../crates/…` file the section links to.
    section_file: Option<String>,
    go: String,
    rust: String,
    difference: String,
}

/// Splits a table line into cells, ignoring `|` inside backticks.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut code = false;
    for c in inner.chars() {
        if c == '`' {
            code = !code;
        }
        if c == '|' && !code {
            cells.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        cells.push(cur.trim().to_string());
    }
    cells
}

fn rows(doc: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut section_crates: Vec<String> = Vec::new();
    let mut section_file = None;
    let mut in_table = false;
    for (i, line) in doc.lines().enumerate() {
        if line.starts_with('#') {
            section_crates.clear();
            section_file = None;
        }
        if !line.starts_with('|') {
            in_table = false;
            let mut rest = line;
            while let Some(pos) = rest.find("crates/") {
                let linked = rest[..pos].ends_with("../");
                let after = &rest[pos + "crates/".len()..];
                let path: String = after
                    .chars()
                    .take_while(|c| !matches!(*c, ')' | '`' | ' ' | ','))
                    .collect();
                let krate = path.split('/').next().unwrap_or("").to_string();
                if !section_crates.contains(&krate) {
                    section_crates.push(krate);
                }
                if linked && section_file.is_none() && path.ends_with(".rs") {
                    section_file = Some(format!("crates/{path}"));
                }
                rest = after;
            }
            continue;
        }
        let cols = cells(line);
        if cols.len() >= 2 && cols[0] == "Go" && cols[1] == "Rust" {
            in_table = true;
            continue;
        }
        if !in_table || line.starts_with("|---") || cols.len() < 2 {
            continue;
        }
        rows.push(Row {
            line: i + 1,
            section_crates: section_crates.clone(),
            section_file: section_file.clone(),
            go: cols[0].clone(),
            rust: cols[1].clone(),
            difference: cols.get(2).cloned().unwrap_or_default(),
        });
    }
    rows
}

/// The contents of each backtick span, with the plain text just before it.
fn code_spans(cell: &str) -> Vec<(String, String)> {
    let mut spans = Vec::new();
    let mut parts = cell.split('`');
    let mut before = parts.next().unwrap_or("").to_string();
    while let (Some(code), Some(after)) = (parts.next(), parts.next()) {
        spans.push((code.to_string(), before));
        before = after.to_string();
    }
    spans
}

/// Roots that are not this workspace's: a path starting with one of them is not checked.
const EXTERNAL_ROOTS: &[&str] = &[
    "std",
    "core",
    "alloc",
    "str",
    "Vec",
    "Option",
    "Result",
    "Arc",
    "Box",
    "Cow",
    "String",
    "Duration",
    "ClientBuilder",
    "tokio",
    "tokio_util",
    "futures",
    "governor",
    "reqwest",
    "serde",
    "serde_json",
    "thin_vec",
    "prost",
    "rustls",
    "k8s_openapi",
];

/// Names from the prelude, keywords and generic parameters: never checked when they stand alone.
fn is_prelude(name: &str) -> bool {
    const PRELUDE: &[&str] = &[
        "Default", "None", "Some", "Ok", "Err", "true", "false", "Self", "self", "Option",
        "Result", "Clone", "Send", "Sync", "Vec", "Box", "Arc", "type", "fn", "async", "FromStr",
        "Display", "Debug", "Deref", "Hash", "Eq",
    ];
    PRELUDE.contains(&name)
        || (name.len() == 1 && name.starts_with(|c: char| c.is_ascii_uppercase()))
}

fn is_type_name(seg: &str) -> bool {
    seg.starts_with(|c: char| c.is_ascii_uppercase()) && seg.chars().any(|c| c.is_ascii_lowercase())
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// A Rust reference cleaned of call arguments, generics and turbofish, brace groups expanded:
/// `api::core::v1::{Event, EventSource}` → two paths. `None` for text that is not a path.
fn rust_paths(span: &str) -> Option<Vec<Vec<String>>> {
    let s = span.trim();
    if s.ends_with('!') || s.contains("![") || s.starts_with('/') || s.contains("<group>") {
        return None;
    }
    let s = strip_generics(s);
    // Drop call arguments: `Config::new(host)` → `Config::new`.
    let s = match s.find('(') {
        Some(pos) => s[..pos].to_string(),
        None => s,
    };
    let s = s.replace("::::", "::");
    let s = s.trim().trim_end_matches("::").to_string();
    let (prefix, group) = match (s.find("::{"), s.ends_with('}')) {
        (Some(pos), true) => (
            s[..pos].to_string(),
            s[pos + 3..s.len() - 1]
                .split(',')
                .map(|p| p.trim().to_string())
                .collect::<Vec<_>>(),
        ),
        _ => (String::new(), vec![s.clone()]),
    };
    let mut out = Vec::new();
    for leaf in group {
        let full = if prefix.is_empty() {
            leaf
        } else {
            format!("{prefix}::{leaf}")
        };
        let segs: Vec<String> = full.split("::").map(|p| p.trim().to_string()).collect();
        if !segs.iter().all(|p| is_ident(p)) {
            return None;
        }
        out.push(segs);
    }
    Some(out)
}

/// What a checked span resolved to.
struct Resolved<'a> {
    /// The definition the path ends in, for locating the row in the sources.
    def: Option<&'a Def>,
    /// The type the path goes through (`Store` in `Store::add`), which later bare names in the
    /// cell may be members of.
    ty: Option<String>,
}

struct Checker<'a> {
    index: &'a SourceIndex,
    /// The crates the current row's section is about: their definitions win over a
    /// dependency's of the same name (`controller::Controller` over `informer::Controller` in the
    /// sample-controller table).
    primary: std::cell::RefCell<BTreeSet<String>>,
}

impl<'a> Checker<'a> {
    /// The first definition in `set` that `pred` accepts, preferring the row's primary crates.
    fn first(&self, set: &BTreeSet<String>, pred: impl Fn(&Def) -> bool) -> Option<&'a Def> {
        let index: &'a SourceIndex = self.index;
        let primary = self.primary.borrow();
        index
            .defs
            .iter()
            .find(|d| primary.contains(&d.krate) && set.contains(&d.krate) && pred(d))
            .or_else(|| {
                index
                    .defs
                    .iter()
                    .find(|d| set.contains(&d.krate) && pred(d))
            })
    }

    fn ty(&self, set: &BTreeSet<String>, name: &str) -> Option<&'a Def> {
        self.first(set, |d| d.kind.is_type() && d.name == name)
    }

    /// A member `name` of type `ty` (or of what the alias `ty` stands for).
    fn member(&self, set: &BTreeSet<String>, ty: &str, name: &str) -> Option<&'a Def> {
        let targets: Vec<String> = std::iter::once(ty.to_string())
            .chain(
                self.index
                    .defs
                    .iter()
                    .filter(|d| set.contains(&d.krate) && d.kind == Kind::TypeAlias && d.name == ty)
                    .filter_map(|d| d.target.clone()),
            )
            .collect();
        self.first(set, |d| {
            d.kind.is_member() && d.name == name && d.owners.iter().any(|o| targets.contains(o))
        })
    }

    /// Any definition named `name`.
    fn any(&self, set: &BTreeSet<String>, name: &str) -> Option<&'a Def> {
        self.first(set, |d| d.kind != Kind::ImplFor && d.name == name)
    }

    /// A definition named `name` that is not a member of a type.
    fn free(&self, set: &BTreeSet<String>, name: &str) -> Option<&'a Def> {
        self.first(set, |d| {
            d.owners.is_empty()
                && !matches!(d.kind, Kind::ImplFor | Kind::Field | Kind::Variant)
                && d.name == name
        })
    }

    fn module(&self, set: &BTreeSet<String>, name: &str) -> bool {
        self.first(set, |d| {
            (d.kind == Kind::Mod || d.kind == Kind::Use) && d.name == name
        })
        .is_some()
    }

    /// Resolves one path. A lone name is looked up as a member of the types named earlier in
    /// the cell (`contexts`, latest last), then, for a lower-case name, as a free item, and for a
    /// capitalised one, as any item. `Err` says what is missing.
    fn path(
        &self,
        segs: &[String],
        section: &BTreeSet<String>,
        contexts: &[String],
    ) -> Result<Resolved<'a>, String> {
        let mut segs: Vec<String> = segs.to_vec();
        if segs.first().is_some_and(|s| s == ROOT) && segs.len() > 1 {
            segs.remove(0);
        }
        let qualified = segs.len() > 1 && self.index.is_crate(&segs[0]);
        let (set, rest) = if qualified {
            (self.index.crate_set(&segs[0]), &segs[1..])
        } else {
            (section.clone(), &segs[..])
        };
        if rest.len() == 1 && !qualified {
            let name = &rest[0];
            for ty in contexts.iter().rev() {
                if let Some(def) = self.member(&set, ty, name) {
                    return Ok(Resolved {
                        def: Some(def),
                        ty: None,
                    });
                }
            }
            let lower = name.starts_with(|c: char| c.is_ascii_lowercase());
            let found = if lower {
                self.free(&set, name)
            } else {
                self.any(&set, name)
            };
            return match found {
                Some(def) => Ok(Resolved {
                    def: Some(def),
                    ty: is_type_name(name).then(|| name.clone()),
                }),
                None if contexts.is_empty() => Err(format!("no item `{name}`")),
                None => Err(format!(
                    "no member `{name}` of `{}`, nor a free item `{name}`",
                    contexts.join("`, `")
                )),
            };
        }
        for (i, seg) in rest.iter().enumerate() {
            let last = i + 1 == rest.len();
            if is_type_name(seg) {
                let Some(ty_def) = self.ty(&set, seg) else {
                    return Err(format!("no type `{seg}`"));
                };
                if last {
                    return Ok(Resolved {
                        def: Some(ty_def),
                        ty: Some(seg.clone()),
                    });
                }
                let member = &rest[i + 1];
                let Some(def) = self.member(&set, seg, member) else {
                    return Err(format!("no member `{member}` of `{seg}`"));
                };
                if i + 2 != rest.len() {
                    return Err(format!("`{seg}::{member}` is followed by more segments"));
                }
                return Ok(Resolved {
                    def: Some(def),
                    ty: Some(seg.clone()),
                });
            }
            if last {
                // `watch::start`: prefer the definition in a file of the module just named.
                let in_module = i.checked_sub(1).and_then(|m| {
                    let module = &rest[m];
                    self.first(&set, |d| {
                        d.kind != Kind::ImplFor
                            && &d.name == seg
                            && (d.file.ends_with(&format!("/{module}.rs"))
                                || d.file.contains(&format!("/{module}/")))
                    })
                });
                return match in_module.or_else(|| self.any(&set, seg)) {
                    Some(def) => Ok(Resolved {
                        def: Some(def),
                        ty: None,
                    }),
                    None => Err(format!("no item `{seg}`")),
                };
            }
            if !self.module(&set, seg) {
                return Err(format!("no module `{seg}`"));
            }
        }
        Err("empty path".to_string())
    }

    /// Checks one backtick span of the Rust column. `Ok(None)` for text that names nothing in
    /// the workspace. `contexts` collects the types named so far in the cell.
    fn rust_span(
        &self,
        span: &str,
        before: &str,
        section: &BTreeSet<String>,
        contexts: &mut Vec<String>,
    ) -> Result<Option<&'a Def>, String> {
        let s = span.trim();
        // `fn name`, `struct Name`, … : a definition of that kind.
        for (kw, kind) in [
            ("fn ", Kind::Fn),
            ("struct ", Kind::Struct),
            ("enum ", Kind::Enum),
            ("trait ", Kind::Trait),
            ("type ", Kind::TypeAlias),
            ("const ", Kind::Const),
            ("mod ", Kind::Mod),
        ] {
            if let Some(name) = s.strip_prefix(kw) {
                let name = leading_ident(name.trim());
                return self
                    .first(section, |d| d.kind == kind && d.name == name)
                    .map(Some)
                    .ok_or_else(|| format!("no `{kw}{name}`"));
            }
        }
        // `impl Trait for Type`.
        if let Some(header) = s.strip_prefix("impl ") {
            let (tr, ty) = impl_names(&format!("impl {header}"));
            let tr = tr.unwrap_or_default();
            return self
                .first(section, |d| {
                    d.kind == Kind::ImplFor && d.name == tr && d.owners.contains(&ty)
                })
                .map(Some)
                .ok_or_else(|| format!("no `impl {tr} for {ty}`"));
        }
        // A file: `rest/server_name.rs`, `crates/api/src/pb.rs`.
        if s.ends_with(".rs") {
            let found = self.index.root.join(s).is_file()
                || self
                    .index
                    .files
                    .iter()
                    .any(|f| f.ends_with(&format!("/{s}")));
            return if found {
                Ok(None)
            } else {
                Err(format!("no file `{s}`"))
            };
        }
        // A field with its type: `verbs: ThinVec<Str>`.
        if let Some((name, _)) = s.split_once(": ")
            && is_ident(name)
        {
            return self
                .first(section, |d| d.kind == Kind::Field && d.name == name)
                .map(Some)
                .ok_or_else(|| format!("no field `{name}`"));
        }
        if s.contains(char::is_whitespace) && !s.contains("::") {
            return Ok(None);
        }
        let Some(paths) = rust_paths(s) else {
            return Ok(None);
        };
        // "field `x`" names a field.
        let field_word = before.trim_end().ends_with("field");
        let mut first = None;
        for segs in paths {
            if segs.len() > 1 && EXTERNAL_ROOTS.contains(&segs[0].as_str()) {
                continue;
            }
            if segs.len() == 1 && is_prelude(&segs[0]) {
                continue;
            }
            if field_word && segs.len() == 1 {
                let name = &segs[0];
                let def = self
                    .first(section, |d| d.kind == Kind::Field && &d.name == name)
                    .ok_or_else(|| format!("no field `{name}`"))?;
                first = first.or(Some(def));
                continue;
            }
            let resolved = self.path(&segs, section, contexts)?;
            contexts.extend(resolved.ty);
            first = first.or(resolved.def);
        }
        // Types among call arguments, `DeltaFifo::new(DeltaFifoOptions)`, are contexts too.
        if let Some((_, args)) = s.split_once('(') {
            for arg in args.split([',', ')', '(', '&', ' ']) {
                if is_type_name(arg) && is_ident(arg) && self.ty(section, arg).is_some() {
                    contexts.push(arg.to_string());
                }
            }
        }
        Ok(first)
    }
}

/// Go names in a `Go` cell: `Type.Done`, `metav1.ObjectMeta`, `ParallelizeUntil(…)` →
/// `ParallelizeUntil`. Spans that are not names (`T comparable`, `"k8s\x00"`) are skipped.
fn go_names(cell: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (span, _) in code_spans(cell) {
        let mut s = span.trim().to_string();
        if s.starts_with('"') {
            continue;
        }
        if let Some(pos) = s.find(['(', '[', '{']) {
            s.truncate(pos);
        }
        let s = s.trim_end_matches('…').trim_end_matches("...").trim();
        if s.contains(char::is_whitespace) || s.ends_with(".go") {
            continue;
        }
        let s = match s.rsplit_once('/') {
            Some((_, tail)) if tail.contains('.') => tail,
            Some(_) => continue,
            None => s,
        };
        let s = s.trim_matches('.');
        if !s.is_empty() && s.split('.').all(is_ident) {
            names.push(s.to_string());
        }
    }
    names
}

/// `HandleDeltas`, `handle_deltas`, `DeltaFIFO`, `DeltaFifo` → `handledeltas`, `deltafifo`.
fn normalized(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `needle` occurs in `hay` with no identifier character on either side.
fn contains_word(hay: &str, needle: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    hay.match_indices(needle).any(|(pos, _)| {
        let before = hay[..pos].chars().next_back();
        let after = hay[pos + needle.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// A name unlikely to occur as an English word: it has an upper-case letter after the first.
fn distinctive(name: &str) -> bool {
    name.chars().skip(1).any(|c| c.is_ascii_uppercase())
}

impl Checker<'_> {
    fn go_name_found(&self, name: &str, crates: &BTreeSet<String>) -> bool {
        let last = name.rsplit('.').next().unwrap_or(name);
        let docs = self.index.docs.iter().filter(|d| crates.contains(&d.krate));
        for doc in docs {
            if contains_word(&doc.text, name)
                || (distinctive(last) && contains_word(&doc.text, last))
            {
                return true;
            }
        }
        let want = normalized(last);
        self.index
            .find(crates, |d| {
                d.kind != Kind::ImplFor && normalized(&d.name) == want
            })
            .next()
            .is_some()
    }
}

/// One finding.
struct Miss {
    /// Where it should be fixed: a source file (missing Go name) or the doc (bad Rust path).
    place: String,
    message: String,
}

fn check(doc: &str, index: &SourceIndex) -> (usize, Vec<Miss>) {
    let checker = Checker {
        index,
        primary: std::cell::RefCell::new(BTreeSet::new()),
    };
    let all: BTreeSet<String> = index.deps.keys().cloned().collect();
    let mut misses = Vec::new();
    let mut checked = 0;
    for row in rows(doc) {
        let named: Vec<&String> = row
            .section_crates
            .iter()
            .filter(|k| index.is_crate(k))
            .collect();
        let mut section: BTreeSet<String> = named.iter().flat_map(|k| index.crate_set(k)).collect();
        if section.is_empty() {
            section = all.clone();
        }
        section.insert(EXAMPLES.to_string());
        *checker.primary.borrow_mut() = named.iter().map(|k| (*k).clone()).collect();
        let mut contexts = Vec::new();
        let mut row_crates: BTreeSet<String> = named.iter().map(|k| (*k).clone()).collect();
        let mut row_file = None;
        for (span, before) in code_spans(&row.rust) {
            checked += 1;
            match checker.rust_span(&span, &before, &section, &mut contexts) {
                Ok(Some(def)) => {
                    row_crates.insert(def.krate.clone());
                    if row_file.is_none() && def.kind != Kind::Use {
                        row_file = Some(def.file.clone());
                    }
                }
                Ok(None) => {}
                Err(why) => misses.push(Miss {
                    place: "docs/go-to-rust.md".to_string(),
                    message: format!("line {}: Rust `{span}`: {why}", row.line),
                }),
            }
        }
        // Crate-qualified paths in the difference column.
        for (span, _) in code_spans(&row.difference) {
            let head = span.split("::").next().unwrap_or("");
            if !span.contains("::") || !(index.is_crate(head) || head == ROOT) {
                continue;
            }
            let Some(paths) = rust_paths(&span.replace('!', "")) else {
                continue;
            };
            checked += 1;
            for segs in paths {
                if let Err(why) = checker.path(&segs, &section, &[]) {
                    misses.push(Miss {
                        place: "docs/go-to-rust.md".to_string(),
                        message: format!("line {}: Rust `{span}` (difference): {why}", row.line),
                    });
                }
            }
        }
        let place = row_file
            .or(row.section_file.clone())
            .unwrap_or_else(|| "(no file)".to_string());
        for name in go_names(&row.go) {
            checked += 1;
            if !checker.go_name_found(&name, &row_crates) {
                let crates: Vec<&str> = row_crates.iter().map(String::as_str).collect();
                misses.push(Miss {
                    place: place.clone(),
                    message: format!(
                        "line {}: Go `{name}` appears in no doc comment or item of {}",
                        row.line,
                        crates.join(", ")
                    ),
                });
            }
        }
    }
    (checked, misses)
}

fn report(misses: &[Miss]) -> String {
    let mut by_place: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in misses {
        by_place.entry(&m.place).or_default().push(&m.message);
    }
    let mut out = String::new();
    for (place, messages) in by_place {
        out.push_str(&format!("{place}:\n"));
        for m in messages {
            out.push_str(&format!("  {m}\n"));
        }
    }
    out
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_rust_path_and_go_name_in_go_to_rust_md_is_in_the_sources() {
    let root = workspace_root();
    let doc = std::fs::read_to_string(root.join("docs").join("go-to-rust.md")).unwrap();
    let index = SourceIndex::load(&root);
    let (checked, misses) = check(&doc, &index);
    assert!(
        checked > 500,
        "only {checked} names were checked: is the table parser broken?"
    );
    assert!(
        misses.is_empty(),
        "{} of {checked} names in docs/go-to-rust.md are not in the sources (Rust paths to fix in the \
         doc; Go names to add as \"Go: `Name`\" to the file named):\n\n{}",
        misses.len(),
        report(&misses)
    );
}

#[test]
fn the_checker_finds_what_is_defined_and_reports_what_is_not() {
    let mut index = SourceIndex::default();
    index.deps.insert("demo".to_string(), Vec::new());
    let source = r#"
//! Port of util/workqueue/queue.go.
/// Port of queue.go: Type (`Interface`).
pub struct Queue<T> {
    /// Port of queue.go: `dirty`.
    dirty: Vec<T>,
}
impl<T: Clone> Queue<T> {
    /// Port of Type.ShutDown.
    pub fn shut_down(&self) { let _ = "}"; let _c = '{'; }
    pub fn add(&self, _t: T) {}
}
pub enum Error {
    /// Port of ErrFIFOClosed.
    Closed,
    Key(String),
}
pub trait RateLimiter<T> {
    fn when(&self, item: &T);
}
pub use inner::{Helper as Renamed, other};
"#;
    scan_file(source, "demo", "crates/demo/src/lib.rs", &mut index);
    let doc = "\
### queue.go → [queue.rs](../crates/demo/src/lib.rs)

| Go | Rust | difference |
|---|---|---|
| `Type.ShutDown`, `Interface` | `demo::Queue::shut_down`, `add` | same |
| `dirty` | field `dirty` *(private)* | same |
| `ErrFIFOClosed`, `KeyError` | `demo::Error::Closed`, `Key` | see `demo::Error::Missing` |
| `RateLimiter.When` | `RateLimiter::when`, `Renamed`, `Queue<T>` | same |
| `Type.Len` | `Queue::len`, `demo::Nothing`, `fn gone` | same |
";
    let (checked, misses) = check(doc, &index);
    let messages: Vec<&str> = misses.iter().map(|m| m.message.as_str()).collect();
    assert_eq!(checked, 19, "{messages:#?}");
    assert_eq!(
        messages,
        [
            "line 7: Rust `demo::Error::Missing` (difference): no member `Missing` of `Error`",
            "line 7: Go `KeyError` appears in no doc comment or item of demo",
            "line 9: Rust `Queue::len`: no member `len` of `Queue`",
            "line 9: Rust `demo::Nothing`: no type `Nothing`",
            "line 9: Rust `fn gone`: no `fn gone`",
            "line 9: Go `Type.Len` appears in no doc comment or item of demo",
        ],
    );
    assert!(misses[1].place.ends_with("lib.rs"));
}
