//! Tests of `minnow emit` and `minnow export --emit` through the command line (beside
//! `emit.rs`, which `command.rs` imports, so that the tests' use of `Cli` is no import cycle).

use clap::Parser;

use std::path::{Path, PathBuf};

use crate::cli::emit::*;
use crate::cli::{Cli, Command};
use crate::deploy::Language;

fn parse(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("minnow").chain(args.iter().copied()))
}

#[test]
fn emit_takes_a_run_folder_or_files() {
    let Ok(Cli {
        command: Command::Emit(a),
        ..
    }) = parse(&["emit", "c", "out", "runs/x"])
    else {
        panic!("emit c out runs/x");
    };
    let req = a.request().expect("request");
    assert_eq!(req.language, Language::C);
    assert_eq!(req.student, Path::new("runs/x/student.minnow"));
    assert_eq!(req.golden, None, "no golden.mngv in runs/x");
    let Ok(Cli {
        command: Command::Emit(a),
        ..
    }) = parse(&[
        "emit",
        "rust",
        "src/student",
        "--student",
        "s.minnow",
        "--golden",
        "g",
    ])
    else {
        panic!("emit rust with files");
    };
    let req = a.request().expect("request");
    assert_eq!(
        (req.language, req.golden),
        (Language::Rust, Some("g".into()))
    );
    for bad in [
        &["emit", "cobol", "out", "runs/x"][..],
        &["emit", "c", "out"],
        &["emit", "c", "out", "runs/x", "--student", "s"],
        &["emit", "c", "out", "--golden", "g"],
    ] {
        assert!(parse(bad).is_err(), "{bad:?} parsed");
    }
}

#[test]
fn export_emit_is_a_language_and_a_folder() {
    let Ok(Cli {
        command: Command::Export(a),
        ..
    }) = parse(&["export", "runs/x", "--emit", "rust", "src/student"])
    else {
        panic!("export --emit");
    };
    assert_eq!(
        parse_emit(&a.emit).expect("emit"),
        Some((Language::Rust, PathBuf::from("src/student")))
    );
    assert_eq!(parse_emit(&[]).expect("none"), None);
    let e = parse_emit(&["cobol".into(), "out".into()]).expect_err("cobol");
    assert!(
        e.to_string().contains("`cobol` is not one of c, rust"),
        "{e}"
    );
    assert!(
        parse(&["export", "runs/x", "--emit", "c"]).is_err(),
        "one value"
    );
}
