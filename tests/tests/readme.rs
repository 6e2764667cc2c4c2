//! The README's commands run as written: every `minnow ...` line in its `sh` blocks parses with
//! the real command line (subcommands and flags exist, values have the right types), and every
//! `scripts/...` it names exists and is executable. The two fresh-machine commands are run
//! for real by CI (`scripts/test.sh` is the test command; the journeys run `minnow run`).

use std::path::Path;

use clap::Parser;

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    std::fs::read_to_string(&path).expect("README.md")
}

/// Commands in the README's ```sh blocks, split at `&&`, without their shell comments (a word
/// that starts with `#` begins one, as in sh).
fn commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_sh = t == "```sh";
            continue;
        }
        let t = without_comment(t);
        if in_sh && !t.is_empty() {
            out.extend(t.split("&&").map(|c| c.trim().to_owned()));
        }
    }
    out
}

fn without_comment(line: &str) -> &str {
    let comment = line
        .match_indices('#')
        .map(|(i, _)| i)
        .find(|&i| i == 0 || line.as_bytes()[i - 1].is_ascii_whitespace());
    comment.map_or(line, |i| &line[..i]).trim()
}

#[test]
fn shell_comments_are_cut_from_readme_commands() {
    let text =
        "```sh\nminnow fit --out a   # the digits\n# a whole comment\nminnow run --out b#c\n```\n";
    assert_eq!(
        commands(text),
        ["minnow fit --out a", "minnow run --out b#c"]
    );
}

#[test]
fn readme_commands_are_real() {
    let text = readme();
    let cmds = commands(&text);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (mut minnow, mut scripts) = (0, 0);
    for cmd in &cmds {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let args: Option<Vec<&str>> = match words.as_slice() {
            ["minnow", ..] => Some(words.clone()),
            ["cargo", "run", "--release", "-p", "minnow", "--", rest @ ..] => Some(
                std::iter::once("minnow")
                    .chain(rest.iter().copied())
                    .collect(),
            ),
            _ => None,
        };
        if let Some(args) = args {
            if let Err(e) = minnow::cli::Cli::try_parse_from(&args) {
                panic!("README command does not parse: {cmd}\n{e}");
            }
            minnow += 1;
        } else if let Some(script) = words
            .first()
            .filter(|w| w.starts_with("scripts/") || w.starts_with("capi/"))
        {
            let path = root.join(script);
            let meta =
                std::fs::metadata(&path).unwrap_or_else(|e| panic!("README names {script}: {e}"));
            use std::os::unix::fs::PermissionsExt;
            assert!(
                meta.permissions().mode() & 0o111 != 0,
                "{script} is not executable"
            );
            scripts += 1;
        } else {
            assert!(
                matches!(words.as_slice(), ["cargo", "install", ..]),
                "README command of an unknown kind (extend this test): {cmd}"
            );
        }
    }
    assert!(
        minnow >= 8,
        "only {minnow} minnow commands found in README.md"
    );
    assert!(
        scripts >= 2,
        "only {scripts} script commands found in README.md"
    );
    // The two fresh-machine commands come first, and CI runs the second.
    assert_eq!(
        cmds.first().map(String::as_str),
        Some("scripts/thumb-toolchain.sh --install")
    );
    assert!(cmds.iter().any(|c| c == "scripts/test.sh"));
    let ci = std::fs::read_to_string(root.join(".ci/run")).expect(".ci/run");
    assert!(
        ci.contains("scripts/test.sh"),
        ".ci/run must call the README's test command"
    );
}

#[test]
fn readme_links_exist() {
    let text = readme();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for part in text.split("](").skip(1) {
        let target = part.split(')').next().unwrap_or_default();
        if target.starts_with("http") {
            continue;
        }
        assert!(
            root.join(target).exists(),
            "README links to missing {target}"
        );
    }
}
