//! Datasets for distillation: loading (built-in digits, IDX/MNIST, CSV, NPY),
//! deterministic splitting and the single global input normalisation that
//! the device applies.
//!
//! Features are kept as raw `f32` values (not normalised) in row-major
//! `[n, height, width, channels]` order; labels, when present, are `u8`.
//! Compressed inputs are recognised by the gzip magic bytes, never by the
//! file extension.

mod csv;
mod error;
mod idx;
mod norm;
mod npy;
pub mod npy_format;
mod prepare;
mod split;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fingerprint;

pub use csv::{CsvOptions, load_csv};
pub use error::{DataError, Location};
pub use idx::{MnistSplit, load_idx, load_idx_with_classes, load_mnist_dir};
pub use norm::Standardizer;
pub use npy::{load_npy, load_npy_with_classes};
pub use prepare::DataConfig;
pub use split::{SplitIndices, Splits, split, split_indices};

/// The UCI optdigits test part (1797 samples of 8×8 pixels, values 0..=16,
/// label last), gzip-compressed CSV. See `trainer/data/README.md`.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

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
    /// or `1u8` followed by the label bytes. The name is not hashed.
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
        fingerprint::hex(&h.finalize())
    }
}

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
    /// A CSV file: features, then the label (unless `has_labels = false`).
    Csv {
        path: PathBuf,
        #[serde(default = "default_true")]
        has_labels: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shape: Option<[usize; 3]>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classes: Option<usize>,
    },
    /// An NPY features array and an optional 1-D NPY labels array.
    Npy {
        features: PathBuf,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        labels: Option<PathBuf>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classes: Option<usize>,
    },
}

fn default_true() -> bool {
    true
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
            DataSpec::Csv {
                path,
                has_labels,
                shape,
                classes,
            } => DataSpec::Csv {
                path: fix(path),
                has_labels: *has_labels,
                shape: *shape,
                classes: *classes,
            },
            DataSpec::Npy {
                features,
                labels,
                classes,
            } => DataSpec::Npy {
                features: fix(features),
                labels: labels.as_ref().map(fix),
                classes: *classes,
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
        } => load_idx_with_classes(images, labels.as_deref(), *classes),
        DataSpec::Csv {
            path,
            has_labels,
            shape,
            classes,
        } => load_csv(
            path,
            &CsvOptions {
                has_labels: *has_labels,
                shape: *shape,
                classes: *classes,
            },
        ),
        DataSpec::Npy {
            features,
            labels,
            classes,
        } => load_npy_with_classes(features, labels.as_deref(), *classes),
    }
}

/// The embedded default: UCI optdigits (test part), 1797 samples of shape
/// `[8, 8, 1]` with values 0..=16, 10 classes. Needs no files at run time.
pub fn builtin_digits() -> Result<Dataset, DataError> {
    let path = Path::new("<built-in digits.csv.gz>");
    let bytes = decode_bytes(path, DIGITS_CSV_GZ.to_vec())?;
    let mut data = csv::parse_csv(
        path,
        &bytes,
        &CsvOptions {
            has_labels: true,
            shape: Some([8, 8, 1]),
            classes: Some(10),
        },
    )?;
    data.name = "digits".to_owned();
    Ok(data)
}

/// Gzip member magic (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The bytes of a file, decompressed if it starts with the gzip magic.
pub(crate) struct FileBytes {
    pub bytes: Vec<u8>,
    /// Whether `bytes` came out of gzip.
    pub decompressed: bool,
}

/// Reads `path` once, decompressing it when it starts with the gzip magic.
/// Errors on an empty file (before or after decompression).
pub(crate) fn read_file(path: &Path) -> Result<FileBytes, DataError> {
    let raw = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })?;
    let decompressed = raw.starts_with(&GZIP_MAGIC);
    let bytes = decode_bytes(path, raw)?;
    Ok(FileBytes {
        bytes,
        decompressed,
    })
}

