//! One student on one or more QEMU boards: build the firmware for each, run it and its size
//! probe, measure minnow-core's flash, and print one table.
//!
//! Columns: `instr/inf` instructions per inference (SysTick ticks x the board's instructions
//! per tick under `-icount shift=0`), `instr/MAC` over all MACs and `dense/MAC` over the dense
//! layers, `firmware_code` the reporting firmware's flash minus the embedded student and golden
//! blobs (text reporting and `core::fmt` included), `runtime` the flash minnow-core adds to an
//! application: the size probe (decode the student, run golden vector 0, compare; no output)
//! minus the same application without minnow-core (`minnow-size-baseline`), minus the student
//! blob and the probe's input and expected logits; `probe` the size probe's own verdict in
//! QEMU (it must pass, so the runtime measured is one that works); `ram_bytes` .data + .bss +
//! the measured stack peak.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::device::boards::Board;
use crate::device::elf::flash_bytes;
use crate::device::firmware::{BuildSpec, Firmware, Profile, tail};
use crate::device::output::DeviceRun;
use crate::device::qemu::{self, QemuRun};
use crate::error::{Error, Result};
use crate::files::IoError;

/// A student and its golden vectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blobs {
    pub student: PathBuf,
    pub golden: PathBuf,
}

/// How each board is built and run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSettings {
    pub profile: Profile,
    /// Cargo features besides `qemu`.
    pub features: Vec<String>,
    /// How long QEMU may run before the firmware counts as hung.
    pub timeout: Duration,
}

/// One board's run.
#[derive(Debug, Clone)]
pub struct BoardRun {
    pub board: Board,
    pub qemu: QemuRun,
    /// What the firmware printed, parsed.
    pub device: DeviceRun,
    /// The size probe's run in QEMU.
    pub probe: QemuRun,
    /// Bytes of flash minnow-core adds to an application (`None` when the firmware did not say
    /// how big the student is).
    pub runtime: Option<u64>,
    /// cargo's messages.
    pub build_log: String,
}

impl BoardRun {
    /// The firmware's result line said `verdict=PASS`, QEMU exited with 0 and nothing
    /// mismatched.
    pub fn exact(&self) -> bool {
        self.device.pass && self.qemu.success() && self.device.mismatches == 0
    }

    /// Writes `<board>.log` (the firmware's lines), `.stderr` (cargo and QEMU) and
    /// `.probe.log` into `dir`.
    pub fn write_logs(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| IoError::new(dir, e))?;
        let name = self.board.name;
        let write = |file: String, text: &str| -> Result<()> {
            let path = dir.join(file);
            std::fs::write(&path, text).map_err(|e| IoError::new(&path, e))?;
            Ok(())
        };
        write(format!("{name}.log"), &self.qemu.stdout)?;
        write(
            format!("{name}.stderr"),
            &format!(
                "{}\n{}\n{}",
                self.build_log, self.qemu.command, self.qemu.stderr
            ),
        )?;
        write(
            format!("{name}.probe.log"),
            &format!(
                "{}\n{}{}",
                self.probe.command, self.probe.stdout, self.probe.stderr
            ),
        )
    }
}

/// Builds the firmware for `board`, runs it and its size probe, and measures the runtime.
pub fn run_board(
    fw: &Firmware,
    board: &Board,
    blobs: &Blobs,
    settings: &RunSettings,
) -> Result<BoardRun> {
    let built = fw.build(&BuildSpec {
        board,
        profile: settings.profile,
        features: &settings.features,
        student: &blobs.student,
        golden: &blobs.golden,
    })?;
    let run = qemu::run(board, &built.firmware, settings.timeout)?;
    let device = DeviceRun::parse(&run.stdout);
    let probe = qemu::run(board, &built.size_probe, settings.timeout)?;
    // The probe embeds the student blob and golden vector 0's input and expected logits.
    let data = device.student_bytes + device.input_len + device.classes;
    let runtime = if device.student_bytes == 0 {
        None
    } else {
        (flash_bytes(&built.size_probe)?)
            .checked_sub(flash_bytes(&built.size_baseline)?)
            .and_then(|d| d.checked_sub(data))
    };
    Ok(BoardRun {
        board: *board,
        qemu: run,
        device,
        probe,
        runtime,
        build_log: built.log,
    })
}

/// Whether the firmware ran to its result: not rejected, not crashed, not hung.
pub fn check_ran(run: &BoardRun, blobs: &Blobs, timeout: Duration) -> Result<()> {
    if let Some(err) = run.device.errors.first() {
        // The firmware says which file it could not use: `error stage=golden ...` is the golden
        // vectors', anything else the student's.
        let (file, what) = if err.split_whitespace().any(|kv| kv == "stage=golden") {
            (&blobs.golden, "golden vectors")
        } else {
            (&blobs.student, "model")
        };
        return Err(Error::artifact(
            file,
            format!("the device rejected the {what}: {err}"),
        ));
    }
    if !run.device.complete {
        return Err(Error::artifact(
            &blobs.student,
            format!(
                "the firmware did not complete on {} ({}):\n{}",
                run.board.name,
                run.qemu.describe(timeout),
                tail(&run.qemu.stderr, 15)
            ),
        ));
    }
    Ok(())
}

