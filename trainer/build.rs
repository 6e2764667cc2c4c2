//! Embeds the firmware's sources in the `minnow` binary, so that `minnow verify` builds the
//! firmware without a checkout (trainer/src/device/sources.rs writes them out again).
//!
//! Carried: the firmware package (manifest, lockfile, build script, board table, cargo config,
//! memory maps, sources) and minnow-core (manifest, sources), plus a workspace manifest for
//! minnow-core, derived from the repository's: minnow-core inherits its version, dependencies and
//! lints from `[workspace.package]`, `[workspace.dependencies]` and `[workspace.lints]`, so the
//! extracted tree needs those tables, with `shared` as its only member. Not carried: the
//! firmware's `target/`, `model/`, `testgen/`, READMEs, minnow-core's tests.
//!
//! Writes `$OUT_DIR/firmware_sources.rs`: `FILES` (path relative to the tree, bytes) and
//! `WORKSPACE_MANIFEST`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// Single files, relative to the repository root.
const FILES: &[&str] = &[
    "firmware/Cargo.toml",
    "firmware/Cargo.lock",
    "firmware/build.rs",
    "firmware/boards.rs",
    "firmware/.cargo/config.toml",
    "shared/Cargo.toml",
];

/// Folders taken whole (every file below them), with the file name ending they must have.
const DIRS: &[(&str, &str)] = &[
    ("firmware/memory", ".x"),
    ("firmware/src", ".rs"),
    ("shared/src", ".rs"),
];

fn fail(msg: &str) -> ! {
    eprintln!("\nerror: minnow build script: {msg}\n");
    std::process::exit(1);
}

fn main() {
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| fail("no CARGO_MANIFEST_DIR")),
    );
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_else(|| fail("no OUT_DIR")));
    let root = manifest_dir
        .parent()
        .unwrap_or_else(|| fail("the trainer has no parent folder"))
        .to_path_buf();

    println!("cargo::rerun-if-changed=build.rs");
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for rel in FILES {
        files.push((rel.to_string(), root.join(rel)));
    }
    for (dir, ending) in DIRS {
        let abs = root.join(dir);
        // A folder: cargo reruns when anything below it changes (files added or removed too).
        println!("cargo::rerun-if-changed={}", abs.display());
        walk(&abs, dir, ending, &mut files);
    }
    files.sort();

    let mut out = String::from(
        "/// The firmware's and minnow-core's sources: (path in the tree, contents).\n\
         pub const FILES: &[(&str, &[u8])] = &[\n",
    );
    for (rel, abs) in &files {
        if !abs.is_file() {
            fail(&format!(
                "{} is missing: the binary carries the firmware's sources",
                abs.display()
            ));
        }
        println!("cargo::rerun-if-changed={}", abs.display());
        let abs = abs
            .to_str()
            .unwrap_or_else(|| fail(&format!("{} is not UTF-8", abs.display())));
        let _ = writeln!(out, "    ({rel:?}, include_bytes!({abs:?})),");
    }
    out.push_str("];\n");

    let workspace = root.join("Cargo.toml");
    println!("cargo::rerun-if-changed={}", workspace.display());
    let text = fs::read_to_string(&workspace)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", workspace.display())));
    let _ = writeln!(
        out,
        "/// The workspace manifest of the extracted tree (minnow-core's only).\n\
         pub const WORKSPACE_MANIFEST: &str = {:?};",
        workspace_manifest(&text)
    );
    let path = out_dir.join("firmware_sources.rs");
    fs::write(&path, out)
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", path.display())));
}

/// Every file below `abs` whose name ends with `ending`, as (`rel`/..., absolute path).
fn walk(abs: &Path, rel: &str, ending: &str, files: &mut Vec<(String, PathBuf)>) {
    let entries =
        fs::read_dir(abs).unwrap_or_else(|e| fail(&format!("cannot list {}: {e}", abs.display())));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| fail(&format!("cannot list {}: {e}", abs.display())));
        let name = entry.file_name();
        let name = name
            .to_str()
            .unwrap_or_else(|| fail(&format!("{}: a name that is not UTF-8", abs.display())));
        let path = entry.path();
        let child = format!("{rel}/{name}");
        if path.is_dir() {
            walk(&path, &child, ending, files);
        } else if name.ends_with(ending) {
            files.push((child, path));
        }
    }
}

/// The repository's manifest with its `[workspace]` table replaced by one whose only member is
/// `shared`: the inherited tables (`[workspace.package]`, `.dependencies`, `.lints`) stay as
/// they are, and nothing names a folder the extracted tree lacks.
fn workspace_manifest(text: &str) -> String {
    let mut out = String::from(
        "# Written by minnow: the workspace of the firmware sources it carries (minnow-core).\n",
    );
    let mut in_workspace = false;
    let mut seen = false;
    for line in text.lines() {
        let header = line.trim_start().starts_with('[') && !line.starts_with(' ');
        if header {
            in_workspace = line.trim() == "[workspace]";
            if in_workspace {
                seen = true;
                out.push_str("[workspace]\nresolver = \"3\"\nmembers = [\"shared\"]\n");
                continue;
            }
        }
        if !in_workspace {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !seen {
        fail("the repository's Cargo.toml has no [workspace] table");
    }
    out
}
