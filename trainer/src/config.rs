//! Run configurations: everything a run needs, serialisable as TOML.
//!
//! Every command-line flag has a config key of the same name (dashes become underscores):
//! `--soft-weight 0.5` is `soft_weight = 0.5`. A run resolves its config as defaults, then the
//! `--config FILE.toml` values, then the flags given on the command line (flags win), and saves
//! the result as `config.toml` in its run folder. Unknown keys are errors.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::data::{self, DataError, DataSpec, Dataset, MnistSplit, Splits};
use crate::error::{Error, Result};
use crate::loss::DistillMode;
use crate::model::{Arch, ArchParams};

/// Which burn backend runs the training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// burn-ndarray on the CPU (the default build).
    #[default]
    Ndarray,
    /// burn's pure-Rust Flex CPU backend (cargo feature `flex`).
    Flex,
    /// wgpu on the default GPU (cargo feature `wgpu`).
    Wgpu,
    /// CUDA device 0 (cargo feature `cuda`).
    Cuda,
}

/// How the learning rate moves over a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// The same rate for every step.
    #[default]
    Constant,
    /// Half a cosine from the rate down to 0 over all the run's steps.
    Cosine,
}

impl LrSchedule {
    /// The rate of step `step` (0-based, counted over the whole run) of `total` steps. A pure
    /// function of the step, so a resumed run continues on the same curve.
    pub fn rate(self, base: f64, step: usize, total: usize) -> f64 {
        match self {
            LrSchedule::Constant => base,
            LrSchedule::Cosine => {
                let t = step as f64 / total.max(1) as f64;
                base * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

/// Data selection and splitting, shared by all commands.
///
/// MNIST (`DataSpec::Mnist` with `split = "train"`) uses its official split: the training
/// files give the training and validation splits, and the test split is the official
/// 10,000-image t10k set (`test_fraction` is not used). Every other source is split into
/// train / validation / test by `val_fraction`, `test_fraction` and `split_seed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    pub data: DataSpec,
    /// Fraction of the data held out for validation (per-epoch metrics).
    pub val_fraction: f32,
    /// Fraction held out for the final test metrics (not used when the data comes with a
    /// separate test set, see [`DataConfig::separate_test`]).
    pub test_fraction: f32,
    /// Seed of the (stratified) split. Keep it equal for a teacher and its students, so the
    /// student's test set was never seen by the teacher.
    pub split_seed: u64,
    /// Use only the first N training samples (a reduced training/transfer set).
    pub train_limit: Option<usize>,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            data: DataSpec::Digits,
            val_fraction: 0.1,
            test_fraction: 0.2,
            split_seed: 0,
            train_limit: None,
        }
    }
}

impl DataConfig {
    /// The separate test set that comes with the data, if any: the official t10k files for
    /// MNIST's training files. `None` for every other source (they are carved by fractions).
    pub fn separate_test(&self) -> Option<DataSpec> {
        match &self.data {
            DataSpec::Mnist {
                dir,
                split: MnistSplit::Train,
            } => Some(DataSpec::Mnist {
                dir: dir.clone(),
                split: MnistSplit::Test,
            }),
            _ => None,
        }
    }

    /// Splits the loaded `data` (of `self.data`) into train / validation / test. With a
    /// separate test set, `data` is split into train and validation only (by `val_fraction`
    /// and `split_seed`) and the test split is the separate set, loaded here; otherwise all
    /// three are carved out of `data`. `train_limit` is left to the caller.
    pub fn split(&self, data: &Dataset) -> std::result::Result<Splits, DataError> {
        let Some(spec) = self.separate_test() else {
            return data::split(data, self.val_fraction, self.test_fraction, self.split_seed);
        };
        let s = data::split(data, self.val_fraction, 0.0, self.split_seed)?;
        let test = data::load(&spec)?;
        if test.shape != data.shape || test.classes != data.classes {
            return Err(DataError::Invalid {
                name: test.name.clone(),
                reason: format!(
                    "the test set has {:?} samples of {} classes; the training data has {:?} and {}",
                    test.shape, test.classes, data.shape, data.classes
                ),
            });
        }
        Ok(Splits {
            train: s.train,
            val: s.val,
            test,
        })
    }
}

/// Settings of the training loop, shared by teachers and students.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub lr_schedule: LrSchedule,
    /// L2 weight decay (Adam).
    pub weight_decay: f32,
    /// Random input shifts of up to this many pixels (0 = off).
    pub jitter: usize,
    /// Seeds weight init, shuffling, dropout and jitter.
    pub seed: u64,
    pub device: DeviceChoice,
    /// No progress bar or per-epoch log lines.
    pub quiet: bool,
}

