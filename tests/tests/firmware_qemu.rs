//! End to end on an emulated Cortex-M4 (QEMU mps2-an386): the firmware embeds a student and its
//! golden vectors, recomputes every vector and must match the host bit for bit; a corrupted or
//! wrong-version blob must make the run fail with minnow-core's decode error in its output.
//!
//! Needs `qemu-system-arm` and a thumb toolchain (scripts/thumb-toolchain.sh); without them the
//! tests print why and pass (set MINNOW_REQUIRE_QEMU=1 to make that a failure, as CI should).

#[allow(clippy::unwrap_used)] // models.rs allows its own dead code
#[path = "../../firmware/testgen/src/models.rs"]
mod models;

use std::process::Command;
use std::sync::Mutex;

/// The firmware build directory and its ELF copies are shared: one QEMU run at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const BOARD: &str = "mps2-an386";

use minnow_tests::{qemu_available as qemu_available_for, repo};

fn qemu_available() -> bool {
    qemu_available_for("firmware QEMU test")
}

struct Run {
    status: i32,
    stdout: String,
}

/// Builds the firmware with these blobs and runs it in QEMU (release: the profile `minnow verify`
/// and the QEMU matrix build too, so CI compiles the thumb `core` once per target).
fn run_firmware(student: &[u8], golden: &[u8]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s, g) = (
        dir.path().join("student.minnow"),
        dir.path().join("golden.mngv"),
    );
    std::fs::write(&s, student).expect("write student");
    std::fs::write(&g, golden).expect("write golden");
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(repo().join("scripts/firmware.sh"))
        .args([BOARD, "--release"])
        .env("MINNOW_STUDENT", &s)
        .env("MINNOW_GOLDEN", &g)
        .output()
        .expect("scripts/firmware.sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout,
    }
}

/// `key=value` from the line starting with `word`.
fn field(stdout: &str, word: &str, key: &str) -> Option<String> {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(word))?;
    line.split_whitespace().find_map(|kv| {
        kv.strip_prefix(key)
            .and_then(|r| r.strip_prefix('='))
            .map(str::to_owned)
    })
}

fn small_mlp() -> Vec<u8> {
    models::mlp(784, 16, 10, 7)
}

#[test]
fn firmware_matches_host_bit_for_bit() {
    if !qemu_available() {
        return;
    }
    let student = small_mlp();
    let (golden, expected) = models::golden(&student, 6, 7);
    let run = run_firmware(&student, &golden);
    assert_eq!(run.status, 0, "firmware failed:\n{}", run.stdout);
    assert!(run.stdout.contains("verdict=PASS"));
    let get = |key: &str| -> usize {
        field(&run.stdout, "result", key)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no result {key} in:\n{}", run.stdout))
    };
    assert_eq!(get("vectors"), expected.vectors);
    assert_eq!(get("mismatches"), 0);
    assert_eq!(get("correct"), expected.correct);
    assert_eq!(get("labeled"), expected.labeled);
    assert_eq!(get("teacher_agree"), expected.teacher_agree);
    assert_eq!(get("teacher_known"), expected.teacher_known);
    let per_inference: u64 = field(&run.stdout, "perf", "per_inference")
        .and_then(|v| v.parse().ok())
        .expect("perf per_inference");
    assert!(
        per_inference > 784 * 16,
        "{per_inference} instructions is too few"
    );
}

#[test]
fn firmware_reports_corrupted_student_and_fails() {
    if !qemu_available() {
        return;
    }
    let mut student = small_mlp();
    let (golden, _) = models::golden(&student, 2, 7);
    let mid = student.len() / 2;
    student[mid] ^= 0x40; // a weight byte: the body CRC no longer matches
    let run = run_firmware(&student, &golden);
    assert_ne!(
        run.status, 0,
        "a corrupted student must fail:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("error stage=student msg=CRC mismatch"),
        "no decode error in:\n{}",
        run.stdout
    );
    assert!(run.stdout.contains("verdict=FAIL"));
    assert!(!run.stdout.contains("verdict=PASS"));
}

#[test]
fn firmware_reports_wrong_format_version_and_fails() {
    if !qemu_available() {
        return;
    }
    let mut student = small_mlp();
    let (golden, _) = models::golden(&student, 2, 7);
    student[4..6].copy_from_slice(&99_u16.to_le_bytes()); // header version (not under the CRC)
    let run = run_firmware(&student, &golden);
    assert_ne!(run.status, 0);
    assert!(
        run.stdout
            .contains("error stage=student msg=unsupported format version 99"),
        "no version error in:\n{}",
        run.stdout
    );
}

#[test]
fn firmware_reports_a_mismatch_and_fails() {
    if !qemu_available() {
        return;
    }
    // Golden logits of one student, embedded with another: every vector should mismatch.
    let student = small_mlp();
    let other = models::mlp(784, 16, 10, 8);
    let (golden, _) = models::golden(&other, 3, 7);
    let run = run_firmware(&student, &golden);
    assert_ne!(run.status, 0);
    assert!(
        run.stdout.contains("mismatch index=0 expected="),
        "{}",
        run.stdout
    );
    let mismatches: usize = field(&run.stdout, "result", "mismatches")
        .and_then(|v| v.parse().ok())
        .expect("result mismatches");
    assert!(mismatches > 0);
}
