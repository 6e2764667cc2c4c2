//! `minnow verify`: run an exported student on Cortex-M cores in QEMU (or print the commands for
//! a real board with probe-rs) and record what the device computed.
//!
//! For QEMU it builds the firmware with the student and golden vectors embedded (the sources
//! this binary carries, or `--firmware-dir`), runs it under `-icount shift=0`, parses the
//! firmware's `key=value` lines (documented in firmware/src/main.rs) and checks every golden
//! vector's int8 logits against the host's. On one board it prints the firmware's lines and,
//! for a run folder, writes the `device` section of its report.json (read-modify-write,
//! atomic), then fails if anything differed. On several boards (`--core all`, `--core m0,m4`)
//! it keeps each board's output in a log folder and fails if any board failed. Either way it
//! ends with one table row per board (matrix.rs), and `--max-runtime` budgets are checked.
//!
//! `--probe <chip>` prints the commands that build and flash the firmware for a real board;
//! they are not run here (no board attached to CI).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{Invalid, Settings, in_range};
use crate::device::boards::{Board, probe_board, probe_chips, qemu_board, qemu_choices};
use crate::device::firmware::{Firmware, Profile};
use crate::device::host_check::check_on_host;
use crate::device::matrix::{
    Blobs, BoardRun, RunSettings, check_budgets, check_exact, check_ran, run_board, table,
};
use crate::device::toolchain;
use crate::error::{Error, Result};
use crate::files::{self, IoError};
use crate::int8::report::{DeviceReport, Report};

/// The device stage's settings, as `minnow verify` flags and the `[device]` table of a `minnow
/// run` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceConfig {
    /// Core to verify on in QEMU: m0, m3, m4, m7, m33 (or a board name); "none" skips the step
    /// in `minnow run`.
    pub core: String,
    /// Seconds QEMU may run before the firmware counts as hung.
    pub timeout: u64,
    /// Instructions per inference the student may take on `core`, as the fit's instruction
    /// model predicts them before training (`minnow run` and `minnow fit`; QEMU measures them
    /// after).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_instructions: Option<u64>,
}

impl Settings for DeviceConfig {
    fn check(&self) -> Result<(), Invalid> {
        in_range("timeout", self.timeout, 1, 24 * 3600)
    }
}

impl Default for DeviceConfig {
    fn default() -> Self {
        DeviceConfig {
            core: "m4".into(),
            timeout: 300,
            max_instructions: None,
        }
    }
}

/// `minnow verify RUN_DIR` on one core, as `minnow run` calls it.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    /// Run folder with student.minnow, golden.mngv and report.json.
    pub run_dir: PathBuf,
    pub device: DeviceConfig,
    /// A real board's chip for probe-rs: print the commands instead of running QEMU.
    pub probe: Option<String>,
    /// The firmware folder of a minnow checkout (default: the sources this binary carries).
    pub firmware_dir: Option<PathBuf>,
    /// Build the firmware's debug profile instead of release.
    pub debug: bool,
    /// Only errors, no firmware output or table (`minnow run --quiet`).
    pub quiet: bool,
}

/// Everything `minnow verify` can run in QEMU.
#[derive(Debug, Clone)]
pub struct Plan {
    pub blobs: Blobs,
    /// The run folder's report.json, whose `device` section a one-board verify writes.
    pub report: Option<PathBuf>,
    pub boards: Vec<Board>,
    /// The firmware folder of a minnow checkout (default: the carried sources).
    pub firmware_dir: Option<PathBuf>,
    pub settings: RunSettings,
    /// Flash budgets for minnow-core's runtime, per board.
    pub max_runtime: Vec<(Board, u64)>,
    /// Where each board's output is kept (default with several boards:
    /// `<firmware target>/matrix`; with one board, only when given).
    pub logs: Option<PathBuf>,
    /// Only errors, no firmware output or table.
    pub quiet: bool,
}

impl Blobs {
    /// `student.minnow` and `golden.mngv` of a run folder.
    pub fn of_run(dir: &Path) -> Result<Blobs> {
        Blobs::files(&dir.join("student.minnow"), &dir.join("golden.mngv"))
    }

    /// Two files, made absolute (the firmware build runs in another folder).
    /// Links are kept, not resolved: an export's files are links into its
    /// hidden generation folder, and messages should name the file the user knows.
    pub fn files(student: &Path, golden: &Path) -> Result<Blobs> {
        Ok(Blobs {
            student: absolute(student)?,
            golden: absolute(golden)?,
        })
    }
}

/// `--core` → the QEMU board, or a usage error that lists the choices.
pub fn core_board(core: &str) -> Result<Board> {
    qemu_board(core)
        .ok_or_else(|| Error::Usage(format!("--core {core}: expected {}", qemu_choices())))
}