/// `minnow train-teacher`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TeacherConfig {
    /// Run folder.
    pub out: PathBuf,
    pub data: DataSpec,
    /// Fraction of the data held out for validation (per-epoch metrics).
    pub val_fraction: f32,
    /// Fraction held out for the final test metrics.
    pub test_fraction: f32,
    /// Seed of the stratified split; keep it equal for a teacher and its students.
    pub split_seed: u64,
    /// Use only the first N training samples (a reduced training / transfer set).
    pub train_limit: Option<usize>,
    pub arch: Arch,
    pub hidden: Vec<usize>,
    pub channels: Vec<usize>,
    pub dropout: f32,
    pub relu6: bool,
    /// Train this many teachers (seeds `seed`, `seed+1`, ...) into `out/member-<i>` as an ensemble.
    pub members: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub lr_schedule: LrSchedule,
    pub weight_decay: f32,
    pub jitter: usize,
    pub seed: u64,
    pub device: DeviceChoice,
    pub quiet: bool,
}

impl Default for TeacherConfig {
    fn default() -> Self {
        TeacherConfig {
            out: PathBuf::from("runs/teacher"),
            data: DataSpec::Digits,
            val_fraction: 0.1,
            test_fraction: 0.2,
            split_seed: 0,
            train_limit: None,
            arch: Arch::Mlp,
            hidden: vec![256, 256],
            channels: vec![16, 32],
            dropout: 0.2,
            relu6: false,
            members: 1,
            epochs: 60,
            batch_size: 64,
            learning_rate: 3e-3,
            lr_schedule: LrSchedule::Constant,
            weight_decay: 1e-4,
            jitter: 1,
            seed: 0,
            device: DeviceChoice::Ndarray,
            quiet: false,
        }
    }
}

/// `minnow distill` (also hard-label baselines: `soft_weight = 0`, `hard_weight = 1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DistillConfig {
    pub out: PathBuf,
    pub data: DataSpec,
    /// Fraction of the data held out for validation (per-epoch metrics).
    pub val_fraction: f32,
    /// Fraction held out for the final test metrics.
    pub test_fraction: f32,
    /// Seed of the stratified split; keep it equal for a teacher and its students.
    pub split_seed: u64,
    /// Use only the first N training samples (a reduced training / transfer set).
    pub train_limit: Option<usize>,
    /// Teacher run folders (a folder with `member-*` sub-folders is an ensemble; a student run
    /// folder teaches too, e.g. an ensemble of students or a born-again student). Several
    /// teachers form an ensemble whose soft targets are the average of their probabilities.
    pub teacher: Vec<PathBuf>,
    /// Cached teacher logits for the whole dataset (see `cache.rs`); used when the file exists.
    pub teacher_logits: Option<PathBuf>,
    pub temperature: f32,
    pub soft_weight: f32,
    pub hard_weight: f32,
    pub mode: DistillMode,
    /// Train on the transfer set without its labels (then `hard_weight` must be 0).
    pub unlabeled: bool,
    /// Remove these classes from the transfer set (Hinton et al.'s omitted-digit experiment).
    pub omit_classes: Vec<u8>,
    /// Raise the output bias of classes absent from the transfer set by this much.
    pub missing_class_bias: Option<f32>,
    /// The classes `missing_class_bias` applies to (default: those absent from the labels).
    pub missing_classes: Vec<u8>,
    /// Start from the trained weights of this run folder (a student's `student.bpk`, or a
    /// teacher's) and its input normalisation instead of a fresh init; the architecture
    /// settings must describe the same network. With `qat`: fine-tune a trained student for
    /// int8.
    pub init_from: Option<PathBuf>,
    /// Quantization-aware training ([`crate::qat`]): the forward pass rounds weights and
    /// activations to the exporter's int8 grids, gradients pass straight through.
    pub qat: bool,
    /// QAT's activation calibration: a two-sided percentile (as `minnow export --percentile`);
    /// min/max when unset. Export with the same setting.
    pub qat_percentile: Option<f64>,
    /// QAT's activation calibration: at most this many training samples (as `minnow export
    /// --calibration-samples`).
    pub qat_calibration_samples: usize,
    pub arch: Arch,
    pub hidden: Vec<usize>,
    pub channels: Vec<usize>,
    pub dropout: f32,
    pub relu6: bool,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub lr_schedule: LrSchedule,
    pub weight_decay: f32,
    pub jitter: usize,
    pub seed: u64,
    pub device: DeviceChoice,
    pub quiet: bool,
}

