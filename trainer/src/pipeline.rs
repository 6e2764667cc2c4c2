//! `minnow run`: the whole chain in one command. Data -> teacher -> distilled student -> int8
//! export -> firmware in QEMU -> one summary table.
//!
//! Everything lands in one run folder:
//!
//! ```text
//! RUN/config.toml             the resolved RunConfig (every setting of every step)
//! RUN/teacher/                teacher run (config, checkpoints, metrics.jsonl, curves, record)
//! RUN/student/                student run (same, plus student.float.json)
//! RUN/teacher_predictions.json   the teacher's class for every test sample
//! RUN/student.minnow          the int8 student the device runs
//! RUN/golden.mngv             golden vectors embedded in the firmware
//! RUN/report.json, report.md  host and device results (shape: docs/report.md)
//! ```

use std::path::{Path, PathBuf};

use clap::Args;
use serde::{Deserialize, Serialize};

use crate::budget::{self, Budget};
use crate::config::{self, DistillConfig, TeacherConfig};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::export::{self, ExportInputs, ExportOptions};
use crate::quantize::{Calibration, QuantizeOptions};
use crate::report::Report;
use crate::train;
use crate::verify;

/// Settings of the export step of `minnow run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExportConfig {
    /// Most golden vectors embedded in the firmware.
    pub golden: usize,
    /// Flash budget for the student blob in bytes.
    pub max_flash: Option<u64>,
    /// RAM budget (scratch + input + logits) in bytes.
    pub max_ram: Option<u64>,
    /// Percentile calibration (e.g. 99.99) instead of min/max.
    pub percentile: Option<f64>,
    /// Calibrate on at most this many training samples.
    pub calibration_samples: usize,
}

impl Default for ExportConfig {
    fn default() -> Self {
        ExportConfig {
            // Every test sample up to 500 (digits: all 359), so the device's accuracy covers the
            // same samples as the host's; each costs input + classes + 2 bytes of flash.
            golden: 500,
            max_flash: None,
            max_ram: None,
            percentile: None,
            calibration_samples: 1000,
        }
    }
}

/// Settings of the device step of `minnow run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceConfig {
    /// Core to verify on in QEMU: m0, m3, m4, m7, m33 (or a board name); "none" skips the step.
    pub core: String,
    /// Seconds QEMU may run.
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

/// Everything `minnow run` does, as one TOML file: `[teacher]`, `[student]`, `[export]` and
/// `[device]` tables hold the settings of `train-teacher`, `distill`, `export` and `verify`.
/// Data and split settings are taken from `[teacher]` and used for every step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    pub out: PathBuf,
    pub teacher: TeacherConfig,
    pub student: DistillConfig,
    pub export: ExportConfig,
    pub device: DeviceConfig,
}

impl Default for RunConfig {
    fn default() -> Self {
        let teacher = TeacherConfig::default();
        let student = DistillConfig {
            hidden: vec![32],
            temperature: 4.0,
            soft_weight: 1.0,
            hard_weight: 0.1,
            ..DistillConfig::default()
        };
        RunConfig {
            out: PathBuf::from("runs/default"),
            teacher,
            student,
            export: ExportConfig::default(),
            device: DeviceConfig::default(),
        }
    }
}

const RUN_EXAMPLES: &str = "\
Examples:
  # the whole chain on the built-in digits set, verified on a Cortex-M4 in QEMU
  minnow run
  # your own data, a bigger student, verified on a Cortex-M0
  minnow run --mnist ../shared/data/mnist --student-hidden 64 --core m0 --golden 20 --out runs/mnist
  # settings from a file ([teacher], [student], [export], [device] tables)
  minnow run --config run.toml
  # host only (no firmware build or QEMU)
  minnow run --core none";

