//! Turning schema descriptions into doc comments that rustdoc and clippy read as intended.
//!
//! Descriptions are Go comments: plain text with hard-wrapped lines, tab-indented examples,
//! `[*]` in field paths, `<placeholders>` and bare URLs. Read as Markdown, an indented line
//! would become a Rust code block (and so a failing doctest), `[x]` a broken link, `<x>` an
//! HTML tag, and a wrapped list item a "lazy continuation" that clippy rejects. So:
//!
//! - paragraphs (split on blank lines) are kept; a paragraph whose every line is indented (an
//!   example, in Go comments) becomes a `text` code block, kept verbatim;
//! - inside other paragraphs, lines are unindented and joined with a space, except that a line
//!   starting a list item (`- `, `* `, `1. `, `2) `) starts a new line;
//! - `\`, `[`, `]`, `<`, `>` are backslash-escaped, and block markers at the start of a line
//!   (`#`, fences, setext underlines) too;
//! - bare URLs are wrapped as `<https://…>` autolinks;
//! - text inside backtick code spans is left as is.

/// The doc comment lines (without `///`) for a description.
pub fn doc_lines(description: &str) -> Vec<String> {
    let text = description.replace("\r\n", "\n").replace('\t', "    ");
    let mut out = Vec::new();
    for paragraph in paragraphs(&text) {
        if !out.is_empty() {
            out.push(String::new());
        }
        if let Some(block) = example_block(&paragraph) {
            out.extend(block);
            continue;
        }
        let mut lines: Vec<String> = Vec::new();
        for line in paragraph.iter().map(|l| l.trim()) {
            match lines.last_mut() {
                Some(last) if !starts_list_item(line) => {
                    last.push(' ');
                    last.push_str(line);
                }
                _ => lines.push(line.to_owned()),
            }
        }
        out.extend(lines.iter().map(|l| escape_line(l)));
    }
    out
}

/// Non-blank lines (trailing white space removed) grouped into paragraphs.
fn paragraphs(text: &str) -> Vec<Vec<&str>> {
    let mut paragraphs = vec![Vec::new()];
    for line in text.lines().map(str::trim_end) {
        match (line.is_empty(), paragraphs.last_mut()) {
            (true, Some(last)) if !last.is_empty() => paragraphs.push(Vec::new()),
            (false, Some(last)) => last.push(line),
            _ => {}
        }
    }
    paragraphs.retain(|p| !p.is_empty());
    paragraphs
}

/// A paragraph indented by two or more spaces on every line, as a fenced `text` block with
/// the common indentation removed; `None` for prose.
fn example_block(paragraph: &[&str]) -> Option<Vec<String>> {
    // Tabs are spaces by now; counting only ASCII spaces keeps `l[indent..]` on a char boundary.
    let indent = paragraph
        .iter()
        .map(|l| l.bytes().take_while(|&b| b == b' ').count())
        .min()?;
    if indent < 2 || paragraph.iter().any(|l| l.contains("```")) {
        return None;
    }
    let mut block = vec!["```text".to_owned()];
    block.extend(paragraph.iter().map(|l| l[indent..].to_owned()));
    block.push("```".to_owned());
    Some(block)
}

/// `- x`, `* x`, `+ x`, `1. x`, `1) x`.
fn starts_list_item(line: &str) -> bool {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let rest = &line[digits..];
    let marker = if digits == 0 {
        rest.strip_prefix(['-', '*', '+'])
    } else if digits <= 3 {
        rest.strip_prefix(['.', ')'])
    } else {
        None
    };
    marker.is_some_and(|after| after.starts_with(' '))
}

