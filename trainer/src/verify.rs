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

use crate::error::{Error, Result};
use crate::report::{DeviceReport, Report};

/// Arguments of `minnow verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// Run folder with student.minnow, golden.mngv and report.json.
    pub run_dir: PathBuf,
    /// Core (m0, m3, m4, m7, m33) or QEMU board (microbit, mps2-an385, mps2-an386, mps2-an500,
    /// mps2-an505) to run on.
    #[arg(long, default_value = "m4")]
    pub core: String,
    /// A real board's chip for probe-rs (e.g. STM32F411RETx, nRF52840_xxAA): print the commands
    /// that build and flash the firmware instead of running QEMU.
    #[arg(long, value_name = "CHIP")]
    pub probe: Option<String>,
    /// The firmware directory of a minnow checkout (default: the one this binary was built from).
    #[arg(long, value_name = "DIR")]
    pub firmware_dir: Option<PathBuf>,
    /// Build the firmware's debug profile instead of release.
    #[arg(long)]
    pub debug: bool,
    /// Seconds QEMU may run before the firmware counts as hung.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
}

/// A QEMU board and the core it emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Board {
    pub name: &'static str,
    pub core: &'static str,
    pub target: &'static str,
}

/// The QEMU boards scripts/firmware.sh knows, with the short core names `--core` accepts.
pub const QEMU_BOARDS: &[(&str, Board)] = &[
    (
        "m0",
        Board {
            name: "microbit",
            core: "cortex-m0",
            target: "thumbv6m-none-eabi",
        },
    ),
    (
        "m3",
        Board {
            name: "mps2-an385",
            core: "cortex-m3",
            target: "thumbv7m-none-eabi",
        },
    ),
    (
        "m4",
        Board {
            name: "mps2-an386",
            core: "cortex-m4f",
            target: "thumbv7em-none-eabihf",
        },
    ),
    (
        "m7",
        Board {
            name: "mps2-an500",
            core: "cortex-m7",
            target: "thumbv7em-none-eabihf",
        },
    ),
    (
        "m33",
        Board {
            name: "mps2-an505",
            core: "cortex-m33",
            target: "thumbv8m.main-none-eabihf",
        },
    ),
];

/// Real boards the firmware has a memory map for (firmware/memory/<board>.x), by probe-rs chip.
pub const PROBE_BOARDS: &[(&str, Board)] = &[
    (
        "STM32F411RETx",
        Board {
            name: "stm32f411re",
            core: "cortex-m4f",
            target: "thumbv7em-none-eabihf",
        },
    ),
    (
        "nRF52840_xxAA",
        Board {
            name: "nrf52840",
            core: "cortex-m4f",
            target: "thumbv7em-none-eabihf",
        },
    ),
];

/// `m4`, `M4`, `cortex-m4` or `mps2-an386` → the board.
pub fn qemu_board(core: &str) -> Option<Board> {
    let c = core.to_ascii_lowercase();
    let c = c.strip_prefix("cortex-").unwrap_or(&c);
    QEMU_BOARDS
        .iter()
        .find(|(short, b)| *short == c || b.name == c || b.core == c)
        .map(|(_, b)| *b)
}

/// The board whose memory map fits probe-rs chip `chip` (case-insensitive).
pub fn probe_board(chip: &str) -> Option<Board> {
    PROBE_BOARDS
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(chip))
        .map(|(_, b)| *b)
}

/// What the firmware printed, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceRun {
    /// From the `cpuid` line, e.g. `Cortex-M4`.
    pub core: String,
    pub vectors: u64,
    pub mismatches: u64,
    pub correct: u64,
    pub labeled: u64,
    pub teacher_agree: u64,
    pub teacher_known: u64,
    /// `instructions` (QEMU) or `cycles` (hardware).
    pub unit: String,
    pub per_inference: Option<u64>,
    pub per_mac_x1000: Option<u64>,
    pub dense_per_mac_x1000: Option<u64>,
    pub flash_used: u64,
    pub golden_bytes: u64,
    pub runtime_flash: u64,
    pub ram_bytes: u64,
    /// `error stage=.. msg=..` lines.
    pub errors: Vec<String>,
    /// `mismatch index=..` lines (the first few).
    pub mismatch_lines: Vec<String>,
    /// `verdict=PASS` seen.
    pub pass: bool,
    /// A `result` line was seen.
    pub complete: bool,
}

