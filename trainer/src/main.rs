//! The `minnow` binary: see `minnow --help`.

fn main() {
    keep_freed_memory();
    std::process::exit(minnow::cli::main());
}

/// Training allocates and frees tensors of megabytes at every step. glibc's malloc gives each
/// block over 128 KiB back to the system when it is freed (and trims the heap's top), so the
/// next step page-faults the same memory back in: a third of the 29K MNIST CNN's epoch
/// (docs/results.md, "Training speed against PyTorch"). Blocks up to 32 MiB (glibc's largest
/// threshold) now come from the heap, which is not trimmed: the process keeps its peak
/// memory until it exits. Elsewhere (another C library) nothing changes.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    // SAFETY: mallopt only sets two of malloc's parameters, before any other thread exists;
    // a value it refuses leaves the default (its return value says so, and nothing depends
    // on it).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}
