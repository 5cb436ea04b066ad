//! The tutorial's snippets are the real code: every ```` ```rust ```` block in `docs/tutorial.md`
//! that follows a `<!-- from: PATH -->` line must appear, as a contiguous run of lines, in the file
//! at `PATH` (relative to the workspace root). Lines are compared with leading and trailing
//! whitespace stripped, so a snippet may be indented less than its source. When the code changes,
//! this test fails until the tutorial is brought back in line.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// The line that names a snippet's source: `<!-- from: examples/workqueue.rs -->`.
const MARKER_OPEN: &str = "<!-- from:";
const MARKER_CLOSE: &str = "-->";

/// One ```` ```rust ```` block of the tutorial and the file it claims to be copied from.
struct Snippet {
    /// The source file, relative to the workspace root.
    source: String,
    /// The 1-based line number of the block's opening fence in the tutorial.
    fence_line: usize,
    /// The block's lines, between the fences.
    lines: Vec<String>,
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Parses every marked snippet. Panics on a marker that is not followed by a ```` ```rust ````
/// fence or on a fence that is never closed: either would silently hide a snippet from the check.
fn marked_snippets(tutorial: &str) -> Vec<Snippet> {
    let lines: Vec<&str> = tutorial.lines().collect();
    let mut snippets = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        let Some(rest) = line.strip_prefix(MARKER_OPEN) else {
            i += 1;
            continue;
        };
        let source = rest
            .strip_suffix(MARKER_CLOSE)
            .unwrap_or_else(|| panic!("docs/tutorial.md:{}: unclosed marker {line:?}", i + 1))
            .trim()
            .to_string();
        let fence = lines.get(i + 1).map(|l| l.trim());
        assert_eq!(
            fence,
            Some("```rust"),
            "docs/tutorial.md:{}: the marker for {source} must be followed directly by a ```rust fence",
            i + 1
        );
        let fence_line = i + 2;
        let body_start = i + 2;
        let body_len = lines[body_start..]
            .iter()
            .position(|l| l.trim() == "```")
            .unwrap_or_else(|| {
                panic!("docs/tutorial.md:{fence_line}: the snippet from {source} is never closed")
            });
        snippets.push(Snippet {
            source,
            fence_line,
            lines: lines[body_start..body_start + body_len]
                .iter()
                .map(|l| (*l).to_string())
                .collect(),
        });
        i = body_start + body_len + 1;
    }
    snippets
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

#[test]
fn every_tutorial_snippet_is_copied_verbatim_from_the_file_it_names() {
    let root = workspace_root();
    let tutorial_path = root.join("docs").join("tutorial.md");
    let tutorial = std::fs::read_to_string(&tutorial_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", tutorial_path.display()));
    let snippets = marked_snippets(&tutorial);
    assert!(
        !snippets.is_empty(),
        "docs/tutorial.md has no `<!-- from: PATH -->` snippets to check"
    );

    let mut failures = Vec::new();
    for snippet in &snippets {
        let name = format!(
            "the snippet at docs/tutorial.md:{} (from {})",
            snippet.fence_line, snippet.source
        );
        let source_path = root.join(Path::new(&snippet.source));
        let source = match std::fs::read_to_string(&source_path) {
            Ok(text) => text,
            Err(e) => {
                failures.push(format!(
                    "{name}: cannot read {}: {e}",
                    source_path.display()
                ));
                continue;
            }
        };
        let needle: Vec<&str> = snippet.lines.iter().map(|l| l.trim()).collect();
        if needle.iter().all(|l| l.is_empty()) {
            failures.push(format!("{name}: the snippet is empty"));
            continue;
        }
        if !contains_run(&trimmed_lines(&source), &needle) {
            failures.push(format!(
                "{name}: {} does not contain these lines as one contiguous run:\n{}",
                snippet.source,
                snippet.lines.join("\n")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} tutorial snippets no longer match their source:\n\n{}",
        failures.len(),
        snippets.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_snippet_parser_finds_marked_blocks_and_matches_dedented_runs() {
    let doc = "intro\n<!-- from: a.rs -->\n```rust\nfn f() {\n    g();\n}\n```\n\n```rust\nunmarked();\n```\n";
    let snippets = marked_snippets(doc);
    assert_eq!(snippets.len(), 1);
    assert_eq!(snippets[0].source, "a.rs");
    assert_eq!(snippets[0].fence_line, 3);
    assert_eq!(snippets[0].lines, ["fn f() {", "    g();", "}"]);

    let source = "mod m {\n    fn f() {\n        g();\n    }\n}\n";
    let needle: Vec<&str> = snippets[0].lines.iter().map(|l| l.trim()).collect();
    assert!(contains_run(&trimmed_lines(source), &needle));
    let reordered = "fn f() {\n}\ng();\n";
    assert!(!contains_run(&trimmed_lines(reordered), &needle));
}