impl DeviceRun {
    /// Parses the firmware's stdout (lines of `word key=value ...`).
    pub fn parse(stdout: &str) -> DeviceRun {
        let mut run = DeviceRun::default();
        for line in stdout.lines() {
            let line = line.trim();
            let mut words = line.split_whitespace();
            let Some(word) = words.next() else { continue };
            let get = |key: &str| -> Option<&str> {
                line.split_whitespace()
                    .skip(1)
                    .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            };
            let num = |key: &str| get(key).and_then(|v| v.parse::<u64>().ok());
            match word {
                w if w.starts_with("cpuid=") => {
                    run.core = get("core").unwrap_or("unknown").to_owned();
                }
                "result" => {
                    run.complete = true;
                    run.vectors = num("vectors").unwrap_or(0);
                    run.mismatches = num("mismatches").unwrap_or(0);
                    run.correct = num("correct").unwrap_or(0);
                    run.labeled = num("labeled").unwrap_or(0);
                    run.teacher_agree = num("teacher_agree").unwrap_or(0);
                    run.teacher_known = num("teacher_known").unwrap_or(0);
                }
                "perf" => {
                    run.unit = get("unit").unwrap_or("").to_owned();
                    run.per_inference = num("per_inference");
                    run.per_mac_x1000 = num("per_mac_x1000");
                    run.dense_per_mac_x1000 = num("dense_per_mac_x1000");
                }
                "mem" => {
                    run.flash_used = num("flash_used").unwrap_or(0);
                    run.golden_bytes = num("golden_bytes").unwrap_or(0);
                    run.runtime_flash = num("runtime_flash").unwrap_or(0);
                    run.ram_bytes = num("ram_bytes").unwrap_or(0);
                }
                "error" => run.errors.push(line.to_owned()),
                "mismatch" => run.mismatch_lines.push(line.to_owned()),
                _ if line.starts_with("verdict=PASS") => run.pass = true,
                _ => {}
            }
        }
        run
    }

    /// The device section of report.json. `flash_bytes` is what the firmware occupies without
    /// the golden vectors (runtime code + the student blob), `ram_bytes` its .data + .bss +
    /// measured stack peak.
    pub fn device_report(&self, board: &Board, qemu: bool) -> DeviceReport {
        let ratio = |a: u64, b: u64| {
            if b == 0 {
                None
            } else {
                Some(a as f64 / b as f64)
            }
        };
        let instructions = qemu && self.unit == "instructions";
        DeviceReport {
            core: if qemu {
                format!("{} (qemu {})", board.core, board.name)
            } else {
                format!("{} ({})", board.core, board.name)
            },
            vectors: self.vectors,
            mismatches: self.mismatches,
            accuracy: ratio(self.correct, self.labeled).unwrap_or(0.0),
            teacher_agreement: ratio(self.teacher_agree, self.teacher_known),
            instructions_per_inference: if instructions {
                self.per_inference
            } else {
                None
            },
            instructions_per_mac: if instructions {
                self.per_mac_x1000.map(|x| x as f64 / 1000.0)
            } else {
                None
            },
            flash_bytes: self.flash_used.saturating_sub(self.golden_bytes),
            ram_bytes: self.ram_bytes,
        }
    }
}

