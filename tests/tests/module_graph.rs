//! The modules of minnow-core (`shared/src`) and of the trainer (`trainer/src`) import each
//! other without cycles: no module uses (`use crate::x`, a `crate::x::...` or `super::x` path in
//! code, tests included) a module that uses it back, directly or through others. Each such knot
//! was a module that was not one idea (the dot product inside the kernels, the byte reader
//! reading the types that use it, the CLI and the pipeline calling each other), so this test
//! reads the sources and fails on the first cycle, printing the graph (`--nocapture` shows it
//! anyway). It also checks that clap, the command line, appears only under the trainer's `cli/`.
//!
//! It reads text, not the compiler's view: paths are taken from code with comments and string
//! literals removed (doc links are not imports); an item of the crate root (`crate::Error`) is
//! the module lib.rs re-exports it from; an inline module (`layer::ops`, `mod tests`) is its
//! file's module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Reads `dir` into module path -> source ("" for lib.rs, "dot" for dot/mod.rs, "dot::simd").
fn read_modules(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let join = |name: &str| match prefix {
            "" => name.to_string(),
            p => format!("{p}::{name}"),
        };
        if path.is_dir() {
            read_modules(&path, &join(stem), out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = match stem {
                "lib" if prefix.is_empty() => String::new(),
                "mod" => prefix.to_string(),
                s => join(s),
            };
            out.insert(module, std::fs::read_to_string(&path).expect("read"));
        }
    }
}

/// The code of a file: comments and the contents of string literals removed.
fn code_only(src: &str) -> String {
    let (mut out, mut chars) = (String::new(), src.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                chars.by_ref().find(|&c| c == '\n');
                out.push('\n');
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => _ = chars.next(),
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// The paths a `use` tree or a path expression names, read from its start (just after
/// `crate::`): `a::{b, c::{self, d}}` -> `[a, b]`, `[a, c]`, `[a, c, d]`.
fn paths(text: &str) -> Vec<Vec<String>> {
    let rest = text.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        return members(group).iter().flat_map(|m| paths(m)).collect();
    }
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let head = &rest[..end];
    if head.is_empty() || head == "self" {
        return vec![Vec::new()]; // `*`, `self`: the path so far
    }
    match rest[end..].strip_prefix("::") {
        Some(tail) => paths(tail)
            .into_iter()
            .map(|p| std::iter::once(head.to_string()).chain(p).collect())
            .collect(),
        None => vec![vec![head.to_string()]],
    }
}

/// The members of a use group, from just after its `{` to its closing `}`.
fn members(group: &str) -> Vec<String> {
    let (mut depth, mut current, mut out) = (0, String::new(), Vec::new());
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out
}

/// Module -> the modules its code refers to.
fn import_graph(files: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let code: BTreeMap<&str, String> = files
        .iter()
        .map(|(m, text)| (m.as_str(), code_only(text)))
        .collect();
    // The crate root's re-exports: item -> the module it comes from.
    let mut reexports = BTreeMap::new();
    for statement in code.get("").map_or("", String::as_str).split(';') {
        if let Some(at) = statement.find("pub use ") {
            for p in paths(&statement[at + "pub use ".len()..]) {
                if let (Some(first), Some(last)) = (p.first(), p.last()) {
                    reexports.insert(last.clone(), first.clone());
                }
            }
        }
    }
    // The module a path names, read from module `base` ("" = the root): its longest prefix that
    // is a module, or for a root item the module it is re-exported from.
    let resolve = |base: &str, path: &[String]| -> String {
        let mut module = base.to_string();
        for segment in path {
            let next = match module.as_str() {
                "" => segment.clone(),
                m => format!("{m}::{segment}"),
            };
            if files.contains_key(&next) {
                module = next;
            } else if module.is_empty() {
                return reexports.get(segment).cloned().unwrap_or_default();
            } else {
                break;
            }
        }
        module
    };

    let mut graph = BTreeMap::new();
    for (&m, text) in &code {
        let parent = m.rsplit_once("::").map_or("", |(p, _)| p);
        let mut targets = BTreeSet::new();
        for (at, _) in text.match_indices("crate::") {
            for p in paths(&text[at + "crate::".len()..]) {
                targets.insert(resolve("", &p));
            }
        }
        // `super::` at file level is the parent module; inside an inline module
        // (`mod tests { use super::*; }`) it is this file's own module, no edge.
        let (mut depth, mut inline) = (0, Vec::new());
        for (i, c) in text.char_indices() {
            match c {
                '{' => {
                    let before = text[..i].trim_end();
                    let name_start = before
                        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .map_or(0, |k| k + 1);
                    if before[..name_start].trim_end().ends_with("mod") {
                        inline.push(depth);
                    }
                    depth += 1;
                }
                '}' => {
                    depth -= 1;
                    if inline.last() == Some(&depth) {
                        inline.pop();
                    }
                }
                's' if inline.is_empty() && text[i..].starts_with("super::") => {
                    for p in paths(&text[i + "super::".len()..]) {
                        targets.insert(resolve(parent, &p));
                    }
                }
                _ => {}
            }
        }
        // Paths through the module's own submodules (`portable::dot_i8_scalar` in dot/mod.rs,
        // `error::Error` in lib.rs).
        for child in files.keys() {
            let name = match m {
                "" => Some(child.as_str()),
                m => child.strip_prefix(m).and_then(|c| c.strip_prefix("::")),
            };
            let Some(name) = name.filter(|n| !n.is_empty() && !n.contains("::")) else {
                continue;
            };
            let used = text.match_indices(&format!("{name}::")).any(|(at, _)| {
                !text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
            });
            if used {
                targets.insert(child.clone());
            }
        }
        targets.remove(m);
        graph.insert(m.to_string(), targets);
    }
    graph
}

/// A cycle through `m`'s imports, depth first.
fn find_cycle<'a>(
    m: &'a str,
    graph: &'a BTreeMap<String, BTreeSet<String>>,
    path: &mut Vec<&'a str>,
    done: &mut BTreeSet<&'a str>,
) -> Option<Vec<&'a str>> {
    if let Some(at) = path.iter().position(|&p| p == m) {
        return Some(path[at..].iter().copied().chain([m]).collect());
    }
    if !done.insert(m) {
        return None;
    }
    path.push(m);
    for t in graph.get(m).into_iter().flatten() {
        if let Some(cycle) = find_cycle(t, graph, path, done) {
            return Some(cycle);
        }
    }
    path.pop();
    None
}

