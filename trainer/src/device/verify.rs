//! `minnow verify`: run the exported student on a Cortex-M (QEMU, or a real board via probe-rs)
//! and record what the device computed in `report.json`'s `device` section.
//!
//! The run folder holds `student.minnow`, `golden.mngv` and `report.json` (written by
//! `minnow export`). For QEMU, verify builds the firmware with `scripts/firmware.sh <board>
//! --release` (which embeds both blobs), runs it under `-icount shift=0`, parses the firmware's
//! `key=value` lines (documented in firmware/src/main.rs) and writes the device section with a
//! read-modify-write of report.json (atomic: temporary file + rename). It fails (exit status 1)
//! when any golden vector's int8 logits differ from the host's, after recording the result.
//!
//! `--probe <chip>` prints the probe-rs command for a real board instead; it is not run here
//! (no board attached to CI).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::device::boards::{Board, probe_board, probe_chips, qemu_board, qemu_choices};
use crate::device::output::DeviceRun;
use crate::error::{Error, Result};
use crate::files::IoError;
use crate::int8::report::Report;

/// The device stage's settings, as `minnow verify` flags and the `[device]` table of a `minnow
/// run` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceConfig {
    /// Core to verify on in QEMU: m0, m3, m4, m7, m33 (or a board name); "none" skips the step
    /// in `minnow run`.
    pub core: String,
    /// Seconds QEMU may run before the firmware counts as hung.
    pub timeout: u64,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        DeviceConfig {
            core: "m4".into(),
            timeout: 300,
        }
    }
}

/// What `minnow verify` runs.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    /// Run folder with student.minnow, golden.mngv and report.json.
    pub run_dir: PathBuf,
    pub device: DeviceConfig,
    /// A real board's chip for probe-rs: print the commands instead of running QEMU.
    pub probe: Option<String>,
    /// The firmware directory of a minnow checkout (default: the one this binary was built
    /// from).
    pub firmware_dir: Option<PathBuf>,
    /// Build the firmware's debug profile instead of release.
    pub debug: bool,
}

/// Where the firmware lives: `--firmware-dir`, else this checkout's (compile time).
fn firmware_dir(args: &VerifyConfig) -> PathBuf {
    args.firmware_dir.clone().unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or(Path::new("."))
            .join("firmware")
    })
}

/// The shell commands that build the firmware for a real board and run it with probe-rs.
pub fn probe_commands(
    fw: &Path,
    board: &Board,
    chip: &str,
    student: &Path,
    golden: &Path,
) -> String {
    format!(
        "eval \"$({scripts}/thumb-toolchain.sh {target})\"\n\
         cd {fw} && MINNOW_BOARD={board} MINNOW_STUDENT={student} MINNOW_GOLDEN={golden} \\\n  \
         \"$CARGO\" build --release --target {target} --features hardware\n\
         probe-rs run --chip {chip} {fw}/target/{target}/release/minnow-firmware",
        scripts = fw
            .parent()
            .unwrap_or(Path::new("."))
            .join("scripts")
            .display(),
        target = board.target,
        fw = fw.display(),
        board = board.name,
        student = student.display(),
        golden = golden.display(),
    )
}

/// `minnow verify`.
pub fn verify(args: &VerifyConfig) -> Result<()> {
    let dir = &args.run_dir;
    let student = canonical(&dir.join("student.minnow"))?;
    let golden = canonical(&dir.join("golden.mngv"))?;
    let report_path = dir.join("report.json");
    let fw = firmware_dir(args);

    if let Some(chip) = &args.probe {
        let board = probe_board(chip).ok_or_else(|| {
            Error::Usage(format!(
                "--probe {chip}: no firmware memory map for this chip (known: {}); add \
                 firmware/memory/<board>.x and a row to firmware/boards.rs",
                probe_chips().join(", ")
            ))
        })?;
        println!(
            "# minnow verify --probe {chip}: run these with the board attached (not run here):"
        );
        println!("{}", probe_commands(&fw, &board, chip, &student, &golden));
        println!("# the firmware prints the same lines as under QEMU (defmt over RTT), in cycles");
        return Ok(());
    }

    let board = qemu_board(&args.device.core).ok_or_else(|| {
        Error::Usage(format!(
            "--core {}: expected {}",
            args.device.core,
            qemu_choices()
        ))
    })?;
    let script = fw
        .parent()
        .unwrap_or(Path::new("."))
        .join("scripts")
        .join("firmware.sh");
    if !script.is_file() {
        return Err(Error::Config(format!(
            "{} not found: pass --firmware-dir <minnow checkout>/firmware",
            script.display()
        )));
    }
    let mut cmd = Command::new(&script);
    cmd.arg(board.name)
        .args(["--timeout", &args.device.timeout.to_string()]);
    if !args.debug {
        cmd.arg("--release");
    }
    cmd.env("MINNOW_STUDENT", &student)
        .env("MINNOW_GOLDEN", &golden);
    eprintln!(
        "verify: building and running the firmware on {} ({}) ...",
        board.name,
        board.core_label()
    );
    let out = cmd.output().map_err(|e| IoError::new(&script, e))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let device = DeviceRun::parse(&stdout);
    print!("{stdout}");

    if let Some(err) = device.errors.first() {
        return Err(Error::artifact(
            &student,
            format!("the device rejected the model: {err}"),
        ));
    }
    if !device.complete {
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(Error::Artifact {
            path: script,
            problem: format!(
                "the firmware did not complete (exit status {:?}):\n{}",
                out.status.code(),
                tail.join("\n")
            ),
        });
    }

    let section = device.device_report(&board, true);
    if report_path.is_file() {
        let mut report = Report::load(&report_path)?;
        report.device = Some(section.clone());
        report.save(&report_path)?;
        eprintln!(
            "verify: wrote the device section of {}",
            report_path.display()
        );
    } else {
        eprintln!(
            "verify: warning: {} does not exist; device section not saved",
            report_path.display()
        );
    }
    eprintln!(
        "verify: {}: {} vectors, {} mismatches, accuracy {:.2}%, {} instructions/inference, {} instructions/MAC, flash {} B, RAM {} B",
        section.core,
        section.vectors,
        section.mismatches,
        100.0 * section.accuracy,
        section
            .instructions_per_inference
            .map_or("?".into(), |v| v.to_string()),
        section
            .instructions_per_mac
            .map_or("?".into(), |v| format!("{v:.3}")),
        section.flash_bytes,
        section.ram_bytes
    );
    if section.mismatches > 0 || !device.pass || !out.status.success() {
        return Err(Error::artifact(
            &student,
            format!(
                "{} of {} golden vectors differ on {} (bit-exactness broken){}",
                section.mismatches,
                section.vectors,
                section.core,
                device
                    .mismatch_lines
                    .first()
                    .map_or(String::new(), |l| format!(": {l}"))
            ),
        ));
    }
    Ok(())
}

fn canonical(p: &Path) -> Result<PathBuf> {
    Ok(std::fs::canonicalize(p).map_err(|e| IoError::new(p, e))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::boards::probe_board;

    #[test]
    fn probe_command_uses_hardware_feature() {
        let b = probe_board("STM32F411RETx").expect("known chip");
        let s = probe_commands(
            Path::new("/r/firmware"),
            &b,
            "STM32F411RETx",
            Path::new("/s"),
            Path::new("/g"),
        );
        assert!(s.contains("--features hardware"));
        assert!(s.contains("MINNOW_BOARD=stm32f411re"));
        assert!(s.contains("probe-rs run --chip STM32F411RETx /r/firmware/target/thumbv7em-none-eabihf/release/minnow-firmware"));
    }
}
