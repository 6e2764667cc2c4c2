//! The `minnow` command line. One enum variant per subcommand, each with its own `Args` struct;
//! to add a subcommand, add a variant and a match arm in [`execute`].
//!
//! Every training flag is also a key of the `--config FILE.toml` (dashes → underscores); flags
//! given on the command line override the file. Exit status: 0 success, 1 failure, 2 usage.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::config::{self, DeviceChoice, DistillConfig, TeacherConfig};
use crate::error::{Error, Result};
use crate::loss::DistillMode;
use crate::model::Arch;
use crate::train;

const MAIN_EXAMPLES: &str = "\
Examples:
  minnow train-teacher --out runs/teacher
  minnow distill --teacher runs/teacher --out runs/student
  minnow distill --soft-weight 0 --hard-weight 1 --out runs/baseline
  minnow train-teacher --resume runs/teacher";

const TEACHER_EXAMPLES: &str = "\
Examples:
  # MLP teacher (2x256, dropout 0.2, 1-pixel jitter) on the built-in digits
  minnow train-teacher --out runs/teacher
  # small CNN teacher on MNIST
  minnow train-teacher --mnist data/mnist --arch cnn --channels 16,32 --hidden 64 --out runs/cnn
  # an ensemble of 3 teachers (seeds 0, 1, 2) in runs/ens/member-{0,1,2}
  minnow train-teacher --members 3 --out runs/ens
  # settings from a file, one overridden
  minnow train-teacher --config teacher.toml --epochs 10
  # continue a killed run
  minnow train-teacher --resume runs/teacher";

const DISTILL_EXAMPLES: &str = "\
Examples:
  # distil at T=3 into an MLP with 32 hidden units
  minnow distill --teacher runs/teacher --temperature 3 --hidden 32 --out runs/student
  # soft targets plus a small hard-label term
  minnow distill --teacher runs/teacher --soft-weight 1 --hard-weight 0.1 --out runs/mix
  # hard-label baseline (no teacher)
  minnow distill --soft-weight 0 --hard-weight 1 --out runs/baseline
  # unlabeled transfer set, ensemble teacher, depthwise CNN student
  minnow distill --teacher runs/ens --unlabeled --arch dwcnn --channels 8,16 --out runs/dw
  # Hinton's omitted-class experiment: no 3s in the transfer set, then raise the bias of 3
  minnow distill --teacher runs/teacher --omit-classes 3 --missing-class-bias 3.5 --out runs/no3
  # teacher logits computed once and cached (reused when the file exists)
  minnow distill --teacher runs/teacher --teacher-logits runs/teacher/logits.npy --out runs/s
  # logit matching (the high-temperature limit)
  minnow distill --teacher runs/teacher --mode logit-matching --out runs/lm
  # quantization-aware fine-tuning of a trained student: 3 epochs through int8 rounding
  minnow distill --teacher runs/teacher --init-from runs/student --qat --epochs 3 \\
      --learning-rate 1e-4 --out runs/student-qat";

const RESUME_EXAMPLES: &str = "\
Examples:
  minnow resume runs/student
  minnow resume runs/teacher --quiet";

const EXPORT_EXAMPLES: &str = "\
Examples:
  # int8 student, golden vectors and report, with the teacher's columns filled in
  minnow export runs/student --teacher runs/teacher
  # fail unless the student fits 32 KB of flash and 8 KB of RAM
  minnow export runs/student --max-flash 32k --max-ram 8k
  # percentile calibration, 20 golden vectors (small boards)
  minnow export runs/student --percentile 99.99 --golden 20";

const VERIFY_EXAMPLES: &str = "\
Examples:
  # Cortex-M4 in QEMU (mps2-an386)
  minnow verify runs/student
  # Cortex-M0 (micro:bit in QEMU)
  minnow verify runs/student --core m0
  # a real board: print the build and probe-rs commands
  minnow verify runs/student --probe STM32F411RETx";

const FINGERPRINT_EXAMPLES: &str = "\
Examples:
  minnow teacher-fingerprint runs/teacher";