/// The graph of the crate whose sources are in `src` (relative to the repository root), printed,
/// and its first cycle, if any.
fn check_crate(src: &str, label: &str, must_see: &[(&str, &str)]) {
    let mut files = BTreeMap::new();
    read_modules(&minnow_tests::repo().join(src), "", &mut files);
    let graph = import_graph(&files);
    let name = |m: &str| if m.is_empty() { "crate" } else { m }.to_string();
    let listing: String = graph
        .iter()
        .map(|(m, targets)| {
            let targets: Vec<String> = targets.iter().map(|t| name(t)).collect();
            format!("  {} -> {}\n", name(m), targets.join(", "))
        })
        .collect();
    println!("{label}'s module imports:\n{listing}");
    // The reading itself: a few edges it must see.
    for (from, to) in must_see {
        assert!(
            graph[*from].contains(*to),
            "{label}: {from} -> {to} not seen\n{listing}"
        );
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = find_cycle(m, &graph, &mut Vec::new(), &mut done) {
            let cycle: Vec<String> = cycle.into_iter().map(name).collect();
            panic!("{label}: import cycle: {}\n{listing}", cycle.join(" -> "));
        }
    }
}

#[test]
fn minnow_core_modules_import_each_other_without_cycles() {
    check_crate(
        "shared/src",
        "minnow-core",
        &[
            ("student", "wire"),
            ("dot::simd", "dot::portable"),
            ("", "error"),
        ],
    );
}

#[test]
fn trainer_modules_import_each_other_without_cycles() {
    check_crate(
        "trainer/src",
        "the trainer",
        &[
            ("cli::command", "cli::train"),
            ("train::distill", "train::run_loop"),
            ("run", "run::export"),
            ("error", "data"),
        ],
    );
}

/// clap, the command line, lives under `trainer/src/cli/` alone: every stage takes a settings
/// struct, never flags.
#[test]
fn clap_appears_only_under_cli() {
    let mut files = BTreeMap::new();
    read_modules(&minnow_tests::repo().join("trainer/src"), "", &mut files);
    let outside: Vec<&String> = files
        .iter()
        .filter(|(m, text)| {
            !(m.as_str() == "cli" || m.starts_with("cli::")) && code_only(text).contains("clap")
        })
        .map(|(m, _)| m)
        .collect();
    assert!(outside.is_empty(), "clap used outside cli/: {outside:?}");
    assert!(
        code_only(&files["cli::command"]).contains("clap"),
        "the reading sees clap in cli/"
    );
}

/// The reader finds the cycles this crate had: wire.rs and student.rs importing each other.
#[test]
fn a_cycle_is_found() {
    let files: BTreeMap<String, String> = [
        ("", "mod student; mod wire; pub use student::Meta;"),
        ("wire", "use crate::{Meta, student::Normalization};"),
        (
            "student",
            "pub struct Meta; fn f() { crate::wire::Reader::new(); }",
        ),
    ]
    .into_iter()
    .map(|(m, s)| (m.to_string(), s.to_string()))
    .collect();
    let graph = import_graph(&files);
    let cycle = find_cycle("wire", &graph, &mut Vec::new(), &mut BTreeSet::new());
    assert_eq!(cycle, Some(vec!["wire", "student", "wire"]));
}
