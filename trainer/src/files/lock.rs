//! One writer per run folder. A command that writes a folder holds its lock (an advisory file
//! lock on `DIR/.minnow.lock`, which also names the holder's process) for as long as it runs;
//! a second writer gets [`LockError::Busy`] naming the folder and the holder instead of mixing
//! its files with the first's. The operating system drops the lock when the holder exits, even
//! killed, so a crash never leaves a folder locked. Taking a folder's lock removes the
//! temporaries a killed writer left in it.
//!
//! Within one process the lock is re-entrant: `minnow run` holds its folder while its steps
//! (export, verify) take it again.

use std::collections::HashMap;
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use super::io::{IoError, create_dir_all, remove_stale_temporaries};
use super::set::remove_stale_generations;

/// The lock file in a run folder.
pub const LOCK_FILE: &str = ".minnow.lock";

/// Why a folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{}: in use by another minnow ({holder}); wait for it to finish or use another folder",
        dir.display()
    )]
    Busy { dir: PathBuf, holder: String },
    #[error(transparent)]
    Io(#[from] IoError),
}

/// A lock this process holds.
#[derive(Debug)]
struct Held {
    file: File,
    /// Guards alive (the lock is re-entrant).
    guards: usize,
    /// Whether taking the lock created the folder.
    created: bool,
}

/// The locks this process holds, by folder.
static HELD: Mutex<Option<HashMap<PathBuf, Held>>> = Mutex::new(None);

/// The lock of a folder, held until dropped.
#[derive(Debug)]
pub struct DirLock {
    key: PathBuf,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(map) = held.as_mut()
            && let Some(lock) = map.get_mut(&self.key)
        {
            lock.guards -= 1;
            if lock.guards == 0
                && let Some(lock) = map.remove(&self.key)
            {
                remove_if_untouched(&self.key, lock.created);
                // Closing the file releases the lock.
                drop(lock.file);
            }
        }
    }
}

/// A command refused before it wrote anything leaves nothing behind: the lock file goes
/// (still locked, so no other writer can be between open and lock on it), and the folder too
/// when taking the lock created it.
fn remove_if_untouched(dir: &Path, created: bool) {
    let only_the_lock = std::fs::read_dir(dir)
        .map(|entries| {
            let names: Vec<_> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name())
                .collect();
            names.len() == 1 && names[0] == LOCK_FILE
        })
        .unwrap_or(false);
    if only_the_lock && std::fs::remove_file(dir.join(LOCK_FILE)).is_ok() && created {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Locks `dir` (created if missing) for writing.
pub fn lock(dir: &Path) -> Result<DirLock, LockError> {
    let created = !dir.is_dir();
    create_dir_all(dir)?;
    let key = std::fs::canonicalize(dir).map_err(|e| IoError::new(dir, e))?;
    let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    let map = held.get_or_insert_with(HashMap::new);
    if let Some(lock) = map.get_mut(&key) {
        lock.guards += 1;
        return Ok(DirLock { key });
    }
    let path = key.join(LOCK_FILE);
    let io = |e| IoError::new(&path, e);
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            // The holder wrote its pid; a holder that has not yet done so is still a holder.
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => "a process that has just started".to_owned(),
                pid => format!("pid {pid}"),
            };
            return Err(LockError::Busy {
                dir: dir.to_owned(),
                holder,
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(e).into()),
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    map.insert(
        key.clone(),
        Held {
            file,
            guards: 1,
            created,
        },
    );
    let guard = DirLock { key };
    // The folder is ours: what a killed writer staged there is of no use to anyone.
    remove_stale_temporaries(dir)?;
    remove_stale_generations(dir)?;
    Ok(guard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_locks_once_per_process_and_frees_on_drop() {
        let dir = tempfile::tempdir().expect("tmp");
        let run = dir.path().join("run");
        let a = lock(&run).expect("first");
        let b = lock(&run).expect("re-entrant");
        drop(a);
        drop(b);
        // Nothing was written: the folder the lock created is gone again.
        assert!(!run.exists());
        let again = lock(&run).expect("again");
        let pid = std::fs::read_to_string(run.join(LOCK_FILE)).expect("pid");
        assert_eq!(pid.trim(), std::process::id().to_string());
        std::fs::write(run.join("kept"), b"x").expect("write");
        drop(again);
        // Released: another open file description can take it.
        let f = File::open(run.join(LOCK_FILE)).expect("lock file");
        f.try_lock().expect("free after the last guard");
        assert!(run.join("kept").is_file());
    }
}
