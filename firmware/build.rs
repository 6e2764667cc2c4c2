//! Build script for the minnow firmware.
//!
//! * `MINNOW_BOARD` (required) picks `memory/<board>.x`, copied to `$OUT_DIR/memory.x`, where
//!   cortex-m-rt's `link.x` finds it. The board must match the cargo `--target`.
//! * With feature `model`: `MINNOW_STUDENT` and `MINNOW_GOLDEN` name the files to embed with
//!   `include_bytes!` (falling back to `model/student.bin` and `model/golden.bin`). The resolved
//!   absolute paths reach the crate as the compile-time env vars `MINNOW_STUDENT_PATH` and
//!   `MINNOW_GOLDEN_PATH`.
//! * With feature `hardware`: links defmt's `defmt.x` as well.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// (board, rust target, core) — the boards we know how to link for.
const BOARDS: &[(&str, &str, &str)] = &[
    ("microbit", "thumbv6m-none-eabi", "Cortex-M0"),
    ("mps2-an385", "thumbv7m-none-eabi", "Cortex-M3"),
    ("mps2-an386", "thumbv7em-none-eabihf", "Cortex-M4F"),
    ("mps2-an500", "thumbv7em-none-eabihf", "Cortex-M7"),
    ("mps2-an505", "thumbv8m.main-none-eabihf", "Cortex-M33"),
];

fn fail(msg: &str) -> ! {
    // cargo shows a failed build script's stderr; no panic, so no backtrace noise.
    eprintln!("\nerror: minnow-firmware build: {msg}\n");
    std::process::exit(1);
}

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let target = env::var("TARGET").expect("TARGET");

    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=MINNOW_BOARD");
    println!("cargo::rerun-if-env-changed=MINNOW_STUDENT");
    println!("cargo::rerun-if-env-changed=MINNOW_GOLDEN");
    println!(
        "cargo::rustc-check-cfg=cfg(minnow_board, values(\"microbit\", \"mps2-an385\", \"mps2-an386\", \"mps2-an500\", \"mps2-an505\"))"
    );

    let names: Vec<&str> = BOARDS.iter().map(|b| b.0).collect();
    let board = match env::var("MINNOW_BOARD") {
        Ok(b) => b,
        Err(_) => fail(&format!(
            "set MINNOW_BOARD to one of {names:?} (or use scripts/firmware.sh <board>)"
        )),
    };
    let Some(&(_, board_target, core)) = BOARDS.iter().find(|b| b.0 == board) else {
        fail(&format!(
            "unknown MINNOW_BOARD={board:?}; known boards: {names:?}"
        ));
    };
    if target != board_target {
        fail(&format!(
            "MINNOW_BOARD={board} needs --target {board_target}, but this build is for {target}"
        ));
    }

    // memory.x for cortex-m-rt's link.x
    let memory = manifest_dir.join("memory").join(format!("{board}.x"));
    println!("cargo::rerun-if-changed={}", memory.display());
    if let Err(e) = fs::copy(&memory, out_dir.join("memory.x")) {
        fail(&format!("cannot copy {}: {e}", memory.display()));
    }
    println!("cargo::rustc-link-search={}", out_dir.display());
    println!("cargo::rustc-cfg=minnow_board=\"{board}\"");
    println!("cargo::rustc-env=MINNOW_BOARD={board}");
    println!("cargo::rustc-env=MINNOW_CORE={core}");

    if env::var_os("CARGO_FEATURE_HARDWARE").is_some() {
        println!("cargo::rustc-link-arg=-Tdefmt.x");
    }

    if env::var_os("CARGO_FEATURE_MODEL").is_some() {
        let student = model_file(&manifest_dir, "MINNOW_STUDENT", "student.bin");
        let golden = model_file(&manifest_dir, "MINNOW_GOLDEN", "golden.bin");
        println!("cargo::rustc-env=MINNOW_STUDENT_PATH={}", student.display());
        println!("cargo::rustc-env=MINNOW_GOLDEN_PATH={}", golden.display());
    }
}

/// The file named by env var `var`, else `model/<fallback>`; absent → a build error that says how
/// to provide it.
fn model_file(manifest_dir: &Path, var: &str, fallback: &str) -> PathBuf {
    let default = manifest_dir.join("model").join(fallback);
    let path = match env::var_os(var) {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            // Relative paths are taken from the firmware directory (cargo runs build.rs there).
            if p.is_relative() {
                manifest_dir.join(p)
            } else {
                p
            }
        }
        _ => default.clone(),
    };
    if !path.is_file() {
        fail(&format!(
            "feature `model` needs {var}: {} does not exist.\n\
             Set {var}=/path/to/file (relative paths are from firmware/) or put the file at {}.",
            path.display(),
            default.display()
        ));
    }
    println!("cargo::rerun-if-changed={}", path.display());
    path.canonicalize().unwrap_or(path)
}
