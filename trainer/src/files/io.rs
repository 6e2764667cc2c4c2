//! Reading and writing single files, with the path in every error. Writes are atomic: the bytes
//! go to a temporary file beside the target (`.minnow-*.tmp`), synced, then renamed over it, so
//! a reader (or a killed run) sees the old file or the new one, never half of one.

use std::io::Write;
use std::path::{Path, PathBuf};

/// An I/O failure on a named file or folder.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct IoError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl IoError {
    pub fn new(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        IoError {
            path: path.as_ref().to_owned(),
            source,
        }
    }
}

/// A file written beside its target and not yet renamed over it; dropped, it is deleted.
#[derive(Debug)]
pub struct Staged {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl Staged {
    /// Renames the staged file over its target.
    pub fn persist(self) -> Result<(), IoError> {
        let path = self.path;
        super::fault::before_rename();
        self.tmp
            .persist(&path)
            .map_err(|e| IoError::new(&path, e.error))?;
        sync_dir(&path);
        Ok(())
    }
}

/// Writes `bytes` to a temporary file in `path`'s folder, synced to disk.
pub fn stage(path: &Path, bytes: &[u8]) -> Result<Staged, IoError> {
    let io = |source| IoError::new(path, source);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".minnow-").suffix(".tmp");
    // tempfile creates 0600 files; run artefacts are ordinary files that other users and tools
    // read: ask for 0666 and let the umask decide, as `File::create` does.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    Ok(Staged {
        tmp,
        path: path.to_owned(),
    })
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    stage(path, bytes)?.persist()
}

/// Makes a rename in `path`'s folder durable; best effort (not every platform can).
pub(crate) fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}

/// `std::fs::read` with the path in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, IoError> {
    std::fs::read(path).map_err(|e| IoError::new(path, e))
}

/// `std::fs::read_to_string` with the path in the error.
pub fn read_to_string(path: &Path) -> Result<String, IoError> {
    std::fs::read_to_string(path).map_err(|e| IoError::new(path, e))
}

/// `std::fs::create_dir_all` with the path in the error.
pub fn create_dir_all(path: &Path) -> Result<(), IoError> {
    std::fs::create_dir_all(path).map_err(|e| IoError::new(path, e))
}

/// Temporaries a killed writer left in `dir`: this module's `.minnow-*.tmp` and the `.tmpXXXXXX`
/// files older minnows staged with. Only a holder of the folder's lock may remove them
/// ([`super::lock`]): any other writer's would be in use.
pub fn remove_stale_temporaries(dir: &Path) -> Result<Vec<String>, IoError> {
    let mut removed = Vec::new();
    for name in names(dir)? {
        let ours = name.starts_with(".minnow-") && name.ends_with(".tmp");
        let legacy = name.len() == ".tmp".len() + 6 && name.starts_with(".tmp");
        let path = dir.join(&name);
        // A staged link (files::set) is a temporary too; `is_file` would follow it.
        let file_or_link = path
            .symlink_metadata()
            .is_ok_and(|m| m.is_file() || m.file_type().is_symlink());
        if (ours || legacy) && file_or_link {
            std::fs::remove_file(&path).map_err(|e| IoError::new(&path, e))?;
            removed.push(name);
        }
    }
    Ok(removed)
}

/// The names of the entries of folder `dir`, sorted; none when it does not exist.
pub fn names(dir: &Path) -> Result<Vec<String>, IoError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(IoError::new(dir, e)),
    };
    let mut names = entries
        .map(|e| {
            e.map(|e| e.file_name().to_string_lossy().into_owned())
                .map_err(|e| IoError::new(dir, e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    names.sort();
    Ok(names)
}

/// `std::path::absolute` with the path in the error (it fails when the working folder is gone).
pub fn absolute(p: &Path) -> Result<PathBuf, IoError> {
    std::path::absolute(p).map_err(|e| IoError::new(p, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("a.bin");
        write_atomic(&path, b"first").expect("write");
        write_atomic(&path, b"second, longer").expect("overwrite");
        assert_eq!(read(&path).expect("read"), b"second, longer");
        // A staged file that is dropped is deleted, and the target keeps its old bytes.
        drop(stage(&path, b"never").expect("stage"));
        assert_eq!(read(&path).expect("read"), b"second, longer");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["a.bin"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_ne!(
                mode & 0o044,
                0,
                "readable by others as File::create makes it: {mode:o}"
            );
        }
        let e = read(&dir.path().join("missing")).expect_err("missing");
        assert!(e.to_string().contains("missing"), "{e}");
    }
}
