//! Where a dataset comes from ([`DataSpec`], the `[data]` table of a config) and loading it,
//! the built-in digits included.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::csv::{CsvHeader, CsvOptions, LabelColumn, load_csv, parse_csv};
use super::dataset::Dataset;
use super::error::DataError;
use super::file::decode_bytes;
use super::idx::{MnistSplit, load_idx, load_mnist_dir};
use super::npy::load_npy;

/// The UCI optdigits test part (1797 samples of 8×8 pixels, values 0..=16,
/// label last), gzip-compressed CSV. See `trainer/data/README.md`.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// Where a dataset comes from; lives in the TOML config as e.g.
///
/// ```toml
/// [data]
/// kind = "mnist"
/// dir = "data/mnist"
/// split = "train"
/// ```
///
/// Relative paths are taken as given (relative to the working directory);
/// use [`DataSpec::resolve_relative_to`] to anchor them at a config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataSpec {
    /// The embedded UCI digits (8×8, 10 classes).
    #[default]
    Digits,
    /// A directory with the four MNIST IDX files (raw or gzipped).
    Mnist {
        dir: PathBuf,
        #[serde(default)]
        split: MnistSplit,
    },
    /// An IDX images file and an optional IDX labels file.
    Idx {
        images: PathBuf,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        labels: Option<PathBuf>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classes: Option<usize>,
    },
    /// A CSV file: features and a label column (unless `has_labels = false`).
    Csv {
        path: PathBuf,
        #[serde(default = "default_true")]
        has_labels: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shape: Option<[usize; 3]>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classes: Option<usize>,
        /// `auto`, `yes` or `no`.
        #[serde(default, skip_serializing_if = "CsvHeader::is_auto")]
        header: CsvHeader,
        /// Physical lines skipped before the header or data.
        #[serde(default, skip_serializing_if = "is_zero")]
        skip_rows: usize,
        /// `first`, `last`, a column number from 1, or a header name.
        #[serde(default, skip_serializing_if = "LabelColumn::is_last")]
        label_column: LabelColumn,
    },
    /// An NPY features array and an optional 1-D NPY labels array.
    Npy {
        features: PathBuf,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        labels: Option<PathBuf>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classes: Option<usize>,
        /// Each sample's values read as `[H, W, C]` (same count and order): `[T, 1, C]` makes
        /// `(N, T, C)` windows sequences, which a 3-D array would otherwise be as images.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shape: Option<[usize; 3]>,
    },
}

fn default_true() -> bool {
    true
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl DataSpec {
    /// The same spec with every relative path joined onto `base` (e.g. the
    /// directory of the config file that named it).
    pub fn resolve_relative_to(&self, base: &Path) -> DataSpec {
        let fix = |p: &PathBuf| {
            if p.is_relative() {
                base.join(p)
            } else {
                p.clone()
            }
        };
        match self {
            DataSpec::Digits => DataSpec::Digits,
            DataSpec::Mnist { dir, split } => DataSpec::Mnist {
                dir: fix(dir),
                split: *split,
            },
            DataSpec::Idx {
                images,
                labels,
                classes,
            } => DataSpec::Idx {
                images: fix(images),
                labels: labels.as_ref().map(fix),
                classes: *classes,
            },
            DataSpec::Csv { path, .. } => {
                let mut spec = self.clone();
                if let DataSpec::Csv { path: p, .. } = &mut spec {
                    *p = fix(path);
                }
                spec
            }
            DataSpec::Npy {
                features,
                labels,
                classes,
                shape,
            } => DataSpec::Npy {
                features: fix(features),
                labels: labels.as_ref().map(fix),
                classes: *classes,
                shape: *shape,
            },
        }
    }
}

/// Loads whatever `spec` names.
pub fn load(spec: &DataSpec) -> Result<Dataset, DataError> {
    match spec {
        DataSpec::Digits => builtin_digits(),
        DataSpec::Mnist { dir, split } => load_mnist_dir(dir, *split),
        DataSpec::Idx {
            images,
            labels,
            classes,
        } => load_idx(images, labels.as_deref(), *classes),
        DataSpec::Csv {
            path,
            has_labels,
            shape,
            classes,
            header,
            skip_rows,
            label_column,
        } => load_csv(
            path,
            &CsvOptions {
                has_labels: *has_labels,
                shape: *shape,
                classes: *classes,
                header: *header,
                skip_rows: *skip_rows,
                label_column: label_column.clone(),
            },
        ),
        DataSpec::Npy {
            features,
            labels,
            classes,
            shape,
        } => {
            let data = load_npy(features, labels.as_deref(), *classes)?;
            match shape {
                Some(shape) => reshaped(data, *shape, features),
                None => Ok(data),
            }
        }
    }
}

/// `data` with each sample read as `shape` (the values and their order unchanged), refused
/// when the counts differ.
fn reshaped(mut data: Dataset, shape: [usize; 3], path: &Path) -> Result<Dataset, DataError> {
    if shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(data.dim()) {
        return Err(DataError::ShapeMismatch {
            path: path.to_owned(),
            shape,
            dim: data.dim(),
        });
    }
    data.shape = shape;
    Ok(data)
}

/// The embedded default: UCI optdigits (test part), 1797 samples of shape
/// `[8, 8, 1]` with values 0..=16, 10 classes. Needs no files at run time.
pub fn builtin_digits() -> Result<Dataset, DataError> {
    let path = Path::new("<built-in digits.csv.gz>");
    let bytes = decode_bytes(path, DIGITS_CSV_GZ.to_vec())?;
    let mut data = parse_csv(
        path,
        &bytes,
        &CsvOptions {
            shape: Some([8, 8, 1]),
            classes: Some(10),
            ..CsvOptions::default()
        },
    )?;
    data.name = "digits".to_owned();
    Ok(data)
}
