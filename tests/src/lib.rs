//! Shared helpers of the end-to-end journeys in `tests/`.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// Whether the firmware can be built and run here (thumb toolchain and qemu-system-arm, as
/// `minnow verify` finds them). Without them it prints why `what` is skipped and returns false,
/// unless `MINNOW_REQUIRE_QEMU` is set (CI sets it), when a missing tool fails the test instead.
pub fn qemu_available(what: &str) -> bool {
    let toolchain = minnow::device::toolchain::find("thumbv7em-none-eabihf");
    let qemu = minnow::device::qemu::available();
    if toolchain.is_ok() && qemu {
        return true;
    }
    let why = format!(
        "{what} skipped: thumb toolchain {} / qemu-system-arm {} (scripts/thumb-toolchain.sh --install)",
        toolchain.map_or_else(|e| format!("missing ({e})"), |_| "ok".into()),
        if qemu { "ok" } else { "missing" }
    );
    assert!(std::env::var_os("MINNOW_REQUIRE_QEMU").is_none(), "{why}");
    eprintln!("{why}");
    false
}
