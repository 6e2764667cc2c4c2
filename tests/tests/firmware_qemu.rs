//! End to end on an emulated Cortex-M4 (QEMU mps2-an386): the firmware embeds a student and its
//! golden vectors, recomputes every vector and must match the host bit for bit; a corrupted or
//! wrong-version blob must make the run fail with minnow-core's decode error in its output.
//!
//! The firmware is built and run by the code `minnow verify` uses (the sources the binary
//! carries, extracted into the cache; `minnow::device::matrix::run_board`), and its lines are
//! read by the one parser, `DeviceRun::parse`.
//!
//! Needs `qemu-system-arm` and a thumb toolchain (scripts/thumb-toolchain.sh --install); without
//! them the tests print why and pass (MINNOW_REQUIRE_QEMU=1, set by scripts/test.sh, makes that
//! a failure).

#[allow(clippy::unwrap_used)] // models.rs allows its own dead code
#[path = "../../firmware/testgen/src/models.rs"]
mod models;

use std::time::Duration;

use minnow::device::boards::qemu_board;
use minnow::device::firmware::{Firmware, Profile};
use minnow::device::matrix::{Blobs, BoardRun, RunSettings, run_board};
use minnow::device::output::DeviceRun;
use minnow_tests::qemu_available as qemu_available_for;

const BOARD: &str = "mps2-an386";

fn qemu_available() -> bool {
    qemu_available_for("firmware QEMU test")
}

struct Run {
    status: i32,
    stdout: String,
    device: DeviceRun,
    board: BoardRun,
}

/// Builds the firmware with these blobs and runs it in QEMU (release: the profile `minnow verify`
/// builds too, so CI compiles the thumb `core` once per target). Concurrent tests are safe: the
/// build holds the firmware's build lock until it has its own copy of the ELFs.
fn run_firmware(student: &[u8], golden: &[u8]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s, g) = (
        dir.path().join("student.minnow"),
        dir.path().join("golden.mngv"),
    );
    std::fs::write(&s, student).expect("write student");
    std::fs::write(&g, golden).expect("write golden");
    let fw = Firmware::locate(None).expect("the firmware `minnow verify` builds");
    let board = qemu_board(BOARD).expect("board");
    let run = run_board(
        &fw,
        &board,
        &Blobs {
            student: s,
            golden: g,
        },
        &RunSettings {
            profile: Profile::Release,
            features: Vec::new(),
            timeout: Duration::from_secs(120),
        },
    )
    .expect("the firmware builds and QEMU runs");
    eprintln!(
        "{}
{}",
        run.qemu.stdout, run.qemu.stderr
    );
    Run {
        status: run.qemu.status.unwrap_or(-1),
        stdout: run.qemu.stdout.clone(),
        device: run.device.clone(),
        board: run,
    }
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
    let d = &run.device;
    assert!(d.complete && d.pass, "no result line in:\n{}", run.stdout);
    let count = |v: u64| usize::try_from(v).expect("fits");
    assert_eq!(count(d.vectors), expected.vectors);
    assert_eq!(d.mismatches, 0);
    assert_eq!(count(d.correct), expected.correct);
    assert_eq!(count(d.labeled), expected.labeled);
    assert_eq!(count(d.teacher_agree), expected.teacher_agree);
    assert_eq!(count(d.teacher_known), expected.teacher_known);
    assert_eq!(d.core, "Cortex-M4");
    let per_inference = d.per_inference.expect("perf per_inference");
    assert!(
        per_inference > 784 * 16,
        "{per_inference} instructions is too few"
    );
    // The size probe ran the same student and passed; minnow-core's runtime was measured, and
    // it is of the size firmware/README.md reports for an MLP on the M4 (about 4 KB).
    assert!(
        run.board.probe.success(),
        "size probe: {:?}",
        run.board.probe
    );
    let runtime = run.board.runtime.expect("runtime measured");
    assert!((2_000..6_000).contains(&runtime), "runtime {runtime} bytes");
    assert_eq!(d.student_bytes, student.len() as u64);
    assert_eq!((d.input_len, d.classes), (784, 10));
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
    assert!(run.device.complete, "no result line in:\n{}", run.stdout);
    assert!(run.device.mismatches > 0);
    assert!(!run.board.exact());
}