/// Distil a large teacher into a tiny int8 student for Cortex-M.
#[derive(Debug, Parser)]
#[command(name = "minnow", version, about, after_help = MAIN_EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a teacher (or an ensemble of teachers) on hard labels.
    #[command(after_help = TEACHER_EXAMPLES)]
    TrainTeacher(TrainTeacherArgs),
    /// Distil a student from a teacher or ensemble (or train a hard-label baseline).
    #[command(after_help = DISTILL_EXAMPLES)]
    Distill(DistillArgs),
    /// Continue a killed train-teacher or distill run from its folder.
    #[command(after_help = RESUME_EXAMPLES)]
    Resume(ResumeArgs),
    /// Turn teacher logits computed elsewhere (one NPY row per sample of the data file, in file
    /// order) into the cache `distill --teacher-logits` reads.
    AdoptLogits(crate::adopt::AdoptArgs),
    /// Print a teacher's fingerprint (the key of its cached logits).
    #[command(after_help = FINGERPRINT_EXAMPLES)]
    TeacherFingerprint(FingerprintArgs),
    /// Quantize a distilled student to int8, evaluate it through minnow-core and write
    /// student.minnow, golden.mngv, report.json and report.md into its run folder.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(crate::export::ExportArgs),
    /// Build the firmware for a run's int8 student, run it in QEMU (or print the probe-rs
    /// commands for a board) and write the device results into report.json.
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(crate::verify::VerifyArgs),
    /// The whole chain: train a teacher, distil, quantize, export, verify on a Cortex-M in
    /// QEMU, and print one summary table (built-in digits data by default).
    Run(crate::pipeline::RunArgs),
}

/// Data selection, shared by all training commands. At most one source; default: built-in digits.
#[derive(Debug, Clone, Args, Default)]
pub struct DataArgs {
    /// A built-in dataset: `digits` (UCI optdigits, 8x8, 10 classes).
    #[arg(long, value_name = "NAME", group = "source")]
    pub data: Option<String>,
    /// A folder with the four MNIST IDX files (raw or gzipped): the training files give the
    /// training and validation splits, the official t10k files the test split
    /// (--test-fraction is not used).
    #[arg(long, value_name = "DIR", group = "source")]
    pub mnist: Option<PathBuf>,
    /// A CSV file: features then the label on each line.
    #[arg(long, value_name = "FILE", group = "source")]
    pub csv: Option<PathBuf>,
    /// An IDX images file and its IDX labels file.
    #[arg(long, num_args = 2, value_names = ["IMAGES", "LABELS"], group = "source")]
    pub idx: Option<Vec<PathBuf>>,
    /// An NPY features array `(N, H, W[, C])` and a 1-D NPY labels array.
    #[arg(long, num_args = 2, value_names = ["FEATURES", "LABELS"], group = "source")]
    pub npy: Option<Vec<PathBuf>>,
    /// Sample shape for --csv, as H,W,C.
    #[arg(long, value_name = "H,W,C", value_delimiter = ',')]
    pub shape: Option<Vec<usize>>,
    /// Number of classes (default: largest label + 1).
    #[arg(long, value_name = "N")]
    pub classes: Option<usize>,
}

impl DataArgs {
    pub(crate) fn spec(&self) -> Result<Option<crate::data::DataSpec>> {
        use crate::data::DataSpec;
        let shape = match &self.shape {
            Some(s) => Some(
                <[usize; 3]>::try_from(s.as_slice())
                    .map_err(|_| Error::Usage("--shape takes H,W,C".into()))?,
            ),
            None => None,
        };
        Ok(if let Some(name) = &self.data {
            match name.as_str() {
                "digits" => Some(DataSpec::Digits),
                other => {
                    return Err(Error::Usage(format!(
                        "unknown built-in dataset {other:?} (available: digits)"
                    )));
                }
            }
        } else if let Some(dir) = &self.mnist {
            Some(DataSpec::Mnist {
                dir: dir.clone(),
                split: Default::default(),
            })
        } else if let Some(path) = &self.csv {
            Some(DataSpec::Csv {
                path: path.clone(),
                has_labels: true,
                shape,
                classes: self.classes,
            })
        } else if let Some(v) = &self.idx {
            Some(DataSpec::Idx {
                images: v[0].clone(),
                labels: v.get(1).cloned(),
                classes: self.classes,
            })
        } else {
            self.npy.as_ref().map(|v| DataSpec::Npy {
                features: v[0].clone(),
                labels: v.get(1).cloned(),
                classes: self.classes,
            })
        })
    }
}

