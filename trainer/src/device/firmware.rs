//! Building the firmware for one board with one student: cargo in a firmware folder (the
//! sources this binary carries, extracted into the cache, or a checkout's `firmware/`), with the
//! thumb toolchain of [`toolchain`](crate::device::toolchain).
//!
//! Every build writes the same ELF paths whatever student it embeds, so a build holds an
//! exclusive lock on `<target>/.firmware-build.lock` until it has copied its ELFs (the firmware,
//! the size probe and its baseline) into a folder of its own: verifies running at the same time
//! (parallel tests, two shells) never swap students.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::device::boards::Board;
use crate::device::sources::{CARRIED, cache_dir};
use crate::device::toolchain;
use crate::error::{Error, Result};
use crate::files::IoError;

/// The cargo profile the firmware is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    Debug,
    /// Built for size (`opt-level = "s"`), the default for devices.
    #[default]
    Release,
    /// `opt-level = 3`: faster on the cores without DSP (firmware/Cargo.toml).
    Speed,
}

impl Profile {
    /// The profile's folder under `target/<triple>/`, and its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
            Profile::Speed => "speed",
        }
    }

    fn cargo_args(self) -> &'static [&'static str] {
        match self {
            Profile::Debug => &[],
            Profile::Release => &["--release"],
            Profile::Speed => &["--profile", "speed"],
        }
    }
}

/// A firmware folder and the cargo target folder its builds go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firmware {
    /// The folder with the firmware's Cargo.toml.
    pub dir: PathBuf,
    pub target_dir: PathBuf,
    /// The carried sources (built `--locked`: the same dependencies as the checkout they came
    /// from, and nothing written into the cache's tree).
    pub carried: bool,
}

/// What one build embeds and how.
#[derive(Debug, Clone, Copy)]
pub struct BuildSpec<'a> {
    pub board: &'a Board,
    pub profile: Profile,
    /// Cargo features besides `qemu` (e.g. `portable-dot`).
    pub features: &'a [String],
    pub student: &'a Path,
    pub golden: &'a Path,
}

/// The ELFs of one build, copied out of the shared target folder (deleted on drop).
#[derive(Debug)]
pub struct Built {
    _dir: tempfile::TempDir,
    pub firmware: PathBuf,
    /// `minnow-size-probe` and `minnow-size-baseline` (firmware/README.md, "runtime").
    pub size_probe: PathBuf,
    pub size_baseline: PathBuf,
    /// What cargo printed (stderr).
    pub log: String,
}

impl Firmware {
    /// `dir` (a checkout's `firmware/`), or else the carried sources, extracted into the cache.
    pub fn locate(dir: Option<&Path>) -> Result<Firmware> {
        match dir {
            Some(dir) => Firmware::checkout(dir),
            None => Firmware::carried(),
        }
    }

    /// A checkout's firmware folder; it builds into its own `target/`.
    pub fn checkout(dir: &Path) -> Result<Firmware> {
        let dir = std::fs::canonicalize(dir).map_err(|e| IoError::new(dir, e))?;
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            return Err(Error::artifact(
                &dir,
                "not a firmware folder (no Cargo.toml): pass --firmware-dir <minnow checkout>/firmware",
            ));
        }
        Ok(Firmware {
            target_dir: dir.join("target"),
            dir,
            carried: false,
        })
    }

    /// The sources this binary carries, written into the cache if they are not there yet.
    pub fn carried() -> Result<Firmware> {
        let cache = cache_dir()?;
        let root = CARRIED.extract(&cache)?;
        Ok(Firmware {
            dir: root.join("firmware"),
            target_dir: cache.join("target"),
            carried: true,
        })
    }

    /// Builds the firmware (and the size probe and baseline) for `spec.board`.
    pub fn build(&self, spec: &BuildSpec) -> Result<Built> {
        let board = spec.board;
        let tc = toolchain::find(board.target)?;
        let elf_dir = self.target_dir.join("elf");
        std::fs::create_dir_all(&elf_dir).map_err(|e| IoError::new(&elf_dir, e))?;
        let lock_path = self.target_dir.join(".firmware-build.lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| IoError::new(&lock_path, e))?;
        lock.lock().map_err(|e| IoError::new(&lock_path, e))?;

        let features = std::iter::once("qemu")
            .chain(spec.features.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(",");
        let mut cmd = tc.cargo();
        cmd.current_dir(&self.dir)
            .args(["build", "--target", board.target, "--features", &features])
            .arg("--target-dir")
            .arg(&self.target_dir)
            .args(spec.profile.cargo_args())
            .env("MINNOW_BOARD", board.name)
            .env("MINNOW_STUDENT", spec.student)
            .env("MINNOW_GOLDEN", spec.golden);
        if self.carried {
            cmd.arg("--locked");
        }
        for key in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"] {
            // They would replace .cargo/config.toml's rustflags (-Tlink.x) and break the link.
            if std::env::var_os(key).is_some() {
                eprintln!("verify: warning: ignoring {key} from the environment");
                cmd.env_remove(key);
            }
        }
        let out = cmd.output().map_err(|e| IoError::new(&tc.cargo, e))?;
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            return Err(Error::artifact(
                &self.dir,
                format!(
                    "cargo build for {} ({}, {}) failed ({}; {}):\n{}",
                    board.name,
                    board.target,
                    spec.profile.name(),
                    out.status,
                    tc.describe(),
                    tail(&log, 40)
                ),
            ));
        }

        let built = self.target_dir.join(board.target).join(spec.profile.name());
        let dir = tempfile::Builder::new()
            .prefix("minnow-firmware-")
            .tempdir()
            .map_err(|e| IoError::new(std::env::temp_dir(), e))?;
        let copy = |name: &str, to: &Path| -> Result<PathBuf> {
            let from = built.join(name);
            std::fs::copy(&from, to).map_err(|e| IoError::new(&from, e))?;
            Ok(to.to_path_buf())
        };
        let firmware = copy("minnow-firmware", &dir.path().join("minnow-firmware"))?;
        // The last build per board and profile, for a debugger or probe-rs.
        copy(
            "minnow-firmware",
            &elf_dir.join(format!("{}-{}.elf", board.name, spec.profile.name())),
        )?;
        let size_probe = copy("minnow-size-probe", &dir.path().join("minnow-size-probe"))?;
        let size_baseline = copy(
            "minnow-size-baseline",
            &dir.path().join("minnow-size-baseline"),
        )?;
        drop(lock);
        Ok(Built {
            _dir: dir,
            firmware,
            size_probe,
            size_baseline,
            log,
        })
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles() {
        assert_eq!(Profile::default(), Profile::Release);
        assert_eq!(Profile::Speed.cargo_args(), ["--profile", "speed"]);
        assert_eq!(Profile::Debug.name(), "debug");
    }

    #[test]
    fn a_checkout_needs_a_manifest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Firmware::checkout(dir.path()).expect_err("no Cargo.toml");
        assert!(err.to_string().contains("--firmware-dir"), "{err}");
        let fw = Firmware::checkout(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware"))
            .expect("the checkout's firmware");
        assert!(fw.target_dir.ends_with("firmware/target") && !fw.carried);
    }

    #[test]
    fn tails() {
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