/// `minnow verify RUN_DIR [--core C | --probe CHIP]`.
pub fn verify(args: &VerifyConfig) -> Result<()> {
    args.device.check()?;
    // The device section is written into the run's export set: one writer at a time.
    let _lock = files::lock(&args.run_dir)?;
    let blobs = Blobs::of_run(&args.run_dir)?;
    if let Some(chip) = &args.probe {
        return print_probe(chip, &blobs, args.firmware_dir.as_deref());
    }
    let board = core_board(&args.device.core)?;
    verify_plan(&Plan {
        blobs,
        report: Some(args.run_dir.join("report.json")),
        boards: vec![board],
        firmware_dir: args.firmware_dir.clone(),
        settings: RunSettings {
            profile: if args.debug {
                Profile::Debug
            } else {
                Profile::Release
            },
            features: Vec::new(),
            timeout: Duration::from_secs(args.device.timeout),
        },
        max_runtime: Vec::new(),
        logs: None,
        quiet: args.quiet,
    })?;
    Ok(())
}

/// Runs the plan: one board as `minnow verify RUN --core C`, several as a matrix.
pub fn verify_plan(plan: &Plan) -> Result<Vec<BoardRun>> {
    check_on_host(&plan.blobs)?;
    let fw = Firmware::locate(plan.firmware_dir.as_deref())?;
    match plan.boards.as_slice() {
        [] => Err(Error::Usage("--core: no board to verify on".into())),
        [board] => verify_one(plan, &fw, board),
        boards => verify_many(plan, &fw, boards),
    }
}

fn verify_one(plan: &Plan, fw: &Firmware, board: &Board) -> Result<Vec<BoardRun>> {
    let (blobs, timeout) = (&plan.blobs, plan.settings.timeout);
    let say = |line: &str| {
        if !plan.quiet {
            eprintln!("{line}");
        }
    };
    say(&format!(
        "verify: building and running the firmware on {} ({}) from {} ...",
        board.name,
        board.core_label(),
        fw.dir.display()
    ));
    let run = run_board(fw, board, blobs, &plan.settings)?;
    if !plan.quiet {
        print!("{}", run.qemu.stdout);
    }
    if let Some(logs) = &plan.logs {
        run.write_logs(logs)?;
    }
    check_ran(&run, blobs, timeout)?;
    let section = run.device.device_report(board, true);
    if let Some(report_path) = &plan.report {
        if report_path.is_file() {
            let mut report = Report::load(report_path)?;
            report.device = Some(section.clone());
            report.save(report_path.parent().unwrap_or(Path::new(".")))?;
            say(&format!(
                "verify: wrote the device section of {}",
                report_path.display()
            ));
        } else {
            eprintln!(
                "verify: warning: {} does not exist; device section not saved",
                report_path.display()
            );
        }
    }
    say(&format!("verify: {}", summary(&section)));
    let runs = vec![run];
    if !plan.quiet {
        print!(
            "{}",
            table(blobs, &plan.settings, std::slice::from_ref(board), &runs)
        );
    }
    check_budgets(&runs, &plan.max_runtime, blobs)?;
    check_exact(&runs[0], blobs, timeout)?;
    Ok(runs)
}

fn verify_many(plan: &Plan, fw: &Firmware, boards: &[Board]) -> Result<Vec<BoardRun>> {
    let (blobs, timeout) = (&plan.blobs, plan.settings.timeout);
    let logs = plan
        .logs
        .clone()
        .unwrap_or_else(|| fw.target_dir.join("matrix"));
    eprintln!(
        "verify: {} boards, firmware from {}, logs in {}",
        boards.len(),
        fw.dir.display(),
        logs.display()
    );
    let mut runs = Vec::new();
    let mut failed = Vec::new();
    for board in boards {
        eprintln!("verify: {} ({}) ...", board.name, board.core_label());
        let run = match run_board(fw, board, blobs, &plan.settings) {
            Ok(run) => run,
            Err(e) => {
                eprintln!("verify: {}: {e}", board.name);
                failed.push(board.name);
                continue;
            }
        };
        run.write_logs(&logs)?;
        match check_ran(&run, blobs, timeout).and_then(|()| check_exact(&run, blobs, timeout)) {
            Ok(()) => eprintln!(
                "verify: {}",
                summary(&run.device.device_report(board, true))
            ),
            Err(e) => {
                eprintln!("verify: {}: {e}", board.name);
                failed.push(board.name);
            }
        }
        runs.push(run);
    }
    print!("{}", table(blobs, &plan.settings, boards, &runs));
    let budgets = check_budgets(&runs, &plan.max_runtime, blobs);
    if failed.is_empty() {
        budgets?;
        return Ok(runs);
    }
    if let Err(e) = budgets {
        eprintln!("verify: {e}");
    }
    Err(Error::artifact(
        &blobs.student,
        format!(
            "{} of {} boards failed: {} (their output is in {})",
            failed.len(),
            boards.len(),
            failed.join(", "),
            logs.display()
        ),
    ))
}