/// Flags shared by the training commands, serialised into the config table when given.
#[derive(Debug, Clone, Args, Serialize, Default)]
pub struct CommonArgs {
    /// Settings file (TOML); flags on the command line override it.
    #[arg(long, value_name = "FILE.toml")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Run folder for the model, metrics, curves, checkpoint and config.
    #[arg(long, value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out: Option<PathBuf>,
    /// Fraction of the data for validation.
    #[arg(long, value_name = "F")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_fraction: Option<f32>,
    /// Fraction of the data for the final test.
    #[arg(long, value_name = "F")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_fraction: Option<f32>,
    /// Seed of the train/val/test split (keep it equal for teacher and student).
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_seed: Option<u64>,
    /// Use only the first N training samples.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_limit: Option<usize>,
    /// Network family.
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<Arch>,
    /// Hidden dense layer widths, e.g. 256,256 (`--hidden` with no value: none, e.g. a CNN
    /// whose conv stack feeds the output layer directly).
    #[arg(long, value_name = "N,...", value_delimiter = ',', num_args = 0..)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<Vec<usize>>,
    /// Conv block widths (cnn, dwcnn), e.g. 16,32.
    #[arg(long, value_name = "N,...", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<Vec<usize>>,
    /// Dropout probability after hidden layers.
    #[arg(long, value_name = "P")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropout: Option<f32>,
    /// ReLU6 instead of ReLU.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub relu6: bool,
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Adam learning rate.
    #[arg(long, value_name = "LR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    /// Learning-rate schedule over the run's steps.
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr_schedule: Option<crate::config::LrSchedule>,
    /// L2 weight decay.
    #[arg(long, value_name = "W")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f32>,
    /// Random input shifts of up to N pixels (0 = off).
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter: Option<usize>,
    /// Seed of initialisation, shuffling, dropout and jitter.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// burn backend.
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceChoice>,
    /// No progress bar or per-epoch log.
    #[arg(long, short)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub quiet: bool,
    /// Continue the killed run in DIR (its config.toml and checkpoint.bin); other settings are
    /// taken from DIR/config.toml.
    #[arg(long, value_name = "DIR")]
    #[serde(skip)]
    pub resume: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct TrainTeacherArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Train N teachers (seeds seed..seed+N-1) into DIR/member-<i> as an ensemble.
    #[arg(long, value_name = "N")]
    pub members: Option<usize>,
}

#[derive(Debug, Clone, Args, Serialize)]
pub struct DistillOnly {
    /// Teacher run folder (repeat for an ensemble; a folder of member-* is an ensemble; a student run folder teaches too).
    #[arg(long, value_name = "DIR")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub teacher: Vec<PathBuf>,
    /// Cached teacher logits (NPY + .json sidecar): read when present, else written.
    #[arg(long, value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher_logits: Option<PathBuf>,
    /// Distillation temperature T.
    #[arg(long, value_name = "T")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Weight of the soft term (T^2-scaled cross-entropy to the teacher's soft targets).
    #[arg(long, value_name = "W")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soft_weight: Option<f32>,
    /// Weight of the hard term (cross-entropy to the labels at T=1).
    #[arg(long, value_name = "W")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hard_weight: Option<f32>,
    /// soft: match softened probabilities; logit-matching: match zero-meaned logits (MSE).
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<DistillMode>,
    /// Ignore the transfer set's labels (requires --hard-weight 0).
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unlabeled: bool,
    /// Drop these classes from the transfer set, e.g. 3.
    #[arg(long, value_name = "C,...", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omit_classes: Option<Vec<u8>>,
    /// Raise the output bias of classes absent from the transfer set by this amount.
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_class_bias: Option<f32>,
    /// The classes --missing-class-bias applies to (default: those absent from the labels).
    #[arg(long, value_name = "C,...", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_classes: Option<Vec<u8>>,
    /// Start from this run folder's trained weights (same architecture flags) instead of a
    /// fresh init.
    #[arg(long, value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_from: Option<PathBuf>,
    /// Quantization-aware training: train through the int8 rounding of weights and
    /// activations (with --init-from: fine-tune a trained student for int8).
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub qat: bool,
    /// QAT's activation calibration percentile (as export's --percentile; min/max if unset).
    #[arg(long, value_name = "PERCENT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qat_percentile: Option<f64>,
    /// QAT calibrates on at most this many training samples (as export's
    /// --calibration-samples).
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qat_calibration_samples: Option<usize>,
}

#[derive(Debug, Clone, Args)]
pub struct DistillArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub distill: DistillOnly,
}

#[derive(Debug, Clone, Args)]
pub struct ResumeArgs {
    /// The run folder of the killed run.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct FingerprintArgs {
    /// Teacher run folder (or ensemble folder).
    #[arg(value_name = "DIR")]
    pub teacher: PathBuf,
}

fn table_of<T: Serialize>(v: &T) -> Result<toml::Table> {
    toml::Table::try_from(v).map_err(|e| Error::Usage(format!("cannot combine the flags: {e}")))
}