/// Gunzips `raw` if it has the gzip magic, else returns it unchanged.
fn decode_bytes(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>, DataError> {
    if raw.is_empty() {
        return Err(DataError::Empty {
            path: path.to_owned(),
            what: "file is empty",
        });
    }
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    // The gzip trailer holds the uncompressed size mod 2^32: a good capacity
    // hint for single-member files; capped so a forged trailer cannot make us
    // reserve absurd amounts up front.
    let hint = raw
        .len()
        .checked_sub(4)
        .and_then(|at| raw.get(at..))
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map_or(0, |t| u32::from_le_bytes(t) as usize)
        .min(raw.len().saturating_mul(64));
    let mut out = Vec::with_capacity(hint);
    flate2::read::MultiGzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|source| DataError::Decompress {
            path: path.to_owned(),
            source,
        })?;
    if out.is_empty() {
        return Err(DataError::Empty {
            path: path.to_owned(),
            what: "file is empty after gzip decompression",
        });
    }
    Ok(out)
}

/// `digits.csv.gz` → `digits`, `train-images-idx3-ubyte.gz` →
/// `train-images-idx3-ubyte`, `x.npy` → `x`.
pub(crate) fn file_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".to_owned());
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_owned(),
        _ => name.to_owned(),
    }
}

/// Checks labels against `classes` (when given) and returns the class count:
/// `classes`, or max label + 1. `loc(i)` says where label `i` sits in `path`.
pub(crate) fn check_labels(
    path: &Path,
    labels: &[u8],
    classes: Option<usize>,
    loc: impl Fn(usize) -> Location,
) -> Result<usize, DataError> {
    match classes {
        Some(classes) => {
            if let Some(i) = labels.iter().position(|&l| usize::from(l) >= classes) {
                return Err(DataError::LabelOutOfRange {
                    path: path.to_owned(),
                    location: loc(i),
                    label: i128::from(labels[i]),
                    limit: classes,
                });
            }
            Ok(classes)
        }
        None => Ok(labels
            .iter()
            .map(|&l| usize::from(l) + 1)
            .max()
            .unwrap_or(0)),
    }
}

