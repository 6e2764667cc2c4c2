//! Shared helpers of the end-to-end journeys in `tests/`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// Whether the firmware can be built and run here (thumb toolchain and qemu-system-arm).
/// Without them it prints why `what` is skipped and returns false, unless
/// `MINNOW_REQUIRE_QEMU` is set (CI sets it), when a missing tool fails the test instead.
pub fn qemu_available(what: &str) -> bool {
    let toolchain = Command::new(repo().join("scripts/thumb-toolchain.sh"))
        .args(["--check", "thumbv7em-none-eabihf"])
        .status()
        .is_ok_and(|s| s.success());
    let qemu = Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if toolchain && qemu {
        return true;
    }
    let why = format!(
        "{what} skipped: thumb toolchain {} / qemu-system-arm {} (scripts/thumb-toolchain.sh --install)",
        if toolchain { "ok" } else { "missing" },
        if qemu { "ok" } else { "missing" }
    );
    assert!(std::env::var_os("MINNOW_REQUIRE_QEMU").is_none(), "{why}");
    eprintln!("{why}");
    false
}
