//! `api-codegen`: generates `crates/api`, the Rust port of k8s.io/api, from the OpenAPI v3
//! documents of a kube-apiserver 1.32 committed in `crates/api-codegen/openapi/`.
//!
//! Data flow:
//!
//! 1. [`schema::Catalog::load`] reads every `openapi/v3-api*.json` and merges their schemas
//!    and collection paths.
//! 2. [`model::Model::build`] decides each Rust item: structs with their fields (typed by
//!    [`rust_type`], named by [`names`]), list and raw-JSON aliases, `Resource` impls, and the
//!    cargo features.
//! 3. [`emit`] writes each group-version file, [`crate_files`] `lib.rs`, the `mod.rs` files
//!    and `Cargo.toml`; descriptions become docs through [`doc_text`].
//! 4. Every Rust file goes through `rustfmt --edition 2024`, then is written to `crates/api/`
//!    (stale generated files are removed), or, with `--check`, compared with what is there.
//!
//! Usage, from anywhere in the workspace:
//!
//! ```text
//! cargo run -p api-codegen             # regenerate crates/api
//! cargo run -p api-codegen -- --check  # exit 1 if crates/api is not what would be generated
//! cargo run -p api-codegen -- --extract-go-fields <kubernetes-tree>  # rewrite go-fields.json
//! ```
//!
//! Protobuf: [`protobuf::PbPlan`] maps every message of `protobuf/schema.json` onto the
//! generated structs with the Go struct facts of `go-fields.json` ([`go_fields`]), and
//! [`emit_pb`] writes each `<version>_pb.rs`, `pb.rs` and `scheme.rs`. `go-fields.json` is
//! extracted from a Kubernetes 1.32 tree (the `staging/src/k8s.io/...` packages) with
//! `--extract-go-fields`; normal runs and `--check` only read the committed file.
//!
//! Output is deterministic (every collection is sorted), so regenerating is byte-identical.

mod crate_files;
mod doc_text;
mod emit;
mod emit_pb;
mod go_fields;
mod model;
mod names;
mod protobuf;
mod rust_type;
mod schema;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use model::Model;
use schema::Catalog;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let codegen_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let check = match args.as_slice() {
        [] => false,
        [flag] if flag == "--check" => true,
        [flag, tree] if flag == "--extract-go-fields" => {
            return match extract_go_fields(&codegen_dir, Path::new(tree)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("api-codegen: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {
            eprintln!(
                "usage: cargo run -p api-codegen [-- --check | --extract-go-fields <kubernetes-tree>]"
            );
            return ExitCode::from(2);
        }
    };
    let Some(crates_dir) = codegen_dir.parent() else {
        eprintln!(
            "api-codegen: {} has no parent directory",
            codegen_dir.display()
        );
        return ExitCode::FAILURE;
    };
    let out_dir = crates_dir.join("api");
    match run(&codegen_dir, &out_dir, check) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("api-codegen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(codegen_dir: &Path, out_dir: &Path, check: bool) -> Result<(), String> {
    let documents = read_documents(&codegen_dir.join("openapi"))?;
    let catalog = Catalog::load(&documents)?;
    let model = Model::build(&catalog)?;
    let proto = protobuf::ProtoSchema::load(&codegen_dir.join("protobuf/schema.json"))?;
    let go = go_fields::load(&codegen_dir.join(go_fields::FILE))?;
    let plan = protobuf::PbPlan::build(&model, &proto, &go)?;
    // rustfmt picks up a rustfmt.toml from the workspace root, as `cargo fmt` would.
    let workspace_root = out_dir.parent().and_then(Path::parent).unwrap_or(out_dir);
    let files = generate(&model, &plan, workspace_root)?;
    if check {
        check_files(out_dir, &files)
    } else {
        write_files(out_dir, &files)
    }
}

/// Rewrites `go-fields.json` from the Go sources of a Kubernetes tree.
fn extract_go_fields(codegen_dir: &Path, tree: &Path) -> Result<(), String> {
    let proto = protobuf::ProtoSchema::load(&codegen_dir.join("protobuf/schema.json"))?;
    let text = go_fields::extract(tree, &proto.go_packages())?;
    let path = codegen_dir.join(go_fields::FILE);
    std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("api-codegen: wrote {}", path.display());
    Ok(())
}

/// The documents, sorted by file name.
fn read_documents(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut documents = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("reading {}: {e}", dir.display()))?
            .path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name.starts_with("v3-api") && name.ends_with(".json") {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("reading {}: {e}", path.display()))?;
            documents.push((name, text));
        }
    }
    documents.sort();
    if documents.is_empty() {
        return Err(format!("no v3-api*.json documents in {}", dir.display()));
    }
    Ok(documents)
}

