//! The trainer's error type. Every message names the file involved (when there is one) and the
//! problem; the stages' own error types are kept whole as sources. `main` prints the message as
//! `error: <message>` and exits with status 1 (2 for usage errors).

use std::path::{Path, PathBuf};

use crate::config::{ConfigError, SettingsError};
use crate::data::DataError;
use crate::device::toolchain::ToolchainError;
use crate::files::{IoError, LockError};
use crate::int8::calibrate::CalibrationError;
use crate::int8::export::ExportError;
use crate::int8::report::ReportError;
use crate::train::cache::CacheError;
use crate::train::onnx::error::OnnxError;

/// A source error of any type.
pub type BoxedError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Io(#[from] IoError),

    /// Another minnow is writing the folder.
    #[error(transparent)]
    Lock(#[from] LockError),

    #[error(transparent)]
    Data(#[from] DataError),

    /// A settings file or the flags could not be read.
    #[error(transparent)]
    Settings(#[from] ConfigError),

    #[error(transparent)]
    Cache(#[from] CacheError),

    /// An ONNX teacher that cannot be loaded or run.
    #[error(transparent)]
    Onnx(#[from] OnnxError),

    #[error(transparent)]
    Report(#[from] ReportError),

    /// No Cortex-M toolchain or QEMU to build and run the firmware with.
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),

    /// An export of a run folder failed (nothing was written).
    #[error("{}: {source}", run.display())]
    Export {
        run: PathBuf,
        #[source]
        source: ExportError,
    },

    /// A setting's value out of what a command can run with.
    #[error(transparent)]
    Invalid(#[from] crate::config::Invalid),

    /// A bad value of a setting (from a flag or a settings file).
    /// A fit budget that no student of the search space meets.
    #[error(transparent)]
    Space(#[from] crate::fit::error::SpaceError),
    /// A student over the run's flash or RAM budget, found before anything trained.
    #[error(
        "the student ({student}) cannot fit, refused before training: {source} (`minnow fit` searches for a student that fits)"
    )]
    Unfit {
        student: String,
        source: crate::int8::budget::BudgetError,
    },
    #[error("{0}")]
    Config(String),

    /// The command line is wrong (exit status 2).
    #[error("{0}")]
    Usage(String),

    /// A file in a run folder (model, checkpoint, record, JSON) that cannot be read as what it
    /// should be.
    #[error("{}: {what}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: BoxedError,
    },

    /// A run folder's file that was read but does not fit (a checkpoint of another network,
    /// a teacher folder without a model, ...).
    #[error("{}: {problem}", path.display())]
    Artifact { path: PathBuf, problem: String },

    /// A line of a JSON-lines file that does not parse.
    #[error("{}: line {line}: {source}", path.display())]
    JsonLine {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },

    /// Values that cannot be written as JSON.
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),

    /// A burn record (weights or optimizer state) that cannot be encoded or loaded.
    #[error("model record: {0}")]
    Record(#[from] burn::store::RecordError),

    /// Tensor values that cannot be read back from burn.
    #[error("tensor data: {0}")]
    TensorData(#[from] burn::tensor::DataError),

    /// A figure (the training curves, `minnow fit`'s Pareto front) could not be drawn.
    #[error("{}: cannot draw the figure: {source}", path.display())]
    Plot {
        path: PathBuf,
        #[source]
        source: BoxedError,
    },

    /// Quantization-aware training could not calibrate its int8 grids.
    #[error("quantization-aware training: {0}")]
    QatCalibration(#[from] CalibrationError),

    /// Teacher logits that minnow-core refuses (an ensemble's average, a prediction).
    #[error("teacher logits of sample {sample}: {source}")]
    TeacherLogits {
        sample: usize,
        #[source]
        source: minnow_core::Error,
    },

    /// A saved record that does not fit the network its model file describes.
    #[error("{}: does not fit {}: {source}", record.display(), model_file.display())]
    RecordMismatch {
        record: PathBuf,
        model_file: PathBuf,
        #[source]
        source: Box<Error>,
    },

    /// A state minnow's own checks rule out (seeing it is a bug in minnow).
    #[error("internal error: {0}")]
    Internal(&'static str),

    /// Training diverged or produced non-finite numbers.
    #[error("training diverged: {0}")]
    Diverged(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<SettingsError> for Error {
    fn from(e: SettingsError) -> Self {
        Error::Settings(ConfigError::Flags(e))
    }
}

impl Error {
    pub fn artifact(path: impl AsRef<Path>, problem: impl Into<String>) -> Self {
        Error::Artifact {
            path: path.as_ref().to_owned(),
            problem: problem.into(),
        }
    }

    pub fn unreadable(
        path: impl AsRef<Path>,
        what: &'static str,
        source: impl Into<BoxedError>,
    ) -> Self {
        Error::Unreadable {
            path: path.as_ref().to_owned(),
            what,
            source: source.into(),
        }
    }

    /// Process exit status for this error: 2 for usage errors, else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}
