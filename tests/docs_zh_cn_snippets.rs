//! The Simplified Chinese docs quote the real code: every ```` ```rust ```` block in
//! `docs/zh-CN/tutorial.md` and `docs/zh-CN/README.md` must follow a `<!-- from: PATH -->` line
//! and appear, as a contiguous run of lines, in the file at `PATH` (relative to the workspace
//! root). Lines are compared with leading and trailing whitespace stripped, so a snippet may be
//! indented less than its source. This is the rule of `tests/docs_snippets.rs` for
//! `docs/tutorial.md`, with one addition: a ```` ```rust ```` block without a marker is an error
//! here, so no Rust snippet of these pages escapes the check. The pages' relative links must
//! also point at files that exist.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// The pages checked, relative to the workspace root.
const PAGES: [&str; 2] = ["docs/zh-CN/tutorial.md", "docs/zh-CN/README.md"];

/// The line that names a snippet's source: `<!-- from: examples/workqueue.rs -->`.
const MARKER_OPEN: &str = "<!-- from:";
const MARKER_CLOSE: &str = "-->";
const RUST_FENCE: &str = "```rust";
const CLOSE_FENCE: &str = "```";

/// One ```` ```rust ```` block of a page and the file it claims to be copied from.
#[derive(Debug)]
struct Snippet {
    /// The source file, relative to the workspace root.
    source: String,
    /// The 1-based line number of the block's opening fence in the page.
    fence_line: usize,
    /// The block's lines, between the fences.
    lines: Vec<String>,
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Parses every ```` ```rust ```` block of `page` (named `page_name` in messages). Returns the
/// marked snippets and the problems found: a marker not followed directly by a ```` ```rust ````
/// fence, a ```` ```rust ```` fence without a marker, or a fence never closed. Each would hide a
/// snippet from the check.
fn rust_snippets(page_name: &str, page: &str) -> (Vec<Snippet>, Vec<String>) {
    let lines: Vec<&str> = page.lines().collect();
    let mut snippets = Vec::new();
    let mut problems = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if let Some(rest) = line.strip_prefix(MARKER_OPEN) {
            let Some(source) = rest.strip_suffix(MARKER_CLOSE) else {
                problems.push(format!("{page_name}:{}: unclosed marker {line:?}", i + 1));
                i += 1;
                continue;
            };
            let source = source.trim().to_string();
            if lines.get(i + 1).map(|l| l.trim()) != Some(RUST_FENCE) {
                problems.push(format!(
                    "{page_name}:{}: the marker for {source} must be followed directly by a ```rust fence",
                    i + 1
                ));
                i += 1;
                continue;
            }
            let fence_line = i + 2;
            let body_start = i + 2;
            let Some(body_len) = lines[body_start..]
                .iter()
                .position(|l| l.trim() == CLOSE_FENCE)
            else {
                problems.push(format!(
                    "{page_name}:{fence_line}: the snippet from {source} is never closed"
                ));
                break;
            };
            snippets.push(Snippet {
                source,
                fence_line,
                lines: lines[body_start..body_start + body_len]
                    .iter()
                    .map(|l| (*l).to_string())
                    .collect(),
            });
            i = body_start + body_len + 1;
            continue;
        }
        if line == RUST_FENCE {
            problems.push(format!(
                "{page_name}:{}: a ```rust block without a `<!-- from: PATH -->` line before it",
                i + 1
            ));
        }
        // Skip any other fenced block whole, so its contents are never read as markers.
        if line.starts_with(CLOSE_FENCE) {
            let body_start = i + 1;
            match lines[body_start..]
                .iter()
                .position(|l| l.trim() == CLOSE_FENCE)
            {
                Some(len) => i = body_start + len + 1,
                None => {
                    problems.push(format!("{page_name}:{}: a fence never closed", i + 1));
                    break;
                }
            }
            continue;
        }
        i += 1;
    }
    (snippets, problems)
}

/// Whether `needle` occurs in `haystack` as a contiguous run, comparing trimmed lines.
fn contains_run(haystack: &[&str], needle: &[&str]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

fn trimmed_lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).collect()
}

