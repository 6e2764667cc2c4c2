//! Files that belong together (an export's blob, golden vectors and reports; a trained model's
//! record, description and summary) appear together or not at all.
//!
//! A set named `NAME` in folder `DIR` lives in a generation folder `DIR/.NAME.XXXXXX`; the symlink
//! `DIR/.NAME` points at the current generation, and each file is reached as `DIR/FILE`, a
//! symlink to `.NAME/FILE`. [`FileSet::commit`] writes a whole new generation, then swaps
//! `DIR/.NAME` with one rename: a reader (or a process killed at any point) sees every file of
//! the old generation or every file of the new one, never some of each. Old generations and
//! unfinished ones are removed by the next commit; only the holder of the folder's lock
//! ([`super::lock`]) writes sets.
//!
//! A folder written by an older minnow holds the files themselves: the first commit moves them
//! into a generation of their own (links to the same bytes, so readers see no change) before it
//! swaps in the new one.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::fault;
use super::io::{IoError, create_dir_all, names, sync_dir, write_atomic};

/// A new generation of set `name` in folder `dir`, being written.
#[derive(Debug)]
pub struct FileSet {
    dir: PathBuf,
    name: String,
    staging: PathBuf,
}

fn symlink(target: &Path, link: &Path) -> Result<(), IoError> {
    std::os::unix::fs::symlink(target, link).map_err(|e| IoError::new(link, e))
}

/// Points `link` at `target` with one rename (a symlink made beside it, then renamed over it).
fn replace_with_symlink(target: &Path, link: &Path) -> Result<(), IoError> {
    let dir = link.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".minnow-link-")
        .suffix(".tmp")
        .make_in(dir, |path| symlink(target, path).map_err(|e| e.source))
        .map_err(|e| IoError::new(dir, e))?;
    fault::before_rename();
    tmp.persist(link).map_err(|e| IoError::new(link, e.error))?;
    Ok(())
}

fn is_symlink(path: &Path) -> bool {
    path.symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
}

impl FileSet {
    /// The link to the current generation.
    fn link(&self) -> PathBuf {
        self.dir.join(format!(".{}", self.name))
    }

    /// Where the set's files point: `.NAME/FILE`.
    fn target(&self, file: &str) -> PathBuf {
        Path::new(&format!(".{}", self.name)).join(file)
    }

    /// Starts a new generation of set `name` in `dir` (created if missing), empty.
    pub fn begin(dir: &Path, name: &str) -> Result<FileSet, IoError> {
        create_dir_all(dir)?;
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .tempdir_in(dir)
            .map_err(|e| IoError::new(dir, e))?
            .keep();
        Ok(FileSet {
            dir: dir.to_owned(),
            name: name.to_owned(),
            staging,
        })
    }

    /// Starts a new generation holding the current one's files (or, in a folder an older minnow
    /// wrote, its files among `legacy`), for a commit that changes some of them.
    pub fn begin_from_current(dir: &Path, name: &str, legacy: &[&str]) -> Result<FileSet, IoError> {
        let set = FileSet::begin(dir, name)?;
        let link = set.link();
        let files: Vec<(String, PathBuf)> = if is_symlink(&link) {
            let current = std::fs::canonicalize(&link).map_err(|e| IoError::new(&link, e))?;
            names(&current)?
                .into_iter()
                .map(|f| (f.clone(), current.join(f)))
                .collect()
        } else {
            legacy
                .iter()
                .map(|f| ((*f).to_owned(), dir.join(f)))
                .filter(|(_, p)| p.is_file())
                .collect()
        };
        for (file, from) in files {
            let to = set.staging.join(&file);
            std::fs::copy(&from, &to).map_err(|e| IoError::new(&from, e))?;
        }
        Ok(set)
    }

    /// The folder the new generation is written in, for writers that need a path.
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// Writes (or replaces) `file` of the new generation.
    pub fn write(&self, file: &str, bytes: &[u8]) -> Result<(), IoError> {
        write_atomic(&self.staging.join(file), bytes)
    }

