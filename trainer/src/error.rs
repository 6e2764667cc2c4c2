//! The trainer's error type. Every message names the file involved (when there is one) and the
//! problem; `main` prints it as `error: <message>` and exits with status 1 (2 for usage errors).

use std::path::{Path, PathBuf};

use crate::data::DataError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Data(#[from] DataError),

    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A bad setting (from a flag or a config file).
    #[error("{0}")]
    Config(String),

    /// A config file that does not parse.
    #[error("{}: {message}", path.display())]
    ConfigFile { path: PathBuf, message: String },

    /// A saved model, checkpoint or record that cannot be read or does not fit.
    #[error("{}: {message}", path.display())]
    Artifact { path: PathBuf, message: String },

    /// A burn record (de)serialisation failure without a file.
    #[error("model record: {0}")]
    Record(String),

    /// The command line is wrong (exit status 2).
    #[error("{0}")]
    Usage(String),

    /// Training diverged or produced non-finite numbers.
    #[error("training diverged: {0}")]
    Diverged(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_owned(),
            source,
        }
    }

    pub fn artifact(path: impl AsRef<Path>, message: impl std::fmt::Display) -> Self {
        Error::Artifact {
            path: path.as_ref().to_owned(),
            message: message.to_string(),
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

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed, then
/// renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// `std::fs::read` with the path in the error.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// `std::fs::read_to_string` with the path in the error.
pub fn read_to_string(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// `std::fs::create_dir_all` with the path in the error.
pub fn create_dir_all(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))
}
