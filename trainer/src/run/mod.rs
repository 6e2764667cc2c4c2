//! `minnow run`: the whole chain in one command. Data -> teacher -> distilled student -> int8
//! export -> firmware in QEMU -> one summary table. Given teachers (`--teacher FILE.onnx`, or
//! run folders), the teacher is not trained: the student learns from them.
//!
//! Everything lands in one run folder:
//!
//! ```text
//! RUN/config.toml                the resolved RunConfig (every setting of every step)
//! RUN/teacher/                   teacher run (config, checkpoints, metrics.jsonl, curves, record),
//!                                unless teachers were given
//! RUN/student/                   student run (same, plus student.float.json)
//! RUN/teacher_predictions.json   the teacher's class for every test sample
//! RUN/student.minnow             the int8 student the device runs
//! RUN/golden.mngv                golden vectors embedded in the firmware
//! RUN/report.json, report.md     host and device results (shape: docs/report.md)
//! ```
//!
//! [`export`] is the export step on its own (`minnow export`), [`summary`] the table.

pub mod export;
pub mod history;
pub mod summary;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::{self, Choice, Invalid, Settings, nested_over_defaults};
use crate::device::boards::qemu_board;
use crate::device::verify::{DeviceConfig, VerifyConfig, verify};
use crate::error::{Error, Result};
use crate::files;
use crate::fit;
use crate::int8::export::{ExportConfig, REPORT_JSON};
use crate::int8::report::Report;
use crate::run::export::{ExportRun, TeacherPredictions, export_run};
use crate::train::config::{DistillConfig, TeacherConfig};
use crate::train::distill::distill;
use crate::train::teacher::train_teacher;

/// Everything `minnow run` does, as one TOML file: `[teacher]`, `[student]`, `[export]` and
/// `[device]` tables hold the settings of `train-teacher`, `distill`, `export` and `verify`
/// (each table may give any of its keys; the rest are that command's defaults). Data and split
/// settings are taken from `[teacher]` and used for every step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub out: PathBuf,
    /// Teachers trained elsewhere (ONNX files) or by earlier runs (run folders): when given,
    /// no teacher is trained and the student learns from these (an ensemble when several),
    /// with the `[student]` table's `teacher_*` settings.
    #[serde(default)]
    pub teachers: Vec<PathBuf>,
    #[serde(deserialize_with = "nested_over_defaults")]
    pub teacher: TeacherConfig,
    #[serde(deserialize_with = "nested_over_defaults")]
    pub student: DistillConfig,
    #[serde(deserialize_with = "nested_over_defaults")]
    pub export: ExportConfig,
    #[serde(deserialize_with = "nested_over_defaults")]
    pub device: DeviceConfig,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            out: PathBuf::from("runs/default"),
            teachers: Vec::new(),
            teacher: TeacherConfig::default(),
            student: DistillConfig::default(),
            export: ExportConfig::default(),
            device: DeviceConfig::default(),
        }
    }
}

impl Settings for RunConfig {
    fn check(&self) -> Result<(), Invalid> {
        self.teacher.check()?;
        self.student.check()?;
        self.export.check()?;
        self.device.check()
    }
}

impl RunConfig {
    /// Ties the steps together: one data set and one split for every step (so the student is
    /// tested on exactly the samples the teacher never saw), the teacher and student folders
    /// inside the run folder, the student taught by the run's teacher (or the teachers given).
    /// Checks the core.
    pub fn tie_steps(mut self) -> Result<RunConfig> {
        self.student.data = self.teacher.data.clone();
        self.teacher.out = self.out.join("teacher");
        self.student.out = self.out.join("student");
        self.student.teacher = if self.teachers.is_empty() {
            vec![self.teacher.out.clone()]
        } else {
            self.teachers
                .iter()
                .map(|p| files::absolute(p))
                .collect::<Result<_, _>>()?
        };
        self.check()?;
        if self.device.core != "none" && qemu_board(&self.device.core).is_none() {
            return Err(Error::Usage(format!(
                "--core {}: expected m0, m3, m4, m7, m33, a QEMU board name, or none",
                self.device.core
            )));
        }
        Ok(self)
    }
}

/// What `minnow run` measured.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub dir: PathBuf,
    pub report: Report,
}

