//! Facts about the Go structs behind each protobuf message, which neither the OpenAPI
//! documents nor `generated.proto` carry: for every field with a `protobuf:"..."` tag, its
//! JSON name, whether its Go type is a pointer, whether its json tag has `omitempty`, and
//! whether it is an embedded (inlined) struct.
//!
//! Why they matter: Go's gogo-protobuf encoder writes every non-pointer field (zero or not),
//! while its JSON encoder leaves zero `omitempty` fields out, so the decoder needs to know
//! which protobuf zeros mean "absent" to give the same object as the JSON decoder.
//!
//! The facts are committed in `crates/api-codegen/go-fields.json`, extracted from a
//! Kubernetes 1.32 source tree by `cargo run -p api-codegen -- --extract-go-fields <tree>`
//! ([`extract`]); generation and `--check` only read the committed file ([`load`]).
//!
//! File shape: `{"<go package>": {"<Go struct>": [[number, "json name", "flags"], ...]}}`,
//! packages, structs and fields sorted; flags are letters: `p` pointer, `o` omitempty,
//! `i` inline (embedded struct; the json name is then empty).

use std::collections::BTreeMap;
use std::path::Path;

/// One Go struct field that has a protobuf number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoField {
    /// The json tag's name; empty for an embedded struct.
    pub json: String,
    /// The Go type is a pointer (`*T`).
    pub pointer: bool,
    /// The json tag has `omitempty`.
    pub omitempty: bool,
    /// An embedded struct whose fields JSON inlines.
    pub inline: bool,
}

/// Go package → struct → protobuf field number → field.
pub type GoFields = BTreeMap<String, BTreeMap<String, BTreeMap<u32, GoField>>>;

/// The committed file's name, in `crates/api-codegen/`.
pub const FILE: &str = "go-fields.json";

/// Go packages (by import path) to extract, with their directory in a Kubernetes tree: every
/// package whose messages `protobuf/schema.json` lists and whose types the API crate has.
pub fn package_dir(go_package: &str) -> Option<String> {
    if go_package.starts_with("k8s.io/api/")
        || go_package == "k8s.io/apimachinery/pkg/apis/meta/v1"
        || go_package == "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
    {
        Some(format!("staging/src/{go_package}"))
    } else {
        None
    }
}

/// Reads the committed facts.
pub fn load(path: &Path) -> Result<GoFields, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    type Raw = BTreeMap<String, BTreeMap<String, Vec<(u32, String, String)>>>;
    let raw: Raw =
        serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))?;
    let mut out = GoFields::new();
    for (package, structs) in raw {
        let p = out.entry(package).or_default();
        for (name, fields) in structs {
            let s = p.entry(name).or_default();
            for (number, json, flags) in fields {
                s.insert(
                    number,
                    GoField {
                        json,
                        pointer: flags.contains('p'),
                        omitempty: flags.contains('o'),
                        inline: flags.contains('i'),
                    },
                );
            }
        }
    }
    Ok(out)
}

/// Extracts the facts for `go_packages` from the Go sources under `tree` (a Kubernetes
/// checkout) and renders the file's text.
pub fn extract(tree: &Path, go_packages: &[String]) -> Result<String, String> {
    let mut all = GoFields::new();
    for package in go_packages {
        let Some(dir) = package_dir(package) else {
            continue;
        };
        let dir = tree.join(dir);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| format!("reading {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                name.ends_with(".go")
                    && !name.ends_with("_test.go")
                    && !name.starts_with("zz_generated")
                    && name != "generated.pb.go"
            })
            .collect();
        files.sort();
        let structs = all.entry(package.clone()).or_default();
        for file in files {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("reading {}: {e}", file.display()))?;
            parse_go(&text, structs).map_err(|e| format!("{}: {e}", file.display()))?;
        }
    }
    all.retain(|_, s| {
        s.retain(|_, f| !f.is_empty());
        !s.is_empty()
    });
    Ok(render(&all))
}

/// Collects the protobuf-tagged fields of every `type X struct { ... }` in a Go file.
fn parse_go(text: &str, out: &mut BTreeMap<String, BTreeMap<u32, GoField>>) -> Result<(), String> {
    let mut current: Option<String> = None;
    let mut depth = 0usize;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("//") {
            continue;
        }
        let Some(name) = &current else {
            if let Some(name) = line
                .strip_prefix("type ")
                .and_then(|rest| rest.strip_suffix(" struct {"))
            {
                current = Some(name.trim().to_owned());
                depth = 1;
            }
            continue;
        };
        let opens = line.matches('{').count();
        let closes = line.matches('}').count();
        if depth == 1
            && opens == 0
            && let Some((number, field)) = parse_field(line)?
        {
            let fields = out.entry(name.clone()).or_default();
            if fields.insert(number, field).is_some() {
                return Err(format!("{name}: protobuf field {number} twice"));
            }
        }
        depth = (depth + opens).saturating_sub(closes);
        if depth == 0 {
            current = None;
        }
    }
    Ok(())
}

