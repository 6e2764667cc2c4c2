//! The flags of `minnow export`.

use std::path::PathBuf;

use clap::Args;

use crate::cli::teacher::OnnxFlags;
use crate::error::Result;
use crate::int8::budget::parse_size;
use crate::int8::export::ExportConfig;
use crate::net::backend::DeviceChoice;
use crate::run::export::TeacherPredictions;

/// The export settings' flags, the same on `minnow export` and `minnow run`.
#[derive(Debug, Clone, Default, Args)]
pub struct ExportFlags {
    /// Most golden vectors to embed in the firmware (they take flash: input + classes + 2
    /// bytes each) [default: 500].
    #[arg(long, value_name = "N")]
    pub golden: Option<usize>,
    /// Flash budget for the student blob, e.g. 32k, 256K, 1M, 16384.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_flash: Option<u64>,
    /// RAM budget for scratch + input + logits, e.g. 8K, 16384.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_ram: Option<u64>,
    /// Calibrate activation ranges on a two-sided percentile (e.g. 99.99) instead of min/max
    /// (default: as a quantization-aware run trained, see `minnow distill --qat`).
    #[arg(long, value_name = "PERCENT")]
    pub percentile: Option<f64>,
    /// Calibrate on at most this many training samples [default: 1000].
    #[arg(long, value_name = "N")]
    pub calibration_samples: Option<usize>,
}

impl ExportFlags {
    /// Sets the settings the flags give.
    pub fn apply(&self, cfg: &mut ExportConfig) {
        if let Some(n) = self.golden {
            cfg.golden = n;
        }
        if self.max_flash.is_some() {
            cfg.max_flash = self.max_flash;
        }
        if self.max_ram.is_some() {
            cfg.max_ram = self.max_ram;
        }
        if self.percentile.is_some() {
            cfg.percentile = self.percentile;
        }
        if let Some(n) = self.calibration_samples {
            cfg.calibration_samples = n;
        }
    }
}

/// `minnow export RUN_DIR`: reads the run's `student.float.json` and `config.toml` (data and
/// split), calibrates on the training split, evaluates on the test split, and writes the
/// artefacts into the run folder (or `--out`).
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Run folder of a distilled student (student.float.json, config.toml).
    pub run_dir: PathBuf,
    /// The float student (default: RUN_DIR/student.float.json).
    #[arg(long, value_name = "FILE")]
    pub student: Option<PathBuf>,
    /// Where to write student.minnow, golden.mngv, report.json, report.md (default: RUN_DIR).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub export: ExportFlags,
    /// The teacher's predicted class of every test sample, as a JSON array (for the teacher
    /// columns of the report and the golden vectors).
    #[arg(long, value_name = "FILE", conflicts_with = "teacher")]
    pub teacher_predictions: Option<PathBuf>,
    /// A teacher: an ONNX file, or a run folder (repeat for an ensemble): run on the test split
    /// for the teacher columns. ONNX teachers run with the run's teacher_* settings unless the
    /// flags below say otherwise.
    #[arg(long, value_name = "DIR|FILE.onnx")]
    pub teacher: Vec<PathBuf>,
    #[command(flatten)]
    pub onnx: OnnxFlags,
    /// Also write the exported student as sources for your firmware: `c` (student.h,
    /// student.c, golden.h, golden.c) or `rust` (mod.rs with include_bytes!), into DIR.
    #[arg(long, num_args = 2, value_names = ["LANG", "DIR"])]
    pub emit: Vec<String>,
}

impl ExportArgs {
    /// The export settings: the flags given, over the defaults.
    pub fn config(&self) -> ExportConfig {
        let mut cfg = ExportConfig::default();
        self.export.apply(&mut cfg);
        cfg
    }

    /// Where the teacher columns come from.
    pub fn teacher(&self) -> Result<TeacherPredictions> {
        Ok(match &self.teacher_predictions {
            Some(file) => TeacherPredictions::File(file.clone()),
            None if !self.teacher.is_empty() => TeacherPredictions::Teachers {
                paths: self.teacher.clone(),
                onnx: self.onnx.table()?,
                device: DeviceChoice::default(),
            },
            None => TeacherPredictions::None,
        })
    }
}