impl Default for DistillConfig {
    fn default() -> Self {
        DistillConfig {
            out: PathBuf::from("runs/student"),
            data: DataSpec::Digits,
            val_fraction: 0.1,
            test_fraction: 0.2,
            split_seed: 0,
            train_limit: None,
            teacher: Vec::new(),
            teacher_logits: None,
            temperature: 3.0,
            soft_weight: 1.0,
            hard_weight: 0.0,
            mode: DistillMode::Soft,
            unlabeled: false,
            omit_classes: Vec::new(),
            missing_class_bias: None,
            missing_classes: Vec::new(),
            init_from: None,
            qat: false,
            qat_percentile: None,
            qat_calibration_samples: 1000,
            arch: Arch::Mlp,
            hidden: vec![32],
            channels: vec![8, 16],
            dropout: 0.0,
            relu6: false,
            epochs: 60,
            batch_size: 32,
            learning_rate: 3e-3,
            lr_schedule: LrSchedule::Constant,
            weight_decay: 0.0,
            jitter: 0,
            seed: 0,
            device: DeviceChoice::Ndarray,
            quiet: false,
        }
    }
}

/// The three views every run config gives of itself: its data split, its architecture and
/// its training loop. One body for [`TeacherConfig`] and [`DistillConfig`], whose fields of the
/// same names stay flat (their config.toml files are flat, `deny_unknown_fields` rules out
/// `serde(flatten)`).
macro_rules! run_config_views {
    ($($config:ty),+) => {$(
        impl $config {
            pub fn data_config(&self) -> DataConfig {
                DataConfig {
                    data: self.data.clone(),
                    val_fraction: self.val_fraction,
                    test_fraction: self.test_fraction,
                    split_seed: self.split_seed,
                    train_limit: self.train_limit,
                }
            }

            pub fn arch_params(&self) -> ArchParams {
                ArchParams {
                    arch: self.arch,
                    hidden: self.hidden.clone(),
                    channels: self.channels.clone(),
                    dropout: self.dropout,
                    relu6: self.relu6,
                }
            }

            pub fn loop_config(&self) -> LoopConfig {
                LoopConfig {
                    epochs: self.epochs,
                    batch_size: self.batch_size,
                    learning_rate: self.learning_rate,
                    lr_schedule: self.lr_schedule,
                    weight_decay: self.weight_decay,
                    jitter: self.jitter,
                    seed: self.seed,
                    device: self.device,
                    quiet: self.quiet,
                }
            }
        }
    )+};
}
run_config_views!(TeacherConfig, DistillConfig);