/// Escapes one output line (see the module doc).
fn escape_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    // Block constructs that only matter at the start of a line.
    let setext = !line.is_empty() && line.chars().all(|c| c == '=' || c == '-' || c == ' ');
    if line.starts_with('#') || line.starts_with("~~~") || setext {
        out.push('\\');
    }
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            let run = chars[i..].iter().take_while(|&&c| c == '`').count();
            if let Some(end) = closing_backticks(&chars, i + run, run) {
                out.extend(&chars[i..end + run]);
                i = end + run;
            } else {
                for _ in 0..run {
                    out.push_str("\\`");
                }
                i += run;
            }
            continue;
        }
        if let Some(len) = url_len(&chars[i..]) {
            out.push('<');
            out.extend(&chars[i..i + len]);
            out.push('>');
            i += len;
            continue;
        }
        if matches!(c, '\\' | '[' | ']' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Where a closing run of exactly `run` backticks starts, at or after `from`.
fn closing_backticks(chars: &[char], from: usize, run: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '`' {
            let len = chars[i..].iter().take_while(|&&c| c == '`').count();
            if len == run {
                return Some(i);
            }
            i += len;
        } else {
            i += 1;
        }
    }
    None
}

/// The length of the URL starting here, if one does: up to white space or a character that
/// cannot end a URL in prose (`"`, `'`, `<`, `>`, `` ` ``), minus trailing punctuation and an
/// unbalanced closing parenthesis.
fn url_len(chars: &[char]) -> Option<usize> {
    let starts = |p: &str| p.chars().enumerate().all(|(k, c)| chars.get(k) == Some(&c));
    if !starts("http://") && !starts("https://") {
        return None;
    }
    let mut len = chars
        .iter()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | '<' | '>' | '`'))
        .count();
    loop {
        let opens = chars[..len].iter().filter(|&&c| c == '(').count();
        let closes = chars[..len].iter().filter(|&&c| c == ')').count();
        match chars[len - 1] {
            '.' | ',' | ';' | ':' | '!' | '?' => len -= 1,
            ')' if closes > opens => len -= 1,
            _ => break,
        }
    }
    (len > "https://".len()).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_urls_become_autolinks() {
        assert_eq!(
            doc_lines("More info: https://kubernetes.io/docs/concepts/x#y."),
            ["More info: <https://kubernetes.io/docs/concepts/x#y>."]
        );
        assert_eq!(doc_lines("(see http://a.io/b)"), ["(see <http://a.io/b>)"]);
    }

    #[test]
    fn brackets_and_angle_brackets_are_escaped() {
        assert_eq!(
            doc_lines("spec.containers[*].name and <quantity> a\\b"),
            ["spec.containers\\[*\\].name and \\<quantity\\> a\\\\b"]
        );
    }

    #[test]
    fn code_spans_are_left_as_is() {
        assert_eq!(
            doc_lines("use `self[mapKey]` here"),
            ["use `self[mapKey]` here"]
        );
        assert_eq!(doc_lines("odd ` tick"), ["odd \\` tick"]);
    }

    #[test]
    fn indented_examples_become_text_blocks_kept_verbatim() {
        assert_eq!(
            doc_lines("Example:\n\n\t{\n\t  a: [1]\n\t}\n\nEnd."),
            [
                "Example:", "", "```text", "{", "  a: [1]", "}", "```", "", "End."
            ]
        );
    }

    #[test]
    fn indented_lines_inside_prose_are_joined_so_nothing_becomes_a_code_block() {
        assert_eq!(
            doc_lines("Selector:\n    {\n      a: [1]\n    }"),
            ["Selector: { a: \\[1\\] }"]
        );
    }

    #[test]
    fn list_items_keep_their_own_lines_and_absorb_wrapped_text() {
        assert_eq!(
            doc_lines("States:\n - Pending\n   waits for\n   things.\n - Done"),
            ["States:", "- Pending waits for things.", "- Done"]
        );
        assert_eq!(
            doc_lines("1) anyOf:\n   - type: integer"),
            ["1) anyOf:", "- type: integer"]
        );
    }

    #[test]
    fn unicode_white_space_does_not_count_as_indentation() {
        // An em space is three bytes: it must not be cut in two as two bytes of indentation.
        assert_eq!(doc_lines("  a\n\u{2003}b"), ["a b"]);
    }

    #[test]
    fn markdown_block_markers_at_line_start_are_escaped() {
        assert_eq!(doc_lines("# not a heading"), ["\\# not a heading"]);
        assert_eq!(doc_lines("a\n\n---"), ["a", "", "\\---"]);
        assert_eq!(doc_lines("``` <x>"), ["\\`\\`\\` \\<x\\>"]);
    }
}
