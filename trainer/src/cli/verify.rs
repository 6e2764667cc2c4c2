//! The flags of `minnow verify`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::device::boards::{qemu_board_list, qemu_choices};
use crate::device::firmware::Profile;
use crate::device::matrix::{Blobs, RunSettings};
use crate::device::toolchain::THUMB_TARGETS;
use crate::device::verify::{
    DeviceConfig, Plan, VerifyConfig, core_board, print_probe, print_toolchain, verify, verify_plan,
};
use crate::error::{Error, Result};

/// `minnow verify RUN_DIR` or `minnow verify --student F --golden G`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Run folder with student.minnow, golden.mngv and report.json (a one-core verify writes
    /// the device section of report.json).
    #[arg(required_unless_present_any = ["student", "print_toolchain"])]
    pub run_dir: Option<PathBuf>,
    /// A student file to verify instead of a run folder's (with --golden; no report.json).
    #[arg(
        long,
        value_name = "FILE",
        requires = "golden",
        conflicts_with = "run_dir"
    )]
    pub student: Option<PathBuf>,
    /// The golden vectors for --student.
    #[arg(long, value_name = "FILE", requires = "student")]
    pub golden: Option<PathBuf>,
    /// Core (m0, m3, m4, m7, m33) or QEMU board (microbit, mps2-an385, mps2-an386, mps2-an500,
    /// mps2-an505) to run on; `all` for the five, or a comma-separated list: one table row
    /// per board [default: m4].
    #[arg(long, value_name = "CORE")]
    pub core: Option<String>,
    /// A real board's chip for probe-rs (e.g. STM32F411RETx, nRF52840_xxAA): print the commands
    /// that build and flash the firmware instead of running QEMU.
    #[arg(long, value_name = "CHIP", conflicts_with_all = ["speed", "features", "max_runtime", "logs"])]
    pub probe: Option<String>,
    /// The firmware folder of a minnow checkout (default: the firmware sources this binary
    /// carries, written out under $MINNOW_CACHE_DIR, else $XDG_CACHE_HOME/minnow, else
    /// ~/.cache/minnow, and built there).
    #[arg(long, value_name = "DIR")]
    pub firmware_dir: Option<PathBuf>,
    /// Build the firmware's debug profile instead of release (built for size).
    #[arg(long, conflicts_with = "speed")]
    pub debug: bool,
    /// Build with opt-level 3 (the firmware's `speed` profile) instead of for size.
    #[arg(long)]
    pub speed: bool,
    /// Firmware cargo features besides `qemu`, e.g. portable-dot (the portable dot product
    /// instead of SMLAD, to compare).
    #[arg(long, value_name = "F[,G]", value_delimiter = ',')]
    pub features: Vec<String>,
    /// Fail if minnow-core's runtime (flash it adds to an application) on BOARD exceeds BYTES,
    /// e.g. mps2-an386=4096; repeatable.
    #[arg(long, value_name = "BOARD=BYTES", value_parser = parse_budget)]
    pub max_runtime: Vec<(String, u64)>,
    /// Seconds QEMU may run before the firmware counts as hung [default: 300].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Folder for each board's output (BOARD.log, BOARD.stderr, BOARD.probe.log) [default with
    /// several boards: matrix/ in the firmware's target folder].
    #[arg(long, value_name = "DIR")]
    pub logs: Option<PathBuf>,
    /// Print the environment the firmware is built with for a thumb TARGET, as shell `export`
    /// lines (scripts/thumb-toolchain.sh prints these), and exit.
    #[arg(long, value_name = "TARGET", exclusive = true, value_parser = parse_target)]
    pub print_toolchain: Option<String>,
}

/// `BOARD=BYTES`.
fn parse_budget(s: &str) -> std::result::Result<(String, u64), String> {
    let (board, bytes) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected BOARD=BYTES, e.g. mps2-an386=4096"))?;
    let bytes = bytes
        .parse()
        .map_err(|e| format!("{s:?}: {bytes:?} is not a number of bytes ({e})"))?;
    Ok((board.to_owned(), bytes))
}