/// Whether every golden vector matched and the size probe passed.
pub fn check_exact(run: &BoardRun, blobs: &Blobs, timeout: Duration) -> Result<()> {
    if run.device.vectors == 0 {
        return Err(Error::artifact(
            &blobs.golden,
            "holds no golden vectors: nothing was checked on the device (export with --golden 1 \
             or more)",
        ));
    }
    if !run.exact() {
        return Err(Error::artifact(
            &blobs.student,
            format!(
                "{} of {} golden vectors differ on {} (qemu {}, {}; bit-exactness broken){}",
                run.device.mismatches,
                run.device.vectors,
                run.board.core_label(),
                run.board.name,
                run.qemu.describe(timeout),
                run.device
                    .mismatch_lines
                    .first()
                    .map_or(String::new(), |l| format!(": {l}"))
            ),
        ));
    }
    if !run.probe.success() {
        return Err(Error::artifact(
            &blobs.student,
            format!(
                "the size probe failed on {} ({}): it computes golden vector 0 as the firmware \
                 does{}",
                run.board.name,
                run.probe.describe(timeout),
                match tail(&run.probe.stderr, 5) {
                    t if t.is_empty() => String::new(),
                    t => format!(":\n{t}"),
                }
            ),
        ));
    }
    Ok(())
}

/// Each board's flash budget for minnow-core's runtime: an error for every board over it (or
/// without a measurement); a line on stderr for every board within it.
pub fn check_budgets(runs: &[BoardRun], budgets: &[(Board, u64)], blobs: &Blobs) -> Result<()> {
    let mut over = Vec::new();
    for (board, budget) in budgets {
        let runtime = runs
            .iter()
            .find(|r| r.board == *board)
            .and_then(|r| r.runtime);
        match runtime {
            Some(bytes) if bytes <= *budget => eprintln!(
                "verify: {}: minnow-core runtime {bytes} bytes (budget {budget})",
                board.name
            ),
            Some(bytes) => over.push(format!(
                "{}: minnow-core runtime {bytes} bytes is over the budget of {budget}",
                board.name
            )),
            None => over.push(format!(
                "{}: minnow-core runtime not measured (budget {budget})",
                board.name
            )),
        }
    }
    if over.is_empty() {
        Ok(())
    } else {
        Err(Error::artifact(&blobs.student, over.join("; ")))
    }
}

/// A number in thousandths as `1.234`, `-` when absent.
fn milli(v: Option<u64>) -> String {
    v.map_or("-".into(), |v| format!("{}.{:03}", v / 1000, v % 1000))
}

