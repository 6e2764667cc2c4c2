//! The flags of `minnow train-teacher`, `distill`, `resume` and `teacher-fingerprint`, and
//! their resolution into a [`TeacherConfig`] or [`DistillConfig`]: each flag given becomes its
//! config key over the `--config` file's, over the defaults.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::cli::choice::choice;
use crate::cli::data::DataArgs;
use crate::cli::teacher::OnnxFlags;
use crate::config::{self, SettingsError};
use crate::data::NormScope;
use crate::error::{Error, Result};
use crate::net::backend::DeviceChoice;
use crate::net::spec::Arch;
use crate::train::config::{DistillConfig, LrSchedule, TeacherConfig};
use crate::train::loss::DistillMode;
use crate::train::optimizer::OptimizerKind;

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
    /// Input normalisation: one mean and std for all values, per channel, or per value (default:
    /// per channel for images and sequences, per value for tables).
    #[arg(long, value_parser = choice::<NormScope>())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalization: Option<NormScope>,
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
    #[arg(long, value_parser = choice::<Arch>())]
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
    /// Dropout probability on the inputs (Hinton et al. 2012: 0.2).
    #[arg(long, value_name = "P")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_dropout: Option<f32>,
    /// ReLU6 instead of ReLU.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub relu6: bool,
    /// Stride of the first convolution (cnn, dwcnn): 2 halves the activations early.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stride: Option<usize>,
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Learning rate (Adam's or SGD's).
    #[arg(long, value_name = "LR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    /// Learning-rate schedule over the run's steps.
    #[arg(long, value_parser = choice::<LrSchedule>())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr_schedule: Option<LrSchedule>,
    /// Exponential schedule's factor per epoch (Hinton et al. 2012: 0.998).
    #[arg(long, value_name = "F")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr_decay: Option<f64>,
    /// L2 weight decay.
    #[arg(long, value_name = "W")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f32>,
    /// Optimizer: adam, or sgd with momentum.
    #[arg(long, value_parser = choice::<OptimizerKind>())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<OptimizerKind>,
    /// SGD's momentum (after the ramp, with --momentum-start); default 0.9.
    #[arg(long, value_name = "P")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f64>,
    /// SGD's momentum in the first epoch, rising linearly to --momentum over
    /// --momentum-epochs epochs.
    #[arg(long, value_name = "P")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub momentum_start: Option<f64>,
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub momentum_epochs: Option<usize>,
    /// After each step, scale every unit's incoming weight vector down to this L2 norm when
    /// longer (0 = off; Srivastava et al. 2014 used 3-4 with dropout).
    #[arg(long, value_name = "C")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_norm: Option<f32>,
    /// Random input shifts of up to N pixels (0 = off). Default for a teacher: 1 for images
    /// (height and width over 1), 0 for tabular rows and sequences.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter: Option<usize>,
    /// Gaussian input noise of STD standard deviations of each feature (0 = off), for tabular
    /// rows and sequences. The teacher then runs live (no cached logits).
    #[arg(long, value_name = "STD")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<f32>,
    /// Seed of initialisation, shuffling, dropout, jitter and noise.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// burn backend.
    #[arg(long, value_parser = choice::<DeviceChoice>())]
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
    /// Teacher: an ONNX file, or a run folder (repeat for an ensemble; a folder of member-* is an ensemble; a student run folder teaches too).
    #[arg(long, value_name = "DIR|FILE.onnx")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub teacher: Vec<PathBuf>,
    #[command(flatten)]
    #[serde(flatten)]
    pub onnx: OnnxFlags,
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
    #[arg(long, value_parser = choice::<DistillMode>())]
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
    /// Teacher run folder (or ensemble folder), or ONNX file.
    #[arg(value_name = "DIR|FILE.onnx")]
    pub teacher: PathBuf,
    /// An ONNX teacher's fingerprint covers the settings it runs with.
    #[command(flatten)]
    pub onnx: OnnxFlags,
}

fn table_of<T: Serialize>(v: &T) -> Result<toml::Table> {
    Ok(toml::Table::try_from(v).map_err(SettingsError::from)?)
}

/// The config table the flags of a training command stand for.
fn flags_table(data: &DataArgs, common: &CommonArgs) -> Result<toml::Table> {
    let mut t = table_of(common)?;
    if let Some(spec) = data.spec()? {
        t.insert(
            "data".into(),
            toml::Value::try_from(spec).map_err(SettingsError::from)?,
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
    Ok(config::resolve(a.common.config.as_deref(), t)?)
}

/// Resolves the `distill` flags (and config file) into a config.
pub fn distill_config(a: &DistillArgs) -> Result<DistillConfig> {
    let mut t = flags_table(&a.data, &a.common)?;
    t.extend(table_of(&a.distill)?);
    Ok(config::resolve(a.common.config.as_deref(), t)?)
}

/// The run folder `--resume DIR` names, and `--quiet` as an override.
pub(crate) fn resume_dir(common: &CommonArgs) -> Option<(PathBuf, Option<bool>)> {
    common
        .resume
        .clone()
        .map(|d| (d, common.quiet.then_some(true)))
}