fn parse_target(s: &str) -> std::result::Result<String, String> {
    if THUMB_TARGETS.contains(&s) {
        Ok(s.to_owned())
    } else {
        Err(format!("expected one of {}", THUMB_TARGETS.join(", ")))
    }
}

impl VerifyArgs {
    /// Runs what the flags ask for.
    pub fn run(&self) -> Result<()> {
        if let Some(target) = &self.print_toolchain {
            return print_toolchain(target);
        }
        match (&self.run_dir, &self.probe) {
            (Some(_), _) if self.is_plain() => verify(&self.config()?),
            (_, Some(chip)) => print_probe(chip, &self.blobs()?.0, self.firmware_dir.as_deref()),
            _ => verify_plan(&self.plan()?).map(|_| ()),
        }
    }

    /// The student and golden vectors (and the run folder's report.json, if verifying a run).
    fn blobs(&self) -> Result<(Blobs, Option<PathBuf>)> {
        match (&self.run_dir, &self.student, &self.golden) {
            (Some(dir), _, _) => Ok((Blobs::of_run(dir)?, Some(dir.join("report.json")))),
            (None, Some(student), Some(golden)) => Ok((Blobs::files(student, golden)?, None)),
            _ => Err(Error::Usage(
                "verify: give a run folder, or --student FILE --golden FILE".into(),
            )),
        }
    }

    /// A run folder on one core with the default build: `minnow run`'s verify step, or the
    /// probe-rs commands.
    fn is_plain(&self) -> bool {
        let one_core = self
            .core
            .as_deref()
            .is_none_or(|c| !c.contains(',') && !c.eq_ignore_ascii_case("all"));
        self.probe.is_some()
            || (one_core
                && !self.speed
                && self.features.is_empty()
                && self.max_runtime.is_empty()
                && self.logs.is_none())
    }

    /// What to verify on one core of a run folder: the flags given, over the defaults.
    pub fn config(&self) -> Result<VerifyConfig> {
        let d = DeviceConfig::default();
        let run_dir = self
            .run_dir
            .clone()
            .ok_or_else(|| Error::Usage("verify: a run folder is needed here".into()))?;
        Ok(VerifyConfig {
            run_dir,
            device: DeviceConfig {
                core: self.core.clone().unwrap_or(d.core),
                timeout: self.timeout.unwrap_or(d.timeout),
                max_instructions: None,
            },
            probe: self.probe.clone(),
            firmware_dir: self.firmware_dir.clone(),
            debug: self.debug,
            quiet: false,
        })
    }

