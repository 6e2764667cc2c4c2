//! Why `minnow fit` cannot start: its own error, a leaf (the crate's error wraps it).

/// Why no candidate can be trained.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpaceError {
    #[error(
        "no student fits ({budget}): of {count} candidates the smallest in flash, {flash_name}, needs {flash_flash} bytes of flash and {flash_ram} of RAM; the smallest in RAM, {ram_name}, {ram_flash} bytes of flash and {ram_ram} of RAM; raise the budget"
    )]
    NothingFits {
        count: usize,
        budget: String,
        flash_name: String,
        flash_flash: u64,
        flash_ram: u64,
        ram_name: String,
        ram_flash: u64,
        ram_ram: u64,
    },
}