    /// Makes the new generation the set's current one (see the module docs for the order).
    pub fn commit(self) -> Result<(), IoError> {
        let files = names(&self.staging)?;
        for f in &files {
            let path = self.staging.join(f);
            let file = std::fs::File::open(&path).map_err(|e| IoError::new(&path, e))?;
            file.sync_all().map_err(|e| IoError::new(&path, e))?;
        }
        sync_dir(&self.staging.join("."));
        let link = self.link();
        if !is_symlink(&link) {
            self.adopt_legacy(&files)?;
        }
        // Every file of the new set reachable through the set's link: the old generation's
        // files until the swap, the new one's after (a file only the new set has reads as
        // missing until then, never as another set's).
        for f in &files {
            let target = self.target(f);
            let top = self.dir.join(f);
            if std::fs::read_link(&top).ok().as_deref() != Some(target.as_path()) {
                replace_with_symlink(&target, &top)?;
            }
        }
        let generation = self.staging.file_name().unwrap_or(OsStr::new("."));
        replace_with_symlink(Path::new(generation), &link)?;
        sync_dir(&link);
        self.remove_leftovers(generation)
    }

    /// Moves the files of a folder written before sets existed into a generation of their own
    /// (hard links, or copies where links are not possible: the same bytes), points the set's
    /// link at it and the files' names at the link, so that the swap to come is one rename.
    fn adopt_legacy(&self, files: &[String]) -> Result<(), IoError> {
        let old: Vec<&String> = files
            .iter()
            .filter(|f| {
                let p = self.dir.join(f);
                p.is_file() && !is_symlink(&p)
            })
            .collect();
        let legacy = FileSet::begin(&self.dir, &self.name)?;
        for f in &old {
            let (from, to) = (self.dir.join(f), legacy.staging.join(f));
            if std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to).map_err(|e| IoError::new(&from, e))?;
            }
        }
        let generation = legacy.staging.file_name().unwrap_or(OsStr::new("."));
        replace_with_symlink(Path::new(generation), &self.link())?;
        for f in old {
            replace_with_symlink(&self.target(f), &self.dir.join(f))?;
        }
        Ok(())
    }

    /// After the swap: links to files the new set no longer has, and every other generation
    /// (the old one, and any a killed writer left).
    fn remove_leftovers(&self, current: &OsStr) -> Result<(), IoError> {
        let prefix = format!(".{}.", self.name);
        let link = format!(".{}", self.name);
        for entry in names(&self.dir)? {
            let path = self.dir.join(&entry);
            if entry.starts_with(&prefix) && OsStr::new(&entry) != current && path.is_dir() {
                std::fs::remove_dir_all(&path).map_err(|e| IoError::new(&path, e))?;
            } else if let Ok(target) = std::fs::read_link(&path)
                && target.starts_with(&link)
                && target.components().count() == 2
                && !path.exists()
            {
                std::fs::remove_file(&path).map_err(|e| IoError::new(&path, e))?;
            }
        }
        Ok(())
    }
}

/// Whether `entry` is named as a generation of some set: `.NAME.XXXXXX`. Returns `NAME`.
fn generation_of(entry: &str) -> Option<&str> {
    let rest = entry.strip_prefix('.')?;
    let (name, suffix) = rest.rsplit_once('.')?;
    let named = !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    let random = suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_alphanumeric());
    (named && random).then_some(name)
}

/// Removes the generations in `dir` that no set's link points at: what a writer killed before
/// its commit left (its staging folder), or after its swap (the old generation). Only the holder
/// of the folder's lock may call this (another writer's staging folder would be in use).
pub fn remove_stale_generations(dir: &Path) -> Result<Vec<String>, IoError> {
    let mut removed = Vec::new();
    for entry in names(dir)? {
        let Some(name) = generation_of(&entry) else {
            continue;
        };
        let path = dir.join(&entry);
        let current = std::fs::read_link(dir.join(format!(".{name}")))
            .ok()
            .is_some_and(|target| target.as_os_str() == entry.as_str());
        let is_dir = path.symlink_metadata().is_ok_and(|m| m.is_dir());
        if is_dir && !current {
            std::fs::remove_dir_all(&path).map_err(|e| IoError::new(&path, e))?;
            removed.push(entry);
        }
    }
    Ok(removed)
}

