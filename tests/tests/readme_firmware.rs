//! The README's "Use the student in your firmware" code is the code CI builds and runs: its
//! ```rust block is firmware/examples/classify/classifier.rs and its ```c block is
//! capi/example/classify.c, byte for byte. scripts/test.sh builds both for the Cortex-M0 and M4
//! and runs them on every golden vector in QEMU (firmware/examples/run.sh, capi/example/run.sh),
//! so the section runs as written.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The contents of the fenced blocks of language `lang` in the README's section `heading`.
fn blocks(text: &str, heading: &str, lang: &str) -> Vec<String> {
    let section = format!("\n{text}");
    let section = section
        .split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("README.md has no section \"## {heading}\""));
    let (mut out, mut current): (Vec<String>, Option<String>) = (Vec::new(), None);
    for line in section.lines() {
        match (&mut current, line.trim_end()) {
            (None, l) if l == format!("```{lang}") => current = Some(String::new()),
            (Some(_), "```") => out.extend(current.take()),
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

#[test]
fn the_readme_shows_the_code_ci_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let heading = "Use the student in your firmware";
    for (lang, file) in [
        ("rust", "firmware/examples/classify/classifier.rs"),
        ("c", "capi/example/classify.c"),
    ] {
        let code = std::fs::read_to_string(root().join(file)).expect(file);
        let shown = blocks(&readme, heading, lang);
        assert_eq!(shown.len(), 1, "one ```{lang} block in \"{heading}\"");
        assert!(
            shown[0] == code,
            "README.md's ```{lang} block under \"{heading}\" differs from {file}, which CI \
             builds and runs: copy one to the other"
        );
        // the whole API in under 30 lines
        assert!(
            code.lines().count() < 30,
            "{file}: {} lines",
            code.lines().count()
        );
    }
}

#[test]
fn a_changed_snippet_is_caught() {
    let text = "## Use it\n\n```c\nint x;\n```\n\n## Other\n\n```c\nint y;\n```\n";
    assert_eq!(blocks(text, "Use it", "c"), ["int x;\n"]);
    assert_ne!(blocks(text, "Use it", "c"), ["int x = 1;\n"]);
    assert!(blocks(text, "Use it", "rust").is_empty());
}
