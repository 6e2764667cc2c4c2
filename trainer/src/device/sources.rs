//! The firmware sources this binary carries (embedded by trainer/build.rs: the firmware package
//! and minnow-core, with a workspace manifest for minnow-core), written out into a cache so
//! that `minnow verify` builds the firmware without a checkout.
//!
//! Layout of the cache (`$MINNOW_CACHE_DIR`, else `$XDG_CACHE_HOME/minnow`, else
//! `~/.cache/minnow`):
//!
//! * `sources/<key>/`: `Cargo.toml` (minnow-core's workspace), `shared/`, `firmware/`. The key
//!   is a hash of everything carried, so a binary with other sources gets another folder and
//!   a folder, once there, never changes. It is written into a temporary folder beside it
//!   and renamed into place: a reader sees all of it or none, and two verifies extracting at
//!   once both end up with one complete folder.
//! * `target/`: the firmware's cargo target folder, shared by every key, so that a later
//!   verify (or another binary) reuses the build.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::files::IoError;

mod carried {
    include!(concat!(env!("OUT_DIR"), "/firmware_sources.rs"));
}

/// A set of sources to write out: (path in the tree, contents) and the workspace manifest.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub files: &'a [(&'a str, &'a [u8])],
    pub workspace_manifest: &'a str,
}

/// The sources this binary carries.
pub const CARRIED: Sources<'static> = Sources {
    files: carried::FILES,
    workspace_manifest: carried::WORKSPACE_MANIFEST,
};

impl Sources<'_> {
    /// 16 hex digits of a SHA-256 over every path and content (and the manifest).
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        let mut part = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        part(self.workspace_manifest.as_bytes());
        for (path, bytes) in self.files {
            part(path.as_bytes());
            part(bytes);
        }
        h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The tree under `cache/sources/<key>`, written if it is not there yet; its root.
    pub fn extract(&self, cache: &Path) -> Result<PathBuf> {
        let parent = cache.join("sources");
        let dest = parent.join(self.key());
        if dest.is_dir() {
            return Ok(dest);
        }
        std::fs::create_dir_all(&parent).map_err(|e| IoError::new(&parent, e))?;
        let tmp = tempfile::Builder::new()
            .prefix(".extract-")
            .tempdir_in(&parent)
            .map_err(|e| IoError::new(&parent, e))?;
        self.write_tree(tmp.path())?;
        match std::fs::rename(tmp.path(), &dest) {
            Ok(()) => {
                // Renamed away: nothing left for the guard to delete.
                let _ = tmp.keep();
                Ok(dest)
            }
            // Another process put the same tree there first: use it (the guard deletes ours).
            Err(_) if dest.is_dir() => Ok(dest),
            Err(e) => Err(IoError::new(&dest, e).into()),
        }
    }

    fn write_tree(&self, root: &Path) -> Result<()> {
        let write = |rel: &str, bytes: &[u8]| -> Result<()> {
            let path = root.join(rel);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| IoError::new(dir, e))?;
            }
            std::fs::write(&path, bytes).map_err(|e| IoError::new(&path, e))?;
            Ok(())
        };
        write("Cargo.toml", self.workspace_manifest.as_bytes())?;
        for (rel, bytes) in self.files {
            if Path::new(rel).is_absolute() || rel.split('/').any(|c| c == "..") {
                return Err(Error::artifact(
                    root,
                    format!("carried source path {rel:?} leaves the tree"),
                ));
            }
            write(rel, bytes)?;
        }
        Ok(())
    }
}