/// The config table the flags of a training command stand for.
fn flags_table(data: &DataArgs, common: &CommonArgs) -> Result<toml::Table> {
    let mut t = table_of(common)?;
    if let Some(spec) = data.spec()? {
        t.insert(
            "data".into(),
            toml::Value::try_from(spec).map_err(|e| Error::Usage(e.to_string()))?,
        );
    } else if data.shape.is_some() || data.classes.is_some() {
        return Err(Error::Usage(
            "--shape and --classes go with a data file (--csv, --idx, --npy)".into(),
        ));
    }
    Ok(t)
}

/// Resolves the `train-teacher` flags (and config file) into a config.
pub fn teacher_config(a: &TrainTeacherArgs) -> Result<TeacherConfig> {
    let mut t = flags_table(&a.data, &a.common)?;
    if let Some(m) = a.members {
        t.insert("members".into(), toml::Value::Integer(m as i64));
    }
    config::resolve(a.common.config.as_deref(), t)
}

/// Resolves the `distill` flags (and config file) into a config.
pub fn distill_config(a: &DistillArgs) -> Result<DistillConfig> {
    let mut t = flags_table(&a.data, &a.common)?;
    t.extend(table_of(&a.distill)?);
    config::resolve(a.common.config.as_deref(), t)
}

fn resume_dir(common: &CommonArgs) -> Option<(PathBuf, Option<bool>)> {
    common
        .resume
        .clone()
        .map(|d| (d, common.quiet.then_some(true)))
}

/// Runs a parsed command.
pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::TrainTeacher(a) => {
            if let Some((dir, quiet)) = resume_dir(&a.common) {
                train::resume(&dir, quiet)?;
                return Ok(());
            }
            let cfg = teacher_config(&a)?;
            train::train_teacher(&cfg)?;
        }
        Command::Distill(a) => {
            if let Some((dir, quiet)) = resume_dir(&a.common) {
                train::resume(&dir, quiet)?;
                return Ok(());
            }
            let cfg = distill_config(&a)?;
            train::distill(&cfg)?;
        }
        Command::Resume(a) => {
            train::resume(&a.dir, a.quiet.then_some(true))?;
        }
        Command::TeacherFingerprint(a) => {
            println!("{}", train::teacher_fingerprint(&a.teacher)?);
        }
        Command::Export(a) => {
            crate::export::run_export(&a).map_err(|e| Error::Artifact {
                path: a.run_dir.clone(),
                message: e.to_string(),
            })?;
        }
        Command::Verify(a) => crate::verify::run(&a)?,
        Command::AdoptLogits(a) => {
            crate::adopt::run(&a)?;
        }
        Command::Run(a) => crate::pipeline::run_command(&a)?,
    }
    Ok(())
}