/// Where MNIST lives for the tests that need it: `$MINNOW_MNIST_DIR`, else
/// `../shared/data/mnist` relative to the workspace root. `Err` says why
/// it is not available.
#[cfg(test)]
pub(crate) fn test_mnist_dir() -> Result<PathBuf, String> {
    let (dir, from) = match std::env::var_os("MINNOW_MNIST_DIR") {
        Some(dir) => (PathBuf::from(dir), "MINNOW_MNIST_DIR"),
        // CARGO_MANIFEST_DIR is trainer/; the workspace root is its parent.
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/mnist"),
            "the default ../shared/data/mnist (set MINNOW_MNIST_DIR to override)",
        ),
    };
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!(
            "MNIST directory {} from {from} does not exist",
            dir.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_builtin() {
        let d = builtin_digits().expect("built-in digits");
        assert_eq!(d.name, "digits");
        assert_eq!(d.len(), 1797);
        assert_eq!(d.shape, [8, 8, 1]);
        assert_eq!(d.dim(), 64);
        assert_eq!(d.classes, 10);
        assert!(
            d.features
                .iter()
                .all(|&v| (0.0..=16.0).contains(&v) && v.fract() == 0.0)
        );
        assert_eq!(d.features.iter().copied().fold(f32::MIN, f32::max), 16.0);
        let counts = d.class_counts().expect("labeled");
        assert_eq!(counts.len(), 10);
        assert_eq!(counts.iter().sum::<usize>(), 1797);
        assert!(
            counts.iter().all(|&c| (170..=190).contains(&c)),
            "{counts:?}"
        );
        // First row of the file, for orientation: label 0.
        assert_eq!(d.label(0), Some(0));
        assert_eq!(&d.sample(0)[..4], &[0.0, 0.0, 5.0, 13.0]);
    }

    #[test]
    fn digits_fingerprint_is_stable() {
        let d = builtin_digits().expect("built-in digits");
        let fp = d.fingerprint();
        assert_eq!(fp.len(), 64);
        // Pinned: caches key on this, so the scheme must not drift.
        assert_eq!(fp, DIGITS_FINGERPRINT);
        // Sensitive to labels, features and shape; not to the name.
        assert_ne!(d.without_labels().fingerprint(), fp);
        let mut renamed = d.clone();
        renamed.name = "other".into();
        assert_eq!(renamed.fingerprint(), fp);
        let mut tweaked = d.clone();
        tweaked.features[100] += 1.0;
        assert_ne!(tweaked.fingerprint(), fp);
        let mut reshaped = d.clone();
        reshaped.shape = [1, 64, 1];
        assert_ne!(reshaped.fingerprint(), fp);
    }

    const DIGITS_FINGERPRINT: &str =
        "f9e7491811ac47289c8d7644827790669a64786b92ceaf92784f2fb535f78c8e";

    #[test]
    fn subset_and_without_labels() {
        let d = builtin_digits().expect("built-in digits");
        let s = d.subset(&[5, 0, 5]);
        assert_eq!(s.len(), 3);
        assert_eq!(s.sample(0), d.sample(5));
        assert_eq!(s.sample(1), d.sample(0));
        assert_eq!(
            s.labels.as_deref(),
            Some(
                &[
                    d.labels.as_ref().expect("l")[5],
                    d.labels.as_ref().expect("l")[0],
                    d.labels.as_ref().expect("l")[5]
                ][..]
            )
        );
        assert_eq!(s.classes, 10);
        let u = s.without_labels();
        assert!(u.labels.is_none());
        assert_eq!(u.features, s.features);
        assert!(d.subset(&[]).is_empty());
    }

    #[test]
    fn dataset_new_validates() {
        assert!(Dataset::new("ok", vec![0.0; 8], Some(vec![0, 1]), [2, 2, 1], 2).is_ok());
        for bad in [
            Dataset::new("x", vec![0.0; 7], None, [2, 2, 1], 2),
            Dataset::new("x", vec![0.0; 8], Some(vec![0]), [2, 2, 1], 2),
            Dataset::new("x", vec![0.0; 8], Some(vec![0, 2]), [2, 2, 1], 2),
            Dataset::new("x", vec![], None, [0, 2, 1], 2),
        ] {
            assert!(matches!(bad, Err(DataError::Invalid { .. })), "{bad:?}");
        }
    }

    #[test]
    fn file_stems() {
        assert_eq!(file_stem(Path::new("a/digits.csv.gz")), "digits");
        assert_eq!(
            file_stem(Path::new("train-images-idx3-ubyte.gz")),
            "train-images-idx3-ubyte"
        );
        assert_eq!(file_stem(Path::new("x.npy")), "x");
        assert_eq!(file_stem(Path::new(".hidden")), ".hidden");
    }

    #[test]
    fn gzip_detected_by_magic_not_extension() -> Result<(), Box<dyn std::error::Error>> {
        use std::io::Write;
        let dir = tempfile::tempdir()?;
        let plain = dir.path().join("looks.gz");
        std::fs::write(&plain, b"1,2,0\n")?;
        let gz = dir.path().join("looks.csv");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"1,2,0\n")?;
        std::fs::write(&gz, enc.finish()?)?;
        for p in [&plain, &gz] {
            let f = read_file(p)?;
            assert_eq!(f.bytes, b"1,2,0\n");
            assert_eq!(f.decompressed, p == &gz);
        }
        Ok(())
    }

    #[test]
    fn empty_and_missing_files() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let empty = dir.path().join("empty.bin");
        std::fs::write(&empty, b"")?;
        let err = read_file(&empty).err().ok_or("expected an error")?;
        assert!(matches!(err, DataError::Empty { .. }), "{err}");
        assert!(err.to_string().contains("empty.bin"), "{err}");

        let missing = dir.path().join("missing.csv");
        let err = read_file(&missing).err().ok_or("expected an error")?;
        assert!(matches!(err, DataError::Io { .. }), "{err}");
        assert!(err.to_string().contains("missing.csv"), "{err}");

        // A truncated gzip stream.
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&[7u8; 10_000])?;
        let gz = enc.finish()?;
        let cut = dir.path().join("cut.gz");
        std::fs::write(&cut, &gz[..gz.len() / 2])?;
        let err = read_file(&cut).err().ok_or("expected an error")?;
        assert!(matches!(err, DataError::Decompress { .. }), "{err}");
        assert!(err.to_string().contains("cut.gz"), "{err}");
        Ok(())
    }

    #[test]
    fn dataspec_toml_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct Cfg {
            data: DataSpec,
        }
        let specs = [
            DataSpec::Digits,
            DataSpec::Mnist {
                dir: "data/mnist".into(),
                split: MnistSplit::Test,
            },
            DataSpec::Idx {
                images: "a.idx".into(),
                labels: Some("b.idx".into()),
                classes: None,
            },
            DataSpec::Csv {
                path: "x.csv".into(),
                has_labels: false,
                shape: Some([4, 4, 1]),
                classes: Some(3),
            },
            DataSpec::Npy {
                features: "f.npy".into(),
                labels: None,
                classes: Some(10),
            },
        ];
        for spec in specs {
            let cfg = Cfg { data: spec };
            let text = toml::to_string(&cfg)?;
            let back: Cfg = toml::from_str(&text)?;
            assert_eq!(back, cfg, "{text}");
        }
        // Defaults: split = train, has_labels = true.
        let cfg: Cfg = toml::from_str("[data]\nkind = \"mnist\"\ndir = \"m\"\n")?;
        assert_eq!(
            cfg.data,
            DataSpec::Mnist {
                dir: "m".into(),
                split: MnistSplit::Train
            }
        );
        let cfg: Cfg = toml::from_str("[data]\nkind = \"csv\"\npath = \"x.csv\"\n")?;
        assert!(matches!(
            cfg.data,
            DataSpec::Csv {
                has_labels: true,
                shape: None,
                classes: None,
                ..
            }
        ));
        assert!(toml::from_str::<Cfg>("[data]\nkind = \"csv\"\npath = \"x\"\ntypo = 1\n").is_err());
        let cfg: Cfg = toml::from_str("[data]\nkind = \"digits\"\n")?;
        assert_eq!(load(&cfg.data)?.len(), 1797);
        Ok(())
    }

    #[test]
    fn resolve_relative() {
        let spec = DataSpec::Npy {
            features: "f.npy".into(),
            labels: Some("/abs/l.npy".into()),
            classes: None,
        };
        assert_eq!(
            spec.resolve_relative_to(Path::new("/cfg")),
            DataSpec::Npy {
                features: "/cfg/f.npy".into(),
                labels: Some("/abs/l.npy".into()),
                classes: None,
            }
        );
    }
}

