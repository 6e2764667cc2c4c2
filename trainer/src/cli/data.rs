//! The data flags every training command takes: one source (built-in digits by default) and
//! what a CSV cannot say itself.

use std::path::PathBuf;

use clap::Args;

use crate::data::{CsvHeader, DataSpec, LabelColumn};
use crate::error::{Error, Result};

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
    /// A CSV file: one sample per line, its features and its label (the last column unless
    /// --label-column says otherwise; integers or class names).
    #[arg(long, value_name = "FILE", group = "source")]
    pub csv: Option<PathBuf>,
    /// Whether the CSV's first line (after --skip-rows) is a header; auto: when a feature field
    /// is not a number.
    #[arg(long, value_name = "auto|yes|no", requires = "csv")]
    pub header: Option<CsvHeader>,
    /// Lines of the CSV to skip before the header or data (a count line, a comment).
    #[arg(long, value_name = "N", requires = "csv")]
    pub skip_rows: Option<usize>,
    /// The CSV's label column: first, last, a number from 1, or a header name.
    #[arg(long, value_name = "N|NAME", requires = "csv")]
    pub label_column: Option<LabelColumn>,
    /// An IDX images file and its IDX labels file.
    #[arg(long, num_args = 2, value_names = ["IMAGES", "LABELS"], group = "source")]
    pub idx: Option<Vec<PathBuf>>,
    /// An NPY features array `(N, H, W[, C])`, `(N, F)` or, with --shape T,1,C, sequences
    /// `(N, T, C)`; and a 1-D NPY labels array.
    #[arg(long, num_args = 2, value_names = ["FEATURES", "LABELS"], group = "source")]
    pub npy: Option<Vec<PathBuf>>,
    /// Sample shape as H,W,C for --csv rows (default 1,F,1) and --npy samples (e.g. T,1,C for
    /// (N, T, C) sequence windows): the same values, read in that shape.
    #[arg(long, value_name = "H,W,C", value_delimiter = ',')]
    pub shape: Option<Vec<usize>>,
    /// Number of classes (default: largest label + 1).
    #[arg(long, value_name = "N")]
    pub classes: Option<usize>,
}

impl DataArgs {
    /// The data source the flags name, if any.
    pub fn spec(&self) -> Result<Option<DataSpec>> {
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
                header: self.header.unwrap_or_default(),
                skip_rows: self.skip_rows.unwrap_or(0),
                label_column: self.label_column.clone().unwrap_or_default(),
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
                shape,
            })
        })
    }
}