/// Parses `args` (including the program name) and runs; returns the exit status.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors exit with 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match execute(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// The binary's `main`: no Rust backtraces, `error: …` messages, exit status 0/1/2.
pub fn main() -> i32 {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        let at = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error: {msg}{at}");
    }));
    std::panic::catch_unwind(|| run(std::env::args_os())).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("minnow").chain(args.iter().copied())).expect("parses")
    }

    #[test]
    fn hidden_without_a_value_means_none_and_lr_schedule_parses() -> Result<()> {
        let Command::Distill(a) = parse(&[
            "distill",
            "--teacher",
            "t",
            "--arch",
            "cnn",
            "--hidden",
            "--lr-schedule",
            "cosine",
        ])
        .command
        else {
            panic!("not distill")
        };
        let c = distill_config(&a)?;
        assert!(c.hidden.is_empty());
        assert_eq!(c.lr_schedule, crate::config::LrSchedule::Cosine);
        // and it survives the config.toml round trip (an empty list, not the default)
        let back: config::DistillConfig =
            toml::from_str(&config::to_toml(&c)?).map_err(|e| Error::Config(e.to_string()))?;
        assert!(back.hidden.is_empty());
        assert_eq!(back.lr_schedule, crate::config::LrSchedule::Cosine);
        Ok(())
    }

    /// The QAT flags reach the config and its saved `config.toml` (which resume and export
    /// read back); a config file's relative `init_from` is taken from the file's folder.
    #[test]
    fn quantization_aware_flags() -> Result<()> {
        let Command::Distill(a) = parse(&[
            "distill",
            "--init-from",
            "runs/base",
            "--qat",
            "--qat-percentile",
            "99.9",
            "--qat-calibration-samples",
            "500",
        ])
        .command
        else {
            panic!("not distill")
        };
        let c = distill_config(&a)?;
        assert_eq!(
            c.init_from.as_deref(),
            Some(std::path::Path::new("runs/base"))
        );
        assert!(c.qat);
        assert_eq!(c.qat_percentile, Some(99.9));
        assert_eq!(c.qat_calibration_samples, 500);
        let back: config::DistillConfig =
            toml::from_str(&config::to_toml(&c)?).map_err(|e| Error::Config(e.to_string()))?;
        assert_eq!(back, c);
        let plain = distill_config(&match parse(&["distill"]).command {
            Command::Distill(a) => a,
            _ => panic!("not distill"),
        })?;
        assert!(!plain.qat && plain.init_from.is_none());

        let dir = tempfile::tempdir().map_err(|e| Error::io("tmp", e))?;
        let file = dir.path().join("q.toml");
        std::fs::write(&file, "init_from = \"base\"\nqat = true\n")
            .map_err(|e| Error::io(&file, e))?;
        let c: config::DistillConfig = config::resolve(Some(&file), toml::Table::new())?;
        assert_eq!(c.init_from, Some(dir.path().join("base")));
        Ok(())
    }

    #[test]
    fn flags_override_config_file() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tmp", e))?;
        let cfg = dir.path().join("d.toml");
        std::fs::write(&cfg, "temperature = 8.0\nhidden = [64]\nepochs = 3\nteacher = [\"t\"]\n[data]\nkind = \"csv\"\npath = \"x.csv\"\n").map_err(|e| Error::io(&cfg, e))?;
        let Command::Distill(a) = parse(&[
            "distill",
            "--config",
            cfg.to_str().unwrap_or_default(),
            "--temperature",
            "2",
            "--hard-weight",
            "0.5",
            "--quiet",
        ])
        .command
        else {
            panic!("not distill")
        };
        let c = distill_config(&a)?;
        assert_eq!(c.temperature, 2.0);
        assert_eq!(c.hidden, vec![64]);
        assert_eq!(c.epochs, 3);
        assert_eq!(c.hard_weight, 0.5);
        assert!(c.quiet);
        // Relative paths in the file are anchored at the file's folder.
        assert_eq!(c.teacher, vec![dir.path().join("t")]);
        assert!(
            matches!(&c.data, crate::data::DataSpec::Csv { path, .. } if path == &dir.path().join("x.csv"))
        );
        // The resolved config round-trips through TOML (as saved in config.toml).
        let text = config::to_toml(&c)?;
        let back: DistillConfig =
            toml::from_str(&text).map_err(|e| Error::Config(e.to_string()))?;
        assert_eq!(back, c);
        // A flag for the data source replaces the file's.
        let Command::Distill(a) = parse(&[
            "distill",
            "--config",
            cfg.to_str().unwrap_or_default(),
            "--data",
            "digits",
        ])
        .command
        else {
            panic!()
        };
        assert_eq!(distill_config(&a)?.data, crate::data::DataSpec::Digits);
        Ok(())
    }

    #[test]
    fn config_file_errors_name_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let cfg = dir.path().join("bad.toml");
        std::fs::write(&cfg, "temprature = 3.0\n").expect("write");
        let Command::Distill(a) =
            parse(&["distill", "--config", cfg.to_str().unwrap_or_default()]).command
        else {
            panic!()
        };
        let e = distill_config(&a).expect_err("unknown key");
        let msg = e.to_string();
        assert!(
            msg.contains("bad.toml") && msg.contains("temprature"),
            "{msg}"
        );
    }

    #[test]
    fn exit_codes() {
        assert_eq!(run(["minnow", "--help"]), 0);
        assert_eq!(run(["minnow", "distill", "--help"]), 0);
        assert_eq!(run(["minnow", "train-teacher", "--help"]), 0);
        assert_eq!(run(["minnow", "distill", "--no-such-flag"]), 2);
        assert_eq!(
            run(["minnow", "distill", "--csv", "a", "--data", "digits"]),
            2
        );
        assert_eq!(run(["minnow", "distill", "--data", "nope", "--quiet"]), 2);
        // A missing file is a failure (1), not a usage error.
        assert_eq!(
            run([
                "minnow",
                "distill",
                "--csv",
                "/nonexistent/x.csv",
                "--soft-weight",
                "0",
                "--hard-weight",
                "1",
                "--quiet",
                "--out",
                "/tmp/minnow-cli-test-unused"
            ]),
            1
        );
        assert_eq!(
            run(["minnow", "teacher-fingerprint", "/nonexistent/teacher"]),
            1
        );
    }
}