/// Checks one snippet against its source; `None` when it matches.
fn check_snippet(root: &Path, page_name: &str, snippet: &Snippet) -> Option<String> {
    let name = format!(
        "the snippet at {page_name}:{} (from {})",
        snippet.fence_line, snippet.source
    );
    let source_path = root.join(Path::new(&snippet.source));
    let source = match std::fs::read_to_string(&source_path) {
        Ok(text) => text,
        Err(e) => {
            return Some(format!(
                "{name}: cannot read {}: {e}",
                source_path.display()
            ));
        }
    };
    let needle: Vec<&str> = snippet.lines.iter().map(|l| l.trim()).collect();
    if needle.iter().all(|l| l.is_empty()) {
        return Some(format!("{name}: the snippet is empty"));
    }
    if contains_run(&trimmed_lines(&source), &needle) {
        None
    } else {
        Some(format!(
            "{name}: {} does not contain these lines as one contiguous run:\n{}",
            snippet.source,
            snippet.lines.join("\n")
        ))
    }
}

/// The relative link targets of a page: `](target)` with no scheme and no pure `#anchor`,
/// with any `#anchor` dropped.
fn relative_links(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        rest = &rest[end..];
        if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
            continue;
        }
        let path = target.split('#').next().unwrap_or_default();
        if !path.is_empty() {
            out.push(path.to_string());
        }
    }
    out
}

fn read_page(root: &Path, page_name: &str) -> String {
    let path = root.join(page_name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn every_rust_snippet_of_the_chinese_docs_is_copied_verbatim_from_the_file_it_names() {
    let root = workspace_root();
    let mut failures = Vec::new();
    let mut checked = 0;
    for page_name in PAGES {
        let page = read_page(&root, page_name);
        let (snippets, problems) = rust_snippets(page_name, &page);
        failures.extend(problems);
        checked += snippets.len();
        failures.extend(
            snippets
                .iter()
                .filter_map(|s| check_snippet(&root, page_name, s)),
        );
    }
    assert!(
        checked >= 10,
        "docs/zh-CN has only {checked} `<!-- from: PATH -->` snippets; the tutorial's steps quote more"
    );
    assert!(
        failures.is_empty(),
        "{} problems with the Chinese docs' snippets ({checked} checked):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_relative_link_of_the_chinese_docs_points_at_an_existing_file() {
    let root = workspace_root();
    let mut missing = Vec::new();
    for page_name in PAGES {
        let page = read_page(&root, page_name);
        let dir = root.join(page_name);
        let dir = dir.parent().unwrap();
        for link in relative_links(&page) {
            if !dir.join(&link).exists() {
                missing.push(format!("{page_name}: ({link})"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "links to files that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_parser_rejects_unmarked_rust_blocks_and_matches_dedented_runs() {
    let doc = "intro\n<!-- from: a.rs -->\n```rust\nfn f() {\n    g();\n}\n```\n\n```text\n<!-- from: b.rs -->\n```\n\n```rust\nunmarked();\n```\n";
    let (snippets, problems) = rust_snippets("doc.md", doc);
    assert_eq!(snippets.len(), 1);
    assert_eq!(snippets[0].source, "a.rs");
    assert_eq!(snippets[0].fence_line, 3);
    assert_eq!(snippets[0].lines, ["fn f() {", "    g();", "}"]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("doc.md:13:"), "{problems:?}");

    let source = "mod m {\n    fn f() {\n        g();\n    }\n}\n";
    let needle: Vec<&str> = snippets[0].lines.iter().map(|l| l.trim()).collect();
    assert!(contains_run(&trimmed_lines(source), &needle));
    let reordered = "fn f() {\n}\ng();\n";
    assert!(!contains_run(&trimmed_lines(reordered), &needle));
}

#[test]
fn the_parser_reports_a_marker_without_a_fence_and_an_unclosed_fence() {
    let (snippets, problems) = rust_snippets("doc.md", "<!-- from: a.rs -->\ntext\n");
    assert!(snippets.is_empty());
    assert_eq!(problems.len(), 1, "{problems:?}");
    let (snippets, problems) = rust_snippets("doc.md", "<!-- from: a.rs -->\n```rust\nf();\n");
    assert!(snippets.is_empty());
    assert!(problems[0].contains("never closed"), "{problems:?}");
}

#[test]
fn relative_links_skip_urls_and_anchors() {
    let page = "[a](../x.md) [b](https://k8s.io) [c](#top) [d](y.md#part)";
    assert_eq!(relative_links(page), ["../x.md", "y.md"]);
}