/// `minnow run` flags; each overrides the same setting of `--config`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = RUN_EXAMPLES)]
pub struct RunArgs {
    #[command(flatten)]
    pub data: crate::cli::DataArgs,
    /// A RunConfig TOML file ([teacher], [student], [export], [device] tables).
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Run folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seed of every step (training, split).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Teacher training epochs.
    #[arg(long, value_name = "N")]
    pub teacher_epochs: Option<usize>,
    /// Student training epochs.
    #[arg(long, value_name = "N")]
    pub student_epochs: Option<usize>,
    /// Hidden layer sizes of an MLP student, e.g. 32 or 64,32.
    #[arg(long, value_name = "N,...", value_delimiter = ',')]
    pub student_hidden: Option<Vec<usize>>,
    /// Distillation temperature T.
    #[arg(long, value_name = "T")]
    pub temperature: Option<f32>,
    /// Weight of the soft (teacher) term, multiplied by T^2 inside the loss.
    #[arg(long, value_name = "W")]
    pub soft_weight: Option<f32>,
    /// Weight of the hard-label term (cross-entropy at T = 1).
    #[arg(long, value_name = "W")]
    pub hard_weight: Option<f32>,
    /// Golden vectors to embed in the firmware.
    #[arg(long, value_name = "N")]
    pub golden: Option<usize>,
    /// Flash budget for the student, e.g. 32k.
    #[arg(long, value_name = "SIZE", value_parser = budget::parse_size_arg)]
    pub max_flash: Option<u64>,
    /// RAM budget for one inference, e.g. 8k.
    #[arg(long, value_name = "SIZE", value_parser = budget::parse_size_arg)]
    pub max_ram: Option<u64>,
    /// Core to verify on in QEMU (m0, m3, m4, m7, m33), or `none` to stop after export.
    #[arg(long, value_name = "CORE")]
    pub core: Option<String>,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

impl RunArgs {
    /// The resolved configuration: defaults, then `--config`, then flags.
    pub fn resolve(&self) -> Result<RunConfig> {
        let mut cfg: RunConfig = match &self.config {
            Some(path) => {
                let mut c: RunConfig = config::load_toml(path)?;
                let base = path.parent().unwrap_or(Path::new("."));
                c.teacher.data = c.teacher.data.resolve_relative_to(base);
                if c.out.is_relative() && self.out.is_none() {
                    c.out = base.join(&c.out);
                }
                c
            }
            None => RunConfig::default(),
        };
        if let Some(spec) = self.data.spec()? {
            cfg.teacher.data = spec;
        }
        if let Some(out) = &self.out {
            cfg.out = out.clone();
        }
        if let Some(seed) = self.seed {
            cfg.teacher.seed = seed;
            cfg.teacher.split_seed = seed;
            cfg.student.seed = seed;
        }
        if let Some(n) = self.teacher_epochs {
            cfg.teacher.epochs = n;
        }
        if let Some(n) = self.student_epochs {
            cfg.student.epochs = n;
        }
        if let Some(h) = &self.student_hidden {
            cfg.student.hidden = h.clone();
        }
        if let Some(t) = self.temperature {
            cfg.student.temperature = t;
        }
        if let Some(w) = self.soft_weight {
            cfg.student.soft_weight = w;
        }
        if let Some(w) = self.hard_weight {
            cfg.student.hard_weight = w;
        }
        if let Some(n) = self.golden {
            cfg.export.golden = n;
        }
        if self.max_flash.is_some() {
            cfg.export.max_flash = self.max_flash;
        }
        if self.max_ram.is_some() {
            cfg.export.max_ram = self.max_ram;
        }
        if let Some(core) = &self.core {
            cfg.device.core = core.clone();
        }
        if self.quiet {
            cfg.teacher.quiet = true;
            cfg.student.quiet = true;
        }
        // One data set and one split for every step, so the student is tested on exactly the
        // samples the teacher never saw.
        cfg.student.data = cfg.teacher.data.clone();
        cfg.student.val_fraction = cfg.teacher.val_fraction;
        cfg.student.test_fraction = cfg.teacher.test_fraction;
        cfg.student.split_seed = cfg.teacher.split_seed;
        cfg.student.train_limit = cfg.teacher.train_limit;
        cfg.teacher.out = cfg.out.join("teacher");
        cfg.student.out = cfg.out.join("student");
        cfg.student.teacher = vec![cfg.teacher.out.clone()];
        if cfg.device.core != "none" && verify::qemu_board(&cfg.device.core).is_none() {
            return Err(Error::Usage(format!(
                "--core {}: expected m0, m3, m4, m7, m33, a QEMU board name, or none",
                cfg.device.core
            )));
        }
        Ok(cfg)
    }
}

/// What `minnow run` measured.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub dir: PathBuf,
    pub report: Report,
}

/// The teacher's (or ensemble's) predicted class of every sample of `data`: the argmax of the
/// members' probabilities averaged at T = 1.
pub fn teacher_predictions(
    teacher: &Path,
    data: &Dataset,
    device: config::DeviceChoice,
) -> Result<Vec<u8>> {
    let device = train::device(device)?;
    let members = train::load_teachers(&[teacher.to_owned()], &device)?;
    let classes = data.classes.max(1);
    let mut logits = Vec::with_capacity(members.len());
    for (model, file) in &members {
        let x = file.normalization.apply_all(data);
        logits.push(model.predict(&x, &device, 256));
    }
    let mut probs = vec![0.0_f32; classes];
    (0..data.len())
        .map(|i| {
            let rows: Vec<&[f32]> = logits
                .iter()
                .map(|l| l.get(i * classes..(i + 1) * classes).unwrap_or(&[]))
                .collect();
            minnow_core::distill::ensemble_soft_targets(&rows, 1.0, &mut probs)
                .map_err(|e| Error::Config(format!("teacher logits of sample {i}: {e}")))?;
            minnow_core::softmax::argmax_f32(&probs)
                .and_then(|c| u8::try_from(c).ok())
                .ok_or_else(|| Error::Config(format!("teacher logits of sample {i} are empty")))
        })
        .collect()
}