/// Where the firmware lives: `--firmware-dir`, else this checkout's (compile time).
fn firmware_dir(args: &VerifyArgs) -> PathBuf {
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
pub fn run(args: &VerifyArgs) -> Result<()> {
    let dir = &args.run_dir;
    let student = absolute(&dir.join("student.minnow"))?;
    let golden = absolute(&dir.join("golden.mngv"))?;
    let report_path = dir.join("report.json");
    let fw = firmware_dir(args);

    if let Some(chip) = &args.probe {
        let board = probe_board(chip).ok_or_else(|| {
            let known: Vec<&str> = PROBE_BOARDS.iter().map(|(c, _)| *c).collect();
            Error::Usage(format!(
                "--probe {chip}: no firmware memory map for this chip (known: {}); add \
                 firmware/memory/<board>.x and a row to firmware/build.rs",
                known.join(", ")
            ))
        })?;
        println!(
            "# minnow verify --probe {chip}: run these with the board attached (not run here):"
        );
        println!("{}", probe_commands(&fw, &board, chip, &student, &golden));
        println!("# the firmware prints the same lines as under QEMU (defmt over RTT), in cycles");
        return Ok(());
    }

    let board = qemu_board(&args.core).ok_or_else(|| {
        Error::Usage(format!(
            "--core {}: expected m0, m3, m4, m7, m33 or a board ({})",
            args.core,
            QEMU_BOARDS
                .iter()
                .map(|(_, b)| b.name)
                .collect::<Vec<_>>()
                .join(", ")
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
        .args(["--timeout", &args.timeout.to_string()]);
    if !args.debug {
        cmd.arg("--release");
    }
    cmd.env("MINNOW_STUDENT", &student)
        .env("MINNOW_GOLDEN", &golden);
    eprintln!(
        "verify: building and running the firmware on {} ({}) ...",
        board.name, board.core
    );
    let out = cmd.output().map_err(|e| Error::io(&script, e))?;
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
            message: format!(
                "the firmware did not complete (exit status {:?}):\n{}",
                out.status.code(),
                tail.join("\n")
            ),
        });
    }

    let section = device.device_report(&board, true);
    if report_path.is_file() {
        let mut report =
            Report::load(&report_path).map_err(|e| Error::artifact(&report_path, e))?;
        report.device = Some(section.clone());
        report
            .save(&report_path)
            .map_err(|e| Error::artifact(&report_path, e))?;
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

fn absolute(p: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(p).map_err(|e| Error::io(p, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
minnow-firmware 0.1.0 board=mps2-an386 expected_core=Cortex-M4F
cpuid=0x410fc240 core=Cortex-M4
model student_bytes=51863 golden_bytes=6393 layers=2 macs=50816 weight_bytes=51778 scratch=74 input_len=784 classes=10 vectors=8
mismatch index=3 expected=1,2 got=1,3
layer index=0 kind=dense macs=50176 units=116520 per_mac_x1000=2322
result vectors=8 mismatches=1 correct=6 labeled=8 teacher_agree=5 teacher_known=7
perf unit=instructions source=systick per_tick_x1000=40000 per_inference=120395 macs=50816 per_mac_x1000=2369 dense_macs=50816 dense_units=120260 dense_per_mac_x1000=2366
mem flash_used=87648 student_bytes=51863 golden_bytes=6393 runtime_flash=29392 text=24276 rodata=62348 data=0 bss=92 scratch=74 static_ram=92 stack_peak=1188 ram_bytes=1280
verdict=FAIL mismatches=1 vectors=8
";

    #[test]
    fn parses_the_firmware_lines() {
        let d = DeviceRun::parse(OUTPUT);
        assert_eq!(d.core, "Cortex-M4");
        assert_eq!(
            (d.vectors, d.mismatches, d.correct, d.labeled),
            (8, 1, 6, 8)
        );
        assert_eq!((d.teacher_agree, d.teacher_known), (5, 7));
        assert_eq!(d.per_inference, Some(120_395));
        assert_eq!(d.per_mac_x1000, Some(2369));
        assert_eq!(
            (d.flash_used, d.golden_bytes, d.ram_bytes),
            (87_648, 6393, 1280)
        );
        assert_eq!(d.mismatch_lines.len(), 1);
        assert!(d.complete && !d.pass);
        let board = qemu_board("m4").expect("m4");
        let r = d.device_report(&board, true);
        assert_eq!(r.core, "cortex-m4f (qemu mps2-an386)");
        assert_eq!(r.accuracy, 0.75);
        assert_eq!(r.teacher_agreement, Some(5.0 / 7.0));
        assert_eq!(r.instructions_per_mac, Some(2.369));
        assert_eq!(r.flash_bytes, 87_648 - 6393);
    }

    #[test]
    fn decode_errors_are_collected() {
        let d = DeviceRun::parse(
            "error stage=student msg=CRC mismatch: header says 0x1\nverdict=FAIL\n",
        );
        assert_eq!(
            d.errors,
            ["error stage=student msg=CRC mismatch: header says 0x1"]
        );
        assert!(!d.complete && !d.pass);
    }

    #[test]
    fn cores_and_boards_resolve() {
        for (short, board) in [
            ("m0", "microbit"),
            ("M33", "mps2-an505"),
            ("cortex-m7", "mps2-an500"),
        ] {
            assert_eq!(qemu_board(short).map(|b| b.name), Some(board));
        }
        assert_eq!(qemu_board("mps2-an385").map(|b| b.core), Some("cortex-m3"));
        assert!(qemu_board("m55").is_none());
        assert_eq!(
            probe_board("stm32f411retx").map(|b| b.name),
            Some("stm32f411re")
        );
    }

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
