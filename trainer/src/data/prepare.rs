//! The data stage's settings ([`DataConfig`]) and what a run trains on: the data loaded and
//! split into train / validation / test, the training split cut to `train_limit`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::dataset::Dataset;
use super::error::DataError;
use super::idx::MnistSplit;
use super::norm::NormScope;
use super::source::{DataSpec, load};
use super::split::{Splits, split};
use crate::config::{Invalid, in_range};
use crate::files::{self, IoError};

/// Data selection and splitting, the same for a teacher and its students.
///
/// MNIST (`DataSpec::Mnist` with `split = "train"`) uses its official split: the training
/// files give the training and validation splits, and the test split is the official
/// 10,000-image t10k set (`test_fraction` is not used). Every other source is split into
/// train / validation / test by `val_fraction`, `test_fraction` and `split_seed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataConfig {
    /// Where the samples come from (the `[data]` table).
    #[serde(rename = "data")]
    pub source: DataSpec,
    /// Fraction of the data held out for validation (per-epoch metrics).
    pub val_fraction: f32,
    /// Fraction held out for the final test metrics (not used when the data comes with a
    /// separate test set, see [`DataConfig::separate_test`]).
    pub test_fraction: f32,
    /// Seed of the (stratified) split. Keep it equal for a teacher and its students, so the
    /// student's test set was never seen by the teacher.
    pub split_seed: u64,
    /// Use only the first N training samples (a reduced training / transfer set).
    #[serde(default)]
    pub train_limit: Option<usize>,
    /// Over what the input normalisation's `(mean, std)` pairs are computed; `None`: by the
    /// kind of data ([`NormScope::for_shape`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalization: Option<NormScope>,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            source: DataSpec::Digits,
            val_fraction: 0.1,
            test_fraction: 0.2,
            split_seed: 0,
            train_limit: None,
            normalization: None,
        }
    }
}

impl DataConfig {
    /// Refuses fractions that leave no training data and a `train_limit` of 0.
    pub fn check(&self) -> Result<(), Invalid> {
        in_range("val_fraction", self.val_fraction, 0.0, 0.9)?;
        in_range("test_fraction", self.test_fraction, 0.0, 0.9)?;
        if self.val_fraction + self.test_fraction >= 0.95 {
            return Err(Invalid::new(
                "test_fraction",
                self.test_fraction,
                format!(
                    "with val_fraction {} leaves less than 5% of the data to train on",
                    self.val_fraction
                ),
            ));
        }
        if let Some(n) = self.train_limit {
            in_range("train_limit", n, 1, usize::MAX)?;
        }
        Ok(())
    }

    /// The separate test set that comes with the data, if any: the official t10k files for
    /// MNIST's training files. `None` for every other source (they are carved by fractions).
    pub fn separate_test(&self) -> Option<DataSpec> {
        match &self.source {
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

    /// Splits the loaded `data` (of `self.source`) into train / validation / test. With a
    /// separate test set, `data` is split into train and validation only (by `val_fraction`
    /// and `split_seed`) and the test split is the separate set, loaded here; otherwise all
    /// three are carved out of `data`. `train_limit` is left to [`DataConfig::prepare_loaded`].
    pub fn split(&self, data: &Dataset) -> Result<Splits, DataError> {
        let Some(spec) = self.separate_test() else {
            return split(data, self.val_fraction, self.test_fraction, self.split_seed);
        };
        let s = split(data, self.val_fraction, 0.0, self.split_seed)?;
        let test = load(&spec)?;
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

    /// Loads the data and splits it: the training split (cut to `train_limit`), validation,
    /// test.
    pub fn prepare(&self) -> Result<Splits, DataError> {
        self.prepare_loaded(&load(&self.source)?)
    }

    /// [`DataConfig::prepare`] for data already loaded from `self.source`.
    pub fn prepare_loaded(&self, data: &Dataset) -> Result<Splits, DataError> {
        let invalid = |reason: String| DataError::Invalid {
            name: data.name.clone(),
            reason,
        };
        if data.classes < 2 {
            return Err(invalid(format!(
                "{} classes; training needs labels (or a class count) with at least 2 classes",
                data.classes
            )));
        }
        if data.labels.is_none() {
            return Err(invalid(
                "no labels: the validation and test splits need them (use a labeled dataset with `unlabeled = true` to train on an unlabeled transfer set)".into(),
            ));
        }
        // MNIST: train/val from the training files, test = the official t10k set.
        let mut s = self.split(data)?;
        if let Some(n) = self.train_limit {
            if n == 0 {
                return Err(invalid("train_limit must be at least 1".into()));
            }
            let idx: Vec<usize> = (0..n.min(s.train.len())).collect();
            s.train = s.train.subset(&idx);
        }
        Ok(s)
    }

    /// The same settings with the data's paths made absolute (against the working folder), so
    /// that a saved config works from any folder.
    pub fn absolute(&self) -> Result<DataConfig, IoError> {
        let cwd = files::absolute(Path::new("."))?;
        Ok(DataConfig {
            source: self.source.resolve_relative_to(&cwd),
            ..self.clone()
        })
    }
}