/// Resolves a config: defaults < `file` < `flags` (a table of the flags actually given).
/// Relative paths in the file are taken relative to the file's folder.
pub fn resolve<T: DeserializeOwned + Serialize + Default>(
    file: Option<&Path>,
    flags: toml::Table,
) -> Result<T> {
    let mut table = toml::Table::new();
    if let Some(path) = file {
        let text = crate::error::read_to_string(path)?;
        let mut from_file: toml::Table = toml::from_str(&text).map_err(|e| Error::ConfigFile {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        anchor_paths(&mut from_file, base);
        // Check the file on its own first, so that its mistakes are reported against it.
        toml::Value::Table(from_file.clone())
            .try_into::<T>()
            .map_err(|e| Error::ConfigFile {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        table = from_file;
    }
    for (k, v) in flags {
        table.insert(k, v);
    }
    toml::Value::Table(table)
        .try_into::<T>()
        .map_err(|e| Error::Config(format!("invalid settings: {e}")))
}

/// Joins the relative paths of a config file table onto the file's folder.
fn anchor_paths(table: &mut toml::Table, base: &Path) {
    let fix = |v: &mut toml::Value| {
        if let toml::Value::String(s) = v {
            let p = Path::new(s.as_str());
            if p.is_relative() {
                *s = base.join(p).to_string_lossy().into_owned();
            }
        }
    };
    for key in ["out", "teacher_logits", "init_from"] {
        if let Some(v) = table.get_mut(key) {
            fix(v);
        }
    }
    if let Some(toml::Value::Array(a)) = table.get_mut("teacher") {
        a.iter_mut().for_each(fix);
    }
    if let Some(toml::Value::Table(d)) = table.get_mut("data") {
        for key in ["dir", "images", "labels", "path", "features"] {
            if let Some(v) = d.get_mut(key) {
                fix(v);
            }
        }
    }
}

/// Serialises a config as TOML.
pub fn to_toml<T: Serialize>(cfg: &T) -> Result<String> {
    toml::to_string_pretty(cfg)
        .map_err(|e| Error::Config(format!("cannot write the config as TOML: {e}")))
}

/// Reads a saved `config.toml`.
pub fn load_toml<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = crate::error::read_to_string(path)?;
    toml::from_str(&text).map_err(|e| Error::ConfigFile {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Makes the paths of a data spec absolute (so a saved config works from any directory).
pub fn absolute_data(spec: &DataSpec) -> DataSpec {
    let cwd = std::env::current_dir().unwrap_or_default();
    spec.resolve_relative_to(&cwd)
}

/// `std::path::absolute`, falling back to the path itself.
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IDX file of `u8` values with the given dimensions.
    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 0x08, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn mnist_test_split_is_the_official_t10k_set()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        // 40 training images filled with 1..=40, 12 test images filled with 200..212.
        let (n_train, n_test, px) = (40u32, 12u32, 4u32);
        let pixels = |n: u32, base: u8| -> Vec<u8> {
            (0..n)
                .flat_map(|i| std::iter::repeat_n(base + i as u8, (px * px) as usize))
                .collect()
        };
        let labels = |n: u32| -> Vec<u8> { (0..n).map(|i| (i % 10) as u8).collect() };
        for (name, bytes) in [
            (
                "train-images-idx3-ubyte",
                idx(&[n_train, px, px], &pixels(n_train, 1)),
            ),
            ("train-labels-idx1-ubyte", idx(&[n_train], &labels(n_train))),
            (
                "t10k-images-idx3-ubyte",
                idx(&[n_test, px, px], &pixels(n_test, 200)),
            ),
            ("t10k-labels-idx1-ubyte", idx(&[n_test], &labels(n_test))),
        ] {
            std::fs::write(dir.path().join(name), bytes)?;
        }
        let dc = DataConfig {
            data: DataSpec::Mnist {
                dir: dir.path().to_owned(),
                split: MnistSplit::Train,
            },
            val_fraction: 0.25,
            test_fraction: 0.2,
            split_seed: 3,
            train_limit: None,
        };
        let data = data::load(&dc.data)?;
        let s = dc.split(&data)?;
        // The test split is the whole t10k set, in file order.
        assert_eq!(
            s.test,
            data::load(&dc.separate_test().ok_or("no test set")?)?
        );
        assert_eq!(s.test.len(), n_test as usize);
        assert!(s.test.features.iter().all(|&v| v >= 200.0));
        // Train and validation partition the training files (test_fraction is not used).
        assert_eq!(s.val.len(), 10);
        assert_eq!(s.train.len() + s.val.len(), n_train as usize);
        let mut seen: Vec<f32> = s
            .train
            .features
            .iter()
            .chain(&s.val.features)
            .step_by((px * px) as usize)
            .copied()
            .collect();
        seen.sort_by(f32::total_cmp);
        assert_eq!(seen, (1..=n_train).map(|v| v as f32).collect::<Vec<_>>());

        // The t10k files themselves (split = "test") and other sources are carved as before.
        let t10k = DataConfig {
            data: DataSpec::Mnist {
                dir: dir.path().to_owned(),
                split: MnistSplit::Test,
            },
            ..dc.clone()
        };
        assert_eq!(t10k.separate_test(), None);
        let digits = DataConfig::default();
        assert_eq!(digits.separate_test(), None);
        let d = data::load(&digits.data)?;
        let s = digits.split(&d)?;
        assert_eq!(
            s,
            data::split(
                &d,
                digits.val_fraction,
                digits.test_fraction,
                digits.split_seed
            )?
        );
        Ok(())
    }

    #[test]
    fn cosine_schedule_runs_from_the_rate_to_zero() {
        let c = LrSchedule::Cosine;
        assert_eq!(c.rate(1e-3, 0, 100), 1e-3);
        assert!((c.rate(1e-3, 50, 100) - 5e-4).abs() < 1e-12);
        assert!(c.rate(1e-3, 99, 100) < 1e-6);
        assert!((1..100).all(|k| c.rate(1.0, k, 100) < c.rate(1.0, k - 1, 100)));
        assert_eq!(LrSchedule::Constant.rate(2e-3, 77, 100), 2e-3);
    }
}
