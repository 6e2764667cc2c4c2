//! How to build Rust for a bare-metal Arm (`thumb*`) target on this machine; the one place that
//! decides it (`scripts/thumb-toolchain.sh <target>` prints [`Toolchain::exports`] through
//! `minnow verify --print-toolchain`, and only installs packages itself).
//!
//! Two paths, chosen in this order:
//!
//! 1. rustup: a rustup toolchain that has the target installed (the active one first, then the
//!    others) → plain `cargo`, pinned to that toolchain with `RUSTUP_TOOLCHAIN`.
//! 2. Debian: `/usr/bin/rustc` and `/usr/bin/cargo` (packages rustc-web, cargo-web) and the
//!    library source (rust-web-src) → build `core` from source (`CARGO_UNSTABLE_BUILD_STD=core`,
//!    `compiler-builtins-mem` for memcpy and friends), allowed on a stable compiler by
//!    `RUSTC_BOOTSTRAP=1`, with `RUSTC` pinned too (otherwise Debian's cargo would run the
//!    first `rustc` on PATH, often the rustup proxy whose toolchain lacks the target). Through
//!    the environment, not the firmware's `.cargo/config.toml`, so path 1 keeps working.
//!
//! Both link with `ld.lld` (package lld; the firmware's cargo config names it, so both paths
//! link the same way). `MINNOW_THUMB_PATH=rustup|debian` forces a path.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The bare-metal Arm targets the decision is for.
pub const THUMB_TARGETS: &[&str] = &[
    "thumbv6m-none-eabi",
    "thumbv7m-none-eabi",
    "thumbv7em-none-eabi",
    "thumbv7em-none-eabihf",
    "thumbv8m.base-none-eabi",
    "thumbv8m.main-none-eabi",
    "thumbv8m.main-none-eabihf",
];

/// What Debian needs for path 2 and for running the firmware (scripts/thumb-toolchain.sh
/// --install installs them).
pub const APT_PACKAGES: &str = "rustc-web cargo-web rust-web-src lld qemu-system-arm";

/// Where Debian's rustc-web puts the compiler and cargo.
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_RUSTDOC: &str = "/usr/bin/rustdoc";

/// Why there is no way to build for a target here (or run what was built).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolchainError {
    #[error("{target} is not a thumb bare-metal target ({})", THUMB_TARGETS.join(", "))]
    UnknownTarget { target: String },
    #[error("MINNOW_THUMB_PATH={0:?}: expected rustup or debian")]
    BadForcedPath(String),
    #[error(
        "ld.lld not found on PATH: install package lld (Debian: apt-get install -y lld; in a \
         minnow checkout: scripts/thumb-toolchain.sh --install)"
    )]
    NoLld,
    #[error(
        "no way to build for {target} here: with rustup and internet, rustup target add {target} \
         (and install lld and qemu-system-arm); on Debian without rustup targets, apt-get install \
         -y {APT_PACKAGES} (in a minnow checkout, as root: scripts/thumb-toolchain.sh --install)"
    )]
    NoToolchain { target: String },
    #[error("qemu-system-arm not found on PATH: install package qemu-system-arm")]
    NoQemu,
}

/// A path forced with `MINNOW_THUMB_PATH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forced {
    Rustup,
    Debian,
}

/// What this machine has, as far as the decision goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub forced: Option<Forced>,
    /// The first rustup toolchain (the active one first) that has the target installed.
    pub rustup_toolchain: Option<String>,
    /// `cargo` on PATH (what path 1 runs).
    pub cargo_on_path: Option<PathBuf>,
    /// Debian's `rustc --version`, when its rustc, cargo and library source are all there.
    pub debian_rustc: Option<String>,
    /// `ld.lld` on PATH.
    pub lld: bool,
}

/// The path chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Rustup { toolchain: String },
    Debian { rustc: String },
}

/// How to run cargo for one thumb target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolchain {
    pub target: String,
    pub cargo: PathBuf,
    /// Variables to set (`Some`) or remove (`None`) for cargo.
    pub env: Vec<(&'static str, Option<String>)>,
    pub via: Via,
}