    /// Everything else: several cores, other builds, budgets, files instead of a run folder.
    pub fn plan(&self) -> Result<Plan> {
        let d = DeviceConfig::default();
        let (blobs, report) = self.blobs()?;
        let core = self.core.clone().unwrap_or(d.core);
        let boards = qemu_board_list(&core).map_err(|bad| {
            Error::Usage(format!(
                "--core {bad}: expected all, or {} (comma-separated)",
                qemu_choices()
            ))
        })?;
        let mut max_runtime = Vec::new();
        for (board, bytes) in &self.max_runtime {
            let b = core_board(board)?;
            if !boards.contains(&b) {
                return Err(Error::Usage(format!(
                    "--max-runtime {board}={bytes}: {} is not among the boards verified (--core {core})",
                    b.name
                )));
            }
            max_runtime.push((b, *bytes));
        }
        let profile = match (self.debug, self.speed) {
            (true, _) => Profile::Debug,
            (_, true) => Profile::Speed,
            _ => Profile::Release,
        };
        Ok(Plan {
            blobs,
            // One board writes the run folder's report; a matrix does not (which core?).
            report: report.filter(|_| boards.len() == 1),
            boards,
            firmware_dir: self.firmware_dir.clone(),
            settings: RunSettings {
                profile,
                features: self.features.clone(),
                timeout: Duration::from_secs(self.timeout.unwrap_or(d.timeout)),
            },
            max_runtime,
            logs: self.logs.clone(),
            quiet: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// `minnow verify`'s flags on their own.
    #[derive(Debug, Parser)]
    struct Verify {
        #[command(flatten)]
        args: VerifyArgs,
    }

    fn args(line: &[&str]) -> std::result::Result<VerifyArgs, clap::Error> {
        Ok(Verify::try_parse_from(["verify"].iter().chain(line))?.args)
    }

    #[test]
    fn the_matrix_flags_parse() {
        let a = args(&[
            "runs/x",
            "--core",
            "all",
            "--speed",
            "--features",
            "portable-dot",
            "--max-runtime",
            "mps2-an386=4096",
            "--max-runtime",
            "m0=5000",
        ])
        .expect("parses");
        assert!(!a.is_plain());
        assert_eq!(a.features, ["portable-dot"]);
        assert_eq!(
            a.max_runtime,
            [("mps2-an386".to_owned(), 4096), ("m0".to_owned(), 5000)]
        );
        let plain = args(&["runs/x", "--core", "m0"]).expect("parses");
        assert!(plain.is_plain());
        let plain = args(&["runs/x", "--probe", "STM32F411RETx"]).expect("parses");
        assert!(plain.is_plain());
    }

    #[test]
    fn bad_combinations_are_refused() {
        for line in [
            &["--student", "s.minnow"][..],
            &["runs/x", "--student", "s", "--golden", "g"],
            &["runs/x", "--debug", "--speed"],
            &["runs/x", "--max-runtime", "4096"],
            &["runs/x", "--max-runtime", "m4=4k"],
            &["--print-toolchain", "x86_64-unknown-linux-gnu"],
            &["runs/x", "--print-toolchain", "thumbv6m-none-eabi"],
            &[],
        ] {
            assert!(args(line).is_err(), "{line:?} should not parse");
        }
        args(&["--print-toolchain", "thumbv6m-none-eabi"]).expect("alone");
        args(&["--student", "s", "--golden", "g", "--core", "m0,m4"]).expect("files");
    }

    #[test]
    fn plans_name_the_boards_and_budgets() {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in ["student.minnow", "golden.mngv"] {
            std::fs::write(dir.path().join(f), b"x").expect("write");
        }
        let d = dir.path().to_str().expect("utf8");
        let plan = args(&[d, "--core", "m0,m4", "--max-runtime", "m4=4096"])
            .expect("parses")
            .plan()
            .expect("plan");
        assert_eq!(
            plan.boards.iter().map(|b| b.name).collect::<Vec<_>>(),
            ["microbit", "mps2-an386"]
        );
        assert_eq!(plan.max_runtime[0].0.name, "mps2-an386");
        assert!(plan.report.is_none(), "a matrix writes no report");
        let one = args(&[d, "--speed"]).expect("parses").plan().expect("plan");
        assert_eq!(one.settings.profile, Profile::Speed);
        assert_eq!(one.report, Some(dir.path().join("report.json")));
        let err = args(&[d, "--core", "m0", "--max-runtime", "m4=1"])
            .expect("parses")
            .plan()
            .expect_err("budget for a board not verified");
        assert!(err.to_string().contains("not among the boards"), "{err}");
        // --probe with two files prints the probe-rs commands too (here: refuses the chip).
        let s = dir.path().join("student.minnow");
        let g = dir.path().join("golden.mngv");
        let err = args(&[
            "--student",
            s.to_str().expect("utf8"),
            "--golden",
            g.to_str().expect("utf8"),
            "--probe",
            "ESP32",
        ])
        .expect("parses")
        .run()
        .expect_err("no memory map for this chip");
        assert!(err.to_string().contains("--probe ESP32"), "{err}");
        let err = args(&[d, "--core", "m0,m9"])
            .expect("parses")
            .plan()
            .expect_err("m9");
        assert_eq!(err.exit_code(), 2);
    }
}
