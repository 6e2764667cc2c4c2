//! Run configurations: everything a run needs, serialisable as TOML.
//!
//! Every command-line flag has a config key of the same name (dashes become underscores):
//! `--soft-weight 0.5` is `soft_weight = 0.5`. A run resolves its config as defaults, then the
//! `--config FILE.toml` values, then the flags given on the command line (flags win), and saves
//! the result as `config.toml` in its run folder. Unknown keys are errors.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::data::DataSpec;
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

/// Data selection and splitting, shared by all commands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    pub data: DataSpec,
    /// Fraction of the data held out for validation (per-epoch metrics).
    pub val_fraction: f32,
    /// Fraction held out for the final test metrics.
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

/// Settings of the training loop, shared by teachers and students.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
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
            weight_decay: 1e-4,
            jitter: 1,
            seed: 0,
            device: DeviceChoice::Ndarray,
            quiet: false,
        }
    }
}

impl TeacherConfig {
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
            weight_decay: self.weight_decay,
            jitter: self.jitter,
            seed: self.seed,
            device: self.device,
            quiet: self.quiet,
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
    /// Teacher run folders (a folder with `member-*` sub-folders is an ensemble). Several
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
    pub arch: Arch,
    pub hidden: Vec<usize>,
    pub channels: Vec<usize>,
    pub dropout: f32,
    pub relu6: bool,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
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
            arch: Arch::Mlp,
            hidden: vec![32],
            channels: vec![8, 16],
            dropout: 0.0,
            relu6: false,
            epochs: 60,
            batch_size: 32,
            learning_rate: 3e-3,
            weight_decay: 0.0,
            jitter: 0,
            seed: 0,
            device: DeviceChoice::Ndarray,
            quiet: false,
        }
    }
}

impl DistillConfig {
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
            weight_decay: self.weight_decay,
            jitter: self.jitter,
            seed: self.seed,
            device: self.device,
            quiet: self.quiet,
        }
    }
}

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
    for key in ["out", "teacher_logits"] {
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