impl Toolchain {
    /// `cargo` with this toolchain's environment.
    pub fn cargo(&self) -> Command {
        let mut cmd = Command::new(&self.cargo);
        for (key, value) in &self.env {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        cmd
    }

    /// Shell lines that set this environment (`eval "$(...)"`, then `"$CARGO" build ...`).
    pub fn exports(&self) -> String {
        let mut set = Vec::new();
        let mut unset = Vec::new();
        for (key, value) in &self.env {
            match value {
                Some(v) => set.push(format!("export {key}={}\n", shell_quote(v))),
                None => unset.push(*key),
            }
        }
        let mut out = set.concat();
        if !unset.is_empty() {
            out.push_str(&format!("unset {}\n", unset.join(" ")));
        }
        out
    }

    /// One line on how this target is built, for logs.
    pub fn describe(&self) -> String {
        match &self.via {
            Via::Rustup { toolchain } => {
                format!(
                    "rustup toolchain {toolchain} has {}: plain cargo",
                    self.target
                )
            }
            Via::Debian { rustc } => format!(
                "no rustup toolchain has {}: Debian {rustc} with -Zbuild-std=core",
                self.target
            ),
        }
    }
}

/// The toolchain for `target` on this machine.
pub fn find(target: &str) -> Result<Toolchain, ToolchainError> {
    decide(target, &facts(target)?)
}

/// The decision, from what the machine has.
pub fn decide(target: &str, facts: &Facts) -> Result<Toolchain, ToolchainError> {
    if !THUMB_TARGETS.contains(&target) {
        return Err(ToolchainError::UnknownTarget {
            target: target.to_owned(),
        });
    }
    let rustup = facts
        .rustup_toolchain
        .as_ref()
        .filter(|_| facts.forced != Some(Forced::Debian));
    let debian = facts
        .debian_rustc
        .as_ref()
        .filter(|_| facts.forced != Some(Forced::Rustup));
    let via = match (rustup, debian) {
        (Some(tc), _) => Via::Rustup {
            toolchain: tc.clone(),
        },
        (None, Some(rustc)) => Via::Debian {
            rustc: rustc.clone(),
        },
        (None, None) => {
            return Err(ToolchainError::NoToolchain {
                target: target.to_owned(),
            });
        }
    };
    if !facts.lld {
        return Err(ToolchainError::NoLld);
    }
    let unset = |keys: &[&'static str]| keys.iter().map(|k| (*k, None)).collect::<Vec<_>>();
    let (cargo, env) = match &via {
        Via::Rustup { toolchain } => {
            let cargo = facts
                .cargo_on_path
                .clone()
                .unwrap_or_else(|| PathBuf::from("cargo"));
            let mut env = vec![
                ("RUSTUP_TOOLCHAIN", Some(toolchain.clone())),
                ("CARGO", Some(cargo.display().to_string())),
            ];
            env.extend(unset(&[
                "RUSTC",
                "RUSTC_BOOTSTRAP",
                "CARGO_UNSTABLE_BUILD_STD",
                "CARGO_UNSTABLE_BUILD_STD_FEATURES",
            ]));
            (cargo, env)
        }
        Via::Debian { .. } => {
            let set = |k: &'static str, v: &str| (k, Some(v.to_owned()));
            let mut env = vec![
                set("CARGO", DEBIAN_CARGO),
                set("RUSTC", DEBIAN_RUSTC),
                set("RUSTDOC", DEBIAN_RUSTDOC),
                set("RUSTC_BOOTSTRAP", "1"),
                set("CARGO_UNSTABLE_BUILD_STD", "core"),
                // memcpy, memset, ... from compiler_builtins: there is no libc on bare metal.
                set("CARGO_UNSTABLE_BUILD_STD_FEATURES", "compiler-builtins-mem"),
            ];
            env.extend(unset(&["RUSTUP_TOOLCHAIN"]));
            (PathBuf::from(DEBIAN_CARGO), env)
        }
    };
    Ok(Toolchain {
        target: target.to_owned(),
        cargo,
        env,
        via,
    })
}

/// Looks at this machine (only at what the forced path, if any, allows).
pub fn facts(target: &str) -> Result<Facts, ToolchainError> {
    let forced = match std::env::var("MINNOW_THUMB_PATH") {
        Ok(v) if v == "rustup" => Some(Forced::Rustup),
        Ok(v) if v == "debian" => Some(Forced::Debian),
        Ok(v) if v.is_empty() => None,
        Ok(v) => return Err(ToolchainError::BadForcedPath(v)),
        Err(_) => None,
    };
    let rustup_toolchain = match forced {
        Some(Forced::Debian) => None,
        _ => rustup_toolchain(target),
    };
    let debian_rustc = match forced {
        Some(Forced::Rustup) => None,
        _ => debian_rustc(),
    };
    Ok(Facts {
        forced,
        rustup_toolchain,
        cargo_on_path: on_path("cargo"),
        debian_rustc,
        lld: on_path("ld.lld").is_some(),
    })
}

/// `name` in a folder of PATH, executable.
pub fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// stdout of a command that succeeded; `None` if it could not run or failed.
fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The first rustup toolchain, the active one first, with `target` installed.
fn rustup_toolchain(target: &str) -> Option<String> {
    on_path("rustup")?;
    // `rustup show active-toolchain` prints "<name> (reason)"; an override may name one that
    // is not installed, so its failure only means "no active toolchain".
    let active = output("rustup", &["show", "active-toolchain"])
        .and_then(|s| s.split_whitespace().next().map(str::to_owned));
    let listed = output("rustup", &["toolchain", "list"]).unwrap_or_default();
    let others = listed
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned));
    active.into_iter().chain(others).find(|tc| {
        output(
            "rustup",
            &["target", "list", "--installed", "--toolchain", tc],
        )
        .is_some_and(|s| s.lines().any(|l| l.trim() == target))
    })
}