/// Runs the whole chain, printing one line per step unless quiet.
pub fn run(cfg: &RunConfig) -> Result<RunOutcome> {
    let dir = &cfg.out;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    crate::error::write_atomic(&dir.join("config.toml"), config::to_toml(cfg)?.as_bytes())?;
    let say = |msg: &str| {
        if !cfg.teacher.quiet {
            eprintln!("run: {msg}");
        }
    };

    say("1/5 training the teacher");
    train::train_teacher(&cfg.teacher)?;

    say("2/5 distilling the student");
    let student = train::distill(&cfg.student)?;

    say("3/5 quantizing and exporting the int8 student");
    let export::RunData {
        train: calibration,
        val,
        test,
        ..
    } = export::run_data(&cfg.student.out.join("config.toml"))
        .map_err(|e| Error::artifact(&cfg.student.out, e.to_string()))?;
    let teacher = teacher_predictions(&cfg.teacher.out, &test, cfg.teacher.device)?;
    let predictions_path = dir.join("teacher_predictions.json");
    crate::error::write_atomic(
        &predictions_path,
        &serde_json::to_vec(&teacher).map_err(|e| Error::Config(e.to_string()))?,
    )?;
    let opts = ExportOptions {
        quantize: QuantizeOptions {
            calibration: cfg
                .export
                .percentile
                .map_or(Calibration::MinMax, Calibration::Percentile),
            max_calibration_samples: cfg.export.calibration_samples,
        },
        golden_count: cfg.export.golden,
        budget: Budget {
            max_flash: cfg.export.max_flash,
            max_ram: cfg.export.max_ram,
        },
    };
    let inputs = ExportInputs {
        student: &student.student,
        calibration: &calibration,
        test: &test,
        validation: Some(&val),
        teacher_predictions: Some(&teacher),
    };
    export::export(dir, &inputs, &opts).map_err(|e| Error::artifact(dir, e.to_string()))?;

    if cfg.device.core == "none" {
        say("4/5 device verification skipped (core = none)");
    } else {
        say(&format!(
            "4/5 building the firmware and running it in QEMU ({})",
            cfg.device.core
        ));
        verify::run(&verify::VerifyArgs {
            run_dir: dir.clone(),
            core: cfg.device.core.clone(),
            probe: None,
            firmware_dir: None,
            debug: false,
            timeout: cfg.device.timeout,
        })?;
    }

    say("5/5 summary");
    let report_path = dir.join(export::REPORT_JSON);
    let report =
        Report::load(&report_path).map_err(|e| Error::artifact(&report_path, e.to_string()))?;
    Ok(RunOutcome {
        dir: dir.clone(),
        report,
    })
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{:.2}%", 100.0 * v))
}

/// The one table `minnow run` prints.
pub fn summary_table(outcome: &RunOutcome) -> String {
    let r = &outcome.report;
    let d = r.device.as_ref();
    let rows: Vec<(&str, String)> = vec![
        ("teacher accuracy (host, float)", pct(r.teacher.accuracy)),
        (
            "student accuracy (host, float)",
            pct(Some(r.student_float.accuracy)),
        ),
        (
            "student accuracy (host, int8)",
            pct(Some(r.student_int8.accuracy)),
        ),
        (
            "student accuracy (device)",
            d.map_or("-".into(), |d| {
                format!("{} on {} golden vectors", pct(Some(d.accuracy)), d.vectors)
            }),
        ),
        (
            "int8 agreement with teacher (host)",
            pct(r.student_int8.teacher_agreement),
        ),
        (
            "int8 agreement with teacher (device)",
            pct(d.and_then(|d| d.teacher_agreement)),
        ),
        (
            "bit-exact on device",
            d.map_or("not run".into(), |d| {
                format!(
                    "{} ({} mismatches in {} vectors)",
                    if d.mismatches == 0 { "yes" } else { "NO" },
                    d.mismatches,
                    d.vectors
                )
            }),
        ),
        ("device", d.map_or("-".into(), |d| d.core.clone())),
        (
            "student blob (flash)",
            format!("{} B", r.footprint.blob_bytes),
        ),
        (
            "firmware flash",
            d.map_or("-".into(), |d| format!("{} B", d.flash_bytes)),
        ),
        (
            "RAM per inference (host count)",
            format!("{} B", r.footprint.ram_bytes),
        ),
        (
            "firmware RAM (device)",
            d.map_or("-".into(), |d| format!("{} B", d.ram_bytes)),
        ),
        ("MACs per inference", r.footprint.macs.to_string()),
        (
            "instructions per inference",
            d.and_then(|d| d.instructions_per_inference)
                .map_or("-".into(), |v| v.to_string()),
        ),
        (
            "instructions per MAC",
            d.and_then(|d| d.instructions_per_mac)
                .map_or("-".into(), |v| format!("{v:.2}")),
        ),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut s = format!("minnow run: {}\n", outcome.dir.display());
    for (k, v) in rows {
        s.push_str(&format!("  {k:<width$}  {v}\n"));
    }
    s
}

/// `minnow run` from the command line.
pub fn run_command(args: &RunArgs) -> Result<()> {
    let cfg = args.resolve()?;
    let outcome = run(&cfg)?;
    print!("{}", summary_table(&outcome));
    if let Some(d) = &outcome.report.device
        && d.mismatches > 0
    {
        return Err(Error::artifact(
            &outcome.dir,
            format!("{} golden vectors differ on the device", d.mismatches),
        ));
    }
    Ok(())
}