/// Runs the whole chain, printing one line per step unless quiet.
pub fn run(cfg: &RunConfig) -> Result<RunOutcome> {
    let dir = &cfg.out;
    check_budget_before_training(cfg)?;
    let _lock = files::lock(dir)?;
    files::write_atomic(&dir.join("config.toml"), config::to_toml(cfg)?.as_bytes())?;
    let say = |msg: &str| {
        if !cfg.teacher.train.quiet {
            eprintln!("run: {msg}");
        }
    };

    if cfg.teachers.is_empty() {
        say("1/5 training the teacher");
        train_teacher(&cfg.teacher)?;
    } else {
        let names: Vec<String> = cfg
            .teachers
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        say(&format!("1/5 teacher given: {}", names.join(", ")));
    }

    say("2/5 distilling the student");
    distill(&cfg.student)?;

    say("3/5 quantizing and exporting the int8 student");
    export_run(&ExportRun {
        run_dir: &cfg.student.out,
        student: None,
        out: dir,
        teacher: TeacherPredictions::Teachers {
            paths: cfg.student.teacher.clone(),
            // The student's config.toml holds the teacher_* settings it was taught with.
            onnx: toml::Table::new(),
            device: cfg.teacher.train.device,
        },
        config: &cfg.export,
        write_predictions: true,
    })?;

    if cfg.device.core == "none" {
        say("4/5 device verification skipped (core = none)");
    } else {
        say(&format!(
            "4/5 building the firmware and running it in QEMU ({})",
            cfg.device.core
        ));
        verify(&VerifyConfig {
            run_dir: dir.clone(),
            device: cfg.device.clone(),
            probe: None,
            firmware_dir: None,
            debug: false,
            quiet: cfg.teacher.train.quiet,
        })?;
    }

    say("5/5 summary");
    let report = Report::load(&dir.join(REPORT_JSON))?;
    Ok(RunOutcome {
        dir: dir.clone(),
        report,
    })
}

/// Refuses a student that cannot fit the export's flash or RAM budget, or the instruction
/// budget on the verify core, before the teacher and the student train (hours on MNIST), with
/// the message the export would give.
fn check_budget_before_training(cfg: &RunConfig) -> Result<()> {
    let limits = fit::cost::Limits::of(cfg);
    if !limits.is_set() {
        return Ok(());
    }
    let (spec, cost) = fit::cost::student_cost(&cfg.student)?;
    fit::cost::check(&limits, &cost).map_err(|source| Error::Unfit {
        student: format!(
            "{}, {} parameters",
            cfg.student.net.arch.name(),
            spec.parameter_count()
        ),
        source,
    })
}

/// `minnow run`: the chain, then its table on stdout; an error when the device disagreed.
pub fn run_and_print(cfg: &RunConfig) -> Result<()> {
    let outcome = run(cfg)?;
    print!("{}", summary::summary_table(&outcome.dir, &outcome.report));
    device_agrees(&outcome.dir, &outcome.report)
}

/// An error naming `dir` when the device's logits differed from the host's on any golden
/// vector of `report`.
pub fn device_agrees(dir: &std::path::Path, report: &Report) -> Result<()> {
    match &report.device {
        Some(d) if d.mismatches > 0 => Err(Error::artifact(
            dir,
            format!("{} golden vectors differ on the device", d.mismatches),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A student over the flash budget is refused before the teacher trains: the message says
    /// what it needs and by how much it is over, and the run folder is never made.
    #[test]
    fn a_student_over_budget_is_refused_before_training() {
        let root = tempfile::tempdir().expect("root");
        let mut cfg = RunConfig {
            out: root.path().join("run"),
            ..RunConfig::default()
        };
        cfg.export.max_flash = Some(2048);
        let cfg = cfg.tie_steps().expect("settings");
        let e = run(&cfg).expect_err("a 64-32-10 MLP is over 2 KB");
        let msg = e.to_string();
        assert!(matches!(e, Error::Unfit { .. }), "{msg}");
        assert!(
            msg.contains("refused before training") && msg.contains("over the budget of 2048"),
            "{msg}"
        );
        assert!(!cfg.out.exists(), "nothing written");

        // The same student within budget passes the check (it would train).
        let (_, cost) = fit::cost::student_cost(&cfg.student).expect("cost");
        let mut fits = cfg.clone();
        fits.export.max_flash = Some(cost.usage.flash);
        check_budget_before_training(&fits).expect("exactly its size fits");

        // An instruction budget on the verify core, from the predicted count.
        let m4 = cost.instructions.on("m4").expect("an M4 model");
        let mut slow = fits.clone();
        slow.device.max_instructions = Some(m4 - 1);
        let e = check_budget_before_training(&slow).expect_err("one instruction over");
        assert!(
            e.to_string()
                .contains(&format!("about {m4} instructions per inference on the m4")),
            "{e}"
        );
        slow.device.max_instructions = Some(m4);
        check_budget_before_training(&slow).expect("exactly its count fits");
        slow.device.core = "none".into();
        let e = check_budget_before_training(&slow).expect_err("no core, no instructions");
        assert!(e.to_string().contains("needs a core"), "{e}");
    }
}