/// Every generated file, by path relative to `crates/api`, formatted.
fn generate(
    model: &Model,
    plan: &protobuf::PbPlan,
    workspace_root: &Path,
) -> Result<BTreeMap<PathBuf, String>, String> {
    let mut files = BTreeMap::new();
    files.insert(PathBuf::from("Cargo.toml"), crate_files::cargo_toml(model));
    let mut format = |path: PathBuf, text: String| -> Result<(), String> {
        let formatted =
            rustfmt(&text, workspace_root).map_err(|e| format!("{}: {e}", path.display()))?;
        files.insert(path, formatted);
        Ok(())
    };
    format(PathBuf::from("src/lib.rs"), crate_files::lib_file(model))?;
    format(PathBuf::from("src/pb.rs"), emit_pb::support_file())?;
    format(
        PathBuf::from("src/scheme.rs"),
        emit_pb::scheme_file(model, plan),
    )?;
    for (module, versions) in &model.modules {
        let dir = PathBuf::from("src").join(module);
        format(
            dir.join("mod.rs"),
            crate_files::module_file(model, plan, module),
        )?;
        for (version, items) in versions {
            let path = dir.join(format!("{version}.rs"));
            format(path, emit::group_version_file(module, version, items, plan))?;
            if plan.has_version(module, version) {
                let path = dir.join(format!("{version}_pb.rs"));
                format(path, emit_pb::message_file(version, items, plan))?;
            }
        }
    }
    Ok(files)
}

/// Formats Rust source with `rustfmt --edition 2024` (the `RUSTFMT` variable may name it).
fn rustfmt(source: &str, workspace_root: &Path) -> Result<String, String> {
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_owned());
    let mut child = Command::new(&rustfmt)
        .args(["--edition", "2024", "--emit", "stdout"])
        .current_dir(workspace_root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {rustfmt}: {e}"))?;
    // Write from a thread so a large output cannot fill the pipe while we are still writing.
    let mut stdin = child.stdin.take().ok_or("rustfmt has no stdin")?;
    let input = source.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(|e| format!("running {rustfmt}: {e}"))?;
    writer
        .join()
        .map_err(|_| "writing to rustfmt panicked".to_owned())?
        .map_err(|e| format!("writing to {rustfmt}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{rustfmt} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("{rustfmt} printed non-UTF-8: {e}"))
}

/// Generated files currently under `crates/api`: `Cargo.toml` and everything in `src/`.
fn existing_files(out_dir: &Path) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        for entry in entries {
            let path = entry
                .map_err(|e| format!("reading {}: {e}", dir.display()))?
                .path();
            if path.is_dir() {
                walk(&path, base, out)?;
            } else if let Ok(relative) = path.strip_prefix(base) {
                out.push(relative.to_path_buf());
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(&out_dir.join("src"), out_dir, &mut files)?;
    files.sort();
    Ok(files)
}

fn check_files(out_dir: &Path, files: &BTreeMap<PathBuf, String>) -> Result<(), String> {
    let stale = existing_files(out_dir)?
        .into_iter()
        .find(|p| !files.contains_key(p));
    if let Some(path) = stale {
        return Err(format!(
            "{} is not generated any more; run `cargo run -p api-codegen`",
            out_dir.join(path).display()
        ));
    }
    for (path, text) in files {
        let full = out_dir.join(path);
        if std::fs::read_to_string(&full).ok().as_deref() != Some(text.as_str()) {
            return Err(format!(
                "{} is out of date; run `cargo run -p api-codegen`",
                full.display()
            ));
        }
    }
    println!(
        "api-codegen: {} files in {} are up to date",
        files.len(),
        out_dir.display()
    );
    Ok(())
}

fn write_files(out_dir: &Path, files: &BTreeMap<PathBuf, String>) -> Result<(), String> {
    let mut written = 0;
    for (path, text) in files {
        let full = out_dir.join(path);
        if std::fs::read_to_string(&full).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("creating {}: {e}", parent.display()))?;
        }
        std::fs::write(&full, text).map_err(|e| format!("writing {}: {e}", full.display()))?;
        written += 1;
    }
    let mut removed = 0;
    for path in existing_files(out_dir)?
        .into_iter()
        .filter(|p| !files.contains_key(p))
    {
        let full = out_dir.join(&path);
        std::fs::remove_file(&full).map_err(|e| format!("removing {}: {e}", full.display()))?;
        if let Some(parent) = full.parent() {
            // Only succeeds when the directory is now empty.
            let _ = std::fs::remove_dir(parent);
        }
        removed += 1;
    }
    println!(
        "api-codegen: {} files in {} ({written} written, {removed} stale removed)",
        files.len(),
        out_dir.display()
    );
    Ok(())
}