/// No input makes a loader panic: random bytes and randomly corrupted valid
/// files only ever give `Ok` or `Err`.
#[cfg(test)]
mod robustness {
    use super::*;
    use proptest::prelude::*;

    fn valid_files() -> Vec<Vec<u8>> {
        let idx = idx::idx_u8_bytes(&[3, 2, 2], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        let f32s: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let npy = npy::npy_bytes("<f4", &[2, 2], &f32s);
        let csv = b"a,b,label\n1,2,0\n3,4,1\n".to_vec();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, &idx).expect("in-memory gzip");
        let gz = enc.finish().expect("in-memory gzip");
        vec![idx, npy, csv, gz]
    }

    fn try_all(bytes: &[u8]) -> Result<(), TestCaseError> {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let p = dir.path().join("fuzz.bin");
        std::fs::write(&p, bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let labels = dir.path().join("labels.bin");
        std::fs::write(&labels, idx::idx_u8_bytes(&[3], &[0, 1, 2]))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let _ = load_idx(&p, None);
        let _ = load_idx(&p, Some(&labels));
        let _ = load_idx(&labels, Some(&p));
        let _ = load_npy(&p, None);
        let _ = load_npy(&p, Some(&p));
        let _ = load_csv(&p, &CsvOptions::default());
        let _ = load_csv(
            &p,
            &CsvOptions {
                has_labels: false,
                shape: Some([1, 1, 1]),
                classes: Some(2),
            },
        );
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            try_all(&bytes)?;
        }

        #[test]
        fn corrupted_files_never_panic(
            which in 0usize..4,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
            do_cut in any::<bool>(),
        ) {
            let mut bytes = valid_files().swap_remove(which);
            for (at, v) in edits {
                let i = at.index(bytes.len());
                bytes[i] = v;
            }
            if do_cut {
                let n = cut.index(bytes.len() + 1);
                bytes.truncate(n);
            }
            try_all(&bytes)?;
        }
    }
}
