//! A crash on purpose, for the crash-consistency tests: with `MINNOW_CRASH_AT_RENAME=N` in the
//! environment, the process aborts just before the N-th rename it makes through this module
//! (the step that makes a write visible), as a `kill -9` there would. Unset, nothing happens.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms the crash.
pub const CRASH_AT_RENAME: &str = "MINNOW_CRASH_AT_RENAME";

static RENAMES: AtomicU64 = AtomicU64::new(0);

fn armed() -> Option<u64> {
    static AT: OnceLock<Option<u64>> = OnceLock::new();
    *AT.get_or_init(|| std::env::var(CRASH_AT_RENAME).ok()?.parse().ok())
}

/// Called before every rename that makes a write visible.
pub fn before_rename() {
    if let Some(at) = armed()
        && RENAMES.fetch_add(1, Ordering::SeqCst) + 1 == at
    {
        eprintln!("{CRASH_AT_RENAME}={at}: aborting before rename {at}");
        std::process::abort();
    }
}
