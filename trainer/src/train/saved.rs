//! What a training run leaves in its folder, and how it is read back:
//!
//! * `config.toml`: the resolved settings (`--config config.toml` repeats the run) and
//!   `run.json`: which kind of run the folder holds (`minnow resume` reads both);
//! * `<role>.bpk` (the burn record) and `<role>.toml` ([`ModelFile`]: network, normalisation,
//!   temperature, split), role `teacher` or `student`;
//! * `summary.json`: test-set results and timing ([`Summary`]).

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::config;
use crate::data::{DataConfig, Standardizer};
use crate::error::{Error, Result};
use crate::files::{self, FileSet};
use crate::net::model::Model;
use crate::net::spec::NetSpec;
use crate::plot::curves::write_curves;
use crate::train::class_bias::ShiftReport;
use crate::train::metrics::{EpochMetrics, SplitMetrics};
use crate::train::progress;

/// Which model a run folder holds: its files are named after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Teacher,
    Student,
}

impl Role {
    /// `teacher` or `student`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Teacher => "teacher",
            Role::Student => "student",
        }
    }

    /// `<role>.bpk`, the weights.
    pub fn record_file(self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.bpk", self.name()))
    }

    /// `<role>.toml`, the [`ModelFile`].
    pub fn model_file(self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.toml", self.name()))
    }
}

/// What a saved teacher (or student) carries besides its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub role: Role,
    pub spec: NetSpec,
    /// Input normalisation fitted on the model's training split.
    pub normalization: Standardizer,
    /// The distillation temperature (1 for teachers and hard-label students).
    pub temperature: f32,
    /// The split the model was trained on (to check that a student's test set is unseen).
    pub val_fraction: f32,
    pub test_fraction: f32,
    pub split_seed: u64,
}

impl ModelFile {
    /// The file of a model trained on `data`'s split.
    pub fn new(
        role: Role,
        spec: NetSpec,
        normalization: Standardizer,
        temperature: f32,
        data: &DataConfig,
    ) -> Self {
        ModelFile {
            role,
            spec,
            normalization,
            temperature,
            val_fraction: data.val_fraction,
            test_fraction: data.test_fraction,
            split_seed: data.split_seed,
        }
    }
}

/// A trained model, in memory.
#[derive(Debug, Clone)]
pub struct Trained {
    pub dir: PathBuf,
    pub model: Model,
    pub normalization: Standardizer,
    pub history: Vec<EpochMetrics>,
    pub test: SplitMetrics,
    /// Mean wall-clock seconds per epoch of the epochs run in this process.
    pub seconds_per_epoch: f64,
}

/// `summary.json`.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    pub role: Role,
    pub test: &'a SplitMetrics,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_before_bias: Option<&'a SplitMetrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher_test: Option<&'a SplitMetrics>,
    /// The output bias shift of the classes the transfer set lacked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bias_shift: Option<&'a ShiftReport>,
    pub epochs: usize,
    pub parameters: usize,
    pub seconds_per_epoch: f64,
    pub final_epoch: Option<&'a EpochMetrics>,
}

impl<'a> Summary<'a> {
    /// The summary of a model of `parameters` weights trained for `history`, `test` its
    /// results on the test split (no bias correction, no teacher).
    pub fn new(
        role: Role,
        test: &'a SplitMetrics,
        history: &'a [EpochMetrics],
        seconds_per_epoch: f64,
        parameters: usize,
    ) -> Self {
        Summary {
            role,
            test,
            test_before_bias: None,
            teacher_test: None,
            bias_shift: None,
            epochs: history.len(),
            parameters,
            seconds_per_epoch,
            final_epoch: history.last(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct RunKind {
    kind: Role,
}

/// Creates the run folder with its `config.toml` and `run.json`.
pub fn write_run_files<T: Serialize>(dir: &Path, role: Role, cfg: &T) -> Result<()> {
    files::create_dir_all(dir)?;
    files::write_atomic(&dir.join("config.toml"), config::to_toml(cfg)?.as_bytes())?;
    write_json(&dir.join("run.json"), &RunKind { kind: role })
}

/// The kind of run a folder holds (its `run.json`).
pub fn read_run_kind(dir: &Path) -> Result<Role> {
    let path = dir.join("run.json");
    let kind: RunKind = serde_json::from_slice(&files::read(&path)?)
        .map_err(|e| Error::unreadable(&path, "not a minnow run.json", e))?;
    Ok(kind.kind)
}

/// Pretty JSON with a trailing newline.
pub fn pretty_json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s.into_bytes())
}

/// [`pretty_json`], written atomically.
pub fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<()> {
    Ok(files::write_atomic(path, &pretty_json(v)?)?)
}

/// The name of a trained model's file set (see [`crate::files::set`]).
pub const MODEL_SET: &str = "model";

/// What a finished training run writes, all at once.
#[derive(Debug)]
pub struct TrainedFiles<'a> {
    pub model: &'a Model,
    pub file: &'a ModelFile,
    pub summary: &'a Summary<'a>,
    /// The epochs the curves show, and their title.
    pub history: &'a [EpochMetrics],
    pub title: &'a str,
    /// More files of the set (a student's `student.float.json`).
    pub extra: &'a [(&'a str, Vec<u8>)],
    pub quiet: bool,
}

/// Writes a trained model's files into `dir` as one set: `<role>.bpk`, `<role>.toml`,
/// `summary.json`, `curves.png`, `curves.svg` and the extra files appear together or not at
/// all.
pub fn save_trained(dir: &Path, t: &TrainedFiles<'_>) -> Result<()> {
    let set = FileSet::begin(dir, MODEL_SET)?;
    let role = t.file.role.name();
    set.write(&format!("{role}.bpk"), &t.model.record_bytes()?)?;
    set.write(&format!("{role}.toml"), config::to_toml(t.file)?.as_bytes())?;
    set.write("summary.json", &pretty_json(t.summary)?)?;
    for (name, bytes) in t.extra {
        set.write(name, bytes)?;
    }
    let points: Vec<_> = t.history.iter().map(EpochMetrics::curve_point).collect();
    if let Err((path, e)) = write_curves(set.staging(), &points, t.title) {
        progress::log(
            t.quiet,
            &format!("warning: {}: cannot draw the curves: {e}", path.display()),
        );
    }
    set.commit()?;
    Ok(())
}

/// Loads one saved model folder (`<role>.bpk` + `<role>.toml`) onto `device`.
pub fn load_model(dir: &Path, role: Role, device: &Device) -> Result<(Model, ModelFile)> {
    let toml_path = role.model_file(dir);
    let file: ModelFile = toml::from_str(&files::read_to_string(&toml_path)?)
        .map_err(|e| Error::unreadable(&toml_path, "not a minnow model file", e))?;
    let bpk = role.record_file(dir);
    let bytes = files::read(&bpk)?;
    let model = Model::from_record_bytes(file.spec.clone(), &bytes, device).map_err(|e| {
        Error::RecordMismatch {
            record: bpk,
            model_file: toml_path,
            source: Box::new(e),
        }
    })?;
    Ok((model, file))
}