fn opt(v: Option<u64>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

/// The table: a header naming the inputs, then one row per board (boards that did not get as
/// far as running show `-`).
pub fn table(blobs: &Blobs, settings: &RunSettings, boards: &[Board], runs: &[BoardRun]) -> String {
    let mut out = format!(
        "student={} golden={} profile={}{}\n",
        blobs.student.display(),
        blobs.golden.display(),
        settings.profile.name(),
        if settings.features.is_empty() {
            String::new()
        } else {
            format!(" features={}", settings.features.join(","))
        }
    );
    let cols = [
        "board",
        "core",
        "vectors",
        "mismatches",
        "instr/inf",
        "instr/MAC",
        "dense/MAC",
        "firmware_code",
        "runtime",
        "ram_bytes",
        "result",
        "probe",
    ];
    let row = |c: [String; 12]| {
        format!(
            "{:<11} {:<4} {:>7} {:>10} {:>11} {:>9} {:>11} {:>13} {:>8} {:>9} {:<6} {:<5}",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11]
        )
        .trim_end()
        .to_owned()
    };
    let _ = writeln!(out, "{}", row(cols.map(str::to_owned)));
    for board in boards {
        let cells = match runs.iter().find(|r| r.board == *board) {
            Some(r) => {
                let d = &r.device;
                let known = |v: u64| {
                    if d.complete {
                        v.to_string()
                    } else {
                        "-".into()
                    }
                };
                [
                    board.name.to_owned(),
                    board.core.to_ascii_uppercase(),
                    known(d.vectors),
                    known(d.mismatches),
                    opt(d.per_inference),
                    milli(d.per_mac_x1000),
                    milli(d.dense_per_mac_x1000),
                    opt((d.runtime_flash > 0).then_some(d.runtime_flash)),
                    opt(r.runtime),
                    opt((d.ram_bytes > 0).then_some(d.ram_bytes)),
                    d.verdict.clone().unwrap_or_else(|| match r.qemu.status {
                        Some(code) => format!("rc={code}"),
                        None => "hung".into(),
                    }),
                    if r.probe.success() { "PASS" } else { "FAIL" }.into(),
                ]
            }
            None => {
                let mut c = [(); 12].map(|_| "-".to_owned());
                c[0] = board.name.to_owned();
                c[1] = board.core.to_ascii_uppercase();
                c[10] = "error".into();
                c
            }
        };
        let _ = writeln!(out, "{}", row(cells));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::boards::qemu_board;

    fn run(board: &str, stdout: &str, probe_ok: bool) -> BoardRun {
        let qemu = |ok: bool, stdout: &str| QemuRun {
            status: Some(if ok { 0 } else { 1 }),
            timed_out: false,
            stdout: stdout.into(),
            stderr: String::new(),
            command: String::new(),
        };
        let device = DeviceRun::parse(stdout);
        BoardRun {
            board: qemu_board(board).expect("board"),
            qemu: qemu(device.pass, stdout),
            device,
            probe: qemu(probe_ok, ""),
            runtime: Some(3935),
            build_log: String::new(),
        }
    }

    const PASS: &str = "\
model student_bytes=51863 golden_bytes=6393 layers=2 macs=50816 weight_bytes=51778 scratch=74 input_len=784 classes=10 vectors=8
result vectors=8 mismatches=0 correct=8 labeled=8 teacher_agree=7 teacher_known=7
perf unit=instructions source=systick per_tick_x1000=40000 per_inference=100925 macs=50816 per_mac_x1000=1986 dense_macs=50816 dense_units=100920 dense_per_mac_x1000=1985
mem flash_used=74577 student_bytes=51863 golden_bytes=6393 runtime_flash=16328 text=15000 rodata=59000 data=0 bss=92 scratch=74 static_ram=92 stack_peak=888 ram_bytes=980
verdict=PASS
";

    fn blobs() -> Blobs {
        Blobs {
            student: "/r/student.minnow".into(),
            golden: "/r/golden.mngv".into(),
        }
    }

    #[test]
    fn a_table_row_per_board() {
        let settings = RunSettings {
            profile: Profile::Release,
            features: vec!["portable-dot".into()],
            timeout: Duration::from_secs(60),
        };
        let m4 = qemu_board("m4").expect("m4");
        let m0 = qemu_board("m0").expect("m0");
        let t = table(&blobs(), &settings, &[m4, m0], &[run("m4", PASS, true)]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "student=/r/student.minnow golden=/r/golden.mngv profile=release features=portable-dot"
        );
        assert!(lines[1].starts_with("board       core vectors mismatches   instr/inf"));
        let cells: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(
            cells,
            [
                "mps2-an386",
                "M4",
                "8",
                "0",
                "100925",
                "1.986",
                "1.985",
                "16328",
                "3935",
                "980",
                "PASS",
                "PASS"
            ]
        );
        let cells: Vec<&str> = lines[3].split_whitespace().collect();
        assert_eq!(cells[..2], ["microbit", "M0"]);
        assert_eq!(cells[10], "error");
    }

    #[test]
    fn checks_fail_on_mismatches_probe_failures_and_budgets() {
        let t = Duration::from_secs(60);
        let good = run("m4", PASS, true);
        check_ran(&good, &blobs(), t).expect("ran");
        check_exact(&good, &blobs(), t).expect("exact");
        let m4 = good.board;
        check_budgets(std::slice::from_ref(&good), &[(m4, 4096)], &blobs()).expect("in budget");
        let over = check_budgets(std::slice::from_ref(&good), &[(m4, 3000)], &blobs())
            .expect_err("over budget");
        assert!(
            over.to_string()
                .contains("3935 bytes is over the budget of 3000")
        );
        let m0 = qemu_board("m0").expect("m0");
        assert!(check_budgets(std::slice::from_ref(&good), &[(m0, 9999)], &blobs()).is_err());

        let probe_failed = run("m4", PASS, false);
        let err = check_exact(&probe_failed, &blobs(), t).expect_err("probe");
        assert!(err.to_string().contains("size probe failed"), "{err}");

        let mismatch = PASS.replace("mismatches=0", "mismatches=1").replace(
            "verdict=PASS",
            "mismatch index=2 expected=1 got=2\nverdict=FAIL",
        );
        let bad = run("m4", &mismatch, true);
        let err = check_exact(&bad, &blobs(), t).expect_err("mismatch");
        assert!(
            err.to_string().contains("1 of 8 golden vectors differ"),
            "{err}"
        );
        assert!(err.to_string().contains("mismatch index=2"), "{err}");

        let rejected = run(
            "m4",
            "error stage=student msg=CRC mismatch\nverdict=FAIL\n",
            true,
        );
        let err = check_ran(&rejected, &blobs(), t).expect_err("rejected");
        assert!(err.to_string().contains("the device rejected the model"));
        let crashed = run("m4", "minnow-firmware 0.1.0\n", true);
        let err = check_ran(&crashed, &blobs(), t).expect_err("incomplete");
        assert!(
            err.to_string().contains("did not complete on mps2-an386"),
            "{err}"
        );
    }
}
