//! The crate's modules import each other without cycles: shared state lives in `state`,
//! below everything that uses it.

#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module name → the `crate::<module>` paths its source mentions (docs included).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let module = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut deps = BTreeSet::new();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            if !name.is_empty() && name != module {
                deps.insert(name);
            }
        }
        graph.insert(module, deps);
    }
    graph
}

/// A cycle through `start`, if any, found depth first.
fn cycle(
    graph: &BTreeMap<String, BTreeSet<String>>,
    node: &str,
    stack: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(pos) = stack.iter().position(|n| n == node) {
        let mut found = stack[pos..].to_vec();
        found.push(node.to_owned());
        return Some(found);
    }
    if done.contains(node) {
        return None;
    }
    stack.push(node.to_owned());
    for dep in graph.get(node).into_iter().flatten() {
        if let Some(found) = cycle(graph, dep, stack, done) {
            return Some(found);
        }
    }
    stack.pop();
    done.insert(node.to_owned());
    None
}

#[test]
fn modules_import_each_other_without_cycles() {
    let graph = imports();
    assert!(
        graph.contains_key("state"),
        "shared state has its own module"
    );
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        let found = cycle(&graph, module, &mut Vec::new(), &mut done);
        assert_eq!(found, None, "import cycle");
    }
}

#[test]
fn state_imports_none_of_its_users() {
    let graph = imports();
    let state = &graph["state"];
    for user in ["api", "server", "admin", "faults", "crd"] {
        assert!(!state.contains(user), "state imports {user}");
    }
}
