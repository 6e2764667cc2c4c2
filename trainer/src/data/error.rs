//! The one error type of the data module.
//!
//! Every variant that comes from a file names that file, and, where the
//! problem sits at a definite place, says where: a 1-based line (and field)
//! for CSV, a byte offset for IDX and NPY. Byte offsets count from the start
//! of the *decompressed* stream when the file is gzip-compressed.

use std::fmt;
use std::path::PathBuf;

/// Where in a file a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A 1-based line of a text file, with the 1-based field when known.
    Line { line: usize, field: Option<usize> },
    /// A byte offset into the (decompressed) file.
    Offset(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line {
                line,
                field: Some(field),
            } => write!(f, "line {line}, field {field}"),
            Location::Line { line, field: None } => write!(f, "line {line}"),
            Location::Offset(offset) => write!(f, "byte offset {offset}"),
        }
    }
}

/// Everything that can go wrong while loading, splitting or normalising data.
#[derive(thiserror::Error, Debug)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{}: cannot read file: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file starts with the gzip magic but does not decompress.
    #[error("{}: gzip data is corrupt or truncated: {source}", path.display())]
    Decompress {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file (after decompression) is empty or holds no samples.
    #[error("{}: {what}", path.display())]
    Empty { path: PathBuf, what: &'static str },

    /// The file does not start with the magic number of its format.
    #[error("{}: wrong magic at byte offset {offset}: expected {expected}, found {found}", path.display())]
    BadMagic {
        path: PathBuf,
        offset: u64,
        expected: String,
        found: String,
    },

    /// The file is shorter than its header promises.
    #[error(
        "{}: truncated file: expected {expected} bytes{}, found {actual}",
        path.display(),
        if *decompressed { " (after gzip decompression)" } else { "" }
    )]
    Truncated {
        path: PathBuf,
        expected: u64,
        actual: u64,
        decompressed: bool,
    },

    /// The file is longer than its header promises.
    #[error(
        "{}: {} unexpected trailing byte(s) from byte offset {expected} on: expected {expected} bytes{}, found {actual}",
        path.display(),
        actual - expected,
        if *decompressed { " (after gzip decompression)" } else { "" }
    )]
    TrailingBytes {
        path: PathBuf,
        expected: u64,
        actual: u64,
        decompressed: bool,
    },

    /// A header (IDX dimensions, NPY dictionary) is malformed.
    #[error("{}: bad header at byte offset {offset}: {reason}", path.display())]
    BadHeader {
        path: PathBuf,
        offset: u64,
        reason: String,
    },

    /// A well-formed file that uses a feature this loader does not support
    /// (big-endian NPY, Fortran order, a structured dtype, ...).
    #[error("{}: unsupported: {reason}", path.display())]
    Unsupported { path: PathBuf, reason: String },

    /// The features file and the labels file disagree on the sample count.
    #[error(
        "sample count mismatch: {} has {features} samples but {} has {labels} labels",
        features_path.display(),
        labels_path.display()
    )]
    CountMismatch {
        features_path: PathBuf,
        features: usize,
        labels_path: PathBuf,
        labels: usize,
    },

    /// A label is negative, `>= classes`, or does not fit in a `u8` (`> 255`).
    #[error(
        "{}: {location}: label {label} out of range: labels must be in 0..{limit}{}",
        path.display(),
        if *limit == 256 { " (labels are stored as u8)" } else { "" }
    )]
    LabelOutOfRange {
        path: PathBuf,
        location: Location,
        label: i128,
        /// The exclusive upper bound that was violated (`classes`, or 256).
        limit: usize,
    },

    /// A label that is not an integer (e.g. `3.5`).
    #[error("{}: {location}: label '{value}' is not a non-negative integer", path.display())]
    InvalidLabel {
        path: PathBuf,
        location: Location,
        value: String,
    },

    /// An integral label too large to be any class (`1e40`).
    #[error("{}: {location}: label '{value}' is too large: labels must be in 0..256 (they are stored as u8)", path.display())]
    LabelTooLarge {
        path: PathBuf,
        location: Location,
        value: String,
    },

    /// A CSV row with the wrong number of fields.
    #[error("{}: line {line} has {found} fields, expected {expected} (as line {first} has)", path.display())]
    RaggedRow {
        path: PathBuf,
        line: usize,
        found: usize,
        expected: usize,
        /// The line that set the count.
        first: usize,
    },

    /// The first data row of a CSV file disagrees with the line taken as its header (often a
    /// count line some exporters write before the real header or data).
    #[error(
        "{}: line {header_line} was taken as the header ({header_fields} fields: {header:?}), but line {line}, the first data row, has {found} fields; if line {header_line} is not a header, skip it with --skip-rows {header_line} (and say --header yes or no if needed)",
        path.display()
    )]
    HeaderMismatch {
        path: PathBuf,
        header_line: usize,
        header: String,
        header_fields: usize,
        line: usize,
        found: usize,
    },

    /// A CSV field that is not a number.
    #[error("{}: line {line}, field {field}: '{value}' is not a number", path.display())]
    NonNumeric {
        path: PathBuf,
        line: usize,
        field: usize,
        value: String,
    },

    /// A CSV file that is not valid UTF-8.
    #[error("{}: line {line} is not valid UTF-8", path.display())]
    InvalidUtf8 { path: PathBuf, line: usize },

    /// A NaN or infinite feature value, or one too large for the `f32` features are
    /// held in (it would become infinite).
    #[error("{}: {location}: {}", path.display(), describe_non_finite(*value))]
    NonFinite {
        path: PathBuf,
        location: Location,
        value: f64,
    },

    /// An explicit shape does not match the number of features per sample.
    #[error(
        "{}: shape {shape:?} has {} elements but each sample has {dim} features",
        path.display(),
        shape.iter().product::<usize>()
    )]
    ShapeMismatch {
        path: PathBuf,
        shape: [usize; 3],
        dim: usize,
    },

    /// No MNIST file of the expected name in the directory.
    #[error("{}: no MNIST file {name} (or {name}.gz) in this directory", dir.display())]
    MnistFileMissing { dir: PathBuf, name: &'static str },

    /// A dataset in memory is inconsistent (e.g. `Dataset::new` arguments).
    #[error("dataset '{name}': {reason}")]
    Invalid { name: String, reason: String },

    /// The training features have a standard deviation of 0 (or one that is
    /// not a normal positive `f32`), so `(x - mean) / std` is undefined.
    #[error(
        "dataset '{name}': features have standard deviation {std} (all values ≈ {mean}); cannot normalise"
    )]
    ZeroStd { name: String, mean: f32, std: f64 },

    /// Bad fractions or a dataset too small for the requested split.
    #[error("cannot split dataset '{name}': {reason}")]
    InvalidSplit { name: String, reason: String },
}

/// `non-finite value NaN`, or for a finite `f64` beyond `f32`'s range, that it is too large,
/// in scientific notation (1e300 has 301 digits written out).
fn describe_non_finite(value: f64) -> String {
    if value.is_finite() {
        format!(
            "value {value:e} is too large: features are f32, whose largest magnitude is {:e}",
            f32::MAX
        )
    } else {
        format!("non-finite value {value}")
    }
}