/// One line on what the device computed.
fn summary(section: &DeviceReport) -> String {
    format!(
        "{}: {} vectors, {} mismatches, accuracy {:.2}%, {} instructions/inference, {} instructions/MAC, flash {} B, RAM {} B",
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
    )
}

/// `minnow verify --probe CHIP`: the commands for a real board, printed.
pub fn print_probe(chip: &str, blobs: &Blobs, firmware_dir: Option<&Path>) -> Result<()> {
    let board = probe_board(chip).ok_or_else(|| {
        Error::Usage(format!(
            "--probe {chip}: no firmware memory map for this chip (known: {}); add \
             firmware/memory/<board>.x and a row to firmware/boards.rs",
            probe_chips().join(", ")
        ))
    })?;
    check_on_host(blobs)?;
    let fw = Firmware::locate(firmware_dir)?;
    let minnow = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("minnow"));
    println!("# minnow verify --probe {chip}: run these with the board attached (not run here):");
    println!(
        "{}",
        probe_commands(&fw, &board, &blobs.student, &blobs.golden, &minnow)
    );
    println!("# the firmware prints the same lines as under QEMU (defmt over RTT), in cycles");
    Ok(())
}

/// The shell commands that build the firmware for a real board and run it with probe-rs.
pub fn probe_commands(
    fw: &Firmware,
    board: &Board,
    student: &Path,
    golden: &Path,
    minnow: &Path,
) -> String {
    format!(
        "eval \"$({minnow} verify --print-toolchain {target})\"\n\
         cd {dir} && MINNOW_BOARD={board} MINNOW_STUDENT={student} MINNOW_GOLDEN={golden} \\\n  \
         \"$CARGO\" build --release --target {target} --features hardware --target-dir {target_dir}{locked}\n\
         probe-rs run --chip {chip} {target_dir}/{target}/release/minnow-firmware",
        minnow = minnow.display(),
        target = board.target,
        dir = fw.dir.display(),
        board = board.name,
        student = student.display(),
        golden = golden.display(),
        target_dir = fw.target_dir.display(),
        locked = if fw.carried { " --locked" } else { "" },
        chip = board.chip().unwrap_or("?"),
    )
}

/// `minnow verify --print-toolchain TARGET`: the environment the firmware is built with, as
/// shell `export` lines (what scripts/thumb-toolchain.sh prints).
pub fn print_toolchain(target: &str) -> Result<()> {
    let tc = toolchain::find(target)?;
    eprintln!("thumb-toolchain: {}", tc.describe());
    print!("{}", tc.exports());
    Ok(())
}

/// `p` made absolute, after checking that it can be read.
fn absolute(p: &Path) -> Result<PathBuf> {
    std::fs::metadata(p).map_err(|e| IoError::new(p, e))?;
    Ok(std::path::absolute(p).map_err(|e| IoError::new(p, e))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_command_uses_hardware_feature() {
        let b = probe_board("STM32F411RETx").expect("known chip");
        let fw = Firmware {
            dir: "/r/firmware".into(),
            target_dir: "/r/firmware/target".into(),
            carried: false,
        };
        let s = probe_commands(
            &fw,
            &b,
            Path::new("/s"),
            Path::new("/g"),
            Path::new("/bin/minnow"),
        );
        assert!(
            s.starts_with("eval \"$(/bin/minnow verify --print-toolchain thumbv7em-none-eabihf)\"")
        );
        assert!(s.contains("--features hardware"));
        assert!(s.contains("MINNOW_BOARD=stm32f411re"));
        assert!(!s.contains("--locked"));
        assert!(s.contains("probe-rs run --chip STM32F411RETx /r/firmware/target/thumbv7em-none-eabihf/release/minnow-firmware"));
    }

    #[test]
    fn unknown_cores_and_chips_are_usage_errors() {
        let err = core_board("m9").expect_err("m9");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("m0, m3, m4, m7, m33"), "{err}");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("student.minnow"), b"x").expect("write");
        std::fs::write(dir.path().join("golden.mngv"), b"x").expect("write");
        let err = verify(&VerifyConfig {
            run_dir: dir.path().to_owned(),
            device: DeviceConfig::default(),
            probe: Some("ESP32".into()),
            firmware_dir: None,
            debug: false,
            quiet: false,
        })
        .expect_err("unknown chip");
        assert!(
            err.to_string()
                .contains("known: STM32F411RETx, nRF52840_xxAA"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_student_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Blobs::of_run(dir.path()).expect_err("empty folder");
        assert!(err.to_string().contains("student.minnow"), "{err}");
    }
}
