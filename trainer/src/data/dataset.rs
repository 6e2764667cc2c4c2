//! [`Dataset`]: samples as raw `f32` features in row-major `[n, height, width, channels]` order,
//! with optional `u8` labels, and the fingerprint that identifies them in caches.

use std::fmt;

use sha2::{Digest, Sha256};

use super::error::DataError;
use crate::fingerprint;

/// A set of samples with optional labels.
#[derive(Clone, PartialEq)]
pub struct Dataset {
    /// e.g. `"digits"`, or the stem of the file it came from.
    pub name: String,
    /// `len() * dim()` values, row-major, raw (not normalised).
    pub features: Vec<f32>,
    /// One label per sample; `None` for an unlabeled transfer set.
    pub labels: Option<Vec<u8>>,
    /// `[height, width, channels]` of one sample; `dim()` is the product.
    pub shape: [usize; 3],
    /// Number of classes. `0` means "unknown" (an unlabeled set loaded
    /// without an explicit class count).
    pub classes: usize,
    /// The name of each class, when the file gave names (a CSV's string labels); empty when
    /// classes are only numbers.
    pub class_names: Vec<String>,
}

impl fmt::Debug for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The feature vector can hold tens of millions of values: summarise.
        f.debug_struct("Dataset")
            .field("name", &self.name)
            .field("len", &self.len())
            .field("shape", &self.shape)
            .field("classes", &self.classes)
            .field("labeled", &self.labels.is_some())
            .finish_non_exhaustive()
    }
}

impl Dataset {
    /// Builds a dataset after checking that its parts agree: `shape` has no
    /// zero dimension, `features.len()` is a multiple of the sample size,
    /// there is one label per sample and every label is `< classes`.
    pub fn new(
        name: impl Into<String>,
        features: Vec<f32>,
        labels: Option<Vec<u8>>,
        shape: [usize; 3],
        classes: usize,
    ) -> Result<Self, DataError> {
        let name = name.into();
        let invalid = |reason: String| DataError::Invalid {
            name: name.clone(),
            reason,
        };
        let dim = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| invalid(format!("shape {shape:?} overflows")))?;
        if dim == 0 {
            return Err(invalid(format!("shape {shape:?} has a zero dimension")));
        }
        if !features.len().is_multiple_of(dim) {
            return Err(invalid(format!(
                "{} feature values are not a multiple of the sample size {dim}",
                features.len()
            )));
        }
        let n = features.len() / dim;
        if let Some(labels) = &labels {
            if labels.len() != n {
                return Err(invalid(format!("{n} samples but {} labels", labels.len())));
            }
            if let Some((i, &l)) = labels
                .iter()
                .enumerate()
                .find(|&(_, &l)| usize::from(l) >= classes)
            {
                return Err(invalid(format!(
                    "label {l} of sample {i} is not < classes = {classes}"
                )));
            }
        }
        Ok(Self {
            name,
            features,
            labels,
            shape,
            classes,
            class_names: Vec::new(),
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        match self.dim() {
            0 => 0,
            dim => self.features.len() / dim,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per sample: `height * width * channels`.
    pub fn dim(&self) -> usize {
        self.shape.iter().product()
    }

    /// The features of sample `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn sample(&self, i: usize) -> &[f32] {
        let dim = self.dim();
        &self.features[i * dim..(i + 1) * dim]
    }

    /// The label of sample `i`, if the set is labeled.
    ///
    /// # Panics
    /// If the set is labeled and `i >= self.len()`.
    pub fn label(&self, i: usize) -> Option<u8> {
        self.labels.as_ref().map(|l| l[i])
    }

    /// A new dataset holding the given samples, in the given order
    /// (repetitions allowed). Name, shape and classes are kept.
    ///
    /// # Panics
    /// If an index is `>= self.len()`.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let dim = self.dim();
        let mut features = Vec::with_capacity(indices.len() * dim);
        for &i in indices {
            features.extend_from_slice(self.sample(i));
        }
        let labels = self
            .labels
            .as_ref()
            .map(|l| indices.iter().map(|&i| l[i]).collect());
        Dataset {
            name: self.name.clone(),
            features,
            labels,
            shape: self.shape,
            classes: self.classes,
            class_names: self.class_names.clone(),
        }
    }

    /// The same samples without labels (a transfer set); `classes` is kept.
    pub fn without_labels(&self) -> Dataset {
        Dataset {
            name: self.name.clone(),
            features: self.features.clone(),
            labels: None,
            shape: self.shape,
            classes: self.classes,
            class_names: self.class_names.clone(),
        }
    }

    /// Samples per class (`classes` entries); `None` when unlabeled.
    pub fn class_counts(&self) -> Option<Vec<usize>> {
        let labels = self.labels.as_ref()?;
        let mut counts = vec![
            0usize;
            self.classes.max(
                labels
                    .iter()
                    .map(|&l| usize::from(l) + 1)
                    .max()
                    .unwrap_or(0)
            )
        ];
        for &l in labels {
            counts[usize::from(l)] += 1;
        }
        Some(counts)
    }

    /// Lower-case hex SHA-256 that identifies the data, for caches.
    ///
    /// Hashed, in order: the tag `b"minnow-dataset-v1\0"`; the three shape
    /// entries, `classes` and the sample count, each as `u64` little endian;
    /// every feature as `f32` little-endian bytes; then `0u8` when unlabeled,
    /// or `1u8` followed by the label bytes; then, only when there are class names, each name's
    /// byte length as `u64` little endian and its bytes. The name is not hashed.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"minnow-dataset-v1\0");
        for v in [
            self.shape[0],
            self.shape[1],
            self.shape[2],
            self.classes,
            self.len(),
        ] {
            h.update((v as u64).to_le_bytes());
        }
        // Hash through a buffer: one `update` per value is much slower.
        let mut buf = [0u8; 16 * 1024];
        for chunk in self.features.chunks(buf.len() / 4) {
            for (dst, v) in buf.chunks_exact_mut(4).zip(chunk) {
                dst.copy_from_slice(&v.to_le_bytes());
            }
            h.update(&buf[..chunk.len() * 4]);
        }
        match &self.labels {
            None => h.update([0u8]),
            Some(labels) => {
                h.update([1u8]);
                h.update(labels);
            }
        }
        for name in &self.class_names {
            h.update((name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
        }
        fingerprint::hex(&h.finalize())
    }
}
