//! The crate's modules form a DAG: no module reaches itself through `crate::` paths.
//!
//! Reads the sources (code only: comments and `#[cfg(test)]` parts are skipped) and follows
//! every `crate::module` reference, and every `crate::Item` through the `pub use` lines of
//! lib.rs. A cycle (as `delta_fifo` ↔ `fifo` ↔ `store` once were) fails with its path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Code of a source file without comments and without anything from the first `#[cfg(test)]`.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Identifiers following `crate::`, and the names inside `crate::{...}` groups.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.insert(name);
        }
    }
    out
}

#[test]
fn the_module_graph_has_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    // `pub use module::{A, B}` / `pub use module::A` in lib.rs: root item → module.
    let mut root_items: BTreeMap<String, String> = BTreeMap::new();
    let flat = lib.replace('\n', " ");
    for stmt in flat.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.split_once("::") else {
            continue;
        };
        for item in items
            .trim_matches(|c| c == '{' || c == '}' || c == ' ')
            .split(',')
        {
            let item = item.trim();
            if !item.is_empty() {
                root_items.insert(item.to_owned(), module.trim().to_owned());
            }
        }
    }

    let mut modules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" || name.ends_with("_tests") {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&path).unwrap());
        modules.insert(name, crate_refs(&code));
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    let graph: BTreeMap<String, BTreeSet<String>> = modules
        .iter()
        .map(|(m, refs)| {
            let deps = refs
                .iter()
                .filter_map(|r| {
                    if names.contains(r) {
                        Some(r.clone())
                    } else {
                        root_items.get(r).cloned()
                    }
                })
                .filter(|d| d != m)
                .collect();
            (m.clone(), deps)
        })
        .collect();
    assert!(
        graph["delta_fifo"].contains("delta") && graph["store"].contains("delta"),
        "the reader sees the edges it should: {graph:?}"
    );

    // Depth-first search with colours; a grey node reached again closes a cycle.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        colour: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) {
        colour.insert(m.to_owned(), 1);
        path.push(m.to_owned());
        for d in &graph[m] {
            match colour.get(d.as_str()).copied().unwrap_or(0) {
                0 => visit(d, graph, colour, path),
                1 => panic!("module cycle: {} -> {d}", path.join(" -> ")),
                _ => {}
            }
        }
        path.pop();
        colour.insert(m.to_owned(), 2);
    }
    let mut colour = BTreeMap::new();
    for m in graph.keys() {
        if colour.get(m.as_str()).copied().unwrap_or(0) == 0 {
            visit(m, &graph, &mut colour, &mut Vec::new());
        }
    }
}