/// Writes `bytes` as `file` of a set in the folder, keeping the set's other files: the
/// read-modify-write of one file of a set.
pub fn replace_in_set(
    dir: &Path,
    name: &str,
    legacy: &[&str],
    files: &[(&str, &[u8])],
) -> Result<(), IoError> {
    let set = FileSet::begin_from_current(dir, name, legacy)?;
    for (file, bytes) in files {
        set.write(file, bytes)?;
    }
    set.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_of(dir: &Path, files: &[(&str, &str)]) {
        let set = FileSet::begin(dir, "export").expect("begin");
        for (f, text) in files {
            set.write(f, text.as_bytes()).expect("write");
        }
        set.commit().expect("commit");
    }

    fn read(dir: &Path, f: &str) -> String {
        std::fs::read_to_string(dir.join(f)).expect("read")
    }

    #[test]
    fn a_set_replaces_the_last_one_whole_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path();
        set_of(d, &[("a", "1"), ("b", "1"), ("gone", "1")]);
        assert_eq!((read(d, "a"), read(d, "b")), ("1".into(), "1".into()));
        set_of(d, &[("a", "2"), ("b", "2"), ("new", "2")]);
        assert_eq!(
            (read(d, "a"), read(d, "b"), read(d, "new")),
            ("2".into(), "2".into(), "2".into())
        );
        // The file the new set dropped is gone, and so is the old generation.
        assert!(!d.join("gone").exists() && !is_symlink(&d.join("gone")));
        let hidden: Vec<String> = names(d)
            .expect("list")
            .into_iter()
            .filter(|n| n.starts_with('.'))
            .collect();
        assert_eq!(hidden.len(), 2, "the link and one generation: {hidden:?}");
        // One file replaced, the rest kept.
        replace_in_set(d, "export", &[], &[("b", b"3")]).expect("replace");
        assert_eq!(
            (read(d, "a"), read(d, "b"), read(d, "new")),
            ("2".into(), "3".into(), "2".into())
        );
    }

    #[test]
    fn generations_no_link_points_at_are_stale() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path();
        set_of(d, &[("a", "1")]);
        // A writer killed while staging left its generation behind.
        let killed = FileSet::begin(d, "export").expect("begin");
        killed.write("a", b"2").expect("write");
        let unfinished = killed.staging().to_owned();
        std::fs::create_dir(d.join(".notes")).expect("a folder of the user's");
        let removed = remove_stale_generations(d).expect("clean");
        assert_eq!(removed.len(), 1, "{removed:?}");
        assert!(!unfinished.exists());
        assert!(d.join(".notes").is_dir());
        assert_eq!(read(d, "a"), "1");
    }

    #[test]
    fn files_an_older_minnow_wrote_become_the_old_generation() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path();
        for f in ["a", "b", "other"] {
            std::fs::write(d.join(f), "old").expect("write");
        }
        replace_in_set(d, "export", &["a", "b"], &[("b", b"new")]).expect("replace");
        assert_eq!((read(d, "a"), read(d, "b")), ("old".into(), "new".into()));
        assert!(is_symlink(&d.join("a")) && is_symlink(&d.join("b")));
        // A file outside the set is not touched.
        assert!(!is_symlink(&d.join("other")));
        assert_eq!(read(d, "other"), "old");
    }

    #[test]
    fn an_unfinished_generation_is_invisible_and_removed_by_the_next_commit() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path();
        set_of(d, &[("a", "1")]);
        let killed = FileSet::begin(d, "export").expect("begin");
        killed.write("a", b"half").expect("write");
        drop(killed);
        assert_eq!(read(d, "a"), "1");
        set_of(d, &[("a", "2")]);
        let hidden = names(d)
            .expect("list")
            .into_iter()
            .filter(|n| n.starts_with(".export."))
            .count();
        assert_eq!(hidden, 1);
    }
}