/// `rustc --version` of Debian's compiler, when its cargo and library source are there too.
fn debian_rustc() -> Option<String> {
    let exists = |p: &str| Path::new(p).is_file();
    if !exists(DEBIAN_RUSTC) || !exists(DEBIAN_CARGO) {
        return None;
    }
    let sysroot = output(DEBIAN_RUSTC, &["--print", "sysroot"])?;
    let core = Path::new(sysroot.trim()).join("lib/rustlib/src/rust/library/core");
    if !core.is_dir() {
        return None;
    }
    output(DEBIAN_RUSTC, &["--version"]).map(|v| v.trim().to_owned())
}

/// `'value'` for a POSIX shell.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "thumbv7em-none-eabihf";

    fn both() -> Facts {
        Facts {
            forced: None,
            rustup_toolchain: Some("stable-x86_64-unknown-linux-gnu".into()),
            cargo_on_path: Some("/home/u/.cargo/bin/cargo".into()),
            debian_rustc: Some("rustc 1.96.0".into()),
            lld: true,
        }
    }

    #[test]
    fn rustup_with_the_target_comes_first() {
        let tc = decide(T, &both()).expect("a toolchain");
        assert_eq!(
            tc.via,
            Via::Rustup {
                toolchain: "stable-x86_64-unknown-linux-gnu".into()
            }
        );
        assert_eq!(tc.cargo, Path::new("/home/u/.cargo/bin/cargo"));
        assert_eq!(
            tc.exports(),
            "export RUSTUP_TOOLCHAIN='stable-x86_64-unknown-linux-gnu'\n\
             export CARGO='/home/u/.cargo/bin/cargo'\n\
             unset RUSTC RUSTC_BOOTSTRAP CARGO_UNSTABLE_BUILD_STD CARGO_UNSTABLE_BUILD_STD_FEATURES\n"
        );
    }

    #[test]
    fn debian_builds_core_from_source() {
        let facts = Facts {
            rustup_toolchain: None,
            ..both()
        };
        let tc = decide(T, &facts).expect("a toolchain");
        assert_eq!(tc.cargo, Path::new("/usr/bin/cargo"));
        assert_eq!(
            tc.exports(),
            "export CARGO='/usr/bin/cargo'\n\
             export RUSTC='/usr/bin/rustc'\n\
             export RUSTDOC='/usr/bin/rustdoc'\n\
             export RUSTC_BOOTSTRAP='1'\n\
             export CARGO_UNSTABLE_BUILD_STD='core'\n\
             export CARGO_UNSTABLE_BUILD_STD_FEATURES='compiler-builtins-mem'\n\
             unset RUSTUP_TOOLCHAIN\n"
        );
        assert!(tc.describe().contains("Debian rustc 1.96.0"));
        // Forcing Debian skips a rustup toolchain that has the target.
        let forced = Facts {
            forced: Some(Forced::Debian),
            ..both()
        };
        assert!(matches!(
            decide(T, &forced).map(|t| t.via),
            Ok(Via::Debian { .. })
        ));
    }

    #[test]
    fn missing_pieces_are_named() {
        let none = Facts {
            rustup_toolchain: None,
            debian_rustc: None,
            ..both()
        };
        let err = decide(T, &none).expect_err("nothing to build with");
        assert_eq!(err, ToolchainError::NoToolchain { target: T.into() });
        assert!(
            err.to_string()
                .contains("rustup target add thumbv7em-none-eabihf")
        );
        assert!(err.to_string().contains("rust-web-src"));
        let forced = Facts {
            forced: Some(Forced::Rustup),
            rustup_toolchain: None,
            ..both()
        };
        assert!(matches!(
            decide(T, &forced),
            Err(ToolchainError::NoToolchain { .. })
        ));
        let no_lld = Facts {
            lld: false,
            ..both()
        };
        assert_eq!(decide(T, &no_lld), Err(ToolchainError::NoLld));
        assert!(matches!(
            decide("x86_64-unknown-linux-gnu", &both()),
            Err(ToolchainError::UnknownTarget { .. })
        ));
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