/// `$MINNOW_CACHE_DIR`, else `$XDG_CACHE_HOME/minnow`, else `$HOME/.cache/minnow`.
pub fn cache_dir() -> Result<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("MINNOW_CACHE_DIR") {
        return Ok(dir);
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Ok(dir.join("minnow"));
    }
    var("HOME")
        .map(|home| home.join(".cache").join("minnow"))
        .ok_or_else(|| {
            Error::Config(
                "no cache folder for the firmware build: set MINNOW_CACHE_DIR (or HOME), or pass \
                 --firmware-dir <minnow checkout>/firmware"
                    .into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(text: &'static [u8]) -> Vec<(&'static str, &'static [u8])> {
        vec![
            ("firmware/Cargo.toml", b"[package]\n".as_slice()),
            ("firmware/src/main.rs", text),
            ("shared/src/lib.rs", b"//! core\n".as_slice()),
        ]
    }

    #[test]
    fn the_key_follows_every_byte_and_path() {
        let a = files(b"fn main() {}\n");
        let b = files(b"fn main() { }\n");
        let src = |f: &'static [(&'static str, &'static [u8])], m: &'static str| Sources {
            files: f,
            workspace_manifest: m,
        };
        let a: &'static [_] = a.leak();
        let b: &'static [_] = b.leak();
        let key = src(a, "[workspace]\n").key();
        assert_eq!(key.len(), 16);
        assert_eq!(key, src(a, "[workspace]\n").key(), "stable");
        assert_ne!(key, src(b, "[workspace]\n").key(), "a changed byte");
        assert_ne!(key, src(a, "[workspace]\n#\n").key(), "a changed manifest");
        let mut moved = a.to_vec();
        moved[1].0 = "firmware/src/lib.rs";
        assert_ne!(
            key,
            src(moved.leak(), "[workspace]\n").key(),
            "a moved file"
        );
    }

    #[test]
    fn extraction_is_idempotent_and_complete() {
        let cache = tempfile::tempdir().expect("tempdir");
        let f: &'static [_] = files(b"fn main() {}\n").leak();
        let src = Sources {
            files: f,
            workspace_manifest: "[workspace]\nmembers = [\"shared\"]\n",
        };
        let root = src.extract(cache.path()).expect("extract");
        assert_eq!(root, cache.path().join("sources").join(src.key()));
        let main = root.join("firmware/src/main.rs");
        assert_eq!(std::fs::read(&main).expect("main.rs"), b"fn main() {}\n");
        assert!(root.join("Cargo.toml").is_file());
        // Once there, the tree is used as it is: a second extraction writes nothing.
        std::fs::write(&main, b"touched").expect("write");
        assert_eq!(src.extract(cache.path()).expect("again"), root);
        assert_eq!(std::fs::read(&main).expect("main.rs"), b"touched");
        // No temporary folder is left behind.
        let names: Vec<_> = std::fs::read_dir(cache.path().join("sources"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from(src.key())]);
    }

    #[test]
    fn concurrent_extractions_agree() {
        let cache = tempfile::tempdir().expect("tempdir");
        let roots: Vec<PathBuf> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|_| s.spawn(|| CARRIED.extract(cache.path()).expect("extract")))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        assert!(roots.windows(2).all(|w| w[0] == w[1]));
        for (rel, bytes) in CARRIED.files {
            assert_eq!(
                std::fs::read(roots[0].join(rel)).expect("extracted file"),
                *bytes,
                "{rel}"
            );
        }
        let left = std::fs::read_dir(cache.path().join("sources"))
            .expect("list")
            .count();
        assert_eq!(left, 1, "temporary folders left behind");
    }

    #[test]
    fn the_binary_carries_the_firmware_and_minnow_core() {
        let paths: Vec<&str> = CARRIED.files.iter().map(|(p, _)| *p).collect();
        for needed in [
            "firmware/Cargo.toml",
            "firmware/Cargo.lock",
            "firmware/build.rs",
            "firmware/boards.rs",
            "firmware/.cargo/config.toml",
            "firmware/memory/mps2-an386.x",
            "firmware/src/main.rs",
            "shared/Cargo.toml",
            "shared/src/lib.rs",
        ] {
            assert!(paths.contains(&needed), "{needed} is not carried");
        }
        for p in &paths {
            assert!(
                !p.starts_with("firmware/target") && !p.starts_with("firmware/testgen"),
                "{p} should not be carried"
            );
        }
        // The same files as in this checkout.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for (rel, bytes) in CARRIED.files {
            assert_eq!(std::fs::read(root.join(rel)).expect(rel), *bytes, "{rel}");
        }
        // minnow-core's workspace: only `shared`, with the tables it inherits.
        let manifest: toml::Table = toml::from_str(CARRIED.workspace_manifest).expect("TOML");
        let ws = manifest["workspace"].as_table().expect("[workspace]");
        assert_eq!(ws["members"].as_array().map(Vec::len), Some(1));
        assert_eq!(ws["members"][0].as_str(), Some("shared"));
        for table in ["package", "dependencies", "lints"] {
            assert!(ws.contains_key(table), "[workspace.{table}] is missing");
        }
        assert!(!ws.contains_key("exclude"));
    }
}