/// One field line: `Name Type `tags`` or, embedded, `Type `tags``.
fn parse_field(line: &str) -> Result<Option<(u32, GoField)>, String> {
    let Some((decl, tags)) = line.split_once('`') else {
        return Ok(None);
    };
    let Some(protobuf) = tag(tags, "protobuf").filter(|t| *t != "-") else {
        return Ok(None);
    };
    let number = protobuf
        .split(',')
        .nth(1)
        .and_then(|n| n.parse::<u32>().ok())
        .ok_or_else(|| format!("protobuf tag without a number: {line}"))?;
    let words: Vec<&str> = decl.split_whitespace().collect();
    let json = tag(tags, "json").unwrap_or_default();
    let mut parts = json.split(',');
    let json_name = parts.next().unwrap_or_default().to_owned();
    let options: Vec<&str> = parts.collect();
    let (ty, embedded) = match words.as_slice() {
        [ty] => (*ty, true),
        [_, ty, ..] => (*ty, false),
        [] => return Err(format!("field without a type: {line}")),
    };
    // An embedded struct with a json name (`metav1.ObjectMeta `json:"metadata"``) is not
    // inlined; one without (`json:",inline"`) is.
    let inline = options.contains(&"inline") || (embedded && json_name.is_empty());
    Ok(Some((
        number,
        GoField {
            json: if inline { String::new() } else { json_name },
            pointer: ty.starts_with('*'),
            omitempty: options.contains(&"omitempty"),
            inline,
        },
    )))
}

/// The value of `key:"..."` in a Go struct tag.
fn tag<'a>(tags: &'a str, key: &str) -> Option<&'a str> {
    let needle = format!("{key}:\"");
    let start = tags
        .match_indices(&needle)
        .find(|(i, _)| *i == 0 || tags.as_bytes()[i - 1] == b' ')?
        .0
        + needle.len();
    let rest = &tags[start..];
    Some(&rest[..rest.find('"')?])
}

/// The file's text: one struct per line, everything sorted.
fn render(all: &GoFields) -> String {
    let mut out = String::from("{\n");
    let packages: Vec<_> = all.iter().collect();
    for (pi, (package, structs)) in packages.iter().enumerate() {
        out.push_str(&format!(" {}: {{\n", json_str(package)));
        let structs: Vec<_> = structs.iter().collect();
        for (si, (name, fields)) in structs.iter().enumerate() {
            let fields: Vec<String> = fields
                .iter()
                .map(|(n, f)| {
                    let mut flags = String::new();
                    for (on, c) in [(f.pointer, 'p'), (f.omitempty, 'o'), (f.inline, 'i')] {
                        if on {
                            flags.push(c);
                        }
                    }
                    format!("[{n},{},{}]", json_str(&f.json), json_str(&flags))
                })
                .collect();
            let comma = if si + 1 < structs.len() { "," } else { "" };
            out.push_str(&format!(
                "  {}: [{}]{comma}\n",
                json_str(name),
                fields.join(",")
            ));
        }
        let comma = if pi + 1 < packages.len() { "," } else { "" };
        out.push_str(&format!(" }}{comma}\n"));
    }
    out.push_str("}\n");
    out
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const GO: &str = r#"
// Probe describes a health check.
type Probe struct {
	// The action taken.
	ProbeHandler `json:",inline" protobuf:"bytes,1,opt,name=handler"`
	// +optional
	InitialDelaySeconds int32 `json:"initialDelaySeconds,omitempty" protobuf:"varint,2,opt,name=initialDelaySeconds"`
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty" protobuf:"varint,7,opt,name=terminationGracePeriodSeconds"`
	Labels map[string]string `json:"labels" protobuf:"bytes,8,rep,name=labels" protobuf_key:"bytes,1,opt,name=key"`
	Nested struct {
		A int32 `json:"a" protobuf:"varint,1,opt,name=a"`
	} `json:"nested"`
}
"#;

    #[test]
    fn fields_are_read_with_their_number_and_flags() {
        let mut out = BTreeMap::new();
        parse_go(GO, &mut out).unwrap();
        let probe = &out["Probe"];
        assert_eq!(probe.len(), 4);
        assert!(probe[&1].inline && !probe[&1].pointer && probe[&1].json.is_empty());
        assert!(probe[&2].omitempty && !probe[&2].pointer);
        assert_eq!(probe[&2].json, "initialDelaySeconds");
        assert!(probe[&7].pointer && probe[&7].omitempty);
        assert!(!probe[&8].omitempty);
    }

    #[test]
    fn the_rendered_file_loads_back() {
        let mut structs = BTreeMap::new();
        parse_go(GO, &mut structs).unwrap();
        let mut all = GoFields::new();
        all.insert("k8s.io/api/core/v1".into(), structs);
        let dir = std::env::temp_dir().join(format!("go-fields-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.json");
        std::fs::write(&path, render(&all)).unwrap();
        assert_eq!(load(&path).unwrap(), all);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
